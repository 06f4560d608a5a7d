// SPDX-License-Identifier: MIT
//
// DOC: the local APIC (xAPIC, memory-mapped): its registers, for start-up
// IPIs (smp.cpp) and the timer interrupt (irq.cpp, which defines these), and
// the per-CPU tick counts main.cpp reports. kernel/common/irq.h has the
// interrupt interface the self-tests use.
#pragma once

#include <stdint.h>

namespace kx {

namespace lapic {
inline constexpr unsigned kId = 0x20;
inline constexpr unsigned kEoi = 0xb0;
inline constexpr unsigned kSpurious = 0xf0; // bit 8: software enable; low byte: the vector
inline constexpr unsigned kIrr = 0x200;     // 8 registers, 16 bytes apart: 32 vectors each
inline constexpr unsigned kIcrLow = 0x300;
inline constexpr unsigned kIcrHigh = 0x310;
inline constexpr unsigned kLvtTimer = 0x320;
inline constexpr unsigned kLvtLint0 = 0x350;
inline constexpr unsigned kTimerInitial = 0x380;
inline constexpr unsigned kTimerCurrent = 0x390;
inline constexpr unsigned kTimerDivide = 0x3e0;
} // namespace lapic

// The local APIC's registers are at physical `pa`, mapped (uncached) at
// kDirectMap + pa. Before irq_setup() and start_cpus().
void lapic_init(uint64_t pa);
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);

} // namespace kx
