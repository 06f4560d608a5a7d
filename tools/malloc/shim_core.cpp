// SPDX-License-Identifier: MIT
//
// DOC: the malloc shim's allocator state, bootstrap, growth and threads.
//
// Bootstrap: the first call into the shim (from any thread) reserves the
// address space, onlines the first 1 GiB section into the PhysAllocator and
// brings the SlabAllocator up on it - both objects live in static storage,
// nothing is allocated. A call made by the initialising thread while it
// initialises (pthread_atfork or pthread_key_create could call malloc) is
// served from a small static bump arena whose memory is never reused.
//
// Growth: when kmem returns null the caller calls grow(): under a lock, and
// unless another thread grew the heap meanwhile, the next 1 GiB section of the
// reservation is mapped and handed to PhysAllocator::online_range - the
// path boot and hot-add use. A whole fresh section gets its own descriptor
// array at its top, so no other CPU's state is copied or moved.
//
// Threads: a thread claims one of the CPU slots 0..62 on its first call and
// registers a pthread key whose destructor, at thread exit, flushes the
// slot's per-CPU slab and page caches and releases the slot. A thread with no
// slot (more than 63 live threads, or a thread past its exit destructor)
// runs every call on the shared slot 63 under one mutex: slower, always
// correct. It retries for a slot of its own on each call while some are free.
//
// Fork: before fork, new calls into kmem wait and the forking thread waits
// until no slot is busy inside kmem (see CpuScope), then takes the shim's
// locks; so the child finds every kmem lock free and every per-CPU list
// consistent. The child keeps only the forking thread's slot.
#include "shim.h"

#include <kmem/memmap.h>
#include <kmem/report.h>

#include <atomic>
#include <new>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>

namespace kmem::shim {

constinit PhysAllocator g_phys;
SlotStats g_slot_stats[kMaxCpus];
std::atomic<bool> g_fork_pending{false};
bool g_need_fence = true; // until membarrier() is registered

namespace {

enum InitState : int { kUninit, kIniting, kReady, kFailed };
enum ThreadState : unsigned char { kNew, kRegistering, kOwn, kShared, kExited };

constinit SlabAllocator g_slab; // all zero until init(): in .bss, untouched until used
std::atomic<int> g_init{kUninit};
constinit thread_local bool t_in_init = false;
constinit thread_local unsigned char t_state = kNew;

pthread_mutex_t g_fork_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_grow_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_shared_lock = PTHREAD_MUTEX_INITIALIZER;
std::atomic<uint64_t> g_generation{0};
pthread_key_t g_thread_key;
std::atomic<uint64_t> g_counters[kCounters];

// The bootstrap arena: 16-byte header (the size) before each block.
alignas(16) unsigned char g_arena[256 * 1024];
std::atomic<size_t> g_arena_used{0};

bool online_next_section() {
    uint64_t start;
    if (!heap_map_more(&start)) return false;
    if (!g_phys.online_range(start, start + kGrowStep, 0).ok()) return false;
    g_generation.fetch_add(1, std::memory_order_release);
    count(kGrows);
    return true;
}

void wait_for_fork() {
    if (!g_fork_pending.load(std::memory_order_acquire)) return;
    pthread_mutex_lock(&g_fork_lock);
    pthread_mutex_unlock(&g_fork_lock);
}

// Mark the slot busy unless a fork is waiting (then wait for it, retry).
void enter_own_slot(unsigned cpu) {
    for (;;) {
        g_slot_stats[cpu].busy.store(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (!g_fork_pending.load(std::memory_order_relaxed)) return;
        g_slot_stats[cpu].busy.store(0, std::memory_order_release);
        wait_for_fork();
    }
}

// Thread exit (pthread key destructor): flush this slot's caches, give it back.
void thread_exit(void *) {
    const unsigned cpu = Plat::cpu_slot();
    if (cpu < kSharedCpu) {
        enter_own_slot(cpu);
        // Offline first: slabs other threads free into from now on stay
        // theirs instead of waiting on this slot's next thread.
        slab().set_cpu_offline(cpu, true);
        for (const KmemCache *c = slab().first_cache(); c; c = c->next)
            slab().cache_shrink(const_cast<KmemCache *>(c));
        g_phys.drain_local_pcp();
        (void)return_memory(ReturnWhen::thread_exit);
        t_cpu = kMaxCpus;
        g_slot_stats[cpu].busy.store(0, std::memory_order_release);
        release_slot(cpu);
    }
    t_state = kExited;
}

// A slot of its own for the calling thread, if one is free: the slot is its
// CPU from now on, and online for the slab (thread_exit took it offline).
bool take_slot() {
    const int id = claim_slot();
    if (id < 0) return false;
    t_cpu = static_cast<unsigned>(id);
    slab().set_cpu_offline(static_cast<unsigned>(id), false);
    return true;
}

void register_thread() {
    t_state = kRegistering; // a call made from pthread_setspecific goes shared
    (void)pthread_setspecific(g_thread_key, reinterpret_cast<void *>(1));
    count(kThreads);
    t_state = take_slot() ? kOwn : kShared;
}

// Fork: stop new kmem calls, wait until no slot is busy (so every lock
// inside kmem is free and every per-CPU list consistent), then take the
// shim's own locks in their order: shared slot, growth, large table.
void before_fork() {
    pthread_mutex_lock(&g_fork_lock);
    g_fork_pending.store(true, std::memory_order_seq_cst);
    if (!g_need_fence) syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    const unsigned self = Plat::cpu_slot();
    for (unsigned cpu = 0; cpu < kSharedCpu; ++cpu)
        while (cpu != self && g_slot_stats[cpu].busy.load(std::memory_order_acquire)) sched_yield();
    pthread_mutex_lock(&g_shared_lock);
    pthread_mutex_lock(&g_grow_lock);
    large_lock();
}
void after_fork_parent() {
    large_unlock();
    pthread_mutex_unlock(&g_grow_lock);
    pthread_mutex_unlock(&g_shared_lock);
    g_fork_pending.store(false, std::memory_order_release);
    pthread_mutex_unlock(&g_fork_lock);
}
// The other threads do not exist in the child; their slots were idle at the
// fork, so their per-CPU state is consistent and the slots can be reused.
void after_fork_child() {
    reset_slots_after_fork(Plat::cpu_slot());
    after_fork_parent();
}

// A process allocator's policy, not a kernel's (docs/malloc.md): objects in
// address order (what glibc, jemalloc and mimalloc do by default; the
// prefetcher follows them), 1 MiB of empty slabs per thread and cache in
// reserve, so that batches of frees and allocations stay on the thread, and
// slabs of at least 64 objects (up to 64 KiB; mimalloc's small pages are
// 64 KiB), so that a thread changes slabs less often: larson's slow-path
// allocations fall from 4.96 M to 1.42 M.
SlabOptions shim_slab_options() {
    SlabOptions o;
    o.random_freelist = false;
    o.cpu_partial_bytes = 1024 * 1024;
    o.min_slab_objects = 64;
    return o;
}

void initialise() {
    t_in_init = true;
    bool ok = heap_reserve();
    if (ok) {
        ok = online_next_section();
    }
    if (ok) {
        // init() allocates nothing; it may record an error per CPU: lend it slot 0
        // (no other thread runs kmem code before the state says ready).
        t_cpu = 0;
        ok = slab().init(g_phys, shim_slab_options(), Plat::now_ns()).ok();
        t_cpu = kMaxCpus;
        // The shared slot serves threads one call at a time, now and then:
        // slabs it filled go to whoever frees into them.
        slab().set_cpu_offline(kSharedCpu, true);
    }
    if (ok) ok = pthread_key_create(&g_thread_key, thread_exit) == 0;
    if (ok) {
        g_need_fence = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0;
        pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    }
    t_in_init = false;
    g_init.store(ok ? kReady : kFailed, std::memory_order_release);
}

} // namespace

SlabAllocator &slab() { return g_slab; }

bool ensure_init() {
    if (g_init.load(std::memory_order_acquire) == kReady) [[likely]] return true;
    return ensure_init_slow();
}

bool ensure_init_slow() {
    int s = g_init.load(std::memory_order_acquire);
    if (s == kReady) return true;
    if (t_in_init) return false;
    if (s == kUninit && g_init.compare_exchange_strong(s, kIniting)) {
        initialise();
        return g_init.load(std::memory_order_acquire) == kReady;
    }
    while ((s = g_init.load(std::memory_order_acquire)) == kIniting) sched_yield();
    return s == kReady;
}

void *arena_alloc(size_t size) {
    if (size > sizeof g_arena) return nullptr;
    const size_t need = 16 + ((size + 15) & ~size_t{15});
    size_t used = g_arena_used.fetch_add(need);
    if (used + need > sizeof g_arena) return nullptr;
    *reinterpret_cast<size_t *>(g_arena + used) = size;
    return g_arena + used + 16;
}

bool arena_contains(const void *p) {
    const auto *b = static_cast<const unsigned char *>(p);
    return b >= g_arena && b < g_arena + sizeof g_arena;
}

size_t arena_size(const void *p) { return *reinterpret_cast<const size_t *>(static_cast<const unsigned char *>(p) - 16); }

uint64_t generation() { return g_generation.load(std::memory_order_acquire); }

bool grow(uint64_t seen) {
    pthread_mutex_lock(&g_grow_lock);
    const bool ok = generation() != seen || online_next_section();
    pthread_mutex_unlock(&g_grow_lock);
    return ok;
}

void CpuScope::enter_slow() {
    wait_for_fork();
    if (t_state == kNew) {
        register_thread();
    } else if (t_state == kShared && take_slot()) {
        t_state = kOwn;
    }
    if (const unsigned cpu = Plat::cpu_slot(); cpu < kSharedCpu) {
        enter_own_slot(cpu);
        own_ = cpu;
        return;
    }
    pthread_mutex_lock(&g_shared_lock);
    t_cpu = kSharedCpu;
    shared_ = true;
    count(kSharedEntries);
}

void CpuScope::leave_shared() {
    t_cpu = kMaxCpus;
    pthread_mutex_unlock(&g_shared_lock);
}

void count(Counter c, uint64_t n) { g_counters[c].fetch_add(n, std::memory_order_relaxed); }

void read_info(kmem_malloc_info &out) {
    out = {};
    for (const SlotStats &s : g_slot_stats) {
        out.mallocs += s.mallocs;
        out.frees += s.frees;
    }
    out.large = g_counters[kLarge].load();
    out.foreign = g_counters[kForeign].load();
    out.online_bytes = heap_online_bytes();
    out.grows = g_counters[kGrows].load();
    out.threads = g_counters[kThreads].load();
    out.shared_calls = g_counters[kSharedEntries].load();
    out.returned_bytes = g_counters[kReturned].load();
    if (g_init.load(std::memory_order_acquire) == kReady) {
        out.slab_bytes = slab().totals().slab_pages * kPageSize;
        const PhysTotals t = g_phys.totals();
        out.free_bytes = (t.free - t.lazy + t.pcp) * kPageSize;
        out.untouched_bytes = t.lazy * kPageSize;
        for (const KmemCache *c = slab().first_cache(); c; c = c->next)
            for (const CacheCpu &cc : c->cpu) {
                out.slow_mallocs += cc.alloc_slow;
                out.slow_frees += cc.free_slow;
            }
        out.node_locks = slab().node_lock_count();
    }
}

void print_stats(int fd) {
    kmem_malloc_info i;
    read_info(i);
    // Per 1,000 operations (mallocs + frees): slow paths and node locks, the
    // measure of how often a CPU leaves its own lists (docs/performance.md).
    const unsigned long long ops = i.mallocs + i.frees ? i.mallocs + i.frees : 1;
    char line[600];
    const int n = snprintf(line, sizeof line,
                           "kmem-malloc: mallocs=%llu frees=%llu large=%llu foreign=%llu "
                           "online_mib=%llu grows=%llu threads=%llu shared_calls=%llu returned_mib=%llu "
                           "slab_kib=%llu free_kib=%llu untouched_mib=%llu slow_mallocs=%llu slow_frees=%llu "
                           "node_locks=%llu per_1000_ops: slow=%.2f node_locks=%.2f\n",
                           (unsigned long long)i.mallocs, (unsigned long long)i.frees,
                           (unsigned long long)i.large, (unsigned long long)i.foreign,
                           (unsigned long long)(i.online_bytes >> 20), (unsigned long long)i.grows,
                           (unsigned long long)i.threads, (unsigned long long)i.shared_calls,
                           (unsigned long long)(i.returned_bytes >> 20), (unsigned long long)(i.slab_bytes >> 10),
                           (unsigned long long)(i.free_bytes >> 10), (unsigned long long)(i.untouched_bytes >> 20),
                           (unsigned long long)i.slow_mallocs, (unsigned long long)i.slow_frees,
                           (unsigned long long)i.node_locks, 1000.0 * static_cast<double>(i.slow_mallocs + i.slow_frees) / static_cast<double>(ops),
                           1000.0 * static_cast<double>(i.node_locks) / static_cast<double>(ops));
    // The buddy's free blocks per order, as /proc/buddyinfo prints them.
    if (g_init.load(std::memory_order_acquire) == kReady) {
        (void)!write(fd, "kmem-malloc: ", 13);
        report_buddyinfo(g_phys, [](void *ctx, const char *t, size_t len) { (void)!write(*static_cast<int *>(ctx), t, len); }, &fd);
    }
    if (n > 0) (void)!write(fd, line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
}

} // namespace kmem::shim
