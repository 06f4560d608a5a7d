// SPDX-License-Identifier: MIT
//
// DOC: x86_64 instructions and devices the demo kernel uses: port I/O, MSRs,
// CR3, TSC, COM1, the per-CPU block behind GS, isa-debug-exit, and the
// kernel-side services other files share (console printing, early_map).
#pragma once

#include "console.h" // print*, now_ns, cpu_relax: defined in platform.cpp

#include <stddef.h>
#include <stdint.h>

namespace kx {

inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
inline uint8_t inb(uint16_t port) {
    uint8_t v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t{hi} << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
    asm volatile("wrmsr" ::"c"(msr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)));
}
inline uint64_t rdtsc() {
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t{hi} << 32) | lo;
}
inline void load_cr3(uint64_t pa) { asm volatile("mov %0, %%cr3" ::"r"(pa) : "memory"); }
inline uint64_t read_cr3() {
    uint64_t v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
inline void pause() { __builtin_ia32_pause(); }
[[noreturn]] inline void halt_forever() {
    for (;;) asm volatile("cli; hlt");
}

// The per-CPU block GS points at (irq.cpp and platform.cpp read fields
// through %gs:offsetof(PerCpu, field)).
struct PerCpu {
    uint32_t index;     // dense CPU number (kmem's cpu_id)
    uint32_t apic_id;
    uint32_t irq_depth; // interrupt handlers this CPU is inside (kmem_platform_in_interrupt)
};
void set_this_cpu(PerCpu *p);

inline constexpr uint64_t kDirectMap = 0xffff888000000000ull;
inline constexpr uint64_t kEarlyWindow = uint64_t{1} << 30;

// Console (COM1).
void serial_init();

// Map [pa, pa + len) before the real tables exist (boot page tables, 2 MiB
// pages at VA 1-2 GiB); returns where it can be read. For firmware tables.
const void *early_map(uint64_t pa, uint64_t len);

// The real page tables are live from now on (the direct map covers all RAM).
void switched_to_kernel_tables(uint64_t ram_top);

void calibrate_tsc();
void delay_us(uint64_t us);

// isa-debug-exit: QEMU exits with status (code << 1) | 1.
[[noreturn]] void qemu_exit(uint8_t code);

// Load the IDT on this CPU (every CPU, once; the boot CPU's first call fills
// the exception vectors 0-31). The table has all 256 vectors; one not set is
// not present, and an interrupt on it faults (#NP) and is reported.
void install_exception_handlers();
// Vector v enters at `entry` (an interrupt gate: interrupts off inside).
void idt_set_interrupt(uint8_t v, void (*entry)());

} // namespace kx
