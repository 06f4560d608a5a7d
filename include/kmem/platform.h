// SPDX-License-Identifier: MIT
//
// DOC: the platform seam.
//
// Everything kmem needs from the world outside its own data structures goes
// through one type that satisfies the Platform concept below: physical <->
// virtual translation, which physical ranges are mapped right now, the current
// CPU, local interrupt save/restore and whether the CPU is in an interrupt
// handler, a spinlock, a clock, the console and panic.
//
// The library is compiled against exactly one platform (chosen when it is
// built, see src/platform/current.h), so every call is a direct, inlinable
// call: no virtual dispatch on any path. Two implementations ship with the
// core:
//   - hosted (src/platform/hosted): "physical memory" is one big
//     MAP_NORESERVE mapping, CPUs are threads; used by tools, tests, benches;
//   - extern (src/platform/extern): each hook is an extern "C" function
//     kmem_platform_*() that the kernel embedding kmem provides.
// An embedder may bring its own type instead (KMEM_PLATFORM_HEADER and
// KMEM_PLATFORM_TYPE, src/platform/current.h); the malloc shim does
// (kmem::shim::Platform, tools/malloc/shim_platform.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kmem {

// std::same_as without <concepts>: the core needs no C++ library headers.
template <class A, class B>
concept same_as = __is_same(A, B) && __is_same(B, A);

// Highest CPU id + 1 that kmem supports.
inline constexpr unsigned kMaxCpus = 64;

template <class L>
concept SpinLockType = requires(L l, uint32_t holder) {
    l.lock(holder);
    l.unlock();
    { l.try_lock(holder) } -> same_as<bool>;
    { l.holder() } -> same_as<uint32_t>;
};

template <class P>
concept Platform = requires(uint64_t pa, uint64_t len, const void *va, const char *msg,
                            size_t n, unsigned long flags) {
    // Translation. phys_to_virt is only valid for mapped physical addresses.
    { P::phys_to_virt(pa) } -> same_as<void *>;
    { P::virt_to_phys(va) } -> same_as<uint64_t>;
    // Is [pa, pa + len) mapped right now? (debug checks of metadata access)
    { P::is_mapped(pa, len) } -> same_as<bool>;
    // The CPU this code runs on, < kMaxCpus.
    { P::cpu_id() } -> same_as<unsigned>;
    // The same, or kMaxCpus while the caller has no CPU id yet (a hosted
    // thread that never allocated): the allocators' fast paths use it and
    // leave that case to their slow paths, which call cpu_id().
    { P::cpu_slot() } -> same_as<unsigned>;
    // Local interrupts off / back to what they were (Linux's
    // local_irq_save/restore). Pairs nest. A platform where nothing can
    // interrupt kmem's callers returns 0 and does nothing.
    { P::irq_save() } -> same_as<unsigned long>;
    P::irq_restore(flags);
    // Are local interrupts enabled? (Debug assertions: a per-CPU section or
    // a lock with interrupts on is a bug. Never enabled where nothing can
    // interrupt.)
    { P::irqs_enabled() } -> same_as<bool>;
    // Is this CPU running an interrupt handler? (Calling-context checks: what
    // a handler may not call fails with Errc::wrong_context, docs/porting.md.)
    { P::in_interrupt() } -> same_as<bool>;
    // Monotonic nanoseconds (for boot phase timing).
    { P::now_ns() } -> same_as<uint64_t>;
    P::console_write(msg, n);
    // Does not return.
    P::panic(msg);
    // The lock type: kmem::platform::SpinLock (include/kmem/spinlock.h),
    // which the public structures embed by value (src/platform/current.h
    // asserts it for the platform a build uses).
    requires SpinLockType<typename P::SpinLock>;
};

} // namespace kmem
