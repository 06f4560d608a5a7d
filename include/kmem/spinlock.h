// SPDX-License-Identifier: MIT
//
// DOC: a test-and-test-and-set spinlock on the compiler's atomic builtins.
//
// Both platforms use it; the bare-metal one takes it with interrupts off
// (see LockGuard in current.h), the hosted one spins between threads. The
// core uses the __atomic builtins (GCC and Clang) rather than <atomic>, so it
// needs no C++ library headers at all and builds for any target a compiler
// supports (a cross clang has no libstdc++ for aarch64-none-elf).
#pragma once

namespace kmem::platform {

class SpinLock {
public:
    void lock() {
        for (;;) {
            if (!__atomic_exchange_n(&locked_, true, __ATOMIC_ACQUIRE)) return;
            while (__atomic_load_n(&locked_, __ATOMIC_RELAXED)) cpu_relax();
        }
    }
    bool try_lock() {
        return !__atomic_load_n(&locked_, __ATOMIC_RELAXED) && !__atomic_exchange_n(&locked_, true, __ATOMIC_ACQUIRE);
    }
    void unlock() { __atomic_store_n(&locked_, false, __ATOMIC_RELEASE); }

private:
    static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield" ::: "memory");
#endif
    }
    bool locked_ = false;
};

} // namespace kmem::platform
