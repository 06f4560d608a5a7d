// SPDX-License-Identifier: MIT
//
// DOC: slab debugging - poison, red zones, and check().
//
// Poison: a free object's bytes after its freelist link are 0x6b with a final
// 0xa5; allocation verifies them (a write after free shows up there). Red
// zones: kRedZoneBytes guard bytes on each side of an object, 0xbb while it
// is free and 0xcc while allocated; free verifies they are intact (a buffer
// overflow shows up there) and that they say "allocated" (else: double free).
// check() walks every slab of every cache: headers, list membership, every
// freelist (each link inside the slab, on an object boundary, no object twice),
// counts against the node's and the CPUs' books, and poison and red zones
// where enabled. Full slabs of fast caches are on no list: check() finds them
// by walking online memory (the buddy's block walk) when the lists hold fewer
// slabs than the node counts.
#include "slab_internal.h"

namespace kmem {
namespace {

using SI = SlabInternals;

uint8_t *left_zone(const void *obj) {
    return static_cast<uint8_t *>(const_cast<void *>(obj)) - kRedZoneBytes;
}
uint8_t *right_zone(const KmemCache *c, const void *obj) {
    return static_cast<uint8_t *>(const_cast<void *>(obj)) + c->object_size;
}
bool all(const uint8_t *p, size_t n, uint8_t v) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != v) return false;
    return true;
}

} // namespace

void SlabInternals::poison_free(const KmemCache *c, void *obj) {
    auto *p = static_cast<uint8_t *>(obj);
    if (c->flags & kCachePoison && c->object_size > sizeof(void *)) {
        __builtin_memset(p + sizeof(void *), kPoisonFree, c->object_size - sizeof(void *) - 1);
        p[c->object_size - 1] = kPoisonEnd;
    }
    if (c->flags & kCacheRedZone) {
        __builtin_memset(left_zone(obj), kRedInactive, kRedZoneBytes);
        __builtin_memset(right_zone(c, obj), kRedInactive, kRedZoneBytes);
    }
}

const char *SlabInternals::verify_free(const KmemCache *c, const void *obj) {
    const auto *p = static_cast<const uint8_t *>(obj);
    if (c->flags & kCachePoison && c->object_size > sizeof(void *)) {
        if (!all(p + sizeof(void *), c->object_size - sizeof(void *) - 1, kPoisonFree) ||
            p[c->object_size - 1] != kPoisonEnd)
            return "poison overwritten: the object was written after it was freed";
    }
    if (c->flags & kCacheRedZone) {
        if (!all(left_zone(obj), kRedZoneBytes, kRedInactive) ||
            !all(right_zone(c, obj), kRedZoneBytes, kRedInactive))
            return "red zone of a free object overwritten";
    }
    return nullptr;
}

void SlabInternals::mark_allocated(const KmemCache *c, void *obj) {
    if (c->flags & kCacheRedZone) {
        __builtin_memset(left_zone(obj), kRedActive, kRedZoneBytes);
        __builtin_memset(right_zone(c, obj), kRedActive, kRedZoneBytes);
    }
}

const char *SlabInternals::verify_allocated(const KmemCache *c, const void *obj) {
    if (c->flags & kCacheRedZone) {
        if (!all(left_zone(obj), kRedZoneBytes, kRedActive))
            return "red zone before the object overwritten: buffer underflow";
        if (!all(right_zone(c, obj), kRedZoneBytes, kRedActive))
            return "red zone after the object overwritten: buffer overflow";
    }
    return nullptr;
}

namespace {

// Walk a freelist of slab s: every link inside s, on an object boundary,
// never twice (seen[] has one bit per object). Counts the objects.
Status walk_freelist(const KmemCache *c, const SlabHeader *s, void *head, uint64_t *seen,
                     uint32_t &count) {
    for (void *obj = head; obj; obj = SI::get_next(c, obj)) {
        const uint32_t i = SI::index_of(c, s, obj);
        if (i == UINT32_MAX) return make_error(Errc::malformed, "freelist link outside its slab's objects");
        if (seen[i / 64] & (uint64_t{1} << (i % 64)))
            return make_error(Errc::malformed, "an object is on a freelist twice");
        seen[i / 64] |= uint64_t{1} << (i % 64);
        if (++count > c->objects) return make_error(Errc::malformed, "freelist longer than the slab");
        if (c->flags & kCacheDebugFlags)
            if (const char *why = SI::verify_free(c, obj)) return make_error(Errc::malformed, why);
    }
    return {};
}

} // namespace

struct SlabCheck {
    // One slab: its descriptors, owner, node, frozen bit, freelist and
    // in-use count; owner_cpu: the CPU that must have it frozen (-1: none),
    // cpu_freelist: that CPU's objects of it (its active slab only).
    static Status slab(const SlabAllocator &sa, const KmemCache *c, const SlabHeader *s, unsigned node,
                       int owner_cpu, void *cpu_freelist, uint32_t &free_count) {
        static uint64_t seen[(kPageSize << kSlabMaxOrder) / 8 / 64];
        const char *why;
        if (SI::slab_of(sa, s, &why) != s) return make_error(Errc::malformed, "slab header not described as a slab");
        if (s->magic != kSlabMagic || s->cache != c) return make_error(Errc::malformed, "slab header of another cache");
        if (s->node != node) return make_error(Errc::malformed, "slab on another node's list");
        const uint64_t head = pfn_of(Plat::virt_to_phys(SI::base(s)));
        for (uint64_t i = 1; i < pages(c->order); ++i) {
            const PageDesc *d = page::raw_desc(sa.phys().page_map(), head + i);
            if (d->state() != PageState::slab_tail || d->aux() != i || SI::slab_named(sa.phys(), head + i) != s)
                return make_error(Errc::malformed, "slab page whose descriptor does not name its slab");
        }
        if ((owner_cpu < 0 && s->cpu) || (owner_cpu >= 0 && s->cpu != owner_cpu + 1))
            return make_error(Errc::malformed, "slab's owning CPU disagrees");
        const SlabState st = SI::state(s);
        if (st.frozen != (s->cpu != 0)) return make_error(Errc::malformed, "slab's frozen bit and owning CPU disagree");
        const uint32_t carved = SI::carved(s);
        if (carved > c->objects) return make_error(Errc::malformed, "slab carved beyond its objects");
        if (st.head && (st.head > carved))
            return make_error(Errc::malformed, "slab's freelist head is not one of its objects");
        for (auto &w : seen) w = 0;
        free_count = 0;
        KMEM_TRY(walk_freelist(c, s, SI::head_object(c, s, st.head), seen, free_count));
        if (carved - free_count != st.inuse)
            return make_error(Errc::malformed, "slab's inuse count differs from its freelist");
        KMEM_TRY(walk_freelist(c, s, cpu_freelist, seen, free_count));
        uint32_t local = 0;
        KMEM_TRY(walk_freelist(c, s, s->local_free, seen, local));
        if (local != s->local_count) return make_error(Errc::malformed, "slab's local free count differs from its list");
        if (local && s->list != kListCpu) return make_error(Errc::malformed, "local frees on a slab no CPU holds in reserve");
        free_count += local + (c->objects - carved); // never carved: free
        if (c->flags & kCacheRedZone)
            for (uint32_t i = 0; i < c->objects; ++i)
                if (!(seen[i / 64] & (uint64_t{1} << (i % 64))))
                    if (const char *bad = SI::verify_allocated(c, SI::object(c, s, i)))
                        return make_error(Errc::malformed, bad);
        return {};
    }

    // Full slabs of a fast cache are on no list: find them by walking online
    // memory for slab blocks of cache c on node n that no CPU owns.
    static Status unlisted(const SlabAllocator &sa, const KmemCache *c, unsigned n, uint64_t &count) {
        struct Walk {
            const SlabAllocator &sa;
            const KmemCache *c;
            unsigned n;
            uint64_t &count;
        } walk{sa, c, n, count};
        return sa.phys().for_each_slab_block(
            [](void *ctx, uint64_t pa, unsigned) -> Status {
                Walk &w = *static_cast<Walk *>(ctx);
                const SlabHeader *s = SI::slab_named(w.sa.phys(), pfn_of(pa));
                if (!s) return {};
                if (s->magic != kSlabMagic || s->cache != w.c || s->node != w.n || s->list != kListNone || s->cpu)
                    return {};
                uint32_t free_count;
                KMEM_TRY(slab(w.sa, w.c, s, w.n, -1, nullptr, free_count));
                if (free_count) return make_error(Errc::malformed, "a slab with free objects is on no list");
                ++w.count;
                return {};
            },
            &walk);
    }
};

Status SlabAllocator::check_cache(const KmemCache *c) const {
    KMEM_NOT_IN_INTERRUPT("check_cache");
    for (unsigned n = 0; n < kMaxNodes; ++n) {
        CacheNode &cn = const_cast<KmemCache *>(c)->node[n];
        LockGuard g(cn.lock);
        uint64_t slabs = 0, partial = 0, empty = 0;
        uint32_t free_count;
        for (const SlabHeader *s = cn.partial; s; s = s->next, ++slabs, ++partial) {
            if (s->list != kListPartial) return make_error(Errc::malformed, "slab on the partial list marked otherwise");
            KMEM_TRY(SlabCheck::slab(*this, c, s, n, -1, nullptr, free_count));
            if (free_count == 0) return make_error(Errc::malformed, "a full slab on the partial list");
            if (SI::state(s).inuse == 0) ++empty;
        }
        if (c->fast && cn.full) return make_error(Errc::malformed, "a fast cache lists full slabs");
        for (const SlabHeader *s = cn.full; s; s = s->next, ++slabs) {
            if (s->list != kListFull) return make_error(Errc::malformed, "slab on the full list marked otherwise");
            KMEM_TRY(SlabCheck::slab(*this, c, s, n, -1, nullptr, free_count));
            if (free_count != 0) return make_error(Errc::malformed, "a slab with free objects on the full list");
        }
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
            const CacheCpu &cc = c->cpu[cpu];
            if (const SlabHeader *s = cc.slab; s && s->node == n) {
                if (s->list != kListNone) return make_error(Errc::malformed, "an active slab is on a list");
                KMEM_TRY(SlabCheck::slab(*this, c, s, n, static_cast<int>(cpu), cc.freelist, free_count));
                ++slabs;
            }
            const SlabHeader *const lists[2] = {cc.partial, c->adopted[cpu]};
            for (const SlabHeader *list : lists)
                for (const SlabHeader *s = list; s; s = s->next) {
                    if (s->node != n) continue;
                    if (s->list != kListCpu) return make_error(Errc::malformed, "slab on a CPU's partial list marked otherwise");
                    KMEM_TRY(SlabCheck::slab(*this, c, s, n, static_cast<int>(cpu), nullptr, free_count));
                    if (free_count == 0) return make_error(Errc::malformed, "a full slab on a CPU's partial list");
                    ++slabs;
                }
        }
        if (slabs < cn.nr_slabs) KMEM_TRY(SlabCheck::unlisted(*this, c, n, slabs));
        if (slabs != cn.nr_slabs) return make_error(Errc::malformed, "node's slab count differs from its lists");
        if (partial != cn.nr_partial) return make_error(Errc::malformed, "node's partial count differs");
        if (empty != cn.nr_empty) return make_error(Errc::malformed, "node's empty-slab count differs");
    }
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
        const CacheCpu &cc = c->cpu[cpu];
        if (!cc.slab && cc.freelist) return make_error(Errc::malformed, "a CPU freelist without an active slab");
        uint32_t n = 0;
        const SlabHeader *last = nullptr;
        for (const SlabHeader *s = cc.partial; s && n <= cc.nr_partial; last = s, s = s->next, ++n)
            if (s->prev != last) return make_error(Errc::malformed, "a CPU's partial list has a broken back link");
        if (last != cc.partial_tail) return make_error(Errc::malformed, "a CPU's partial tail is not its last slab");
        if (n != cc.nr_partial) return make_error(Errc::malformed, "a CPU's partial count differs from its list");
        if (!c->fast && (cc.slab || cc.partial || c->adopted[cpu])) return make_error(Errc::malformed, "a debug cache has CPU slabs");
    }
    return {};
}

Status SlabAllocator::check() const {
    KMEM_NOT_IN_INTERRUPT("SlabAllocator::check");
    if (!phys_) return {};
    for (const KmemCache *c = caches_; c; c = c->next) KMEM_TRY(check_cache(c));
    return {};
}

} // namespace kmem
