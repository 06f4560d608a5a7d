// SPDX-License-Identifier: MIT
//
// DOC: slabs - getting them from the buddy and giving them back.
//
// new_slab takes a block from the buddy, has the buddy mark its pages as a
// slab naming the header (PhysAllocator::mark_slab), places the coloured
// header and chains (or leaves to carving) its objects; free_slab undoes
// that. settle/emptied decide where an unfrozen slab goes: the node's
// partial list, or back to the buddy once the node keeps min_partial empty
// slabs. slab_of_slow finds the slab of any address, or says why there is
// none. CPU ownership of slabs is in cpu_slabs.cpp, the allocation and free
// paths in objects.cpp.
#include "slab_internal.h"

namespace kmem {
namespace {

uint32_t zone_flags(const KmemCache *c) {
    if (c->flags & kCacheDma) return kAllocZoneDma;
    return (c->flags & kCacheDma32) ? uint32_t{kAllocZoneDma32} : 0u;
}

// A random number from the cache's state. CPUs make slabs of one cache
// concurrently, outside any lock: the state advances atomically (a Weyl
// sequence) and each value is mixed locally (splitmix64's finaliser).
uint64_t next_random(KmemCache *c) {
    constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;
    uint64_t z = __atomic_fetch_add(&c->rng, kGamma, __ATOMIC_RELAXED) + kGamma;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t gcd(uint64_t a, uint64_t b) {
    while (b) {
        const uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

} // namespace

using SI = SlabInternals;

void SlabInternals::list_add(SlabHeader *&head, SlabHeader *s, SlabList which) {
    s->prev = nullptr;
    s->next = head;
    if (head) head->prev = s;
    head = s;
    s->list = which;
}

void SlabInternals::list_del(SlabHeader *&head, SlabHeader *s) {
    if (s->prev) s->prev->next = s->next;
    else head = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = nullptr;
    s->list = kListNone;
}

SlabHeader *SlabInternals::slab_of_slow(const SlabAllocator &sa, const void *p, const char **why) {
    const PhysAllocator &a = *sa.phys_;
    const uint64_t pfn = pfn_of(Plat::virt_to_phys(p));
    if ((*why = a.unreadable(pfn))) return nullptr;
    SlabHeader *s = slab_named(a, pfn);
    if (!s) {
        *why = "not memory the slab allocator handed out";
        return nullptr;
    }
    if (s->magic != kSlabMagic) {
        *why = "slab page without a valid slab header";
        return nullptr;
    }
    return s;
}

SlabHeader *SlabInternals::new_slab(SlabAllocator &sa, KmemCache *c, uint16_t node, uint32_t flags) {
    PhysAllocator &a = *sa.phys_;
    Result<uint64_t> r = a.alloc_pages(c->order, zone_flags(c) | (flags & (kAllocReserves | kAllocAtomic)), node);
    if (!r.ok()) return nullptr;
    const uint32_t offset = header_offset(c, pfn_of(r.value()));
    const Result<uint16_t> home = a.mark_slab(r.value(), c->order, offset); // just allocated: cannot fail
    if (!home.ok()) {
        (void)a.free_pages(r.value(), c->order);
        return nullptr;
    }
    auto *s = reinterpret_cast<SlabHeader *>(static_cast<uint8_t *>(Plat::phys_to_virt(r.value())) + offset);
    *s = SlabHeader{};
    s->cache = c;
    s->offset = offset;
    s->magic = kSlabMagic;
    s->node = home.value();
    // Fast caches with objects in address order carve them on demand (the
    // memory of objects never used is never written); debug caches poison
    // every object and shuffled freelists span the slab: chained now.
    if (c->fast && !sa.opts_.random_freelist) {
        set_state_word(s, {0, 0, false});
        return s;
    }
    s->carved = c->objects;

    // Chain the objects: in order, or visiting them with a random start and
    // a random stride coprime with the count (a cheap shuffle, no storage).
    const uint64_t n = c->objects;
    uint64_t start = 0, step = 1;
    if (sa.opts_.random_freelist && n > 1) {
        start = next_random(c) % n;
        step = 1 + next_random(c) % (n - 1);
        while (gcd(step, n) != 1) step = step % (n - 1) + 1;
    }
    void *prev = nullptr;
    for (uint64_t k = 0, i = start; k < n; ++k, i = i + step >= n ? i + step - n : i + step) {
        void *obj = object(c, s, static_cast<uint32_t>(i));
        if (c->flags & kCacheDebugFlags) poison_free(c, obj);
        if (prev) set_next(c, prev, obj);
        prev = obj;
    }
    set_next(c, prev, nullptr);
    set_state_word(s, {static_cast<uint32_t>(start + 1), 0, false});
    return s;
}

void SlabInternals::free_slab(SlabAllocator &sa, KmemCache *c, SlabHeader *s) {
    PhysAllocator &a = *sa.phys_;
    const uint64_t pa = Plat::virt_to_phys(base(s));
    __atomic_fetch_sub(&c->node[s->node].nr_slabs, 1, __ATOMIC_RELAXED);
    s->magic = 0;
    // The pages stop naming the header (slab_fast), then go back.
    (void)a.unmark_slab(pa, c->order);
    (void)a.free_pages(pa, c->order);
}

// Slab not frozen, not full. Frees without the lock may still lower the
// in-use count, but never to zero: that waits for the lock.
bool SlabInternals::settle(SlabAllocator &sa, KmemCache *c, CacheNode &cn, SlabHeader *s) {
    assert_held(cn.lock);
    const SlabState st = state(s);
    if (st.inuse == 0 && cn.nr_empty >= c->min_partial) {
        free_slab(sa, c, s);
        return true;
    }
    list_add(cn.partial, s, kListPartial);
    ++cn.nr_partial;
    if (st.inuse == 0) ++cn.nr_empty;
    return false;
}

void SlabInternals::emptied(SlabAllocator &sa, KmemCache *c, CacheNode &cn, SlabHeader *s) {
    assert_held(cn.lock);
    if (cn.nr_empty >= c->min_partial) {
        list_del(cn.partial, s);
        --cn.nr_partial;
        free_slab(sa, c, s);
    } else {
        ++cn.nr_empty;
    }
}

} // namespace kmem
