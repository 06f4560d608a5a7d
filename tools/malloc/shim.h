// SPDX-License-Identifier: MIT
//
// DOC: the malloc shim's internal interface (see docs/malloc.md).
//
// shim_platform.h, shim_platform.cpp: the shim's platform, kmem::shim::
//   Platform (the core's kmem::Plat here) - one huge MAP_NORESERVE
//   reservation that is the simulated physical memory, the mapped window
//   (everything below the onlined end), CPU slots for threads, no interrupts.
// shim_core.cpp: the PhysAllocator and SlabAllocator in static storage, the
//   bootstrap on the first call, growth (online one more 1 GiB section),
//   per-thread CPU scopes, thread exit, fork and the statistics.
// shim_large.cpp: requests kmem cannot serve (over 4 MiB, alignment over
//   4 KiB) as private mmap()s, recorded in a fixed table.
// shim.cpp: the C functions (malloc, free, ...).
// shim_new.cpp: C++ operator new and delete, every form, on the same paths.
#pragma once

#include "kmem_malloc.h"
#include "shim_platform.h"
#include "platform/current.h" // kmem::Plat: kmem::shim::Platform (CMakeLists.txt)

#include <kmem/buddy.h>
#include <kmem/slab.h>

#include <atomic>
#include <stddef.h>
#include <stdint.h>

namespace kmem::shim {

// CPU slot kSharedCpu belongs to no thread: threads without a slot of their
// own use it one at a time, under a lock.
inline constexpr unsigned kSharedCpu = kMaxCpus - 1;
// Simulated physical memory starts at 4 GiB (all of it in the Normal zone)
// and grows one 1 GiB section at a time.
inline constexpr uint64_t kHeapStart = uint64_t{4} << 30;
inline constexpr uint64_t kGrowStep = uint64_t{1} << kSectionShift;
// Requests above this go to mmap (alloc_pages_exact's limit).
inline constexpr size_t kMaxKmalloc = kMaxBlockPages * kPageSize;
// Returning memory (shim_return.cpp, docs/malloc.md): free blocks of
// kReturnMinOrder and up that stayed free for kReturnIdleNs to twice that go
// back to the OS (madvise); so does any excess over kRetainBytes plus half
// the memory in use, the longest free first. Checked after every
// kReturnCheckBytes of page blocks a thread frees and every
// kReturnCheckFrees frees.
inline constexpr uint64_t kReturnIdleNs = 20'000'000;
inline constexpr uint64_t kRetainBytes = uint64_t{64} << 20;
// At a thread's exit the bound is kExitRetainBytes plus half the memory in
// use: a thread that ends ends a phase of the program's work.
inline constexpr uint64_t kExitRetainBytes = uint64_t{16} << 20;
inline constexpr unsigned kReturnMinOrder = 4; // 64 KiB
inline constexpr uint64_t kReturnCheckBytes = uint64_t{4} << 20;
inline constexpr uint64_t kReturnCheckFrees = 1u << 16;

// ---- shim.cpp: malloc's and free's bodies (the exported functions and
// operator new/delete call these hidden ones, which link-time optimisation
// inlines), and the aligned allocation (align: a power of two).
void *malloc_entry(size_t n);
void free_entry(void *p);
void *memalign_entry(size_t align, size_t n);

// ---- shim_platform.cpp (the platform itself: shim_platform.h)
bool heap_reserve();                   // once; false if no address space
bool heap_contains(const void *p);     // inside the onlined heap range
bool heap_map_more(uint64_t *start);   // extend the window by kGrowStep; its start
uint64_t heap_online_bytes();
int claim_slot();                      // a free slot < kSharedCpu, or -1
void release_slot(unsigned id);
void reset_slots_after_fork(unsigned keep); // keep: the surviving thread's slot or kMaxCpus

// ---- shim_core.cpp
extern PhysAllocator g_phys;
SlabAllocator &slab();
bool ensure_init();                    // false: use the bootstrap arena
[[gnu::noinline]] bool ensure_init_slow();
void *arena_alloc(size_t size);        // static bump arena (recursion during init)
bool arena_contains(const void *p);
size_t arena_size(const void *p);
bool grow(uint64_t seen_generation);   // online one more section (or someone did)
uint64_t generation();

// Statistics and the fork gate, one cache line per slot: counters (no
// atomics on the fast path), `busy`, set while the slot's thread runs kmem
// code, and the bytes of page blocks freed since the last return check.
struct alignas(64) SlotStats {
    uint64_t mallocs, frees;
    std::atomic<uint32_t> busy;
    uint64_t freed_page_bytes;
};
extern SlotStats g_slot_stats[kMaxCpus];
extern std::atomic<bool> g_fork_pending; // a fork waits for every slot to be idle
extern bool g_need_fence;                // no membarrier(): the fast path fences itself

// Gives the calling thread a CPU for the duration of one call. With a slot
// of its own: mark the slot busy, then check that no fork is waiting (the
// forking thread sets g_fork_pending, runs membarrier() - which makes the
// store and the load here ordered as if fenced - then waits until no slot is
// busy). Everything else: enter_slow().
// The malloc and free fast paths' half of it, for a thread with its own
// slot: mark it busy; false if a fork is waiting (nothing left marked).
inline bool enter_own(unsigned cpu) {
    g_slot_stats[cpu].busy.store(1, std::memory_order_relaxed);
    if (g_need_fence) [[unlikely]] std::atomic_thread_fence(std::memory_order_seq_cst);
    else std::atomic_signal_fence(std::memory_order_seq_cst);
    if (!g_fork_pending.load(std::memory_order_relaxed)) [[likely]] return true;
    g_slot_stats[cpu].busy.store(0, std::memory_order_release);
    return false;
}
inline void leave_own(unsigned cpu) { g_slot_stats[cpu].busy.store(0, std::memory_order_release); }

class CpuScope {
public:
    CpuScope() {
        const unsigned cpu = Plat::cpu_slot();
        if (cpu < kSharedCpu && enter_own(cpu)) [[likely]] {
            own_ = cpu;
            return;
        }
        enter_slow();
    }
    ~CpuScope() {
        if (own_ < kSharedCpu) [[likely]] leave_own(own_);
        else if (shared_) leave_shared();
    }
    CpuScope(const CpuScope &) = delete;
    CpuScope &operator=(const CpuScope &) = delete;

private:
    void enter_slow();
    void leave_shared();
    unsigned own_ = kMaxCpus;
    bool shared_ = false;
};

enum Counter { kLarge, kForeign, kGrows, kThreads, kSharedEntries, kReturned, kCounters };
void count(Counter c, uint64_t n = 1);
void read_info(kmem_malloc_info &out);
void print_stats(int fd);

// ---- shim_return.cpp
// When the return policy runs: the free path's periodic check (skipped if
// another thread is checking), a thread's exit (waits its turn; a tighter
// bound), malloc_trim (every free block of order 1 and up).
enum class ReturnWhen { periodic, thread_exit, trim };
// Give free memory back to the OS if the buddy holds more than the policy
// allows. Returns the bytes given back. Call inside a CpuScope.
uint64_t return_memory(ReturnWhen when);
// Count one free; true for the one in kReturnCheckFrees that checks the
// return policy.
inline bool count_free(unsigned cpu) { return (++g_slot_stats[cpu].frees & (kReturnCheckFrees - 1)) == 0; }
// The free path's trigger: called after each free with the block's bytes
// when it was a page block (0 for slab objects).
inline void note_free(unsigned cpu, uint64_t page_bytes) {
    SlotStats &st = g_slot_stats[cpu];
    if (page_bytes) [[unlikely]] {
        st.freed_page_bytes += page_bytes;
        if (st.freed_page_bytes >= kReturnCheckBytes) {
            st.freed_page_bytes = 0;
            (void)return_memory(ReturnWhen::periodic);
        }
    }
    if (count_free(cpu)) [[unlikely]] (void)return_memory(ReturnWhen::periodic);
}

// ---- shim_large.cpp
void *large_alloc(size_t size, size_t align);   // null: ENOMEM
bool large_free(void *p);                        // false: not a large allocation
size_t large_usable(const void *p);              // 0: not a large allocation
void *large_realloc(void *p, size_t size);       // p must be large; null: ENOMEM
void large_totals(size_t &count, size_t &bytes); // live mappings and their bytes
void large_lock();                               // fork
void large_unlock();

} // namespace kmem::shim
