// SPDX-License-Identifier: MIT
//
// DOC: what the AArch64 demo kernel uses of the machine (QEMU virt): system
// registers, the PL011 UART, the device tree, PSCI, semihosting exit, and
// the per-CPU block behind TPIDR_EL1. The GIC is in gic.h, the timer
// interrupt in irq.cpp.
#pragma once

#include "console.h"

#include <kmem/boot.h>

#include <stddef.h>
#include <stdint.h>

namespace kx {

#define KX_READ_SYSREG(name)                                                                              \
    ({                                                                                                    \
        uint64_t v_;                                                                                      \
        asm volatile("mrs %0, " #name : "=r"(v_));                                                       \
        v_;                                                                                               \
    })
#define KX_WRITE_SYSREG(name, v) asm volatile("msr " #name ", %0" ::"r"(static_cast<uint64_t>(v)) : "memory")

inline constexpr uint64_t kRamBase = 0x40000000;       // QEMU virt
inline constexpr uint64_t kUart = 0x09000000;          // PL011, identity-mapped device memory
inline constexpr uint64_t kDirectMap = kmem::kArchDirectMapBase;
inline constexpr uint64_t kEarlyWindow = uint64_t{1} << 30; // [kRamBase, kRamBase + 1 GiB)

struct PerCpu {
    uint32_t index;       // kmem's CPU number
    uint32_t irq_depth;   // > 0: inside an interrupt handler (irq.cpp's kx_irq)
    uint32_t tick_period; // the timer's period in counter ticks (timer_start)
};
void set_this_cpu(PerCpu *p);
// This CPU's block; null until set_this_cpu (the boot CPU: start_cpus).
inline PerCpu *this_cpu() { return reinterpret_cast<PerCpu *>(KX_READ_SYSREG(tpidr_el1)); }

// The device tree QEMU puts at the start of RAM (through the direct map).
inline const uint8_t *device_tree() { return reinterpret_cast<const uint8_t *>(kDirectMap + kRamBase); }


// The real tables are live (phys_to_virt is unchanged; is_mapped grows).
void switched_to_kernel_tables(uint64_t ram_top);

// PSCI (HVC conduit on QEMU virt without EL2/EL3).
int64_t psci_cpu_on(uint64_t mpidr, uint64_t entry_pa, uint64_t context);

// Semihosting SYS_EXIT: QEMU exits with `code`.
[[noreturn]] void qemu_exit(uint32_t code);

} // namespace kx
