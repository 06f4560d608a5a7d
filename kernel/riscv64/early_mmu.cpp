// SPDX-License-Identifier: MIT
//
// DOC: the RISC-V demo kernel's early mapping, built with the MMU off: one
// Sv39 root of 1 GiB leaves - identity for [0, 1 GiB) (QEMU virt's MMIO: the
// UART, the sifive_test device) and for the first 1 GiB of RAM (where the
// kernel runs, and the device tree), and the same RAM at the direct map
// (kArchDirectMapBase + pa), so phys_to_virt is the same before and after the
// real tables. Then satp and sfence.vma. Every leaf is R/W/X, global, with A
// and D set (no access or dirty faults). Sv39 is what every paging RISC-V
// hart has; the real tables may be Sv48 (main.cpp).
#include "arch.h"

namespace kx {
namespace {

alignas(4096) uint64_t g_root[512];

constexpr uint64_t gigapage(uint64_t pa) {
    return (pa >> 12) << kmem::kRvPpnShift | kmem::kRvValid | kmem::kRvRead | kmem::kRvWrite | kmem::kRvExec |
           kmem::kRvGlobal | kmem::kRvAccessed | kmem::kRvDirty;
}

} // namespace
} // namespace kx

// Read by secondary_entry (boot.S).
extern "C" {
uint64_t kx_secondary_satp = 0;
uint64_t kx_secondary_stacks[kmem::kMaxCpus] = {};
}

extern "C" void early_mmu_on() {
    using namespace kx;
    g_root[0] = gigapage(0);
    g_root[kRamBase >> 30] = gigapage(kRamBase);
    g_root[((kDirectMap + kRamBase) >> 30) & 511] = gigapage(kRamBase);
    asm volatile("sfence.vma" ::: "memory");
    KX_CSR_WRITE(satp, kmem::riscv_satp(kmem::RiscvMode::sv39, reinterpret_cast<uint64_t>(g_root)));
    asm volatile("sfence.vma" ::: "memory");
}
