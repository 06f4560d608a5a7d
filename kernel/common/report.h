// SPDX-License-Identifier: MIT
//
// DOC: the demo kernels' report (report.cpp).
#pragma once

#include "selftest.h"

#include <kmem/boot.h>
#include <kmem/memmap.h>

namespace kx {

// What the report says about the architecture's firmware: one number
// (kernel.firmware, e.g. ACPI tables read) and how the map came (map.format,
// map.source).
struct ReportExtra {
    const char *key;
    uint64_t value;
    const char *map_format = "unknown"; // kmem::map_format_name() of the map's format
    const char *map_source = "the boot loader";
};

// The firmware's map as the loader gave it (NUMA nodes applied), before any
// reservation: what the QEMU tests check the report against.
void print_firmware_map(const char *title, const kmem::MemoryMap &map);

// phase_ns: when FirmwareMap, EarlyWindow, DirectMap and Running began.
void print_report(kmem::MemorySystem &sys, const kmem::MemoryMap &firmware, const SelfTestResult &st,
                  unsigned cpus, const char *arch, const uint64_t phase_ns[4], const ReportExtra &extra);

} // namespace kx
