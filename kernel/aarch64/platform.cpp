// SPDX-License-Identifier: MIT
//
// DOC: the AArch64 demo kernel's platform: kmem's extern platform hooks
// (src/platform/extern) on QEMU virt - the PL011 UART for the console,
// TPIDR_EL1 for the CPU number and the in-interrupt depth, DAIF for
// interrupts (enabled only while the self-tests' timers run, see irq.cpp),
// the generic timer for time, semihosting for panics and exit - and the
// exception report. The hooks every kernel shares are in
// kernel/common/platform_hooks.cpp, memcpy and memset in
// kernel/common/memory_words.cpp.
#include "arch.h"

namespace kx {
namespace {

bool g_kernel_tables = false;
uint64_t g_ram_top = kRamBase + kEarlyWindow;

volatile uint32_t *uart() { return reinterpret_cast<volatile uint32_t *>(kUart); }

} // namespace

void print_n(const char *s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        while (uart()[0x18 / 4] & (1u << 5)) cpu_relax(); // TXFF
        uart()[0] = static_cast<uint8_t>(s[i]);
    }
}

void cpu_relax() { asm volatile("yield" ::: "memory"); }

uint64_t now_ns() {
    const uint64_t f = KX_READ_SYSREG(cntfrq_el0), t = KX_READ_SYSREG(cntvct_el0);
    return t / f * 1000000000ull + t % f * 1000000000ull / f;
}

void set_this_cpu(PerCpu *p) { KX_WRITE_SYSREG(tpidr_el1, reinterpret_cast<uint64_t>(p)); }

void switched_to_kernel_tables(uint64_t ram_top) {
    g_kernel_tables = true;
    g_ram_top = ram_top;
}

int64_t psci_cpu_on(uint64_t mpidr, uint64_t entry_pa, uint64_t context) {
    register uint64_t x0 asm("x0") = 0xC4000003; // CPU_ON, SMC64/HVC64 calling convention
    register uint64_t x1 asm("x1") = mpidr;
    register uint64_t x2 asm("x2") = entry_pa;
    register uint64_t x3 asm("x3") = context;
    asm volatile("hvc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
    return static_cast<int64_t>(x0);
}

[[noreturn]] void qemu_exit(uint32_t code) {
    const uint64_t block[2] = {0x20026, code}; // ADP_Stopped_ApplicationExit, exit status
    register uint64_t x0 asm("x0") = 0x18;     // SYS_EXIT
    register const uint64_t *x1 asm("x1") = block;
    asm volatile("hlt #0xf000" ::"r"(x0), "r"(x1) : "memory");
    for (;;) asm volatile("wfe");
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
    const uint64_t daif = KX_READ_SYSREG(daif);
    asm volatile("msr daifset, #0xf" ::: "memory");
    return daif;
}

void kmem_platform_irq_restore(unsigned long flags) { KX_WRITE_SYSREG(daif, flags); }

bool kmem_platform_irqs_enabled(void) { return !(KX_READ_SYSREG(daif) & (1u << 7)); } // DAIF.I

bool kmem_platform_in_interrupt(void) {
    const kx::PerCpu *p = kx::this_cpu();
    return p && p->irq_depth; // only kx_irq changes it, and it is back to 0 when kx_irq returns
}

// Called by the vectors (vectors.S): which entry, and the syndrome.
[[noreturn]] void kx_exception(uint64_t entry, uint64_t esr, uint64_t elr, uint64_t far) {
    kx::print("\nkmem-aarch64: exception vector ");
    kx::print_u64(entry);
    kx::print(" esr ");
    kx::print_hex(esr);
    kx::print(" elr ");
    kx::print_hex(elr);
    kx::print(" far ");
    kx::print_hex(far);
    kx::print("\n");
    kx::qemu_exit(2);
}

// memcpy and memset: kernel/common/memory_words.cpp.

}
