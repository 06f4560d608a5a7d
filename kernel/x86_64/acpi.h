// SPDX-License-Identifier: MIT
//
// DOC: what the demo kernel reads from ACPI: the RSDP, RSDT or XSDT, the
// MADT (the CPUs' local APIC ids, the local APIC's address) and the SRAT
// (memory and CPU affinity: NUMA nodes). Read once, before the real page
// tables exist, through early_map(); everything needed later is copied here.
#pragma once

#include <kmem/platform.h>

#include <stddef.h>
#include <stdint.h>

namespace kx {

struct AcpiInfo {
    bool found = false;
    uint64_t rsdp = 0;
    uint64_t lapic = 0xfee00000;
    unsigned cpus = 0;
    uint32_t apic_id[kmem::kMaxCpus] = {};
    int32_t cpu_domain[kmem::kMaxCpus] = {}; // -1: SRAT does not say
    struct Memory {
        uint64_t base, length;
        uint32_t domain;
    } memory[64] = {};
    unsigned memory_count = 0;
    struct Table {
        uint64_t pa;
        uint32_t length;
        char signature[5];
    } tables[32] = {};
    unsigned table_count = 0;
};

// Find and read the tables; false if there is no RSDP (then: one CPU, one node).
bool acpi_read(AcpiInfo &out);

} // namespace kx
