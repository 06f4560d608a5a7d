// SPDX-License-Identifier: MIT
//
// DOC: caches - layout, creation, destruction, shrinking, slabinfo.
//
// A cache's layout is fixed when it is set up: the stride (object plus red
// zones, rounded to the alignment), where the first object starts after the
// 64-byte slab header (power-of-two sizes start at their own size, so they
// stay naturally aligned), and the slab order: the smallest order up to
// kSlabMaxOrder that wastes no more than 1/8 of the slab.
#include "slab_internal.h"
#include "lib/text_out.h"


namespace kmem {
namespace {

using SI = SlabInternals;

uint64_t splitmix64(uint64_t &x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

constexpr uint32_t align_up32(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }
constexpr bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

void copy_name(char *dst, const char *src) {
    size_t i = 0;
    for (; src && src[i] && i + 1 < kCacheNameMax; ++i) dst[i] = src[i];
    dst[i] = '\0';
}

const char *const kKmallocNames[3] = {"kmalloc-", "dma32-kmalloc-", "dma-kmalloc-"};

} // namespace

void SlabInternals::fail(SlabAllocator &sa, Errc code, const char *why) {
    sa.last_error_[Plat::cpu_id()] = {why, code};
}

Status SlabInternals::init_cache(SlabAllocator &sa, KmemCache *c, const char *name, size_t size,
                                 size_t align, uint32_t flags, void (*ctor)(void *),
                                 bool construct) {
    if (flags & ~kCacheKnownFlags) return make_error(Errc::invalid_argument, "unknown cache flag");
    if ((flags & kCacheDma) && (flags & kCacheDma32))
        return make_error(Errc::invalid_argument, "unsupported flag combination: DMA and DMA32");
    if (size == 0) return make_error(Errc::invalid_argument, "object size 0");
    if (align && (!is_pow2(align) || align > kPageSize))
        return make_error(Errc::invalid_argument, "alignment must be a power of two up to 4096");
    if (sa.opts_.debug_all) flags |= kCacheDebugFlags;
    uint32_t a = static_cast<uint32_t>(align < 8 ? 8 : align);
    if ((flags & kCacheHwAlign) && a < kHwCacheLine) a = kHwCacheLine;
    const uint64_t max_object = (kPageSize << kSlabMaxOrder) - sizeof(SlabHeader) - 2 * kRedZoneBytes - a;
    if (size > max_object)
        return make_error(Errc::invalid_argument, "object too large for a slab (use the page allocator)");

    const uint32_t rz = (flags & kCacheRedZone) ? kRedZoneBytes : 0;
    const uint32_t payload = rz ? align_up32(rz, a) : 0;
    const uint32_t osize = align_up32(static_cast<uint32_t>(size), 8);
    const uint32_t stride = align_up32(payload + osize + rz, a);
    uint32_t first = align_up32(sizeof(SlabHeader), a);
    if (!rz && is_pow2(stride) && stride <= kPageSize && stride > first) first = stride;

    // Smallest order wasting at most 1/8 of the slab and holding at least
    // min_slab_objects (SLUB's min_objects; up to the largest order); else
    // the least wasteful.
    unsigned best = kSlabMaxOrder + 1;
    uint64_t best_waste_ppm = ~uint64_t{0};
    for (unsigned o = 0; o <= kSlabMaxOrder; ++o) {
        const uint64_t bytes = kPageSize << o;
        if (bytes < uint64_t{first} + stride) continue;
        const uint64_t n = (bytes - first) / stride;
        const uint64_t waste = bytes - n * stride;
        if (waste * 8 <= bytes && (n >= sa.opts_.min_slab_objects || o == kSlabMaxOrder)) {
            best = o;
            break;
        }
        const uint64_t ppm = waste * 1000000 / bytes;
        if (ppm < best_waste_ppm) {
            best_waste_ppm = ppm;
            best = o;
        }
    }
    if (best > kSlabMaxOrder) return make_error(Errc::invalid_argument, "object too large for a slab");

    // Static caches start zeroed (SlabAllocator is all-zero until init());
    // a cache from cache_create is fresh slab memory and is constructed here.
    if (construct) __builtin_memset(static_cast<void *>(c), 0, sizeof *c); // all-zero is a cache's initial state
    copy_name(c->name, name);
    // A debug cache reports the size asked for (red zones start right after
    // it), but never less than the 8-byte freelist link a free object holds.
    c->object_size = (flags & kCacheDebugFlags) ? static_cast<uint32_t>(size < 8 ? 8 : size) : osize;
    c->stride = stride;
    c->payload = payload;
    c->object0 = first + payload;
    c->align = a;
    c->first = first;
    c->order = static_cast<uint8_t>(best);
    c->objects = static_cast<uint32_t>(((kPageSize << best) - first) / stride);
    c->reciprocal = static_cast<uint32_t>(((uint64_t{1} << 32) + stride - 1) / stride);
    // A node keeps log2(size) / 2 empty slabs, 5 to 10 (SLUB's rule); a CPU's
    // partial list holds up to cpu_partial_bytes of slabs, but at least 4.
    const uint32_t log2 = 31u - static_cast<uint32_t>(__builtin_clz(stride));
    c->min_partial = static_cast<uint16_t>(log2 / 2 < 5 ? 5 : log2 / 2 > 10 ? 10 : log2 / 2);
    const uint64_t per_cpu = sa.opts_.cpu_partial_bytes / (kPageSize << best);
    c->cpu_partial = static_cast<uint16_t>(per_cpu < 4 ? 4 : per_cpu > 0xffff ? 0xffff : per_cpu);
    c->flags = flags;
    c->fast = !(flags & kCacheDebugFlags);
    c->ctor = ctor;
    c->plain = c->fast && !ctor && !sa.opts_.init_on_alloc && !sa.opts_.init_on_free;
    // Header slots: before the first stride, and after the last one. A
    // cache with fewer than kWantColors gives up to 1/32 of its objects for
    // more (SLAB's colouring trades the same way, with the leftover only).
    const uint32_t slab_bytes = kPageSize << best;
    constexpr uint32_t kWantColors = 8;
    auto colors_for = [&](uint32_t objects) {
        const uint32_t tail = align_up32(first + objects * stride, 64);
        return first / 64 + (slab_bytes - tail) / 64;
    };
    if (c->fast && colors_for(c->objects) < kWantColors) {
        const uint32_t budget = c->objects / 32;
        const uint32_t best_colors = colors_for(c->objects - budget);
        const uint32_t target = best_colors < kWantColors ? best_colors : kWantColors;
        uint32_t drop = 0; // the fewest objects that buy the target
        while (colors_for(c->objects - drop) < target) ++drop;
        c->objects -= drop;
    }
    c->color_tail = align_up32(first + c->objects * stride, 64);
    const uint32_t colors = c->fast ? colors_for(c->objects) : 1;
    c->colors = static_cast<uint16_t>(colors > 64 ? 64 : colors);
    uint64_t x = sa.seed_ ^ reinterpret_cast<uintptr_t>(c);
    c->secret = splitmix64(x) | 1;
    c->rng = splitmix64(x);
    return {};
}

Status SlabAllocator::init(PhysAllocator &phys, const SlabOptions &opts, uint64_t seed) {
    if (phys_) return make_error(Errc::wrong_phase, "slab is already initialised");
    if (phys.totals().managed == 0)
        return make_error(Errc::wrong_phase, "the buddy has no memory yet: bootstrap it first");
    opts_ = opts;
    seed_ = seed ? seed : 0x6b6d656d2d736c62ull ^ reinterpret_cast<uintptr_t>(this);
    KMEM_TRY(SI::init_cache(*this, &cache_cache_, "kmem_cache", sizeof(KmemCache), kHwCacheLine,
                            0, nullptr, false));
    caches_ = &cache_cache_;
    KMEM_TRY(SI::init_kmalloc_zone(*this, 0));
    // One flag for kmalloc's fast path (the caches' plain flags all agree).
    kmalloc_plain_ = kmalloc_[0][0].plain;
    phys_ = &phys;
    phys.set_reclaimer(SI::reclaim, this); // empty slabs go back before the buddy reports no memory
    return {};
}

Status SlabInternals::init_kmalloc_zone(SlabAllocator &sa, unsigned z) {
    for (unsigned i = 0; i < kKmallocClasses; ++i) {
        char name[kCacheNameMax];
        TextOut::format_into(name, sizeof name, kKmallocNames[z], SlabAllocator::class_size(i));
        const uint32_t flags = z == 1 ? uint32_t{kCacheDma32} : z == 2 ? uint32_t{kCacheDma} : 0u;
        KmemCache *c = &sa.kmalloc_[z][i];
        KMEM_TRY(init_cache(sa, c, name, SlabAllocator::class_size(i), 0, flags, nullptr, false));
        c->next = sa.caches_;
        __atomic_store_n(&sa.caches_, c, __ATOMIC_RELEASE); // walkers see it whole
    }
    __atomic_store_n(&sa.kmalloc_ready_[z], true, __ATOMIC_RELEASE);
    return {};
}

KmemCache *SlabAllocator::kmalloc_zone_cache(unsigned z, unsigned cls) {
    if (!__atomic_load_n(&kmalloc_ready_[z], __ATOMIC_ACQUIRE)) [[unlikely]] { // zone 0: since init()
        LockGuard g(caches_lock_);
        if (!__atomic_load_n(&kmalloc_ready_[z], __ATOMIC_ACQUIRE)) {
            // Sizes and flags init() accepted for zone 0: this cannot fail.
            if (Status s = SI::init_kmalloc_zone(*this, z); !s.ok()) {
                SI::fail(*this, s.code(), s.reason());
                return nullptr;
            }
        }
    }
    return &kmalloc_[z][cls];
}

Result<KmemCache *> SlabAllocator::cache_create(const char *name, size_t size, size_t align,
                                                uint32_t flags, void (*ctor)(void *)) {
    KMEM_NOT_IN_INTERRUPT("cache_create");
    if (!phys_) return make_error(Errc::wrong_phase, "slab is not initialised");
    auto *c = static_cast<KmemCache *>(cache_alloc(&cache_cache_));
    if (!c) return make_error(Errc::no_memory, "no memory for the cache structure");
    if (Status s = SI::init_cache(*this, c, name, size, align, flags, ctor, true); !s.ok()) {
        (void)cache_free(&cache_cache_, c); // init_cache validates before it writes
        return s.error();
    }
    c->dynamic = true;
    LockGuard g(caches_lock_);
    c->next = caches_;
    __atomic_store_n(&caches_, c, __ATOMIC_RELEASE); // walkers see it whole
    return c;
}

Status SlabAllocator::cache_destroy(KmemCache *c) {
    KMEM_NOT_IN_INTERRUPT("cache_destroy");
    if (!c || !c->dynamic) return make_error(Errc::invalid_argument, "only caches made by cache_create can be destroyed");
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) flush_cpu(c, cpu);
    for (unsigned n = 0; n < kMaxNodes; ++n) {
        CacheNode &cn = c->node[n];
        LockGuard g(cn.lock);
        // Every slab is on the partial list now, or full on no list.
        if (cn.nr_slabs != cn.nr_empty)
            return make_error(Errc::busy, "the cache still has allocated objects");
    }
    for (unsigned n = 0; n < kMaxNodes; ++n) {
        CacheNode &cn = c->node[n];
        LockGuard g(cn.lock);
        while (SlabHeader *s = cn.partial) {
            SI::list_del(cn.partial, s);
            --cn.nr_partial;
            --cn.nr_empty;
            SI::free_slab(*this, c, s);
        }
    }
    {
        LockGuard g(caches_lock_);
        KmemCache **link = &caches_;
        while (*link && *link != c) link = &(*link)->next;
        if (*link) *link = c->next;
    }
    return cache_free(&cache_cache_, c);
}

// Every empty slab on c's node lists back to the buddy; pages freed.
uint64_t SlabInternals::shrink_nodes(SlabAllocator &sa, KmemCache *c) {
    uint64_t freed = 0;
    for (unsigned n = 0; n < kMaxNodes; ++n) {
        CacheNode &cn = c->node[n];
        LockGuard g(cn.lock);
        for (SlabHeader *s = cn.partial, *next; s; s = next) {
            next = s->next;
            if (SI::state(s).inuse) continue;
            SI::list_del(cn.partial, s);
            --cn.nr_partial;
            --cn.nr_empty;
            SI::free_slab(sa, c, s);
            freed += pages(c->order);
        }
    }
    return freed;
}

uint64_t SlabInternals::reclaim(void *ctx) {
    SlabAllocator &sa = *static_cast<SlabAllocator *>(ctx);
    uint64_t freed = 0;
    for (KmemCache *c = __atomic_load_n(&sa.caches_, __ATOMIC_ACQUIRE); c; c = c->next) {
        {
            IrqGuard irq;
            drain_partial(sa, c, Plat::cpu_id());
        }
        freed += shrink_nodes(sa, c);
    }
    return freed;
}

uint64_t SlabAllocator::cache_shrink(KmemCache *c) {
    KMEM_ASSERT(!Plat::in_interrupt(), "cache_shrink in an interrupt handler");
    if (!c || Plat::in_interrupt()) return 0;
    // This CPU's partial slabs go back to the node first; the active slab
    // counts too when deactivating it gave it back.
    const uint64_t freed = flush_cpu(c, Plat::cpu_id()) ? pages(c->order) : 0;
    return freed + SI::shrink_nodes(*this, c);
}

uint64_t SlabAllocator::shrink_all() {
    KMEM_ASSERT(!Plat::in_interrupt(), "shrink_all in an interrupt handler");
    uint64_t freed = 0;
    if (Plat::in_interrupt()) return 0;
    for (KmemCache *c = caches_; c; c = c->next) {
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu)
            if (flush_cpu(c, cpu)) freed += pages(c->order);
        freed += SI::shrink_nodes(*this, c);
    }
    return freed;
}

bool SlabAllocator::flush_cpu(KmemCache *c, unsigned cpu) {
    KMEM_ASSERT(!Plat::in_interrupt(), "flush_cpu in an interrupt handler");
    if (Plat::in_interrupt()) return false;
    IrqGuard irq;
    SI::drain_partial(*this, c, cpu);
    return SI::deactivate(*this, c, cpu);
}

void SlabAllocator::flush_all_cpus() {
    KMEM_ASSERT(!Plat::in_interrupt(), "flush_all_cpus in an interrupt handler");
    if (Plat::in_interrupt()) return;
    for (KmemCache *c = caches_; c; c = c->next)
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) flush_cpu(c, cpu);
}

void SlabAllocator::fail_nth_allocation(uint64_t n) {
    KMEM_ASSERT(!Plat::in_interrupt(), "fail_nth_allocation in an interrupt handler");
    if (Plat::in_interrupt()) return;
    if (n) flush_all_cpus();
    fail_countdown_ = n;
}

namespace {

// The objects on a CPU's freelist, by walking it: each link must decode to
// an object of the active slab, at most a slab's worth. The owning CPU may
// pop meanwhile (a report of a running system is a snapshot in motion);
// the walk reads nothing but that slab's memory and always ends.
uint64_t freelist_length(const KmemCache *c, const SlabHeader *s, void *obj) {
    uint64_t n = 0;
    while (obj && n < c->objects && SI::slot_of(c, s, obj, c->objects) != UINT32_MAX) {
        ++n;
        obj = SI::get_next(c, obj);
    }
    return n;
}

// Free objects the CPUs hold: their active slabs (with their freelists),
// partial lists and adopted stacks. Walks are bounded by the cache's slab
// count, so lists that move under a running system cannot keep one going.
uint64_t cpu_free_objects(const KmemCache *c, uint64_t slabs) {
    uint64_t free = 0;
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
        const CacheCpu &cc = c->cpu[cpu];
        if (const SlabHeader *s = __atomic_load_n(&cc.slab, __ATOMIC_RELAXED))
            free += SI::frozen_free(c, s) + freelist_length(c, s, __atomic_load_n(&cc.freelist, __ATOMIC_RELAXED));
        const SlabHeader *const lists[2] = {__atomic_load_n(&cc.partial, __ATOMIC_RELAXED),
                                            __atomic_load_n(&c->adopted[cpu], __ATOMIC_RELAXED)};
        for (const SlabHeader *s : lists)
            for (uint64_t k = 0; s && k < slabs; s = __atomic_load_n(&s->next, __ATOMIC_RELAXED), ++k)
                free += SI::frozen_free(c, s);
    }
    return free;
}

// Slabs, objects and objects in use - handed to callers: objects free on a
// CPU's lists count as free (SLUB's /proc/slabinfo counts every object of a
// per-CPU slab as active; docs/slab.md).
void cache_counts(const KmemCache *c, uint64_t &slabs, uint64_t &objects, uint64_t &active) {
    slabs = objects = active = 0;
    uint64_t free = 0;
    for (unsigned n = 0; n < kMaxNodes; ++n) {
        CacheNode &cn = const_cast<KmemCache *>(c)->node[n];
        LockGuard g(cn.lock);
        const uint64_t node_slabs = __atomic_load_n(&cn.nr_slabs, __ATOMIC_RELAXED);
        slabs += node_slabs;
        for (const SlabHeader *s = cn.partial; s; s = s->next) free += c->objects - SI::state(s).inuse;
        objects += node_slabs * c->objects;
    }
    free += cpu_free_objects(c, slabs);
    active = free < objects ? objects - free : 0;
}

} // namespace

SlabTotals SlabAllocator::cache_totals(const KmemCache *c) const {
    SlabTotals t{};
    t.caches = 1;
    cache_counts(c, t.slabs, t.objects, t.active_objects);
    t.slab_pages = t.slabs * pages(c->order);
    return t;
}

SlabTotals SlabAllocator::totals() const {
    SlabTotals t{};
    for (const KmemCache *c = caches_; c; c = c->next) {
        uint64_t slabs, objects, active;
        cache_counts(c, slabs, objects, active);
        ++t.caches;
        t.slabs += slabs;
        t.slab_pages += slabs * pages(c->order);
        t.objects += objects;
        t.active_objects += active;
    }
    t.large_allocations = __atomic_load_n(&large_allocations_, __ATOMIC_RELAXED);
    t.large_pages = __atomic_load_n(&large_pages_, __ATOMIC_RELAXED);
    return t;
}

void SlabAllocator::report_slabinfo(ReportSink sink, void *ctx) const {
    TextOut out(sink, ctx);
    out.str("slabinfo - version: 2.1").nl();
    out.str("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
            " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs>"
            " <num_slabs> <sharedavail>")
        .nl();
    for (const KmemCache *c = caches_; c; c = c->next) {
        uint64_t slabs, objects, active;
        cache_counts(c, slabs, objects, active);
        if (!slabs && (c->flags & (kCacheDma | kCacheDma32))) continue;
        out.str_left(c->name, 17).str(" ").num(active, 6).str(" ").num(objects, 6).str(" ");
        out.num(c->object_size, 6).str(" ").num(c->objects, 4).str(" ").num(pages(c->order), 4);
        out.str(" : tunables ").num(0, 4).str(" ").num(0, 4).str(" ").num(0, 4);
        out.str(" : slabdata ").num(slabs, 6).str(" ").num(slabs, 6).str(" ").num(0, 6).nl();
    }
}

void SlabAllocator::set_cpu_offline(unsigned cpu, bool offline) {
    if (cpu >= kMaxCpus) return;
    const uint64_t bit = uint64_t{1} << cpu;
    if (offline) __atomic_fetch_or(&offline_cpus_, bit, __ATOMIC_SEQ_CST);
    else __atomic_fetch_and(&offline_cpus_, ~bit, __ATOMIC_SEQ_CST);
}

uint64_t SlabAllocator::node_lock_count() const {
    uint64_t n = 0;
    for (const CpuCounters &c : cpu_counters_) n += __atomic_load_n(&c.node_locks, __ATOMIC_RELAXED);
    return n;
}

Error SlabAllocator::last_error() const {
    const LastError &e = last_error_[Plat::cpu_id()];
    return e.reason ? make_error(e.code, e.reason) : Error{};
}

} // namespace kmem
