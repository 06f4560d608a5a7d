// SPDX-License-Identifier: MIT
//
// DOC: check() - the buddy allocator's books, verified.
//
//   1. every block on a free list or per-CPU list has a head descriptor that
//      agrees (state, order, zone) and is on exactly one list;
//   2. every lazy run belongs to the zone whose list it is on;
//   3. walking all online memory block by block, every managed page is in
//      exactly one free, allocated or reserved block (or a lazy run), every
//      free block found is one that a list holds, and no block crosses the
//      end of online memory;
//   4. per zone: listed free + lazy = free, allocated + per-CPU = out,
//      reserved matches, and managed = free + out + reserved.
// It marks descriptors while it runs (kPageChecked) and clears them after,
// so it must run while nothing else uses the allocator.
#include "internal.h"

namespace kmem {
namespace {

using BI = BuddyInternals;
using Unit = BI::Walk::Unit;

struct ZoneCount {
    uint64_t listed, pcp, allocated, reserved, lazy;
};

Status mark_listed(const PhysAllocator &a, uint64_t pfn, PageState st, unsigned order,
                   unsigned zi) {
    if (BI::unreadable(a, pfn))
        return make_error(Errc::malformed, "a free list holds a page that is not online");
    PageDesc *d = BI::raw_desc(a, pfn);
    if (d->state() != st || d->order() != order || d->zone() != zi)
        return make_error(Errc::malformed, "a listed block's descriptor disagrees with its list");
    if (d->flags() & kPageChecked) return make_error(Errc::malformed, "a block is on two lists");
    d->add_flags(kPageChecked);
    return {};
}

} // namespace

struct BuddyInternals::CheckPass {
    static Status lists(const PhysAllocator &a, ZoneCount *count) {
        for (unsigned zi = 0; zi < kMaxZones; ++zi) {
            const Zone &z = a.zones_[zi];
            for (unsigned o = 0; o <= kMaxOrder; ++o) {
                uint64_t n = 0, reported = 0;
                const FreeLink *last = nullptr;
                for (const FreeLink *l = z.area[o].head; l; last = l, l = l->next, ++n) {
                    KMEM_TRY(mark_listed(a, BI::pfn_of_link(l), PageState::free, o, zi));
                    if (l->prev != last) return make_error(Errc::malformed, "a free list's back link is wrong");
                    if (l->reported > 1 || (o == 0 && l->reported))
                        return make_error(Errc::malformed, "a free block's reported mark is corrupt");
                    if (reported && !l->reported)
                        return make_error(Errc::malformed, "an unreported block after a reported one");
                    reported += l->reported;
                }
                if (n != z.area[o].blocks)
                    return make_error(Errc::malformed, "free-list length differs from its count");
                if (z.area[o].tail != last) return make_error(Errc::malformed, "a free list's tail is wrong");
                const FreeLink *first = z.area[o].head;
                while (first && !first->reported) first = first->next;
                if (z.area[o].first_reported != first)
                    return make_error(Errc::malformed, "a free list's first reported block is wrong");
                if (reported != z.area[o].reported)
                    return make_error(Errc::malformed, "reported blocks differ from the list's count");
                count[zi].listed += n * pages(o);
            }
            for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu)
                for (unsigned o = 0; o <= kPcpMaxOrder; ++o) {
                    uint64_t n = 0;
                    for (const FreeLink *l = a.pcp_[zi][cpu].head[o]; l; l = l->next, ++n)
                        KMEM_TRY(mark_listed(a, BI::pfn_of_link(l), PageState::free_pcp, o, zi));
                    if (n != a.pcp_[zi][cpu].count[o])
                        return make_error(Errc::malformed, "per-CPU list length differs from its count");
                    count[zi].pcp += n * pages(o);
                }
            for (uint32_t s1 = z.lazy_head; s1; s1 = a.pages_.section_at(s1 - 1).next_lazy) {
                const Section &sec = a.pages_.section_at(s1 - 1);
                if (sec.lazy_zone != zi || sec.lazy_begin >= sec.lazy_end)
                    return make_error(Errc::malformed, "a lazy run is on the wrong zone's list");
                count[zi].lazy += sec.lazy_end - sec.lazy_begin;
            }
        }
        return {};
    }

    static Status blocks(const PhysAllocator &a, ZoneCount *count, uint64_t *walked_lazy) {
        return BI::Walk::online(a, 0, kMaxPfn, [&](const Unit &u, uint64_t cb, uint64_t ce) -> Status {
            if (cb != u.head || ce != u.end)
                return make_error(Errc::malformed, "a block crosses the end of online memory");
            if (u.kind == Unit::meta) return {};
            if (u.kind == Unit::lazy) {
                walked_lazy[BI::section(a, u.head).lazy_zone] += kMaxBlockPages;
                return {};
            }
            PageDesc *d = BI::raw_desc(a, u.head);
            if (u.head & (pages(d->order()) - 1))
                return make_error(Errc::malformed, "a block head is not aligned to its order");
            ZoneCount &c = count[d->zone()];
            switch (d->state()) {
            case PageState::free:
            case PageState::free_pcp:
                if (!(d->flags() & kPageChecked))
                    return make_error(Errc::malformed, "a free block is on no list");
                d->clear_flags(kPageChecked);
                break;
            case PageState::allocated:
            case PageState::slab: c.allocated += pages(d->order()); break;
            case PageState::reserved: c.reserved += pages(d->order()); break;
            default: return make_error(Errc::malformed, "unexpected descriptor state");
            }
            return {};
        });
    }

    // Clear marks a failed check left behind; report listed blocks the walk missed.
    static Status unmark(const PhysAllocator &a) {
        Status st;
        auto clear = [&](const FreeLink *l) {
            for (; l; l = l->next) {
                const uint64_t pfn = BI::pfn_of_link(l);
                if (BI::unreadable(a, pfn)) continue;
                PageDesc *d = BI::raw_desc(a, pfn);
                if (d->flags() & kPageChecked) {
                    d->clear_flags(kPageChecked);
                    if (st.ok()) st = make_error(Errc::malformed, "a listed block lies outside online memory");
                }
            }
        };
        for (unsigned zi = 0; zi < kMaxZones; ++zi) {
            for (unsigned o = 0; o <= kMaxOrder; ++o) clear(a.zones_[zi].area[o].head);
            for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu)
                for (unsigned o = 0; o <= kPcpMaxOrder; ++o) clear(a.pcp_[zi][cpu].head[o]);
        }
        return st;
    }
};

Status PhysAllocator::check() const {
    KMEM_NOT_IN_INTERRUPT("PhysAllocator::check");
    static ZoneCount count[kMaxZones];
    static uint64_t walked_lazy[kMaxZones];
    for (unsigned zi = 0; zi < kMaxZones; ++zi) {
        count[zi] = {};
        walked_lazy[zi] = 0;
    }
    Status st = BI::CheckPass::lists(*this, count);
    if (st.ok()) st = BI::CheckPass::blocks(*this, count, walked_lazy);
    Status un = BI::CheckPass::unmark(*this);
    KMEM_TRY(st);
    KMEM_TRY(un);
    for (unsigned zi = 0; zi < kMaxZones; ++zi) {
        const Zone &z = zones_[zi];
        const ZoneCount &c = count[zi];
        if (c.lazy != z.lazy || walked_lazy[zi] != z.lazy)
            return make_error(Errc::malformed, "lazy pages differ from the zone's count");
        if (c.listed + z.lazy != z.free)
            return make_error(Errc::malformed, "free pages differ from the zone's count");
        if (c.allocated + c.pcp != z.out)
            return make_error(Errc::malformed, "allocated + per-CPU pages differ from the zone's count");
        if (c.reserved != z.reserved)
            return make_error(Errc::malformed, "reserved pages differ from the zone's count");
        if (z.free + z.out + z.reserved != z.managed)
            return make_error(Errc::malformed, "free + used + reserved != managed");
    }
    return {};
}

PhysTotals PhysAllocator::totals() const {
    PhysTotals t{};
    for (unsigned zi = 0; zi < kMaxZones; ++zi) {
        const Zone &z = zones_[zi];
        if (!z.present) continue;
        uint64_t pcp = 0;
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu)
            for (unsigned o = 0; o <= kPcpMaxOrder; ++o) pcp += pcp_[zi][cpu].count[o] * pages(o);
        t.managed += z.managed;
        t.free += z.free;
        t.lazy += z.lazy;
        t.reported += BI::reported_pages(z);
        t.reserved += z.reserved;
        t.pcp += pcp;
        t.allocated += z.out - pcp;
    }
    t.sections = pages_.sections_used();
    t.metadata_bytes = pages_.metadata_bytes();
    return t;
}

} // namespace kmem
