// SPDX-License-Identifier: MIT
//
// DOC: GICv2 and GICv3 (see gic.h), just what a per-CPU timer needs: every
// interrupt this kernel takes is a PPI, so the distributor only has to be
// switched on, and each CPU enables the PPI in its banked registers (GICv2:
// GICD_ISENABLER0; GICv3: its redistributor's SGI frame, found by matching
// GICR_TYPER's affinity to MPIDR_EL1). Both take the PPI in group 1 where a
// group matters (GICv3: ICC_IGRPEN1_EL1) and group 0 on a GICv2 without
// security extensions (QEMU's), which signals it as IRQ too.
#include "gic.h"

#include "arch.h"
#include "fdt.h"

namespace kx {
namespace {

// Distributor (both).
constexpr uint64_t kGicdCtlr = 0x0, kGicdIgroupr = 0x80, kGicdIsenabler = 0x100, kGicdIpriorityr = 0x400;
// GICv2 CPU interface.
constexpr uint64_t kGiccCtlr = 0x0, kGiccPmr = 0x4, kGiccIar = 0xc, kGiccEoir = 0x10;
// GICv3 redistributor: RD frame, then the SGI frame 64 KiB above it.
constexpr uint64_t kGicrTyper = 0x8, kGicrWaker = 0x14, kGicrSgi = 0x10000;
constexpr uint32_t kGicdCtlrRwp = 1u << 31;
// GICD_CTLR, GICv3: ARE (bit 4) and both group enables. Without security
// (DS=1, QEMU virt) bits 0/1 enable groups 0/1; seen from non-secure with
// security they are Grp1NS/Grp1A - group 1 enabled either way.
constexpr uint32_t kGicdCtlrV3 = 1u << 4 | 1u << 1 | 1u << 0;
constexpr uint32_t kPriority = 0xa0; // any value below the mask (0xff) is delivered

struct Gic {
    unsigned version = 0;
    MmioRange dist{}, cpu{}; // cpu: GICv2's CPU interface, GICv3's redistributors
};
Gic g_gic;

volatile uint32_t &reg(uint64_t addr) { return *reinterpret_cast<volatile uint32_t *>(addr); }
uint64_t reg64(uint64_t addr) { return *reinterpret_cast<volatile uint64_t *>(addr); }

void set_priority(uint64_t ipriorityr, uint32_t intid) {
    volatile uint32_t &r = reg(ipriorityr + intid / 4 * 4);
    const unsigned shift = intid % 4 * 8;
    r = (r & ~(0xffu << shift)) | kPriority << shift;
}

void wait_rwp() {
    while (reg(g_gic.dist.base + kGicdCtlr) & kGicdCtlrRwp) cpu_relax();
}

// This CPU's redistributor (RD frame): the one whose affinity is MPIDR_EL1's.
uint64_t my_redistributor() {
    const uint64_t mpidr = KX_READ_SYSREG(mpidr_el1);
    const uint64_t aff = (mpidr & 0xffffff) | (mpidr >> 32 & 0xff) << 24;
    for (uint64_t rd = g_gic.cpu.base; rd < g_gic.cpu.base + g_gic.cpu.size;) {
        const uint64_t typer = reg64(rd + kGicrTyper);
        if (typer >> 32 == aff) return rd;
        if (typer & (1u << 4)) break;                // Last
        rd += typer & (1u << 1) ? 0x40000 : 0x20000; // VLPIS: four frames, else two
    }
    kmem_platform_panic("no GICv3 redistributor for this CPU");
}

void init_cpu_v2(uint32_t intid) {
    const uint64_t d = g_gic.dist.base, c = g_gic.cpu.base;
    set_priority(d + kGicdIpriorityr, intid); // banked per CPU for 0..31
    reg(d + kGicdIsenabler) = 1u << intid;
    reg(c + kGiccPmr) = 0xff;
    reg(c + kGiccCtlr) = 1; // EnableGrp0 (signalled as IRQ: FIQEn is 0)
}

void init_cpu_v3(uint32_t intid) {
    const uint64_t rd = my_redistributor(), sgi = rd + kGicrSgi;
    reg(rd + kGicrWaker) = reg(rd + kGicrWaker) & ~(1u << 1); // ProcessorSleep off
    while (reg(rd + kGicrWaker) & (1u << 2)) cpu_relax();     // ChildrenAsleep
    reg(sgi + kGicdIgroupr) = reg(sgi + kGicdIgroupr) | 1u << intid; // group 1
    set_priority(sgi + kGicdIpriorityr, intid);
    reg(sgi + kGicdIsenabler) = 1u << intid;
    KX_WRITE_SYSREG(icc_sre_el1, KX_READ_SYSREG(icc_sre_el1) | 1); // SRE: the system-register interface
    asm volatile("isb" ::: "memory");
    KX_WRITE_SYSREG(icc_pmr_el1, 0xff);
    KX_WRITE_SYSREG(icc_igrpen1_el1, 1);
    asm volatile("isb" ::: "memory");
}

} // namespace

kmem::Status gic_probe(const uint8_t *dtb) {
    FdtNode n;
    unsigned v = 0;
    if (fdt_find_compatible(dtb, "arm,gic-v3", n)) v = 3;
    else if (fdt_find_compatible(dtb, "arm,cortex-a15-gic", n) || fdt_find_compatible(dtb, "arm,gic-400", n)) v = 2;
    else return kmem::make_error(kmem::Errc::no_entries, "no GICv2 or GICv3 in the device tree");
    if (!fdt_reg(n, 0, g_gic.dist.base, g_gic.dist.size) || !fdt_reg(n, 1, g_gic.cpu.base, g_gic.cpu.size))
        return kmem::make_error(kmem::Errc::malformed, "the GIC's reg property has fewer than two ranges");
    g_gic.version = v;
    return {};
}

unsigned gic_version() { return g_gic.version; }

MmioRange gic_mmio(unsigned i) { return i == 0 ? g_gic.dist : g_gic.cpu; }

void gic_init() {
    const uint64_t ctlr = g_gic.dist.base + kGicdCtlr;
    if (g_gic.version == 2) {
        reg(ctlr) = 1; // forward group 0 (no security extensions: every interrupt)
        return;
    }
    reg(ctlr) = 0; // ARE may change only with the groups off
    wait_rwp();
    reg(ctlr) = 1u << 4;
    wait_rwp();
    reg(ctlr) = kGicdCtlrV3;
    wait_rwp();
}

void gic_init_cpu(uint32_t intid) {
    if (g_gic.version == 2) init_cpu_v2(intid);
    else init_cpu_v3(intid);
}

uint32_t gic_ack() {
    if (g_gic.version == 2) return reg(g_gic.cpu.base + kGiccIar);
    return static_cast<uint32_t>(KX_READ_SYSREG(icc_iar1_el1));
}

uint32_t gic_intid(uint32_t ack) { return g_gic.version == 2 ? ack & 0x3ff : ack & 0xffffff; }

void gic_eoi(uint32_t ack) {
    if (g_gic.version == 2) {
        reg(g_gic.cpu.base + kGiccEoir) = ack;
        return;
    }
    KX_WRITE_SYSREG(icc_eoir1_el1, ack);
    asm volatile("isb" ::: "memory");
}

} // namespace kx
