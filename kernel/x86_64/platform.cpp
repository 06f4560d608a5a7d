// SPDX-License-Identifier: MIT
//
// DOC: the bare-metal platform of the x86_64 demo kernel: kmem's extern
// platform hooks (src/platform/extern) and the devices behind them - COM1
// for the console, GS for the CPU number, the TSC (calibrated against the
// PIT) for time, RFLAGS.IF for interrupts (cli/popf; the self-tests run
// with the local APIC timer on, see irq.cpp) and PerCpu::irq_depth for
// "in an interrupt", isa-debug-exit for panics - plus early_map() for
// firmware tables. The hooks both kernels share are in
// kernel/common/platform_hooks.cpp.
#include "arch.h"

#include <kmem/platform.h>

#include <stddef.h>

extern "C" uint64_t boot_pd_fixmap[512];

namespace kx {
namespace {

constexpr uint16_t kCom1 = 0x3f8;
uint64_t g_tsc_per_us = 1000; // until calibrated
uint64_t g_tsc0 = 0;
bool g_kernel_tables = false;
bool g_gs_ready = false;
uint64_t g_ram_top = kEarlyWindow;
unsigned g_fixmap_next = 0;

} // namespace

void serial_init() {
    outb(kCom1 + 1, 0x00); // no interrupts
    outb(kCom1 + 3, 0x80); // DLAB
    outb(kCom1 + 0, 0x01); // 115200 baud
    outb(kCom1 + 1, 0x00);
    outb(kCom1 + 3, 0x03); // 8N1
    outb(kCom1 + 2, 0xc7); // FIFO
    outb(kCom1 + 4, 0x03);
}

void print_n(const char *s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        while (!(inb(kCom1 + 5) & 0x20)) pause();
        outb(kCom1, static_cast<uint8_t>(s[i]));
    }
}

void set_this_cpu(PerCpu *p) {
    wrmsr(0xC0000101, reinterpret_cast<uint64_t>(p));
    g_gs_ready = true;
}

const void *early_map(uint64_t pa, uint64_t len) {
    constexpr uint64_t k2M = uint64_t{2} << 20;
    const uint64_t first = pa & ~(k2M - 1), last = (pa + len + k2M - 1) & ~(k2M - 1);
    const unsigned n = static_cast<unsigned>((last - first) / k2M);
    if (g_fixmap_next + n > 512) return nullptr;
    const unsigned slot = g_fixmap_next;
    for (unsigned i = 0; i < n; ++i) {
        boot_pd_fixmap[slot + i] = (first + i * k2M) | 0x83 | (uint64_t{1} << 63); // present, writable, 2 MiB, NX
        asm volatile("invlpg (%0)" ::"r"((uint64_t{1} << 30) + (slot + i) * k2M) : "memory");
    }
    g_fixmap_next += n;
    return reinterpret_cast<const void *>((uint64_t{1} << 30) + slot * k2M + (pa - first));
}

void switched_to_kernel_tables(uint64_t ram_top) {
    g_kernel_tables = true;
    g_ram_top = ram_top;
}

void calibrate_tsc() {
    // PIT channel 2, one-shot, 10 ms (11932 ticks of 1.193182 MHz), polled.
    // Three rounds, the shortest kept: a CPU that sees the PIT's output late
    // (a host that ran something else, under emulation) only adds ticks.
    uint64_t ticks = ~uint64_t{0};
    for (int round = 0; round < 3; ++round) {
        // Gate off while the count is written; it counts once the gate is on.
        outb(0x61, static_cast<uint8_t>(inb(0x61) & ~0x03));
        outb(0x43, 0xb0);
        outb(0x42, 11932 & 0xff);
        outb(0x42, 11932 >> 8);
        outb(0x61, static_cast<uint8_t>((inb(0x61) & ~0x02) | 0x01));
        const uint64_t t0 = rdtsc();
        while (!(inb(0x61) & 0x20)) pause();
        const uint64_t t = rdtsc() - t0;
        if (t < ticks) ticks = t;
    }
    g_tsc_per_us = ticks / 10000 ? ticks / 10000 : 1;
    g_tsc0 = rdtsc();
}

uint64_t now_ns() { return (rdtsc() - g_tsc0) * 1000 / g_tsc_per_us; }

void cpu_relax() { pause(); }

void delay_us(uint64_t us) {
    const uint64_t end = rdtsc() + us * g_tsc_per_us;
    while (rdtsc() < end) pause();
}

[[noreturn]] void qemu_exit(uint8_t code) {
    outl(0xf4, code);
    halt_forever(); // without the device: stop here
}

} // namespace kx

// ---- kmem's platform hooks that are x86_64's own (the shared ones:
// kernel/common/platform_hooks.cpp)
extern "C" {

bool kmem_platform_is_mapped(uint64_t pa, uint64_t len) {
    return pa + len >= pa && pa + len <= (kx::g_kernel_tables ? kx::g_ram_top : kx::kEarlyWindow);
}

unsigned kmem_platform_cpu_id(void) {
    if (!kx::g_gs_ready) return 0; // before the BSP set GS up
    unsigned idx;
    asm volatile("movl %%gs:0, %0" : "=r"(idx));
    return idx;
}

unsigned long kmem_platform_irq_save(void) {
    unsigned long flags;
    asm volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
    return flags;
}

void kmem_platform_irq_restore(unsigned long flags) { asm volatile("pushq %0; popfq" ::"r"(flags) : "memory", "cc"); }

bool kmem_platform_irqs_enabled(void) {
    unsigned long flags;
    asm volatile("pushfq; popq %0" : "=r"(flags));
    return flags & (1u << 9); // IF
}

bool kmem_platform_in_interrupt(void) {
    if (!kx::g_gs_ready) return false; // no interrupt runs before GS is set up
    unsigned depth;
    asm volatile("movl %%gs:%c1, %0" : "=r"(depth) : "i"(offsetof(kx::PerCpu, irq_depth)));
    return depth != 0;
}
}
