// SPDX-License-Identifier: MIT
//
// DOC: the buddy allocator's implementer header (private to buddy/).
//
// BuddyInternals holds the operations every buddy source file shares: pfn and
// section arithmetic, descriptor writes, free-list links, and the zone-level
// block operations (take, give back with merging, split, carve from a lazy
// run). Zone-level operations expect the zone's lock to be held.
//
// Descriptor invariant (what makes lazy descriptors safe to read): every
// online pfn outside its section's lazy run and descriptor array has an
// initialised descriptor, and a descriptor carries a head state exactly when
// it is the first page of a current block. Pages of a max-order block next to
// an online range that are not online themselves read as offline.
#pragma once

#include <kmem/buddy.h>

#include "page/page_desc.h"
#include "platform/current.h"

namespace kmem {

inline constexpr uint64_t pfn_of(uint64_t pa) { return pa >> kPageShift; }
inline constexpr uint64_t pa_of(uint64_t pfn) { return pfn << kPageShift; }
inline constexpr uint64_t pages(unsigned order) { return uint64_t{1} << order; }
inline constexpr uint64_t kMaxPfn = kMaxPhysMemory >> kPageShift;
inline constexpr size_t section_of(uint64_t pfn) { return static_cast<size_t>(pfn >> (kSectionShift - kPageShift)); }
inline constexpr uint64_t section_start_pfn(size_t s) { return static_cast<uint64_t>(s) << (kSectionShift - kPageShift); }
inline constexpr uint32_t offset_in_section(uint64_t pfn) { return static_cast<uint32_t>(pfn & (kPagesPerSection - 1)); }

// Largest order of an aligned block that starts at pfn and ends by `end`.
inline unsigned max_block_order(uint64_t pfn, uint64_t end) {
    unsigned o = pfn ? static_cast<unsigned>(__builtin_ctzll(pfn)) : kMaxOrder;
    if (o > kMaxOrder) o = kMaxOrder;
    while (pfn + pages(o) > end) --o;
    return o;
}

inline constexpr bool is_head_state(PageState s) {
    return s == PageState::free || s == PageState::free_pcp || s == PageState::allocated ||
           s == PageState::slab || s == PageState::reserved;
}

struct BuddyInternals {
    using Lock = platform::SpinLock;

    // ---- pfns, sections, descriptors
    static Section &section(PhysAllocator &a, uint64_t pfn) { return a.sections_[section_of(pfn)]; }
    static const Section &section(const PhysAllocator &a, uint64_t pfn) {
        return a.sections_[section_of(pfn)];
    }
    static PageDesc *raw_desc(const PhysAllocator &a, uint64_t pfn) {
        return a.sections_[section_of(pfn)].descs + offset_in_section(pfn);
    }
    // Each range test is one unsigned compare: off - begin < end - begin.
    static bool in_lazy(const Section &s, uint64_t pfn) {
        // Read without a lock (free_pages); the run only shrinks under the
        // zone lock, so any pair of bounds excludes a page that was allocated.
        const uint32_t lb = __atomic_load_n(&s.lazy_begin, __ATOMIC_RELAXED);
        const uint32_t le = __atomic_load_n(&s.lazy_end, __ATOMIC_RELAXED);
        return offset_in_section(pfn) - lb < le - lb;
    }
    static bool in_meta(const Section &s, uint64_t pfn) {
        return offset_in_section(pfn) - s.meta_begin < s.meta_end - s.meta_begin;
    }
    // Why pfn has no readable descriptor, or null if it has one. Inline for
    // the common case, with no call: a page of a fully online section (which
    // always has its array), neither in its lazy run nor in its array - one
    // load and one compare (Section::readable); false sends the caller to
    // unreadable_slow, which decides.
    [[gnu::always_inline]] static bool readable_fast(const PhysAllocator &a, uint64_t pfn) {
        if (pfn >= kMaxPfn) [[unlikely]] return false;
        const uint64_t w = __atomic_load_n(&a.sections_[section_of(pfn)].readable, __ATOMIC_ACQUIRE);
        return offset_in_section(pfn) - static_cast<uint32_t>(w) < static_cast<uint32_t>(w >> 32);
    }
    // Recompute Section::readable after its online count or lazy run
    // changed (online or zone lock held; descriptors written first): the
    // longest of the stretches below, between and above the two holes. (The
    // array changes only before the section is wholly online, when the word
    // is 0 whatever it holds.)
    static void publish_readable(Section &s) {
        uint32_t begin = 0, size = 0;
        if (s.online == kPagesPerSection && s.descs) {
            struct Hole {
                uint32_t begin, end;
            };
            Hole lo{s.lazy_begin, s.lazy_end}, hi{s.meta_begin, s.meta_end};
            if (lo.begin == lo.end) lo = {hi.begin, hi.begin}; // an empty hole adds none
            if (hi.begin == hi.end) hi = {lo.begin, lo.begin};
            if (hi.begin < lo.begin) {
                const Hole t = lo;
                lo = hi;
                hi = t;
            }
            const uint32_t lo_end = lo.end, hi_end = hi.end > lo.end ? hi.end : lo.end;
            const Hole stretches[3] = {{0, lo.begin}, {lo_end, hi.begin > lo_end ? hi.begin : lo_end},
                                       {hi_end, kPagesPerSection}};
            for (const Hole &h : stretches)
                if (h.end - h.begin > size) begin = h.begin, size = h.end - h.begin;
        }
        __atomic_store_n(&s.readable, uint64_t{begin} | uint64_t{size} << 32, __ATOMIC_RELEASE);
    }
    static const char *unreadable(const PhysAllocator &a, uint64_t pfn) {
        if (readable_fast(a, pfn)) [[likely]] return nullptr;
        return unreadable_slow(a, pfn);
    }
    static const char *unreadable_slow(const PhysAllocator &a, uint64_t pfn);
    // Fault injection: true when this allocation is the one to fail.
    static bool inject_failure(PhysAllocator &a) {
        if (a.fail_countdown_ == 0 || --a.fail_countdown_ != 0) return false;
        ++a.injected_failures_;
        refresh_home_zones(a); // disarmed: the fast path again
        return true;
    }
    static void write_head(PhysAllocator &a, uint64_t pfn, PageState st, unsigned order,
                           unsigned zone, uint64_t owner = 0, uint32_t aux = 0) {
        PageDesc *d = raw_desc(a, pfn);
        KMEM_CHECK_MAPPED(Plat::virt_to_phys(d), sizeof(PageDesc));
        // Owners write their heads without a zone lock; give_block reads the
        // state of a buddy under one: the state byte is accessed atomically.
        set_state(d, st);
        d->order = static_cast<uint8_t>(order);
        d->zone = static_cast<uint8_t>(zone);
        d->flags = 0;
        d->aux = aux;
        d->owner = owner;
    }
    static void zero_descs(PhysAllocator &a, uint64_t pfn, uint64_t count);
    // Mark [pfn, end) of zone zi as reserved blocks owned by `why` (heads only).
    static void mark_reserved(PhysAllocator &a, unsigned zi, uint64_t pfn, uint64_t end, const char *why) {
        while (pfn < end) {
            const unsigned o = max_block_order(pfn, end);
            write_head(a, pfn, PageState::reserved, o, zi, reinterpret_cast<uint64_t>(why));
            pfn += pages(o);
        }
    }
    // A head's state is read by buddy lookups of other CPUs under their zone
    // lock while its owner changes it without one: relaxed atomic accesses.
    static void set_state(PageDesc *d, PageState st) {
        __atomic_store_n(reinterpret_cast<uint8_t *>(&d->state), static_cast<uint8_t>(st),
                         __ATOMIC_RELAXED);
    }

    // ---- free-list links inside free memory
    static FreeLink *link_of(uint64_t pfn) {
        KMEM_CHECK_MAPPED(pa_of(pfn), sizeof(FreeLink));
        return static_cast<FreeLink *>(Plat::phys_to_virt(pa_of(pfn)));
    }
    static uint64_t pfn_of_link(const FreeLink *l) { return pfn_of(Plat::virt_to_phys(l)); }
    static void list_push(FreeArea &area, uint64_t pfn, uint32_t epoch); // unreported, at the head
    static void list_push_reported(FreeArea &area, uint64_t pfn);  // reported, at the tail
    static void list_remove(FreeArea &area, uint64_t pfn);         // either
    // Pages handed to report_free's sink: every reported block but its link page.
    static uint64_t reported_pages(const Zone &z) {
        uint64_t n = 0;
        for (unsigned o = 1; o <= kMaxOrder; ++o) n += z.area[o].reported * (pages(o) - 1);
        return n;
    }

    // ---- zone-level block operations (the caller holds zone zi's lock)
    // Take a block of `order`, splitting or carving as needed; false if none.
    static bool take_block(PhysAllocator &a, unsigned zi, unsigned order, uint64_t &pfn)
        KMEM_REQUIRES(a.zone_locks_[zi]);
    // Take a block of `order` lying inside pfns [lo, hi) (top-down); false if none.
    static bool take_block_in(PhysAllocator &a, unsigned zi, unsigned order, uint64_t lo,
                              uint64_t hi, uint64_t &pfn) KMEM_REQUIRES(a.zone_locks_[zi]);
    // Put a free block back, merging with free buddies (does not count).
    static void give_block(PhysAllocator &a, unsigned zi, uint64_t pfn, unsigned order)
        KMEM_REQUIRES(a.zone_locks_[zi]);
    // Split a free block (already off its list) down to `low`, freeing the
    // upper halves (reported if the block was: their memory still is).
    static void split(PhysAllocator &a, unsigned zi, uint64_t pfn, unsigned high, unsigned low,
                      bool reported = false) KMEM_REQUIRES(a.zone_locks_[zi]);
    // Free every page of [pfn, end) as maximal aligned blocks (merging).
    static void give_range(PhysAllocator &a, unsigned zi, uint64_t pfn, uint64_t end)
        KMEM_REQUIRES(a.zone_locks_[zi]);
    // Carve the highest max-order block of the zone's first lazy run.
    static bool carve_lazy(PhysAllocator &a, unsigned zi, uint64_t &pfn) KMEM_REQUIRES(a.zone_locks_[zi]);
    // Make [pfn, pfn + kMaxBlockPages) of section s's lazy run an ordinary
    // free block (descriptors initialised, not yet on a list). The caller
    // holds the lock of the run's zone (the analysis cannot see that the
    // caller's zone is the section's: checked in debug builds).
    static void unlazy_block(PhysAllocator &a, size_t s, uint64_t pfn) KMEM_NO_THREAD_SAFETY_ANALYSIS;
    // Remove section s from its zone's lazy list.
    static void unlink_lazy(PhysAllocator &a, size_t s);

    static bool watermark_ok(const Zone &z, unsigned order, uint32_t flags);
    static Lock &zone_lock(PhysAllocator &a, unsigned zi) KMEM_RETURN_CAPABILITY(a.zone_locks_[zi]) {
        return a.zone_locks_[zi];
    }
    static Zone &zone(PhysAllocator &a, unsigned zi) { return a.zones_[zi]; }
    static void refresh_home_zones(PhysAllocator &a);
    // Point every CPU's home zone at a zone with no memory (fault injection).
    static bool aim_at_empty_zone(PhysAllocator &a);
    // Per-CPU list operations (the owning CPU only; the list must be non-empty to pop).
    static uint64_t pcp_pop(PcpList &pcp, unsigned order) {
        KMEM_ASSERT_IRQS_OFF();
        FreeLink *l = pcp.head[order];
        pcp.head[order] = l->next;
        --pcp.count[order];
        return pfn_of_link(l);
    }
    static uint32_t pcp_push(PcpList &pcp, unsigned order, uint64_t pfn) {
        KMEM_ASSERT_IRQS_OFF();
        FreeLink *l = link_of(pfn);
        l->next = pcp.head[order];
        pcp.head[order] = l;
        return ++pcp.count[order];
    }
    static unsigned pcp_batch(unsigned order) { return 32u >> order; }
    static unsigned pcp_high(unsigned order) { return 4 * pcp_batch(order); }
    // Return `count` blocks of `order` from a per-CPU list to its zone.
    static void pcp_drain(PhysAllocator &a, unsigned cpu, unsigned zi, unsigned order,
                          uint32_t count);
};

// ---- walking online memory block by block (shared by reserve and check)

// The block containing pfn (which must be readable): its head and order.
inline bool find_block(const PhysAllocator &a, uint64_t pfn, uint64_t &head, unsigned &order) {
    for (unsigned o = 0; o <= kMaxOrder; ++o) {
        const uint64_t h = pfn & ~(pages(o) - 1);
        const PageDesc *d = BuddyInternals::raw_desc(a, h);
        if (is_head_state(d->state) && d->order >= o && h + pages(d->order) > pfn) {
            head = h;
            order = d->order;
            return true;
        }
    }
    return false;
}

// One step of a walk over online memory: the unit starting at pfn.
struct Unit {
    enum Kind { meta, lazy, block } kind;
    uint64_t head;  // block: its head; lazy: pfn of the max-order block
    unsigned order; // block order (kMaxOrder for lazy units)
    uint64_t end;   // one past the unit
};

inline bool unit_at(const PhysAllocator &a, const Section &sec, uint64_t pfn, Unit &u) {
    const uint64_t base = pfn - offset_in_section(pfn);
    if (BuddyInternals::in_meta(sec, pfn)) {
        u.kind = Unit::meta;
        u.head = base + sec.meta_begin;
        u.order = 0;
        u.end = base + sec.meta_end;
        return true;
    }
    if (BuddyInternals::in_lazy(sec, pfn)) {
        u.kind = Unit::lazy;
        u.head = pfn & ~(kMaxBlockPages - 1);
        u.order = kMaxOrder;
        u.end = u.head + kMaxBlockPages;
        return true;
    }
    if (!find_block(a, pfn, u.head, u.order)) return false;
    u.kind = Unit::block;
    u.end = u.head + pages(u.order);
    return true;
}

// Calls f(unit, clip_begin, clip_end) for each unit overlapping online pfns
// in [s, e); stops at the first error f returns.
template <class F> Status walk_online(const PhysAllocator &a, uint64_t s, uint64_t e, F &&f) {
    for (const MemRange &r : a.online_map()) {
        const uint64_t rs = pfn_of(r.start), re = pfn_of(r.end);
        uint64_t p = rs > s ? rs : s;
        const uint64_t stop = re < e ? re : e;
        while (p < stop) {
            Unit u;
            if (!unit_at(a, BuddyInternals::section(a, p), p, u))
                return make_error(Errc::malformed, "page without a block head (books corrupt)");
            const uint64_t ce = u.end < stop ? u.end : stop;
            KMEM_TRY(f(u, p, ce));
            p = u.end;
        }
    }
    return {};
}

} // namespace kmem
