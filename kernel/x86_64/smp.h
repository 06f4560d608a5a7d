// SPDX-License-Identifier: MIT
//
// DOC: starting the application processors (INIT-SIPI-SIPI through the local
// APIC, the trampoline at 0x8000); kernel/common/cpus.h runs work on them.
#pragma once

#include "acpi.h"
#include "arch.h"
#include "cpus.h"

#include <kmem/boot.h>

namespace kx {

// Index 0 is the boot CPU. Returns how many CPUs run (the boot CPU included).
unsigned start_cpus(kmem::MemorySystem &sys, const AcpiInfo &acpi);
unsigned bsp_apic_id(const AcpiInfo &acpi);


} // namespace kx
