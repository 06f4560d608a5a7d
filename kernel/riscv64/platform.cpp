// SPDX-License-Identifier: MIT
//
// DOC: the RISC-V demo kernel's platform: kmem's extern platform hooks
// (src/platform/extern) on QEMU virt - the NS16550 UART for the console, tp
// for the CPU number and the in-interrupt depth, sstatus.SIE for interrupts
// (enabled only while the self-tests' timers run, see irq.cpp), the time CSR
// for time, the sifive_test device for panics and exit - the exception
// report. The hooks every kernel shares are in kernel/common/platform_hooks.cpp,
// memcpy and memset in kernel/common/memory_words.cpp.
#include "arch.h"

namespace kx {
namespace {

bool g_kernel_tables = false;
uint64_t g_ram_top = kRamBase + kEarlyWindow;
Devices g_devices;

} // namespace

Devices &devices() { return g_devices; }

void print_n(const char *s, size_t n) {
    volatile uint8_t *uart = reinterpret_cast<volatile uint8_t *>(g_devices.uart);
    for (size_t i = 0; i < n; ++i) {
        while (!(uart[5] & 0x20)) cpu_relax(); // LSR.THRE: the holding register is empty
        uart[0] = static_cast<uint8_t>(s[i]);
    }
}

void cpu_relax() { asm volatile("nop" ::: "memory"); }

uint64_t now_ns() {
    const uint64_t f = g_devices.timebase_hz, t = KX_CSR_READ(time);
    return t / f * 1000000000ull + t % f * 1000000000ull / f;
}

void set_this_cpu(PerCpu *p) { asm volatile("mv tp, %0" ::"r"(p) : "memory"); }

void switched_to_kernel_tables(uint64_t ram_top) {
    g_kernel_tables = true;
    g_ram_top = ram_top;
}

[[noreturn]] void qemu_exit(uint32_t code) {
    volatile uint32_t *test = reinterpret_cast<volatile uint32_t *>(g_devices.test);
    *test = code == 0 ? 0x5555 : (code << 16 | 0x3333); // FINISHER_PASS, FINISHER_FAIL with the code
    for (;;) asm volatile("wfi");
}

} // namespace kx

extern "C" {

// An empty range is mapped wherever it is: nothing in it is accessed (kmem's
// debug checks pass zero-length ranges, e.g. a section's empty descriptor tail).
bool kmem_platform_is_mapped(uint64_t pa, uint64_t len) {
    const uint64_t lo = kx::g_kernel_tables ? 0 : kx::kRamBase;
    return len == 0 || (pa >= lo && pa + len >= pa && pa + len <= kx::g_ram_top);
}

unsigned kmem_platform_cpu_id(void) {
    const kx::PerCpu *p = kx::this_cpu();
    return p ? p->index : 0;
}

unsigned long kmem_platform_irq_save(void) {
    unsigned long old;
    asm volatile("csrrci %0, sstatus, 2" : "=r"(old) : : "memory");
    return old & kx::kSstatusSie;
}

void kmem_platform_irq_restore(unsigned long flags) {
    if (flags & kx::kSstatusSie) asm volatile("csrsi sstatus, 2" ::: "memory");
}

bool kmem_platform_irqs_enabled(void) { return KX_CSR_READ(sstatus) & kx::kSstatusSie; }

bool kmem_platform_in_interrupt(void) {
    const kx::PerCpu *p = kx::this_cpu();
    return p && p->irq_depth; // only the timer interrupt changes it, and it is back to 0 when that returns
}

// An exception nothing expects (irq.cpp's kx_trap): report it and stop.
[[noreturn]] void kx_exception(uint64_t cause, uint64_t epc, uint64_t tval) {
    kx::print("\nkmem-riscv64: exception scause ");
    kx::print_hex(cause);
    kx::print(" sepc ");
    kx::print_hex(epc);
    kx::print(" stval ");
    kx::print_hex(tval);
    kx::print("\n");
    kx::qemu_exit(2);
}

// memcpy and memset: kernel/common/memory_words.cpp.

}
