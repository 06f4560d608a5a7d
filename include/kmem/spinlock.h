// SPDX-License-Identifier: MIT
//
// DOC: a test-and-test-and-set spinlock on the compiler's atomic builtins.
//
// Both platforms use it, always through a guard that takes it with local
// interrupts off (LockGuard in src/platform/current.h), so an interrupt
// handler on the same CPU can take any lock the core has. The lock word
// holds who took it: the guard passes its CPU (plus one) in debug builds,
// so taking a lock the same CPU already holds - the deadlock a handler
// interrupting the holder would cause - is caught (KMEM_DEBUG), and a
// function that needs a lock held can check it. The core uses the __atomic
// builtins rather than <atomic>, so it needs no C++ library headers at all
// and builds for any target a compiler supports (a cross clang has no
// libstdc++ for aarch64-none-elf).
#pragma once

#include <kmem/thread_safety.h>

#include <stdint.h>

namespace kmem::platform {

class KMEM_CAPABILITY("spinlock") SpinLock {
public:
    // holder: nonzero, who takes it (a CPU id + 1 in debug builds, else 1).
    void lock(uint32_t holder = 1) KMEM_ACQUIRE() {
        while (!try_lock(holder))
            while (__atomic_load_n(&word_, __ATOMIC_RELAXED)) cpu_relax();
    }
    // A compare-and-swap from free, so a CPU that finds it taken leaves the
    // holder's tag alone.
    bool try_lock(uint32_t holder = 1) KMEM_TRY_ACQUIRE(true) {
        uint32_t free = 0;
        return !__atomic_load_n(&word_, __ATOMIC_RELAXED) &&
               __atomic_compare_exchange_n(&word_, &free, holder, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    }
    void unlock() KMEM_RELEASE() { __atomic_store_n(&word_, 0u, __ATOMIC_RELEASE); }
    // Who holds it (0: nobody): for assertions, never for decisions.
    uint32_t holder() const { return __atomic_load_n(&word_, __ATOMIC_RELAXED); }

private:
    static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield" ::: "memory");
#endif
    }
    uint32_t word_ = 0;
};

} // namespace kmem::platform
