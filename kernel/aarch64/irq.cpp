// SPDX-License-Identifier: MIT
//
// DOC: the AArch64 kernel's interrupts (kernel/common/irq.h): the EL1
// virtual timer (CNTV_CTL_EL0, CNTV_TVAL/CVAL_EL0; its PPI from the device tree's
// /timer node, INTID 27 on QEMU virt) as each CPU's periodic tick through the
// GIC (gic.h), and kx_irq, the C++ half of the IRQ entry (vectors.S).
#include "irq.h"

#include "arch.h"
#include "fdt.h"
#include "gic.h"

namespace kx {
namespace {

constexpr uint32_t kDefaultTimerIntid = 27; // QEMU virt's virtual timer PPI
constexpr uint64_t kCntvEnable = 1;         // CNTV_CTL_EL0.ENABLE (IMASK clear)
uint32_t g_timer_intid = kDefaultTimerIntid;

PerCpu &me() {
    PerCpu *p = this_cpu();
    if (!p) kmem_platform_panic("interrupts on a CPU without its per-CPU block");
    return *p;
}

} // namespace

void irq_setup() {
    // /timer: interrupts = secure physical, non-secure physical, virtual,
    // hypervisor; three cells each (type 1: PPI, number, flags).
    FdtNode t;
    if (fdt_find_compatible(device_tree(), "arm,armv8-timer", t) && t.interrupts_len >= 36 &&
        fdt_cells(t.interrupts + 24, 1) == 1)
        g_timer_intid = 16 + static_cast<uint32_t>(fdt_cells(t.interrupts + 28, 1));
    if (g_timer_intid < 16 || g_timer_intid > 31) kmem_platform_panic("the virtual timer's interrupt is not a PPI");
    gic_init();
    print("kmem-aarch64: GICv");
    print_u64(gic_version());
    print(", virtual timer on INTID ");
    print_u64(g_timer_intid);
    print("\n");
}

void timer_start(unsigned hz) {
    PerCpu &p = me();
    gic_init_cpu(g_timer_intid);
    const uint64_t f = KX_READ_SYSREG(cntfrq_el0), period = hz ? f / hz : f;
    p.tick_period = static_cast<uint32_t>(period ? (period < 0x7fffffff ? period : 0x7fffffff) : 1);
    KX_WRITE_SYSREG(cntv_tval_el0, p.tick_period);
    KX_WRITE_SYSREG(cntv_ctl_el0, kCntvEnable);
    asm volatile("isb; msr daifclr, #2" ::: "memory"); // IRQs on
}

void timer_stop() {
    // Masked first: nothing is taken after this (MSR DAIFSet is self-synchronising).
    asm volatile("msr daifset, #2" ::: "memory");
    KX_WRITE_SYSREG(cntv_ctl_el0, 0);
    asm volatile("isb" ::: "memory");
}

} // namespace kx

// From kx_irq_entry (vectors.S), IRQs masked, on the interrupted stack.
extern "C" void kx_irq() {
    using namespace kx;
    const uint32_t ack = gic_ack();
    const uint32_t intid = gic_intid(ack);
    if (intid >= 1020 && intid <= 1023) return; // special (1023: spurious): nothing to end
    if (intid != g_timer_intid) kmem_platform_panic("an interrupt nothing enabled");
    PerCpu &p = me();
    const unsigned cpu = kmem_platform_cpu_id();
    ++p.irq_depth;
    timer_tick(cpu);
    --p.irq_depth;
    // Re-armed before the end of interrupt (the timer's level drops first, so
    // the PPI is not pending again at once), one period after the deadline
    // that fired: late ticks do not stretch the period. But at least half a
    // period from now, so a tick delayed by a period or more (TCG, a busy
    // host) is not followed by a burst and the interrupted code runs.
    const uint64_t now = KX_READ_SYSREG(cntvct_el0), soonest = now + p.tick_period / 2;
    const uint64_t next = KX_READ_SYSREG(cntv_cval_el0) + p.tick_period;
    KX_WRITE_SYSREG(cntv_cval_el0, next > soonest ? next : soonest);
    asm volatile("isb" ::: "memory");
    gic_eoi(ack);
}
