// SPDX-License-Identifier: MIT
//
// DOC: what the RISC-V demo kernel uses of the machine (QEMU virt under
// OpenSBI, S-mode): CSRs, the NS16550 UART and the sifive_test exit device
// (both found in the device tree), time from the time CSR, the per-hart
// block behind tp, and the kernel's layout. SBI calls are in sbi.h, the
// timer interrupt in irq.cpp, the device tree's hart list in harts.h.
#pragma once

#include "console.h"

#include <kmem/boot.h>

#include <stddef.h>
#include <stdint.h>

namespace kx {

#define KX_CSR_READ(csr)                                                                                  \
    ({                                                                                                    \
        uint64_t v_;                                                                                      \
        asm volatile("csrr %0, " #csr : "=r"(v_));                                                       \
        v_;                                                                                               \
    })
#define KX_CSR_WRITE(csr, v) asm volatile("csrw " #csr ", %0" ::"r"(static_cast<uint64_t>(v)) : "memory")
#define KX_CSR_SET(csr, bits) asm volatile("csrs " #csr ", %0" ::"r"(static_cast<uint64_t>(bits)) : "memory")
#define KX_CSR_CLEAR(csr, bits) asm volatile("csrc " #csr ", %0" ::"r"(static_cast<uint64_t>(bits)) : "memory")

inline constexpr uint64_t kSstatusSie = 1u << 1; // supervisor interrupts enabled
inline constexpr uint64_t kSieStie = 1u << 5;    // supervisor timer interrupt enabled
inline constexpr uint64_t kCauseInterrupt = uint64_t{1} << 63;
inline constexpr uint64_t kCauseSupervisorTimer = 5;

inline constexpr uint64_t kRamBase = 0x80000000;             // QEMU virt
inline constexpr uint64_t kDirectMap = kmem::kArchDirectMapBase; // Sv39's upper half
inline constexpr uint64_t kEarlyWindow = uint64_t{1} << 30;  // [kRamBase, kRamBase + 1 GiB)

struct PerCpu {
    uint32_t index;       // kmem's CPU number
    uint32_t irq_depth;   // > 0: inside an interrupt handler (irq.cpp's kx_interrupt)
    uint64_t hart;        // the hart id SBI knows it by
    uint64_t tick_period; // the timer's period in time-CSR ticks (timer_start)
    uint64_t deadline;    // the next tick's deadline
};
void set_this_cpu(PerCpu *p);
// This hart's block (tp); null until set_this_cpu (the boot hart: start_cpus).
inline PerCpu *this_cpu() {
    PerCpu *p;
    asm volatile("mv %0, tp" : "=r"(p));
    return p;
}

// The device tree OpenSBI passed in a1 (through the direct map), and its size.
const uint8_t *device_tree();

// Where the devices are (the device tree's ns16550a and sifive,test0 nodes;
// QEMU virt's addresses until it has been read).
struct Devices {
    uint64_t uart = 0x10000000;
    uint64_t test = 0x100000;
    uint64_t timebase_hz = 10000000; // /cpus timebase-frequency
};
Devices &devices();


// The real tables are live (phys_to_virt is unchanged; is_mapped grows).
void switched_to_kernel_tables(uint64_t ram_top);

// sifive_test: QEMU exits with status 0 for `code` 0 (FINISHER_PASS),
// otherwise with `code` (FINISHER_FAIL).
[[noreturn]] void qemu_exit(uint32_t code);

} // namespace kx
