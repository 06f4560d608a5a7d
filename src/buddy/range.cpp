// SPDX-License-Identifier: MIT
//
// DOC: address-constrained operations: allocation inside [min, max),
// reserve_range and unreserve_range.
//
// These are what the memblock and bootmem emulation needs ("a page below
// 4 GiB", "these exact pages hold the initrd"). They walk blocks, not pages:
// the block holding a pfn is found by looking up at most kMaxOrder + 1
// aligned candidates for its head. They are boot-time operations: allocation
// in a range scans the free lists of the zones involved; reserving takes
// every zone lock. Each validates the whole range before changing anything.
#include "internal.h"

namespace kmem {
namespace {

using BI = BuddyInternals;
using Unit = BI::Walk::Unit;

// Locks every zone, in index order, for a whole-range operation, with
// interrupts off. The analysis cannot name "every zone lock": the functions
// that need this hold say so by taking an AllZonesLocked & (and check each
// lock in debug builds).
class AllZonesLocked {
public:
    explicit AllZonesLocked(PhysAllocator &a) KMEM_NO_THREAD_SAFETY_ANALYSIS : a_(a), flags_(Plat::irq_save()) {
        const uint32_t me = lock_holder_tag();
        for (unsigned zi = 0; zi < kMaxZones; ++zi) BI::zone_lock(a_, zi).lock(me);
    }
    ~AllZonesLocked() KMEM_NO_THREAD_SAFETY_ANALYSIS {
        for (unsigned zi = kMaxZones; zi-- > 0;) BI::zone_lock(a_, zi).unlock();
        Plat::irq_restore(flags_);
    }
    AllZonesLocked(const AllZonesLocked &) = delete;
    AllZonesLocked &operator=(const AllZonesLocked &) = delete;
    void assert_held() const {
        for (unsigned zi = 0; zi < kMaxZones; ++zi) kmem::assert_held(BI::zone_lock(a_, zi));
    }

private:
    PhysAllocator &a_;
    unsigned long flags_;
};

// Reserve [s, e) (pfns), every zone locked by the caller. Validates the
// whole range before changing anything; exclusive: reserved pages in it are
// busy too.
Status reserve_locked(PhysAllocator &a, const AllZonesLocked &held, uint64_t s, uint64_t e, const char *why,
                      bool exclusive = false) KMEM_NO_THREAD_SAFETY_ANALYSIS {
    held.assert_held();
    KMEM_TRY(BI::Walk::online(a, s, e, [&](const Unit &u, uint64_t, uint64_t) -> Status {
        if (u.kind != Unit::block) return {};
        switch (BI::raw_desc(a, u.head)->state()) {
        case PageState::free_pcp:
            return make_error(Errc::busy, "pages are cached on another CPU's page list");
        case PageState::allocated:
        case PageState::slab: return make_error(Errc::busy, "range overlaps allocated pages");
        case PageState::reserved:
            if (exclusive) return make_error(Errc::busy, "exclusive reservation overlaps a reserved range");
            return {};
        default: return {};
        }
    }));
    return BI::Walk::online(a, s, e, [&](const Unit &u, uint64_t cb, uint64_t ce) KMEM_NO_THREAD_SAFETY_ANALYSIS -> Status {
        if (u.kind == Unit::meta) return {};
        unsigned zi;
        if (u.kind == Unit::lazy) {
            zi = BI::section(a, u.head).lazy_zone;
            BI::unlazy_block(a, section_of(u.head), u.head);
        } else {
            const PageDesc *d = BI::raw_desc(a, u.head);
            if (d->state() == PageState::reserved) return {};
            zi = d->zone();
            BI::list_remove(BI::zone(a, zi).area[u.order], u.head);
        }
        BI::mark_reserved(a, zi, cb, ce, why);
        BI::give_range(a, zi, u.head, cb);
        BI::give_range(a, zi, ce, u.end);
        BI::zone(a, zi).free -= ce - cb;
        BI::zone(a, zi).reserved += ce - cb;
        return {};
    });
}

// Give the reserved pages [s, e) back, every zone locked by the caller.
Status unreserve_locked(PhysAllocator &a, const AllZonesLocked &held, uint64_t s, uint64_t e)
    KMEM_NO_THREAD_SAFETY_ANALYSIS {
    held.assert_held();
    KMEM_TRY(BI::Walk::online(a, s, e, [&](const Unit &u, uint64_t, uint64_t) -> Status {
        if (u.kind == Unit::block && BI::raw_desc(a, u.head)->state() == PageState::reserved) return {};
        return make_error(Errc::not_allocated, "range holds pages that are not reserved");
    }));
    return BI::Walk::online(a, s, e, [&](const Unit &u, uint64_t cb, uint64_t ce) KMEM_NO_THREAD_SAFETY_ANALYSIS -> Status {
        const uint64_t w = BI::raw_desc(a, u.head)->word();
        const unsigned zi = PageDesc::zone_of(w);
        const uint32_t why = PageDesc::owner_of(w); // the reason's index
        BI::mark_reserved_as(a, zi, u.head, cb, why);
        BI::mark_reserved_as(a, zi, ce, u.end, why);
        // The freed part's old head must not read as reserved while merging.
        BI::write_head(a, cb, PageState::tail, 0, zi);
        BI::give_range(a, zi, cb, ce);
        BI::zone(a, zi).free += ce - cb;
        BI::zone(a, zi).reserved -= ce - cb;
        return {};
    });
}

} // namespace

bool BuddyInternals::take_block_in(PhysAllocator &a, unsigned zi, unsigned order, uint64_t lo,
                                   uint64_t hi, uint64_t &pfn) {
    Zone &z = a.zones_[zi];
    const uint64_t need = pages(order);
    bool found = false, lazy = false;
    uint64_t best = 0, block = 0;
    unsigned block_order = 0;
    size_t lazy_section = 0;
    // The highest aligned chunk inside [max(b, lo), min(e, hi)).
    auto consider = [&](uint64_t b, uint64_t e, unsigned o, bool is_lazy, size_t s) {
        const uint64_t top = e < hi ? e : hi, bottom = b > lo ? b : lo;
        if (top < need) return;
        const uint64_t c = (top - need) & ~(need - 1);
        if (c < bottom || (found && c <= best)) return;
        found = true;
        best = c;
        block = b;
        block_order = o;
        lazy = is_lazy;
        lazy_section = s;
    };
    for (unsigned o = order; o <= kMaxOrder; ++o)
        for (FreeLink *l = z.area[o].head; l; l = l->next) {
            const uint64_t b = pfn_of_link(l);
            consider(b, b + pages(o), o, false, 0);
        }
    for (uint32_t s1 = z.lazy_head; s1; s1 = a.pages_.section_at(s1 - 1).next_lazy) {
        const Section &sec = a.pages_.section_at(s1 - 1);
        const uint64_t rs = section_start_pfn(s1 - 1) + sec.lazy_begin;
        const uint64_t re = section_start_pfn(s1 - 1) + sec.lazy_end;
        const uint64_t top = re < hi ? re : hi;
        if (top <= rs || top <= lo || top < need) continue;
        // The max-order block holding the highest aligned chunk that ends by top.
        const uint64_t mb = (top - need) & ~(kMaxBlockPages - 1);
        if (mb >= rs) consider(mb, mb + kMaxBlockPages, kMaxOrder, true, s1 - 1);
    }
    if (!found) return false;
    if (lazy) unlazy_block(a, lazy_section, block);
    else list_remove(z.area[block_order], block);
    write_head(a, best, PageState::allocated, order, zi);
    give_range(a, zi, block, best);
    give_range(a, zi, best + need, block + pages(block_order));
    pfn = best;
    return true;
}

namespace {
// reserve_range and reserve_range_exclusive.
Status reserve_checked(PhysAllocator &a, uint64_t start, uint64_t end, const char *why, bool exclusive) {
    if (end < start) return make_error(Errc::invalid_range, "range ends before it starts");
    if (end > kMaxPhysMemory) return make_error(Errc::invalid_range, "range beyond 64 TiB");
    if (start == end) return {}; // empty: touches no page
    if (!why) why = "reserved";
    const uint64_t s = pfn_of(start), e = pfn_of(end + kPageSize - 1);
    a.drain_local_pcp();
    AllZonesLocked locked(a);
    return reserve_locked(a, locked, s, e, why, exclusive);
}
} // namespace

Status PhysAllocator::reserve_range(uint64_t start, uint64_t end, const char *why) {
    KMEM_NOT_IN_INTERRUPT("reserve_range");
    return reserve_checked(*this, start, end, why, false);
}

Status PhysAllocator::reserve_range_exclusive(uint64_t start, uint64_t end, const char *why) {
    KMEM_NOT_IN_INTERRUPT("reserve_range_exclusive");
    return reserve_checked(*this, start, end, why, true);
}

// memblock's allocation: the highest free range that fits, reserved. Walks
// down from the top of each online range of the node, jumping below
// whatever is in the way, as memblock's top-down search does.
Result<uint64_t> PhysAllocator::alloc_reserved(uint64_t bytes, uint64_t align, uint64_t min, uint64_t max,
                                               uint16_t node, const char *why) {
    KMEM_NOT_IN_INTERRUPT("alloc_reserved");
    if (bytes == 0) return make_error(Errc::invalid_argument, "size 0");
    if (align == 0) align = kPageSize;
    if (align & (align - 1)) return make_error(Errc::invalid_argument, "alignment is not a power of two");
    if (max == 0 || max > kMaxPhysMemory) max = kMaxPhysMemory;
    if (min >= max) return make_error(Errc::invalid_range, "empty [min, max) range");
    if (bytes > max - min) return make_error(Errc::no_memory, "larger than the allowed range");
    if (!why) why = "reserved";
    if (BI::inject_failure(*this)) return make_error(Errc::no_memory, "injected failure (fail_nth_allocation)");
    const uint64_t count = pfn_of(bytes + kPageSize - 1);
    const uint64_t step = align > kPageSize ? pfn_of(align) : 1;
    const uint64_t lo_pfn = pfn_of(min + kPageSize - 1), hi_pfn = pfn_of(max);
    drain_local_pcp();
    AllZonesLocked locked(*this);
    const MemoryMap &online = online_map();
    for (size_t i = online.size(); i-- > 0;) {
        const MemRange &r = online[i];
        if (node != kAnyNode && r.node != node) continue;
        const uint64_t lo = pfn_of(r.start) > lo_pfn ? pfn_of(r.start) : lo_pfn;
        const uint64_t hi = pfn_of(r.end) < hi_pfn ? pfn_of(r.end) : hi_pfn;
        if (hi < lo + count) continue;
        uint64_t c = (hi - count) / step * step;
        while (c >= lo) {
            // The lowest unit in the way, or none.
            uint64_t blocker = 0;
            bool blocked = false;
            Status w = BI::Walk::online(*this, c, c + count, [&](const Unit &u, uint64_t cb, uint64_t) -> Status {
                const bool free = u.kind == Unit::lazy ||
                                  (u.kind == Unit::block && BI::raw_desc(*this, u.head)->state() == PageState::free);
                if (free) return {};
                blocked = true;
                blocker = cb;
                return make_error(Errc::busy, "in the way");
            });
            if (!blocked && w.ok()) {
                KMEM_TRY(reserve_locked(*this, locked, c, c + count, why));
                return pa_of(c);
            }
            if (!blocked) return w; // books corrupt
            if (blocker < lo + count) break;
            c = (blocker - count) / step * step;
        }
    }
    return make_error(Errc::no_memory, "no free range of that size and alignment in [min, max)");
}

Status PhysAllocator::unreserve_range(uint64_t start, uint64_t end) {
    KMEM_NOT_IN_INTERRUPT("unreserve_range");
    if (end < start) return make_error(Errc::invalid_range, "range ends before it starts");
    if (end > kMaxPhysMemory) return make_error(Errc::invalid_range, "range beyond 64 TiB");
    // Only whole pages inside the range are given back.
    const uint64_t s = pfn_of(start + kPageSize - 1), e = pfn_of(end);
    if (s >= e) return {};
    AllZonesLocked locked(*this);
    return unreserve_locked(*this, locked, s, e);
}

} // namespace kmem
