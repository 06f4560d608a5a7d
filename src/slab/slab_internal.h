// SPDX-License-Identifier: MIT
//
// DOC: the slab allocator's implementer header (private to slab/).
//
// SlabHeader lives in every slab, in one of the 64-byte slots its objects
// leave free (KmemCache::colors; every page's descriptor names it). Free
// objects are chained
// through their first 8 bytes; the link is stored encoded as
//   next ^ cache secret ^ address of the link
// so a stray write or a use-after-free is unlikely to produce a pointer the
// allocator will follow, and a leaked link reveals no address. Locking: a
// slab's freelist, inuse count and list membership are protected by its
// node's lock, except while the slab is frozen - owned by one CPU, as its
// active slab or on its partial list: then the objects on that CPU's freelist
// belong to the CPU alone, and only that CPU takes objects off the slab's own
// freelist. Any CPU may push frees onto it (compare-and-swap on `state`).
// Whoever freezes a slab owns it; a full slab that is not frozen is on no
// list, and the free that finds it so freezes it for the freeing CPU.
#pragma once

#include <kmem/slab.h>

#include <kmem/buddy.h>

#include "page/page_map.h"

namespace kmem {

inline constexpr uint32_t kSlabMagic = 0x51AB51ABu;
inline constexpr uint8_t kPoisonFree = 0x6b;  // Linux's POISON_FREE
inline constexpr uint8_t kPoisonEnd = 0xa5;   // POISON_END: last byte of a free object
inline constexpr uint8_t kRedInactive = 0xbb; // RED_INACTIVE: guard bytes of a free object
inline constexpr uint8_t kRedActive = 0xcc;   // RED_ACTIVE: guard bytes of an allocated one
inline constexpr uint32_t kRedZoneBytes = 16; // each side

struct SlabHeader {
    KmemCache *cache;     // offset 0: owner
    // The slab's own freelist and in-use count, one word changed by
    // compare-and-swap (SLUB's freelist + counters): bits 0-31 the head as
    // object index + 1 (0: empty; the links inside the objects are encoded
    // pointers), bits 32-62 the objects not on this freelist, bit 63 frozen
    // (owned by a CPU). A free that changes no list (the slab stays partial,
    // or it is frozen) needs no lock; one that makes a slab on the node's
    // partial list empty takes the node lock first. See SlabInternals::state().
    uint64_t state;       // offset 8
    SlabHeader *next;     // offset 16: node list (partial or full), or the CPU's partial list
    SlabHeader *prev;     // offset 24
    uint32_t local_count; // offset 32: objects on local_free
    uint32_t magic;       // offset 36: kSlabMagic: this really is a slab header
    uint16_t node;        // offset 40
    uint8_t list;         // offset 42: which list holds it (SlabList)
    uint8_t cpu;          // offset 43: frozen for CPU cpu - 1; 0 = not frozen (mirrors the frozen bit;
                          // read by any CPU, written by the owner: atomic accesses)
    uint8_t home;         // offset 44: full: the CPU that filled it, plus one; the first free
                          // hands it back to that CPU (mimalloc's page ownership)
    uint8_t pad_b;        // offset 45
    uint16_t pad_c;       // offset 46
    // Frees by the owning CPU to a slab on its partial list (mimalloc's
    // local free list): no atomic operation. Counted in state's in-use count
    // until the slab becomes active (they become the CPU's freelist) or thaws.
    void *local_free;     // offset 48
    // Objects [0, carved) have been chained at least once; the rest were
    // never handed out, never written, and are on no list (mimalloc's page
    // capacity): free, but not in state's in-use count. A lazy slab starts
    // at 0 and its owner carves a page's worth at a time (SlabInternals::
    // carve); other slabs are carved whole when made. Grows only while the
    // slab is frozen, by its owner; read by any CPU (atomic accesses).
    uint32_t carved;      // offset 56
    uint32_t offset;      // offset 60: where the header sits in its slab (KmemCache::colors)
};
static_assert(offsetof(SlabHeader, cache) == 0 && offsetof(SlabHeader, state) == 8);
static_assert(offsetof(SlabHeader, next) == 16 && offsetof(SlabHeader, prev) == 24);
static_assert(offsetof(SlabHeader, local_count) == 32 && offsetof(SlabHeader, magic) == 36);
static_assert(offsetof(SlabHeader, node) == 40 && offsetof(SlabHeader, list) == 42);
static_assert(offsetof(SlabHeader, cpu) == 43 && offsetof(SlabHeader, home) == 44);
static_assert(offsetof(SlabHeader, pad_b) == 45 && offsetof(SlabHeader, pad_c) == 46);
static_assert(offsetof(SlabHeader, local_free) == 48 && offsetof(SlabHeader, carved) == 56);
static_assert(offsetof(SlabHeader, offset) == 60);
static_assert(sizeof(SlabHeader) == 64, "the header is one cache line");

// SlabHeader::state unpacked.
struct SlabState {
    uint32_t head;  // index + 1 of the first free object, 0: none
    uint32_t inuse; // carved objects not on the slab's freelist
    bool frozen;    // owned by a CPU: active, or on its partial list
};

// kListNone: active on a CPU, or full (fast caches). kListCpu: on its CPU's
// partial list. kListFull: debug caches only.
enum SlabList : uint8_t { kListNone = 0, kListPartial = 1, kListFull = 2, kListCpu = 3 };

constexpr unsigned kmalloc_size_class(size_t size) {
    if (size <= 64) return size ? static_cast<unsigned>((size + 7) / 8 - 1) : 0;
    const unsigned p = 63u - static_cast<unsigned>(__builtin_clzll(size - 1)); // 2^p < size <= 2^(p+1)
    const size_t step = size_t{1} << (p - 2);                                    // a quarter of 2^p
    const size_t k = (size - (size_t{1} << p) + step - 1) / step;               // 1..4
    return 8 + (p - 6) * 4 + static_cast<unsigned>(k) - 1;
}

// Every kmalloc class size is a multiple of 8, so (size - 1) / 8 picks the
// class of any size 1..8192: one load on the fast path instead of the arithmetic.
struct KmallocClassTable {
    uint8_t of[kKmallocMaxCacheSize / 8];
    constexpr KmallocClassTable() : of{} {
        for (size_t i = 0; i < kKmallocMaxCacheSize / 8; ++i)
            of[i] = static_cast<uint8_t>(kmalloc_size_class(i * 8 + 8));
    }
};
inline constexpr KmallocClassTable kKmallocClassOf{};
static_assert(kKmallocClasses <= 255);

struct SlabInternals {
    static constexpr uint64_t kFrozen = uint64_t{1} << 63;
    static uint64_t pack(SlabState st) {
        return uint64_t{st.head} | uint64_t{st.inuse} << 32 | (st.frozen ? kFrozen : 0);
    }
    static SlabState unpack(uint64_t w) {
        return {static_cast<uint32_t>(w), static_cast<uint32_t>((w >> 32) & 0x7fffffffu), (w & kFrozen) != 0};
    }
    static uint64_t load_state(const SlabHeader *s) { return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE); }
    static SlabState state(const SlabHeader *s) { return unpack(load_state(s)); }
    // Objects of a slab some CPU holds (frozen) that are free: on its own
    // freelist or never carved (objects - inuse), and on its local freelist.
    static uint64_t frozen_free(const KmemCache *c, const SlabHeader *s) {
        return c->objects - state(s).inuse + __atomic_load_n(&s->local_count, __ATOMIC_RELAXED);
    }
    // Replace `old` by `nw`; on failure `old` is the word found.
    static bool swap_state(SlabHeader *s, uint64_t &old, SlabState nw) {
        return __atomic_compare_exchange_n(&s->state, &old, pack(nw), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    static void set_state_word(SlabHeader *s, SlabState st) { __atomic_store_n(&s->state, pack(st), __ATOMIC_RELEASE); }
    // The object a head value names (null for 0), and back.
    static void *head_object(const KmemCache *c, const SlabHeader *s, uint32_t head) {
        return head ? object(c, s, head - 1) : nullptr;
    }
    static uint32_t head_value(const KmemCache *c, const SlabHeader *s, const void *obj) {
        return obj ? index_of(c, s, obj) + 1 : 0;
    }
    static uintptr_t encode(const KmemCache *c, void *next, const void *slot) {
        return reinterpret_cast<uintptr_t>(next) ^ c->secret ^ reinterpret_cast<uintptr_t>(slot);
    }
    static void *get_next(const KmemCache *c, const void *obj) {
        const uintptr_t stored = *static_cast<const uintptr_t *>(obj);
        return reinterpret_cast<void *>(stored ^ c->secret ^ reinterpret_cast<uintptr_t>(obj));
    }
    static void set_next(const KmemCache *c, void *obj, void *next) {
        *static_cast<uintptr_t *>(obj) = encode(c, next, obj);
    }
    // The slab's first byte (the header sits `offset` bytes into it).
    static uint8_t *base(const SlabHeader *s) {
        return reinterpret_cast<uint8_t *>(const_cast<SlabHeader *>(s)) - s->offset;
    }
    // The header's offset in a slab whose first page is pfn: slot
    // (pfn / slab pages) mod colors.
    static uint32_t header_offset(const KmemCache *c, uint64_t pfn) {
        const uint32_t k = static_cast<uint32_t>((pfn >> c->order) % c->colors);
        const uint32_t front = c->first / 64;
        return k < front ? k * 64 : c->color_tail + (k - front) * 64;
    }
    // Object (payload) address of stride i.
    static void *object(const KmemCache *c, const SlabHeader *s, uint32_t i) {
        return base(s) + c->object0 + uint64_t{i} * c->stride;
    }
    static uint32_t carved(const SlabHeader *s) { return __atomic_load_n(&s->carved, __ATOMIC_RELAXED); }
    // Index of obj in its slab, or UINT32_MAX if it is not the boundary of
    // an object below `limit`.
    static uint32_t slot_of(const KmemCache *c, const SlabHeader *s, const void *obj, uint32_t limit) {
        const uint8_t *p = static_cast<const uint8_t *>(obj);
        const uint8_t *o0 = base(s) + c->object0;
        if (p < o0) return UINT32_MAX;
        const uint64_t off = static_cast<uint64_t>(p - o0);
        const uint64_t i = (off * c->reciprocal) >> 32;
        if (i >= limit || i * c->stride != off) return UINT32_MAX;
        return static_cast<uint32_t>(i);
    }
    // The same among the objects carved so far (one never handed out is
    // not an object yet).
    static uint32_t index_of(const KmemCache *c, const SlabHeader *s, const void *obj) {
        return slot_of(c, s, obj, carved(s));
    }
    // Free objects of a slab that are not on any list yet.
    static bool uncarved(const KmemCache *c, const SlabHeader *s) { return carved(s) < c->objects; }

    // The slab an address belongs to, or null (with a reason) if it is not
    // inside a slab. Validates through the buddy's descriptors; never reads
    // memory that is not a slab header.
    static SlabHeader *slab_of(const SlabAllocator &sa, const void *p, const char **why) {
        if (SlabHeader *s = slab_fast(*sa.phys_, p)) [[likely]] return s;
        return slab_of_slow(sa, p, why);
    }
    // The free fast path's lookup, with no call: the slab when the page's
    // readable descriptor names it; null when slab_of must decide. Every page
    // of a live slab names its header relative to its own start
    // (PhysAllocator::mark_slab: the head in state slab, the others in state
    // slab_tail), and free_slab turns them back into an allocated block and
    // plain tails first, so a page in state slab or slab_tail is a live
    // slab's (a readable descriptor is kmem's own writing, never garbage).
    [[gnu::always_inline]] static SlabHeader *slab_fast(const PhysAllocator &a, const void *p) {
        const uint64_t pfn = pfn_of(Plat::virt_to_phys(p));
        if (!page::readable_fast(a.page_map(), pfn)) return nullptr;
        const uint64_t w = page::vouched_desc(a.page_map(), pfn)->word();
        if (!page::names_slab(w)) return nullptr;
        auto *s = static_cast<SlabHeader *>(page::slab_header_at(p, w));
        return s->magic == kSlabMagic ? s : nullptr;
    }
    // The header pfn's readable descriptor names, or null (the slow lookup
    // and the checker).
    static SlabHeader *slab_named(const PhysAllocator &a, uint64_t pfn) {
        return static_cast<SlabHeader *>(
            page::slab_header_named(Plat::phys_to_virt(pa_of(pfn)), page::raw_desc(a.page_map(), pfn)->word()));
    }
    static SlabHeader *slab_of_slow(const SlabAllocator &sa, const void *p, const char **why);

    // The fast paths: the CPU's freelist of its active slab. Plain caches
    // only (no debug flags, no constructor, no init_on_alloc/free): the
    // others keep cc.freelist empty or are filtered by their callers.
    [[gnu::always_inline]] static void *pop_local(CacheCpu &cc) {
        KMEM_ASSERT_IRQS_OFF();
        void *obj = cc.freelist;
        if (obj) [[likely]]
            cc.freelist = reinterpret_cast<void *>(*static_cast<const uintptr_t *>(obj) ^ cc.secret ^
                                                   reinterpret_cast<uintptr_t>(obj));
        return obj;
    }
    // The CPU a slab is frozen for, plus one (0: none). Only the owner
    // changes it, so a CPU that reads its own id here owns the slab.
    static uint8_t owner(const SlabHeader *s) { return __atomic_load_n(&s->cpu, __ATOMIC_RELAXED); }
    static void set_owner(SlabHeader *s, unsigned cpu_plus_one) {
        __atomic_store_n(&s->cpu, static_cast<uint8_t>(cpu_plus_one), __ATOMIC_RELAXED);
    }
    // A free by CPU cpu that needs no atomic operation: an object of the
    // CPU's active slab goes on the CPU's freelist, one of a slab on the
    // CPU's partial list on that slab's local freelist - unless it is
    // already the head of the list it would join (a double free). Returns
    // 0 when done; kFreeSlow when the slow path must decide; else the
    // object's head value (index + 1): a slab another CPU owns, or none -
    // the object goes on the slab's own freelist (free_shared).
    static constexpr uint32_t kFreeSlow = UINT32_MAX;
    [[gnu::always_inline]] static uint32_t push_local(KmemCache *c, unsigned cpu, SlabHeader *s, void *obj) {
        const uint32_t i = index_of(c, s, obj);
        if (i == UINT32_MAX) return kFreeSlow;
        return push_local_at(c, cpu, s, obj, i);
    }
    // push_local's second half, for obj = object i of s (index_of's answer,
    // which needs no interrupts off: a caller computes it first and keeps
    // its interrupts-off section to the CPU's own lists).
    [[gnu::always_inline]] static uint32_t push_local_at(KmemCache *c, unsigned cpu, SlabHeader *s, void *obj,
                                                         uint32_t i) {
        KMEM_ASSERT_IRQS_OFF();
        CacheCpu &cc = c->cpu[cpu];
        if (s == cc.slab) [[likely]] {
            if (obj == cc.freelist) return kFreeSlow;
            set_next(c, obj, cc.freelist);
            cc.freelist = obj;
            return 0;
        }
        if (owner(s) != cpu + 1) return i + 1;
        if (obj == s->local_free) return kFreeSlow;
        set_next(c, obj, s->local_free);
        s->local_free = obj;
        ++s->local_count;
        return 0;
    }
    // The rest of a free push_local did not do (r: what it returned; s
    // null: no slab found), out of line: the slab's own freelist for a
    // plain cache's remote free, free_object for everything else of a slab,
    // kfree_slow without one.
    static Status free_rest(SlabAllocator &sa, const void *p, SlabHeader *s, uint32_t r) {
        if (!s) return sa.kfree_slow(p);
        if (r != kFreeSlow) return sa.free_shared(s->cache, s, const_cast<void *>(p), r);
        return sa.free_object(s->cache, s, const_cast<void *>(p));
    }
    // free_rest inside the caller's interrupts-off section, which it then
    // ends (irq: what the caller's irq_save returned): kfree's and
    // cache_free's fast paths end with it as a tail call and keep no frame.
    [[gnu::noinline]] static Status free_rest_restoring(SlabAllocator &sa, const void *p, SlabHeader *s, uint32_t r,
                                                        unsigned long irq);
    // push_local for a plain cache; every other cache's free is the slow path's.
    [[gnu::always_inline]] static uint32_t push_found(KmemCache *c, unsigned cpu, SlabHeader *s, void *obj) {
        return c->plain ? push_local(c, cpu, s, obj) : kFreeSlow;
    }
    // kmalloc's and kfree's fast paths, inline for their callers - kmalloc
    // and kfree, and the malloc shim, which has the CPU slot at hand (mimalloc's
    // rule: the fast path inline, one branch to the slow path out of line).
    // kmalloc_fast: a size with a cache (1..8192, no flags) served from the
    // CPU's freelist of a plain cache, else null (kmalloc_node decides).
    [[gnu::always_inline]] static void *kmalloc_fast(SlabAllocator &sa, size_t size, unsigned cpu) {
        KmemCache *c = kmalloc_fast_cache(sa, size);
        return c ? pop_local(c->cpu[cpu]) : nullptr;
    }
    // The cache kmalloc_fast pops from: the size's class when it has a plain
    // cache, else null. Reads nothing of any CPU's.
    [[gnu::always_inline]] static KmemCache *kmalloc_fast_cache(SlabAllocator &sa, size_t size) {
        if (size - 1 >= kKmallocMaxCacheSize || !sa.kmalloc_plain_) [[unlikely]] return nullptr;
        return &sa.kmalloc_[0][kKmallocClassOf.of[(size - 1) >> 3]];
    }
    // free_local: the CPU-local part of kfree, for p neither null nor
    // kZeroSizePtr (any other address: one outside online memory reads
    // nothing and finds no slab) and an initialised allocator: push_local's
    // answer for the slab found (s), kFreeSlow when there is none or its
    // cache is not plain. Anything but 0 goes on to free_rest(sa, p, s, r), which repeats
    // no lookup; a caller can keep its fast path free of calls.
    [[gnu::always_inline]] static uint32_t free_local(SlabAllocator &sa, const void *p, unsigned cpu, SlabHeader *&s) {
        s = slab_fast(*sa.phys_, p);
        if (!s) [[unlikely]] return kFreeSlow;
        return push_found(s->cache, cpu, s, const_cast<void *>(p));
    }
    // Slow paths (slab.cpp).
    static SlabHeader *new_slab(SlabAllocator &sa, KmemCache *c, uint16_t node, uint32_t flags);
    static void free_slab(SlabAllocator &sa, KmemCache *c, SlabHeader *s);
    static void list_add(SlabHeader *&head, SlabHeader *s, SlabList which);
    static void list_del(SlabHeader *&head, SlabHeader *s);
    static CacheNode &node_of(KmemCache *c, const SlabHeader *s) { return c->node[s->node]; }
    // Functions named _locked, and those that take a CacheNode &cn next to
    // the slab (cn is its node), need cn.lock held by their caller; the
    // others take what they need themselves.
    // Put an unfrozen slab with free objects where it belongs: the partial
    // list, or the buddy when it is empty and the node keeps min_partial
    // empty slabs already. True if it went back.
    static bool settle(SlabAllocator &sa, KmemCache *c, CacheNode &cn, SlabHeader *s) KMEM_REQUIRES(cn.lock);
    // A slab on the node's partial list just became empty: kept (min_partial
    // per node) or given back to the buddy.
    static void emptied(SlabAllocator &sa, KmemCache *c, CacheNode &cn, SlabHeader *s) KMEM_REQUIRES(cn.lock);
    // Unfreeze a slab this CPU owns (off every CPU list), the CPU's freelist
    // list..tail (count objects) going back to it first. A slab that ends up
    // full goes on no list and is not touched again; thaw() takes the node
    // lock only when the slab has free objects; thaw_locked() expects the
    // slab disowned: no owning CPU, on no list, home = the CPU it had.
    static void disown(SlabHeader *s);
    static bool thaw(SlabAllocator &sa, KmemCache *c, SlabHeader *s, void *list, void *tail, uint32_t count);
    static bool thaw_locked(SlabAllocator &sa, KmemCache *c, CacheNode &cn, SlabHeader *s, void *list, void *tail,
                            uint32_t count) KMEM_REQUIRES(cn.lock);
    // The CPU's active slab back to its node; true if it went to the buddy.
    static bool deactivate(SlabAllocator &sa, KmemCache *c, unsigned cpu);
    // The CPU's partial list back to the nodes (one lock hold per run of one node).
    static void drain_partial(SlabAllocator &sa, KmemCache *c, unsigned cpu);
    // Its empty slabs beyond cpu_partial back to the nodes, then its oldest
    // slabs until the list holds at most cpu_partial slabs' worth of free
    // objects (when the list outgrows trim_at).
    static void trim_partial(SlabAllocator &sa, KmemCache *c, unsigned cpu);
    // A frozen slab onto the tail of CPU cpu's partial list (that CPU's own call).
    static void push_partial(KmemCache *c, unsigned cpu, SlabHeader *s);
    // Take s off its CPU's partial list (a queue linked by next and prev).
    static void partial_remove(CacheCpu &cc, SlabHeader *s) {
        if (s->prev) s->prev->next = s->next;
        else cc.partial = s->next;
        if (s->next) s->next->prev = s->prev;
        else cc.partial_tail = s->prev;
        s->next = s->prev = nullptr;
        --cc.nr_partial;
    }
    // Every empty slab on c's node lists back to the buddy; pages freed.
    static uint64_t shrink_nodes(SlabAllocator &sa, KmemCache *c);
    // The buddy's reclaimer (PhysAllocator::set_reclaimer; ctx: the
    // SlabAllocator): the calling CPU's partial slabs of every cache back to
    // their nodes, then every node's empty slabs back to the buddy. Other
    // CPUs' slabs stay theirs - kmem makes no cross-CPU calls. Pages freed.
    static uint64_t reclaim(void *ctx);
    // A full slab a free just froze for CPU cpu goes on that CPU's partial list.
    static void adopt(SlabAllocator &sa, KmemCache *c, unsigned cpu, SlabHeader *s);
    // A frozen slab's own freelist, taken whole by its CPU (null: none); the
    // slab stays frozen with every carved object counted in use.
    static void *take_freelist(KmemCache *c, SlabHeader *s);
    // The next objects of a lazy slab this CPU has frozen, chained in
    // address order up to the end of the next page (at least one), counted
    // in use: they become the CPU's. Null when every object is carved.
    static void *carve(KmemCache *c, SlabHeader *s);
    // take_freelist, else carve: objects for the CPU that froze s, or null.
    static void *take_objects(KmemCache *c, SlabHeader *s) {
        if (void *list = take_freelist(c, s)) return list;
        return uncarved(c, s) ? carve(c, s) : nullptr;
    }
    // A full slab a free by another CPU just froze for CPU home (online):
    // onto home's adopted stack (compare-and-swap); home moves it to its
    // partial list.
    static void hand_back(KmemCache *c, unsigned home, SlabHeader *s);
    // CPU from's adopted stack onto CPU cpu's partial list (cpu's own call;
    // from == cpu but when from went offline).
    static void take_adopted(KmemCache *c, unsigned from, unsigned cpu);
    // Give CPU cpu an active slab with objects on its freelist: its own
    // partial slabs first (any-node requests), then the node's (several per
    // lock hold), then a new one. False: no memory.
    static bool refill(SlabAllocator &sa, KmemCache *c, unsigned cpu, uint16_t node, uint16_t want,
                       uint32_t flags);

    // Debug (debug.cpp).
    static void poison_free(const KmemCache *c, void *obj);
    static const char *verify_free(const KmemCache *c, const void *obj);
    static void mark_allocated(const KmemCache *c, void *obj);
    static const char *verify_allocated(const KmemCache *c, const void *obj);

    static void fail(SlabAllocator &sa, Errc code, const char *why);
    // An allocation or free is about to take a node lock (node_lock_count).
    static void count_node_lock(SlabAllocator &sa) { ++sa.cpu_counters_[Plat::cpu_slot()].node_locks; }
    // Set up zone z's kmalloc caches and put them on the list of caches.
    static Status init_kmalloc_zone(SlabAllocator &sa, unsigned z);
    static Status init_cache(SlabAllocator &sa, KmemCache *c, const char *name, size_t size,
                             size_t align, uint32_t flags, void (*ctor)(void *), bool construct);
};

} // namespace kmem
