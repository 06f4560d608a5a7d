// SPDX-License-Identifier: MIT
//
// DOC: the malloc shim's policy for giving memory back to the OS.
//
// Free memory stays in the buddy allocator (and in the slab layer's kept
// slabs) where the next allocation finds it resident. Too much of it is
// given back with madvise(MADV_DONTNEED) through the buddy's free page
// reporting (PhysAllocator::report_free): the buddy hands over whole free
// blocks, minus the page holding each block's free-list link, while it holds
// the zone lock, so no block can be handed out while it is discarded, and
// it gives reported blocks out last. The policy (constants in shim.h), in
// the spirit of mimalloc's delayed purge and jemalloc's decay:
//   - idle: a free block of kReturnMinOrder (64 KiB) and up that stayed free
//     from one check to the next, at least kReturnIdleNs (20 ms) apart, goes
//     back (the buddy's idle epochs: report_free(idle_only)). Memory freed and
//     reused within that time - a program's working set - costs no system
//     call and no page fault;
//   - bounded: free memory not yet given back may not exceed kRetainBytes
//     (64 MiB) plus half the memory in use; past that the longest free
//     blocks go back until it is within the bound again, whatever their age;
//   - at a thread's exit the bound is kExitRetainBytes (16 MiB) plus half the
//     memory in use: a thread that ends ends a phase of the program's work;
//   - checked by the free path after every kReturnCheckBytes (4 MiB) of page
//     blocks one thread freed and every kReturnCheckFrees frees (one thread
//     at a time; the others skip), and at thread exit (which waits its
//     turn); malloc_trim() gives back every free block of two pages and
//     more. A process that stops freeing keeps what it holds until it frees
//     again (or calls malloc_trim).
#include "shim.h"

#include <atomic>
#include <sched.h>
#include <sys/mman.h>

namespace kmem::shim {
namespace {

std::atomic<bool> g_returning{false};
uint64_t g_last_idle = 0; // when the last idle report began (under g_returning)

void discard(void *, uint64_t pa, uint64_t bytes) {
    (void)madvise(Plat::phys_to_virt(pa), bytes, MADV_DONTNEED);
}

} // namespace

uint64_t return_memory(ReturnWhen when) {
    // The periodic check skips when another thread is at it; an exiting
    // thread waits, or the memory its flush freed would stay until the next
    // periodic check, which may never come.
    while (g_returning.exchange(true, std::memory_order_acquire)) {
        if (when == ReturnWhen::periodic) return 0;
        sched_yield();
    }
    uint64_t pages = 0;
    if (when == ReturnWhen::trim) {
        pages = g_phys.report_free(1, ~uint64_t{0}, discard, nullptr);
    } else {
        const uint64_t now = Plat::now_ns();
        if (now - g_last_idle >= kReturnIdleNs) {
            g_last_idle = now;
            pages = g_phys.report_free(kReturnMinOrder, ~uint64_t{0}, discard, nullptr, true);
        }
        uint64_t out;
        const uint64_t kept = g_phys.unreported_free_pages(&out);
        const uint64_t retain = when == ReturnWhen::thread_exit ? kExitRetainBytes : kRetainBytes;
        const uint64_t limit = retain / kPageSize + out / 2;
        if (kept > limit) pages += g_phys.report_free(kReturnMinOrder, kept - limit, discard, nullptr);
    }
    g_returning.store(false, std::memory_order_release);
    if (pages) count(kReturned, pages * kPageSize);
    return pages * kPageSize;
}

} // namespace kmem::shim
