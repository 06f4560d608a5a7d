// SPDX-License-Identifier: MIT
//
// DOC: the malloc shim's platform: kmem::shim::Platform, the type the
// shim's copy of the core is compiled against (tools/malloc/CMakeLists.txt:
// KMEM_PLATFORM_HEADER="shim_platform.h", KMEM_PLATFORM_TYPE=
// kmem::shim::Platform; src/platform/current.h makes it kmem::Plat and checks
// it against the Platform concept, include/kmem/platform.h). Nothing of
// src/platform/hosted is in libkmem-malloc.so.
//
//   - Physical memory is the shim's reservation (heap_reserve, shim.h):
//     physical address pa lives at g_physical_base + pa, so phys <-> virt
//     is an add or a subtract.
//   - The mapped window is [kHeapStart, end of the onlined heap): is_mapped
//     (debug builds only) asks shim_platform.cpp.
//   - CPUs are the shim's slots (shim.h, shim_core.cpp): t_cpu is the
//     calling thread's slot, or kMaxCpus outside a CpuScope. cpu_slot() is
//     that thread_local load; cpu_id() is the same inside a CpuScope and
//     panics outside one (claiming a slot behind the shim's back would skip
//     its bookkeeping: docs/malloc.md, "Threads and CPU slots").
//   - No interrupts: POSIX lets no signal handler call malloc, so nothing
//     interrupts kmem's per-CPU sections; irq_save/irq_restore do nothing
//     and irqs_enabled()/in_interrupt() are false.
//   - Clock, console and panic: CLOCK_MONOTONIC, stderr, stderr + abort().
// The functions declared here never call malloc and need no constructor and
// no thread_local destructor; everything the fast paths reach is inline.
#pragma once

#include <kmem/platform.h>
#include <kmem/spinlock.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem::shim {

extern uint8_t *g_physical_base;              // set once by heap_reserve
extern constinit thread_local unsigned t_cpu; // this thread's CPU slot, or kMaxCpus

[[noreturn]] void panic(const char *message);  // "kmem-malloc: panic: ..." on stderr, abort()
void console_write(const char *s, size_t n);   // stderr
uint64_t monotonic_ns();                       // CLOCK_MONOTONIC
bool heap_range_mapped(uint64_t pa, uint64_t len); // inside the onlined heap
[[noreturn]] void cpu_outside_scope();         // panics: kmem asked for a CPU outside a CpuScope

struct Platform {
    using SpinLock = platform::SpinLock;
    static void *phys_to_virt(uint64_t pa) { return g_physical_base + pa; }
    static uint64_t virt_to_phys(const void *va) {
        return static_cast<uint64_t>(static_cast<const uint8_t *>(va) - g_physical_base);
    }
    static bool is_mapped(uint64_t pa, uint64_t len) { return heap_range_mapped(pa, len); }
    static unsigned cpu_id() {
        const unsigned c = t_cpu;
        if (c >= kMaxCpus) [[unlikely]] cpu_outside_scope();
        return c;
    }
    static unsigned cpu_slot() { return t_cpu; }
    static unsigned long irq_save() { return 0; }
    static void irq_restore(unsigned long) {}
    static bool irqs_enabled() { return false; }
    static bool in_interrupt() { return false; }
    static uint64_t now_ns() { return monotonic_ns(); }
    static void console_write(const char *s, size_t n) { shim::console_write(s, n); }
    [[noreturn]] static void panic(const char *msg) { shim::panic(msg); }
};
static_assert(kmem::Platform<Platform>);

} // namespace kmem::shim
