// SPDX-License-Identifier: MIT
//
// DOC: the hosted platform (tools, tests, benchmarks): the Platform type
// the hosted core is compiled against, and its per-thread state. What a
// hosted program calls (the simulated machine's memory, its mapped window,
// CPU slots, emulated interrupts) is public: include/kmem/hosted.h.
//
// Simulated physical memory is one anonymous MAP_NORESERVE mapping from
// physical address 0 up to the machine's highest address, so a 16 TiB machine
// costs only the pages that are touched. The mapped window is the set of
// physical ranges the simulated page tables map right now; in debug builds
// (KMEM_DEBUG) kmem checks every metadata access against it, so a hosted test
// catches what would fault on real hardware. CPUs are threads: a thread
// claims a free CPU slot the first time it asks for its id and gives it back
// when it exits.
//
// Interrupts are emulated per thread with lazy masking (as PowerPC's soft
// interrupt masking does): irq_save counts the thread's "interrupts off"
// depth up, nothing else (one instruction; irq_restore one, and a branch). A signal handler stands for the interrupt: it calls
// deliver_interrupt(), which runs the thread's interrupt handler at once -
// marked as in an interrupt, with interrupts off - or, when the flag is set,
// records it as pending; irq_restore that turns the flag off runs what is
// pending. So a handler never runs inside a section kmem protects with
// interrupts off, and runs anywhere else, as on a real CPU. A build with
// KMEM_HOSTED_NO_INTERRUPTS has no interrupts: every irq_* call is empty
// (the malloc shim, which has none either, has its own platform type:
// tools/malloc/shim_platform.h).
#pragma once

#include <kmem/hosted.h> // the helpers a hosted program calls
#include <kmem/platform.h>
#include <kmem/result.h>

#include <kmem/spinlock.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem::hosted {

extern uint8_t *g_physical_base; // read on every translation; set by create_physical_memory
extern constinit thread_local unsigned t_cpu; // this thread's CPU slot, or kMaxCpus

// A thread's emulated interrupt state, read and written only by that thread
// and by its signal handlers (signal fences order them). `off` holds the
// count of open irq_save .. irq_restore sections (interrupts are off while
// it is not 0) plus kIrqPending once an interrupt arrived meanwhile, so the
// outermost irq_restore's decrement leaves 0 exactly when nothing waits.
// A handler that runs puts `off` back before it returns; a deferral adds
// to it, and is lost (one interrupt skipped, never one run too early) if
// it lands inside an increment or decrement the compiler split in two.
inline constexpr unsigned kIrqPending = 1u << 16;
inline constexpr unsigned kIrqDepthMask = kIrqPending - 1;
struct IrqState {
    unsigned off;   // open sections, + kIrqPending (or a multiple) when an interrupt waits
    unsigned depth; // handlers running (in_interrupt)
};
extern constinit thread_local IrqState t_irq;
// Run the pending interrupt (irq_restore turned interrupts on).
void run_pending_interrupts();
// The same, then make(): irq_restore_then's rare path, reached by a tail call
// so that the fast paths ending there keep no stack frame for it.
template <class Make> [[gnu::noinline]] auto run_pending_interrupts_then(Make make) {
    run_pending_interrupts();
    return make();
}

struct Platform {
    using SpinLock = platform::SpinLock;
    static void *phys_to_virt(uint64_t pa) { return g_physical_base + pa; }
    static uint64_t virt_to_phys(const void *va) {
        return static_cast<uint64_t>(static_cast<const uint8_t *>(va) - g_physical_base);
    }
    static bool is_mapped(uint64_t pa, uint64_t len) { return is_physical_range_mapped(pa, len); }
    static unsigned cpu_id() {
        const unsigned c = t_cpu;
        return c < kMaxCpus ? c : claim_cpu();
    }
    static unsigned cpu_slot() { return t_cpu; }
#if defined(KMEM_HOSTED_NO_INTERRUPTS)
    static unsigned long irq_save() { return 0; }
    static void irq_restore(unsigned long) {}
    static bool irqs_enabled() { return false; }
    static bool in_interrupt() { return false; }
#else
    // The flags are the nesting count itself: irq_save returns 0 and
    // irq_restore closes the innermost section, whatever it is given.
    static unsigned long irq_save() {
        ++t_irq.off;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        return 0;
    }
    // Closes the innermost section; true when that was the outermost one
    // and an interrupt waits (run_pending_interrupts sorts out which).
    [[gnu::always_inline]] static bool irq_close() {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        return --t_irq.off != 0;
    }
    static void irq_restore(unsigned long) {
        if (irq_close()) [[unlikely]] run_pending_interrupts();
    }
    // irq_restore, then return make() (the fast paths' last step: see current.h).
    template <class Make> [[gnu::always_inline]] static auto irq_restore_then(unsigned long, Make make) {
        if (irq_close()) [[unlikely]] return run_pending_interrupts_then(make);
        return make();
    }
    static bool irqs_enabled() { return (__atomic_load_n(&t_irq.off, __ATOMIC_RELAXED) & kIrqDepthMask) == 0; }
    static bool in_interrupt() { return __atomic_load_n(&t_irq.depth, __ATOMIC_RELAXED) != 0; }
#endif
    static uint64_t now_ns() { return monotonic_ns(); }
    static void console_write(const char *s, size_t n) { hosted::console_write(s, n); }
    [[noreturn]] static void panic(const char *msg) { hosted::panic(msg); }
};
static_assert(kmem::Platform<Platform>);

} // namespace kmem::hosted
