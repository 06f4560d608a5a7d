// SPDX-License-Identifier: MIT
//
// DOC: free lists, splitting, merging and lazy-run carving.
//
// Free blocks are threaded through doubly linked lists whose links live in
// the first 24 bytes of each free block (with its reported mark); the head page's descriptor says
// "free, order k, zone z". Freeing merges with the buddy while the buddy is a
// free head of the same order and zone. When a zone's lists are empty, the
// highest max-order block of its first lazy run is carved off: its
// descriptors are initialised then, on first use, instead of at onlining.
#include "internal.h"

namespace kmem {

void BuddyInternals::list_push(FreeArea &area, uint64_t pfn, uint32_t epoch) {
    FreeLink *l = link_of(pfn);
    l->next = area.head;
    l->prev = nullptr;
    l->reported = 0;
    l->epoch = epoch;
    if (area.head) area.head->prev = l;
    else area.tail = l;
    area.head = l;
    ++area.blocks;
}

void BuddyInternals::list_push_reported(FreeArea &area, uint64_t pfn) {
    FreeLink *l = link_of(pfn);
    l->next = nullptr;
    l->prev = area.tail;
    l->reported = 1;
    if (area.tail) area.tail->next = l;
    else area.head = l;
    area.tail = l;
    if (!area.first_reported) area.first_reported = l;
    ++area.blocks;
    ++area.reported;
}

void BuddyInternals::list_remove(FreeArea &area, uint64_t pfn) {
    FreeLink *l = link_of(pfn);
    if (l->prev) l->prev->next = l->next;
    else area.head = l->next;
    if (l->next) l->next->prev = l->prev;
    else area.tail = l->prev;
    --area.blocks;
    if (l->reported) {
        --area.reported;
        if (area.first_reported == l) area.first_reported = l->next; // reported too, or none
    }
}

void BuddyInternals::give_block(PhysAllocator &a, unsigned zi, uint64_t pfn, unsigned order) {
    Zone &z = a.zones_[zi];
    while (order < kMaxOrder) {
        const uint64_t buddy = pfn ^ pages(order);
        // The buddy lies in the same max-order block, hence the same section;
        // its descriptor is initialised (invariant above).
        // Only a free head of this (locked) zone has an order nobody else writes now.
        const uint64_t bw = raw_desc(a, buddy)->word();
        if (PageDesc::state_of(bw) != PageState::free || PageDesc::zone_of(bw) != zi ||
            PageDesc::order_of(bw) != order)
            break;
        list_remove(z.area[order], buddy);
        const uint64_t upper = pfn > buddy ? pfn : buddy;
        write_head(a, upper, PageState::tail, 0, zi);
        pfn = pfn < buddy ? pfn : buddy;
        ++order;
    }
    write_head(a, pfn, PageState::free, order, zi);
    list_push(z.area[order], pfn, __atomic_load_n(&a.report_epoch_, __ATOMIC_RELAXED));
}

void BuddyInternals::split(PhysAllocator &a, unsigned zi, uint64_t pfn, unsigned high,
                           unsigned low, bool reported) {
    Zone &z = a.zones_[zi];
    while (high > low) {
        --high;
        const uint64_t upper = pfn + pages(high);
        write_head(a, upper, PageState::free, high, zi);
        if (reported && high > 0) list_push_reported(z.area[high], upper);
        else list_push(z.area[high], upper, __atomic_load_n(&a.report_epoch_, __ATOMIC_RELAXED));
    }
}

void BuddyInternals::give_range(PhysAllocator &a, unsigned zi, uint64_t pfn, uint64_t end) {
    while (pfn < end) {
        const unsigned o = max_block_order(pfn, end);
        give_block(a, zi, pfn, o);
        pfn += pages(o);
    }
}

void BuddyInternals::unlink_lazy(PhysAllocator &a, size_t s) {
    Section &sec = a.pages_.section_at(s);
    Zone &z = a.zones_[sec.lazy_zone];
    uint32_t *link = &z.lazy_head;
    while (*link && *link != s + 1) link = &a.pages_.section_at(*link - 1).next_lazy;
    if (*link) *link = sec.next_lazy;
    sec.next_lazy = 0;
}

void BuddyInternals::unlazy_block(PhysAllocator &a, size_t s, uint64_t pfn) {
    Section &sec = a.pages_.section_at(s);
    assert_held(a.zone_locks_[sec.lazy_zone]);
    const uint32_t off = offset_in_section(pfn);
    Zone &z = a.zones_[sec.lazy_zone];
    if (off == sec.lazy_end - kMaxBlockPages) {
        __atomic_store_n(&sec.lazy_end, sec.lazy_end - static_cast<uint32_t>(kMaxBlockPages), __ATOMIC_RELAXED);
    } else if (off == sec.lazy_begin) {
        __atomic_store_n(&sec.lazy_begin, sec.lazy_begin + static_cast<uint32_t>(kMaxBlockPages), __ATOMIC_RELAXED);
    } else {
        // In the middle: the part above becomes ordinary free blocks.
        const uint64_t above = pfn + kMaxBlockPages;
        const uint64_t end = section_start_pfn(s) + sec.lazy_end;
        __atomic_store_n(&sec.lazy_end, off, __ATOMIC_RELAXED);
        for (uint64_t p = above; p < end; p += kMaxBlockPages) {
            zero_descs(a, p, kMaxBlockPages);
            z.lazy -= kMaxBlockPages;
            give_block(a, sec.lazy_zone, p, kMaxOrder);
        }
    }
    z.lazy -= kMaxBlockPages;
    ++z.stats.carved;
    zero_descs(a, pfn, kMaxBlockPages);
    a.pages_.publish_readable(s);
    // An empty run stays empty where it is (begin == end): resetting both
    // bounds to 0 could be seen half done as [0, end) by unreadable().
    if (sec.lazy_begin == sec.lazy_end) unlink_lazy(a, s);
}

bool BuddyInternals::carve_lazy(PhysAllocator &a, unsigned zi, uint64_t &pfn) {
    Zone &z = a.zones_[zi];
    if (!z.lazy_head) return false;
    const size_t s = z.lazy_head - 1;
    const Section &sec = a.pages_.section_at(s);
    pfn = section_start_pfn(s) + sec.lazy_end - kMaxBlockPages;
    unlazy_block(a, s, pfn);
    return true;
}

bool BuddyInternals::take_block(PhysAllocator &a, unsigned zi, unsigned order, uint64_t &pfn) {
    Zone &z = a.zones_[zi];
    for (unsigned o = order; o <= kMaxOrder; ++o) {
        if (!z.area[o].head) continue;
        pfn = pfn_of_link(z.area[o].head);
        const bool reported = z.area[o].head->reported;
        list_remove(z.area[o], pfn);
        split(a, zi, pfn, o, order, reported);
        return true;
    }
    if (!carve_lazy(a, zi, pfn)) return false;
    split(a, zi, pfn, kMaxOrder, order);
    return true;
}

bool BuddyInternals::watermark_ok(const Zone &z, unsigned order, uint32_t flags) {
    // Atomic requests may use half the reserve, kAllocReserves all of it.
    const uint64_t floor = (flags & kAllocReserves) ? 0 : (flags & kAllocAtomic) ? z.wmark_min / 2 : z.wmark_min;
    return z.free >= pages(order) && z.free - pages(order) >= floor;
}

} // namespace kmem
