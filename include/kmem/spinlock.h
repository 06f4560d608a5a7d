// SPDX-License-Identifier: MIT
//
// DOC: a test-and-test-and-set spinlock on freestanding <atomic>.
//
// Both platforms use it; the bare-metal one takes it with interrupts off
// (see LockGuard in current.h), the hosted one spins between threads.
#pragma once

#include <atomic>

namespace kmem::platform {

class SpinLock {
public:
    void lock() {
        for (;;) {
            if (!locked_.exchange(true, std::memory_order_acquire)) return;
            while (locked_.load(std::memory_order_relaxed)) cpu_relax();
        }
    }
    bool try_lock() {
        return !locked_.load(std::memory_order_relaxed) &&
               !locked_.exchange(true, std::memory_order_acquire);
    }
    void unlock() { locked_.store(false, std::memory_order_release); }

private:
    static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield" ::: "memory");
#endif
    }
    std::atomic<bool> locked_{false};
};

} // namespace kmem::platform
