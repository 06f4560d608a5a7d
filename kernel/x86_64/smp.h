// SPDX-License-Identifier: MIT
//
// DOC: starting the application processors (INIT-SIPI-SIPI through the local
// APIC, the trampoline at 0x8000) and running work on every CPU at once.
#pragma once

#include "acpi.h"
#include "arch.h"

#include <kmem/boot.h>

namespace kx {

// Index 0 is the boot CPU. Returns how many CPUs run (the boot CPU included).
unsigned start_cpus(kmem::MemorySystem &sys, const AcpiInfo &acpi);
unsigned bsp_apic_id(const AcpiInfo &acpi);

// Run fn(cpu, ctx) on every started CPU at once (the boot CPU too) and wait.
using CpuWork = void (*)(unsigned cpu, void *ctx);
void run_on_all_cpus(CpuWork fn, void *ctx);
unsigned cpus_running();

// Every CPU reaches this before any leaves (inside run_on_all_cpus work).
void barrier();

} // namespace kx
