// SPDX-License-Identifier: MIT
//
// DOC: interrupts in the demo kernels - what each architecture provides
// (kernel/<arch>/irq.cpp) and the work the timer interrupt does on every CPU
// (kernel/common/irq_work.cpp).
//
// The self-tests start a periodic timer on every CPU; its handler allocates
// and frees (kmalloc of mixed sizes, a kmem_cache, an occasional page) while
// the page and slab tests run on the same CPUs, so kmem's per-CPU fast paths
// and its locks are exercised with interrupts arriving at any instruction.
// An architecture's interrupt entry marks the CPU as in an interrupt
// (kmem_platform_in_interrupt), calls timer_tick() with interrupts off,
// signals end of interrupt and returns to the interrupted code.
#pragma once

#include <kmem/boot.h>

#include <stdint.h>

namespace kx {

// ---- the architecture's part (kernel/<arch>/irq.cpp)

// Once, on the boot CPU, before the other CPUs start: the vector table's
// interrupt entries and the interrupt controller's shared state.
void irq_setup();
// On each CPU, its own call: this CPU's interrupt-controller interface and a
// periodic timer at `hz` ticks per second, then interrupts enabled.
void timer_start(unsigned hz);
// On each CPU, its own call: interrupts disabled and the timer stopped; no
// tick runs on this CPU after it returns.
void timer_stop();

// ---- the common part (kernel/common/irq_work.cpp)

// What the timer handlers did, summed over the CPUs.
struct IrqCounts {
    uint64_t handled;     // timer interrupts taken
    uint64_t allocations; // objects and pages the handlers allocated
    uint64_t frees;       // ... and freed
    uint64_t failed;      // allocations refused for lack of memory (expected while
                          // the page test holds every page: not errors)
    uint64_t errors;      // wrong results: a refused free, an object whose marks
                          // changed while it was live, a failure with memory free
};

// Point the handlers at the memory system and create their kmem_cache
// (process context, before the timers start).
kmem::Status irq_work_init(kmem::MemorySystem &sys);
// The timer interrupt's work on CPU cpu (interrupts off, in an interrupt).
void timer_tick(unsigned cpu);
// After timer_stop() on CPU cpu, on that CPU: free what its handler still holds.
void irq_work_drain(unsigned cpu);
// The handlers' cache goes back (process context, every timer stopped and drained).
kmem::Status irq_work_finish();
IrqCounts irq_counts();
// Timer interrupts CPU cpu has taken so far.
uint64_t irq_handled(unsigned cpu);
// One console line: `prefix` ("kmem-<arch>: "), then the timer interrupts
// each of the first `cpus` CPUs took.
void print_irq_handled(const char *prefix, unsigned cpus);

} // namespace kx
