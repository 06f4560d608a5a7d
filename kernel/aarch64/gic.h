// SPDX-License-Identifier: MIT
//
// DOC: the interrupt controller - a GICv2 or a GICv3, whichever the device
// tree describes (QEMU virt: -M virt,gic-version=2 or 3). gic.cpp hides the
// difference: distributor set-up once, each CPU's interface (GICv2: the
// memory-mapped GICC; GICv3: its redistributor and the ICC_* registers),
// acknowledge and end of interrupt.
#pragma once

#include <kmem/result.h>

#include <stdint.h>

namespace kx {

struct MmioRange {
    uint64_t base, size;
};

// From the device tree, before the kernel's tables are built: which GIC and
// where its registers are.
kmem::Status gic_probe(const uint8_t *dtb);
unsigned gic_version(); // 2 or 3 (0 before gic_probe)
// The register ranges the kernel's tables must map as device memory: the
// distributor, then GICv2's CPU interface or GICv3's redistributors.
MmioRange gic_mmio(unsigned i);
inline constexpr unsigned kGicMmioRanges = 2;

// Once, on the boot CPU: the distributor on.
void gic_init();
// On each CPU: its interface on, every priority unmasked, and PPI `intid`
// (16..31) enabled for it. Repeating it is harmless.
void gic_init_cpu(uint32_t intid);

// In the interrupt handler: acknowledge (the returned value goes back to
// gic_eoi), the INTID it names (1020..1023: none, spurious), end of interrupt.
uint32_t gic_ack();
uint32_t gic_intid(uint32_t ack);
void gic_eoi(uint32_t ack);

} // namespace kx
