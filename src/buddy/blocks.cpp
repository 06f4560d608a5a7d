// SPDX-License-Identifier: MIT
//
// DOC: the buddy's narrow interface to the layers above - what the slab and
// boot layers read and change of a block, so that they never write a
// descriptor themselves: the state of the block at an address, an exact
// allocation's size, marking a block as a slab and back, and the walk over
// slab blocks the slab checker needs.
#include "internal.h"

namespace kmem {
namespace {

using BI = BuddyInternals;
using Unit = BI::Walk::Unit;

} // namespace

PageState PhysAllocator::block_state(uint64_t pa) const {
    const uint64_t pfn = pfn_of(pa);
    if (BI::unreadable(*this, pfn)) return PageState::offline;
    uint64_t head;
    unsigned order;
    if (!BI::find_block(*this, pfn, head, order)) return PageState::offline;
    return BI::raw_desc(*this, head)->state();
}

uint64_t PhysAllocator::exact_pages_at(uint64_t pa) const {
    if (pa % kPageSize || BI::unreadable(*this, pfn_of(pa))) return 0;
    const uint64_t w = BI::raw_desc(*this, pfn_of(pa))->word();
    if (PageDesc::state_of(w) != PageState::allocated || !(PageDesc::flags_of(w) & kPageExact)) return 0;
    return PageDesc::aux_of(w);
}

Result<uint16_t> PhysAllocator::mark_slab(uint64_t pa, unsigned order, uint32_t header_offset) {
    const uint64_t pfn = pfn_of(pa);
    if (pa % kPageSize || order > kMaxOrder || (pfn & (pages(order) - 1)))
        return make_error(Errc::invalid_argument, "mark_slab: not an aligned block of that order");
    if (header_offset % 64 || header_offset >= pages(order) * kPageSize ||
        pages(order) * kPageSize / 64 > PageDesc::kMaxOwner / 2)
        return make_error(Errc::invalid_argument, "mark_slab: header offset outside the block or not 64-aligned");
    if (const char *why = BI::unreadable(*this, pfn)) return make_error(Errc::not_allocated, why);
    PageDesc *d = BI::raw_desc(*this, pfn);
    const uint64_t w = d->word();
    if (PageDesc::state_of(w) != PageState::allocated || PageDesc::order_of(w) != order)
        return make_error(Errc::not_allocated, "mark_slab: not an allocated block of that order");
    const unsigned zone = PageDesc::zone_of(w);
    // Every page names the header relative to its own start.
    for (uint64_t i = 1; i < pages(order); ++i)
        BI::write_head(*this, pfn + i, PageState::slab_tail, 0, zone,
                       page::slab_owner(int64_t{header_offset} - static_cast<int64_t>(i * kPageSize)),
                       static_cast<uint32_t>(i));
    d->set_word(PageDesc::make(PageState::slab, order, zone, PageDesc::flags_of(w), 0, page::slab_owner(header_offset)));
    return static_cast<uint16_t>(zone / kZoneTypes);
}

Status PhysAllocator::unmark_slab(uint64_t pa, unsigned order) {
    const uint64_t pfn = pfn_of(pa);
    if (pa % kPageSize || order > kMaxOrder || BI::unreadable(*this, pfn))
        return make_error(Errc::invalid_argument, "unmark_slab: not a slab block");
    PageDesc *d = BI::raw_desc(*this, pfn);
    const uint64_t w = d->word();
    if (PageDesc::state_of(w) != PageState::slab || PageDesc::order_of(w) != order)
        return make_error(Errc::not_allocated, "unmark_slab: not a slab block of that order");
    // Plain tails that keep their distance and name no header (the slab
    // free path's lookup finds no slab here any more).
    for (uint64_t i = 1; i < pages(order); ++i)
        BI::write_head(*this, pfn + i, PageState::tail, 0, PageDesc::zone_of(w), 0, static_cast<uint32_t>(i));
    d->set_word(PageDesc::make(PageState::allocated, order, PageDesc::zone_of(w), PageDesc::flags_of(w)));
    return {};
}

Status PhysAllocator::for_each_slab_block(BlockVisitor visit, void *ctx) const {
    return BI::Walk::online(*this, 0, kMaxPfn, [&](const Unit &u, uint64_t, uint64_t) -> Status {
        if (u.kind != Unit::block || BI::raw_desc(*this, u.head)->state() != PageState::slab) return {};
        return visit(ctx, pa_of(u.head), u.order);
    });
}

} // namespace kmem
