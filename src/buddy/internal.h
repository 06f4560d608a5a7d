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

#include "page/page_map.h"
#include "platform/current.h"

namespace kmem {

// Largest order of an aligned block that starts at pfn and ends by `end`.
inline unsigned max_block_order(uint64_t pfn, uint64_t end) {
    unsigned o = pfn ? static_cast<unsigned>(__builtin_ctzll(pfn)) : kMaxOrder;
    if (o > kMaxOrder) o = kMaxOrder;
    while (pfn + pages(o) > end) --o;
    return o;
}

struct BuddyInternals {
    using Lock = Plat::SpinLock;
    // The steps of onlining (online.cpp), check() (check.cpp) and the /proc
    // reports (report.cpp): nested, so BuddyInternals is PhysAllocator's one friend.
    struct OnlineStep;
    struct CheckPass;
    struct ReportAccess;
    struct Walk; // below
    static bool find_block(const PhysAllocator &a, uint64_t pfn, uint64_t &head, unsigned &order) {
        return page::find_block(a.pages_, pfn, head, order);
    }

    // ---- sections and descriptors (the page layer's, src/page/page_map.h)
    static Section &section(PhysAllocator &a, uint64_t pfn) { return a.pages_.section_at(section_of(pfn)); }
    static const Section &section(const PhysAllocator &a, uint64_t pfn) { return page::section(a.pages_, pfn); }
    static PageDesc *raw_desc(const PhysAllocator &a, uint64_t pfn) { return page::raw_desc(a.pages_, pfn); }
    static const char *unreadable(const PhysAllocator &a, uint64_t pfn) {
        return page::unreadable(a.pages_, pfn, a.online_);
    }
    // Fault injection: true when this allocation is the one to fail.
    static bool inject_failure(PhysAllocator &a) {
        if (a.fail_countdown_ == 0 || --a.fail_countdown_ != 0) return false;
        ++a.injected_failures_;
        refresh_home_zones(a); // disarmed: the fast path again
        return true;
    }
    static void write_head(PhysAllocator &a, uint64_t pfn, PageState st, unsigned order,
                           unsigned zone, uint32_t owner = 0, uint32_t aux = 0) {
        PageDesc *d = raw_desc(a, pfn);
        KMEM_CHECK_MAPPED(Plat::virt_to_phys(d), sizeof(PageDesc));
        d->set_word(PageDesc::make(st, order, zone, 0, aux, owner));
    }
    static void zero_descs(PhysAllocator &a, uint64_t pfn, uint64_t count) { a.pages_.zero_descs(pfn, count); }
    // Mark [pfn, end) of zone zi as reserved blocks owned by `why` (heads only).
    static void mark_reserved(PhysAllocator &a, unsigned zi, uint64_t pfn, uint64_t end, const char *why) {
        mark_reserved_as(a, zi, pfn, end, a.pages_.reason_index(why));
    }
    // The same with the reason's index (PageMap::reason_index).
    static void mark_reserved_as(PhysAllocator &a, unsigned zi, uint64_t pfn, uint64_t end, uint32_t reason) {
        while (pfn < end) {
            const unsigned o = max_block_order(pfn, end);
            write_head(a, pfn, PageState::reserved, o, zi, reason);
            pfn += pages(o);
        }
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

// ---- walking online memory block by block (shared by reserve, check and
// the slab-block walk): BuddyInternals' part for those.
struct BuddyInternals::Walk {
    // One step of a walk over online memory: the unit starting at pfn.
    struct Unit {
        enum Kind { meta, lazy, block } kind;
        uint64_t head;  // block: its head; lazy: pfn of the max-order block
        unsigned order; // block order (kMaxOrder for lazy units)
        uint64_t end;   // one past the unit
    };

    static bool unit_at(const PhysAllocator &a, const Section &sec, uint64_t pfn, Unit &u) {
        const uint64_t base = pfn - offset_in_section(pfn);
        if (page::in_meta(sec, pfn)) {
            u.kind = Unit::meta;
            u.head = base + sec.meta_begin;
            u.order = 0;
            u.end = base + sec.meta_end;
            return true;
        }
        if (page::in_lazy(sec, pfn)) {
            u.kind = Unit::lazy;
            u.head = pfn & ~(kMaxBlockPages - 1);
            u.order = kMaxOrder;
            u.end = u.head + kMaxBlockPages;
            return true;
        }
        if (!page::find_block(a.pages_, pfn, u.head, u.order)) return false;
        u.kind = Unit::block;
        u.end = u.head + pages(u.order);
        return true;
    }

    // Calls f(unit, clip_begin, clip_end) for each unit overlapping online pfns
    // in [s, e); stops at the first error f returns.
    template <class F> static Status online(const PhysAllocator &a, uint64_t s, uint64_t e, F &&f) {
        for (const MemRange &r : a.online_map()) {
            const uint64_t rs = pfn_of(r.start), re = pfn_of(r.end);
            uint64_t p = rs > s ? rs : s;
            const uint64_t stop = re < e ? re : e;
            while (p < stop) {
                Unit u;
                if (!unit_at(a, section(a, p), p, u))
                    return make_error(Errc::malformed, "page without a block head (books corrupt)");
                const uint64_t ce = u.end < stop ? u.end : stop;
                KMEM_TRY(f(u, p, ce));
                p = u.end;
            }
        }
        return {};
    }
};
} // namespace kmem
