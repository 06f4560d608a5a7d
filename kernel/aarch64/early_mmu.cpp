// SPDX-License-Identifier: MIT
//
// DOC: the AArch64 demo kernel's early mapping, built with the MMU off:
// identity 1 GiB blocks for [0, 1 GiB) (device memory: the UART and the rest
// of QEMU virt's MMIO) and for the first 1 GiB of RAM (where the kernel
// runs), and the same RAM at the direct map (kArchDirectMapBase + pa), so
// phys_to_virt is the same before and after the real tables. Then MAIR,
// TCR, TTBR0 and the MMU on. Nothing here may use atomics or unaligned
// accesses (the MMU is off: all memory is Device).
#include "arch.h"

namespace kx {
namespace {

alignas(4096) uint64_t g_l0[512];
alignas(4096) uint64_t g_l1_identity[512];
alignas(4096) uint64_t g_l1_direct[512];

constexpr uint64_t kNormalBlock = kmem::kA64Valid | (uint64_t{kmem::kA64MairNormalWb} << kmem::kA64AttrIndxShift) |
                                  kmem::kA64ShInner | kmem::kA64Af | kmem::kA64Uxn;
constexpr uint64_t kDeviceBlock = kmem::kA64Valid | (uint64_t{kmem::kA64MairDevice} << kmem::kA64AttrIndxShift) |
                                  kmem::kA64Af | kmem::kA64Pxn | kmem::kA64Uxn;
constexpr uint64_t kTable = kmem::kA64Valid | kmem::kA64Table;

} // namespace
} // namespace kx

// Read by secondary_entry (boot.S).
extern "C" {
uint64_t kx_mair = kmem::kAarch64Mair;
uint64_t kx_tcr = 0;
uint64_t kx_secondary_ttbr0 = 0;
uint64_t kx_secondary_stacks[kmem::kMaxCpus] = {};
}

extern "C" void early_mmu_on() {
    using namespace kx;
    g_l1_identity[0] = 0 | kDeviceBlock;
    g_l1_identity[kRamBase >> 30] = kRamBase | kNormalBlock;
    g_l1_direct[kRamBase >> 30] = kRamBase | kNormalBlock;
    g_l0[0] = reinterpret_cast<uint64_t>(g_l1_identity) | kTable;
    g_l0[(kDirectMap >> 39) & 511] = reinterpret_cast<uint64_t>(g_l1_direct) | kTable;
    kx_tcr = kmem::aarch64_tcr(KX_READ_SYSREG(id_aa64mmfr0_el1) & 0xf);
    KX_WRITE_SYSREG(mair_el1, kmem::kAarch64Mair);
    KX_WRITE_SYSREG(tcr_el1, kx_tcr);
    KX_WRITE_SYSREG(ttbr0_el1, reinterpret_cast<uint64_t>(g_l0));
    asm volatile("isb; tlbi vmalle1; dsb nsh; isb" ::: "memory");
    const uint64_t sctlr = KX_READ_SYSREG(sctlr_el1) | (1u << 0) | (1u << 2) | (1u << 12); // M, C, I
    KX_WRITE_SYSREG(sctlr_el1, sctlr);
    asm volatile("isb" ::: "memory");
}
