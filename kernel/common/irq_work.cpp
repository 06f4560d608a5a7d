// SPDX-License-Identifier: MIT
//
// DOC: the timer interrupt's allocation work (see irq.h).
//
// Each CPU's handler keeps a ring of live objects: every tick frees the
// oldest (after checking that its marks survived) and allocates a new one of
// the next size in a mixed list (kmalloc up to 8 KiB, or the handlers'
// kmem_cache); every fourth tick swaps its new object with one in a shared
// exchange, so handlers free objects other CPUs' handlers allocated; every
// eighth takes a page or two and gives them back. Every request is atomic
// (kAllocAtomic): an interrupt handler never waits and may use the reserve.
#include "irq.h"

#include "console.h" // kmem_platform_phys_to_virt

namespace kx {
namespace {

constexpr unsigned kRing = 16;
constexpr unsigned kExchange = 64;
constexpr uint32_t kSizes[] = {16, 24, 40, 64, 96, 128, 200, 256, 384, 512, 1000, 2048, 4000, 8192};
constexpr unsigned kSizeCount = sizeof kSizes / sizeof kSizes[0];
constexpr uint32_t kCacheObject = 192;
constexpr uint64_t kFromCache = uint64_t{1} << 63; // word 1: the object is the cache's

// A live object's marks: word 0 its tag, word 1 its size (and kFromCache),
// its last word the tag inverted (objects of 24 bytes and more).
struct Live {
    void *obj;
    uint64_t tag;
};

struct alignas(64) CpuWork {
    Live ring[kRing];
    uint64_t ticks;
    IrqCounts counts;
};

kmem::MemorySystem *g_sys = nullptr;
kmem::KmemCache *g_cache = nullptr;
CpuWork g_cpu[kmem::kMaxCpus];
void *g_exchange[kExchange]; // __atomic_* only

uint64_t *words(void *p) { return static_cast<uint64_t *>(p); }

void mark(void *p, uint64_t tag, uint64_t size_word) {
    const uint64_t size = size_word & ~kFromCache;
    words(p)[0] = tag;
    words(p)[1] = size_word;
    if (size >= 24) words(p)[size / 8 - 1] = ~tag;
}

// The marks are intact (a tag of 0: whatever tag word 0 holds).
bool marks_ok(void *p, uint64_t tag) {
    const uint64_t t = words(p)[0], size = words(p)[1] & ~kFromCache;
    if ((tag && t != tag) || size < 16 || size > 8192 || size % 8) return false;
    return size < 24 || words(p)[size / 8 - 1] == ~t;
}

// Check and free one object; counts on CPU w.
void release(CpuWork &w, void *p, uint64_t tag) {
    if (!marks_ok(p, tag)) {
        ++w.counts.errors;
        return; // leaked on purpose: a corrupted object is not handed back
    }
    const bool cached = words(p)[1] & kFromCache;
    const kmem::Status s = cached ? g_sys->slab().cache_free(g_cache, p) : g_sys->slab().kfree(p);
    if (s.ok()) ++w.counts.frees;
    else ++w.counts.errors;
}

void *take(CpuWork &w, unsigned cpu, uint64_t &tag) {
    kmem::SlabAllocator &sa = g_sys->slab();
    const uint64_t n = w.ticks;
    const bool cached = n % 5 == 0;
    const uint64_t size = cached ? kCacheObject : kSizes[(n * 7 + cpu) % kSizeCount];
    void *p = cached ? sa.cache_alloc(g_cache, kmem::kAllocAtomic) : sa.kmalloc(size, kmem::kAllocAtomic);
    if (!p) {
        ++w.counts.failed;
        return nullptr;
    }
    ++w.counts.allocations;
    tag = (uint64_t{cpu} << 48 | n) * 0x9e3779b97f4a7c15ull | 1;
    mark(p, tag, size | (cached ? kFromCache : 0));
    return p;
}

void page_round_trip(CpuWork &w) {
    kmem::PhysAllocator &a = g_sys->phys();
    const unsigned order = static_cast<unsigned>(w.ticks / 8 % 2);
    kmem::Result<uint64_t> r = a.alloc_pages(order, kmem::kAllocAtomic);
    if (!r.ok()) {
        ++w.counts.failed;
        return;
    }
    ++w.counts.allocations;
    uint64_t *first = static_cast<uint64_t *>(kmem_platform_phys_to_virt(r.value()));
    uint64_t *last = first + (uint64_t{4096} << order) / 8 - 1;
    *first = r.value();
    *last = ~r.value();
    if (*first != r.value() || *last != ~r.value()) ++w.counts.errors;
    if (a.free_pages(r.value(), order).ok()) ++w.counts.frees;
    else ++w.counts.errors;
}

} // namespace

kmem::Status irq_work_init(kmem::MemorySystem &sys) {
    g_sys = &sys;
    kmem::Result<kmem::KmemCache *> c = sys.slab().cache_create("irq-work", kCacheObject);
    if (!c.ok()) return c.status();
    g_cache = c.value();
    return {};
}

void timer_tick(unsigned cpu) {
    if (cpu >= kmem::kMaxCpus) return;
    CpuWork &w = g_cpu[cpu];
    ++w.counts.handled;
    if (!g_cache) return;
    Live &slot = w.ring[w.ticks % kRing];
    if (slot.obj) release(w, slot.obj, slot.tag);
    slot.obj = take(w, cpu, slot.tag);
    if (slot.obj && w.ticks % 4 == 0) {
        // Into the exchange; free what was there (another CPU's, most often).
        void *old = __atomic_exchange_n(&g_exchange[(w.ticks / 4 + cpu * 13) % kExchange], slot.obj,
                                        __ATOMIC_ACQ_REL);
        slot.obj = nullptr;
        if (old) release(w, old, 0);
    }
    if (w.ticks % 8 == 7) page_round_trip(w);
    ++w.ticks;
}

void irq_work_drain(unsigned cpu) {
    if (cpu >= kmem::kMaxCpus || !g_cache) return;
    CpuWork &w = g_cpu[cpu];
    for (Live &slot : w.ring) {
        if (slot.obj) release(w, slot.obj, slot.tag);
        slot.obj = nullptr;
    }
}

kmem::Status irq_work_finish() {
    if (!g_cache) return {};
    for (void *&e : g_exchange)
        if (void *p = __atomic_exchange_n(&e, nullptr, __ATOMIC_ACQ_REL)) release(g_cpu[0], p, 0);
    kmem::KmemCache *c = g_cache;
    g_cache = nullptr;
    return g_sys->slab().cache_destroy(c);
}

uint64_t irq_handled(unsigned cpu) {
    return cpu < kmem::kMaxCpus ? __atomic_load_n(&g_cpu[cpu].counts.handled, __ATOMIC_RELAXED) : 0;
}

void print_irq_handled(const char *prefix, unsigned cpus) {
    print(prefix);
    print("timer interrupts by CPU:");
    for (unsigned cpu = 0; cpu < cpus && cpu < kmem::kMaxCpus; ++cpu) {
        print(" ");
        print_u64(irq_handled(cpu));
    }
    print("\n");
}

IrqCounts irq_counts() {
    IrqCounts sum{};
    for (const CpuWork &w : g_cpu) {
        sum.handled += w.counts.handled;
        sum.allocations += w.counts.allocations;
        sum.frees += w.counts.frees;
        sum.failed += w.counts.failed;
        sum.errors += w.counts.errors;
    }
    return sum;
}

} // namespace kx
