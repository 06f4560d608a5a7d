// SPDX-License-Identifier: MIT
//
// DOC: exact-size page allocations (alloc_pages_exact).
//
// Large kmalloc requests want N pages, not the next power of two: a block of
// the covering order is taken, the pages past N are freed at once, and the N
// pages stay allocated as the canonical decomposition of [pa, pa + N) into
// aligned blocks (largest first). The first block's descriptor records N
// (kPageExact, aux = N), so the same decomposition frees them again.
#include "internal.h"

namespace kmem {

Result<uint64_t> PhysAllocator::alloc_pages_exact(uint64_t count, uint32_t flags, uint16_t node) {
    if (count == 0 || count > kMaxBlockPages)
        return make_error(Errc::invalid_argument, "exact allocation must be 1 to 2^MAX_ORDER pages");
    if (flags & kAllocTails)
        return make_error(Errc::invalid_argument, "unsupported flag combination: exact and tails");
    unsigned order = 0;
    while (pages(order) < count) ++order;
    Result<uint64_t> r = alloc_pages(order, flags | kAllocNoPcp, node);
    if (!r.ok() || pages(order) == count) {
        if (r.ok()) {
            PageDesc *d = BuddyInternals::raw_desc(*this, pfn_of(r.value()));
            d->add_flags(kPageExact);
            d->set_aux(static_cast<uint32_t>(count));
        }
        return r;
    }
    const uint64_t head = pfn_of(r.value());
    const unsigned zi = BuddyInternals::raw_desc(*this, head)->zone();
    {
        LockGuard<BuddyInternals::Lock> g(zone_locks_[zi]);
        Zone &z = zones_[zi];
        // The kept pages: aligned blocks, largest first.
        for (uint64_t p = head; p < head + count;) {
            const unsigned o = max_block_order(p, head + count);
            BuddyInternals::write_head(*this, p, PageState::allocated, o, zi);
            p += pages(o);
        }
        BuddyInternals::give_range(*this, zi, head + count, head + pages(order));
        z.free += pages(order) - count;
        z.out -= pages(order) - count;
    }
    PageDesc *d = BuddyInternals::raw_desc(*this, head);
    d->add_flags(kPageExact);
    d->set_aux(static_cast<uint32_t>(count));
    return r;
}

Status PhysAllocator::free_pages_exact(uint64_t pa, uint64_t count) {
    if (pa % kPageSize) return make_error(Errc::invalid_argument, "address is not page-aligned");
    const uint64_t head = pfn_of(pa);
    if (const char *why = BuddyInternals::unreadable(*this, head))
        return make_error(Errc::not_allocated, why);
    const PageDesc *d = BuddyInternals::raw_desc(*this, head);
    if (d->state() == PageState::free || d->state() == PageState::free_pcp)
        return make_error(Errc::double_free, "double free: the block is already free");
    if (d->state() != PageState::allocated || !(d->flags() & kPageExact))
        return make_error(Errc::not_allocated, "not the start of an exact allocation");
    if (d->aux() != count)
        return make_error(Errc::invalid_argument, "page count does not match the allocation");
    // Free each block of the decomposition (largest first, as allocated).
    for (uint64_t p = head; p < head + count;) {
        const unsigned o = max_block_order(p, head + count);
        KMEM_TRY(free_pages(pa_of(p), o));
        p += pages(o);
    }
    return {};
}

} // namespace kmem
