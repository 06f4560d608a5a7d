// SPDX-License-Identifier: MIT
//
// DOC: x86_64 interrupts (kernel/common/irq.h): the local APIC timer on
// every CPU, nothing else.
//
// irq_setup() (boot CPU, before the others start) puts the timer and the
// APIC spurious vectors in the IDT every CPU loads, masks both legacy 8259s
// (moved off the exception vectors first, and cut off at LINT0) and measures
// the APIC timer against the TSC. timer_start() enables this CPU's local
// APIC and runs its timer periodically; each tick enters through
// irq_entry.S, counts itself in this CPU's PerCpu::irq_depth around
// timer_tick() and signals end of interrupt.
#include "apic.h"
#include "arch.h"
#include "irq.h"

#include <stddef.h>

extern "C" void kx_irq_timer_entry();
extern "C" void kx_irq_spurious_entry();

namespace kx {
namespace {

constexpr uint8_t kTimerVector = 0x40;
constexpr uint8_t kSpuriousVector = 0xff;
constexpr uint32_t kMasked = 1u << 16;   // LVT entries
constexpr uint32_t kPeriodic = 1u << 17; // LVT timer mode
constexpr uint32_t kDivideBy16 = 0x3;    // timer divide configuration
constexpr uint64_t kCalibrationUs = 10000;

volatile uint32_t *g_lapic = nullptr;
uint64_t g_timer_hz = 0; // APIC timer counts per second at kDivideBy16

void io_wait() { outb(0x80, 0); }

// Both 8259s: reinitialised with their vectors at 0x20-0x2f (away from the
// CPU exceptions the BIOS's 8-15 overlap), then every line masked.
void mask_legacy_pics() {
    constexpr uint16_t kMaster = 0x20, kSlave = 0xa0;
    const uint8_t icw[2][4] = {{0x11, 0x20, 0x04, 0x01}, {0x11, 0x28, 0x02, 0x01}};
    for (unsigned i = 0; i < 4; ++i) {
        const uint16_t port = i == 0 ? 0 : 1; // ICW1 to the command port, the rest to data
        outb(static_cast<uint16_t>(kMaster + port), icw[0][i]);
        io_wait();
        outb(static_cast<uint16_t>(kSlave + port), icw[1][i]);
        io_wait();
    }
    outb(kMaster + 1, 0xff);
    outb(kSlave + 1, 0xff);
}

// This CPU's local APIC: software-enabled with the spurious vector; LINT0
// (where the 8259s would arrive in virtual-wire mode) masked.
void enable_this_lapic() {
    lapic_write(lapic::kSpurious, 0x100u | kSpuriousVector);
    lapic_write(lapic::kLvtLint0, lapic_read(lapic::kLvtLint0) | kMasked);
}

// The APIC timer's current count, read between two clock reads: the time
// it was read at is their middle, give or take half their distance (wide
// where the CPU stalled: under emulation, while the host ran something else).
struct Sample {
    uint64_t ns, width;
    uint32_t count;
};
Sample sample_timer() {
    const uint64_t before = now_ns();
    const uint32_t count = lapic_read(lapic::kTimerCurrent);
    const uint64_t after = now_ns();
    return {before + (after - before) / 2, after - before, count};
}

// APIC timer counts per second: a masked one-shot count down from the top,
// sampled kCalibrationUs of TSC time apart; a few rounds if need be, the
// one with the tightest samples kept.
uint64_t calibrate_timer() {
    constexpr uint64_t kTightNs = 20000;
    lapic_write(lapic::kTimerDivide, kDivideBy16);
    lapic_write(lapic::kLvtTimer, kMasked | kTimerVector);
    uint64_t hz = 0, best = ~uint64_t{0};
    for (int round = 0; round < 8 && best > kTightNs; ++round) {
        lapic_write(lapic::kTimerInitial, 0xffffffffu);
        const Sample a = sample_timer();
        delay_us(kCalibrationUs);
        const Sample b = sample_timer();
        if (b.ns > a.ns && a.count > b.count && a.width + b.width < best) {
            best = a.width + b.width;
            hz = uint64_t{a.count - b.count} * 1000000000ull / (b.ns - a.ns);
        }
    }
    lapic_write(lapic::kTimerInitial, 0);
    return hz;
}

bool timer_pending() {
    const uint32_t irr = lapic_read(lapic::kIrr + kTimerVector / 32 * 0x10);
    return irr & (1u << (kTimerVector % 32));
}

} // namespace

void lapic_init(uint64_t pa) { g_lapic = reinterpret_cast<volatile uint32_t *>(kDirectMap + pa); }
uint32_t lapic_read(unsigned reg) { return g_lapic[reg / 4]; }
void lapic_write(unsigned reg, uint32_t v) { g_lapic[reg / 4] = v; }


void irq_setup() {
    idt_set_interrupt(kTimerVector, kx_irq_timer_entry);
    idt_set_interrupt(kSpuriousVector, kx_irq_spurious_entry);
    mask_legacy_pics();
    enable_this_lapic();
    g_timer_hz = calibrate_timer();
    print("kmem-x86_64: local APIC timer: ");
    print_u64(g_timer_hz / 1000);
    print(" kHz (divide by 16, measured against the TSC)\n");
    if (!g_timer_hz) kmem_platform_panic("the local APIC timer does not count");
}

void timer_start(unsigned hz) {
    enable_this_lapic();
    if (hz) {
        uint64_t count = g_timer_hz / hz;
        if (count == 0) count = 1;
        if (count > 0xffffffffu) count = 0xffffffffu;
        lapic_write(lapic::kTimerDivide, kDivideBy16);
        lapic_write(lapic::kLvtTimer, kPeriodic | kTimerVector);
        lapic_write(lapic::kTimerInitial, static_cast<uint32_t>(count));
    }
    asm volatile("sti" ::: "memory");
}

void timer_stop() {
    asm volatile("cli" ::: "memory");
    lapic_write(lapic::kLvtTimer, kMasked | kTimerVector);
    lapic_write(lapic::kTimerInitial, 0);
    // A tick the APIC accepted before the mask waits in IRR: take it here,
    // so none runs later (sti lets interrupts in after the next instruction:
    // between the nop and the cli).
    while (timer_pending()) asm volatile("sti; nop; cli" ::: "memory");
}

} // namespace kx

// The timer's C++ side, called by kx_irq_timer_entry with interrupts off.
extern "C" void kx_irq_timer() {
    using namespace kx;
    constexpr size_t depth = offsetof(PerCpu, irq_depth);
    asm volatile("incl %%gs:%c0" ::"i"(depth) : "memory");
    const unsigned cpu = kmem_platform_cpu_id();
    timer_tick(cpu);
    asm volatile("decl %%gs:%c0" ::"i"(depth) : "memory");
    lapic_write(lapic::kEoi, 0);
}
