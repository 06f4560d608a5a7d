// SPDX-License-Identifier: MIT
//
// DOC: the RISC-V kernel's interrupts (kernel/common/irq.h): each hart's
// supervisor timer as its periodic tick - through Sstc's stimecmp where the
// hart has it and M-mode lets S-mode use it, else through SBI's TIME
// extension - and kx_trap, the C++ half of the trap entry (trap.S).
#include "irq.h"

#include "arch.h"
#include "harts.h"
#include "sbi.h"

namespace kx {
namespace {

bool g_sstc = false;
// The stimecmp probe: set while it runs; the illegal-instruction trap it may
// cause sets the second and skips the instruction.
volatile bool g_probing = false, g_probe_faulted = false;

constexpr uint64_t kIllegalInstruction = 2;

PerCpu &me() {
    PerCpu *p = this_cpu();
    if (!p) kmem_platform_panic("interrupts on a hart without its per-CPU block");
    return *p;
}

// The next timer interrupt at `deadline` (time-CSR ticks); clears a pending one.
void set_deadline(uint64_t deadline) {
    if (g_sstc) asm volatile("csrw 0x14d, %0" ::"r"(deadline) : "memory"); // stimecmp
    else sbi_set_timer(deadline);
}

// Whether S-mode may read stimecmp: M-mode's menvcfg.STCE, which S-mode cannot read.
bool stimecmp_usable() {
    g_probing = true;
    g_probe_faulted = false;
    uint64_t v;
    asm volatile("csrr %0, 0x14d" : "=r"(v)::"memory");
    (void)v;
    g_probing = false;
    return !g_probe_faulted;
}

void timer_interrupt() {
    PerCpu &p = me();
    const unsigned cpu = p.index;
    ++p.irq_depth;
    timer_tick(cpu);
    --p.irq_depth;
    // One period after the deadline that fired (late ticks do not stretch the
    // period), but at least half a period from now, so a tick delayed by a
    // period or more (TCG, a busy host) is not followed by a burst.
    const uint64_t now = KX_CSR_READ(time), soonest = now + p.tick_period / 2;
    p.deadline = p.deadline + p.tick_period > soonest ? p.deadline + p.tick_period : soonest;
    set_deadline(p.deadline);
}

} // namespace

void irq_setup() {
    g_sstc = harts().sstc && stimecmp_usable();
    if (!g_sstc && !sbi_has(kSbiTime)) kmem_platform_panic("no Sstc and no SBI TIME extension: no timer");
    print(g_sstc ? "kmem-riscv64: timer through Sstc (stimecmp), " : "kmem-riscv64: timer through SBI TIME, ");
    print_u64(devices().timebase_hz);
    print(" Hz timebase\n");
}

void timer_start(unsigned hz) {
    PerCpu &p = me();
    const uint64_t f = devices().timebase_hz;
    p.tick_period = hz && f / hz ? f / hz : 1;
    p.deadline = KX_CSR_READ(time) + p.tick_period;
    set_deadline(p.deadline);
    KX_CSR_SET(sie, kSieStie);
    KX_CSR_SET(sstatus, kSstatusSie);
}

void timer_stop() {
    KX_CSR_CLEAR(sstatus, kSstatusSie); // nothing is taken after this
    KX_CSR_CLEAR(sie, kSieStie);
    set_deadline(~uint64_t{0});
}

} // namespace kx

extern "C" [[noreturn]] void kx_exception(uint64_t cause, uint64_t epc, uint64_t tval);

// From kx_trap_entry (trap.S), interrupts off, on the interrupted stack:
// where to resume.
extern "C" uint64_t kx_trap(uint64_t cause, uint64_t epc, uint64_t tval) {
    using namespace kx;
    if (cause == (kCauseInterrupt | kCauseSupervisorTimer)) {
        timer_interrupt();
        return epc;
    }
    if (cause & kCauseInterrupt) kmem_platform_panic("an interrupt nothing enabled");
    if (cause == kIllegalInstruction && g_probing) { // the stimecmp probe: a CSR instruction is 4 bytes
        g_probe_faulted = true;
        return epc + 4;
    }
    kx_exception(cause, epc, tval);
}
