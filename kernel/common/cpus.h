// SPDX-License-Identifier: MIT
//
// DOC: running work on every CPU at once (the self-tests). The boot CPU is
// CPU 0; an architecture's smp.cpp starts the others, and each calls
// cpu_online() and then cpu_work_loop(cpu), which never returns.
#pragma once

namespace kx {

using CpuWork = void (*)(unsigned cpu, void *ctx);
// Run fn(cpu, ctx) on every started CPU at once (the boot CPU too) and wait.
void run_on_all_cpus(CpuWork fn, void *ctx);
unsigned cpus_running();
// Every CPU reaches this before any leaves (inside run_on_all_cpus work).
void barrier();

// For the architectures' CPU start-up code.
void cpu_online();
// After starting a CPU while cpus_running() was `before`: wait up to a
// second for it to call cpu_online(), else panic with `what`.
void wait_for_cpu(unsigned before, const char *what);
[[noreturn]] void cpu_work_loop(unsigned cpu);

} // namespace kx
