// SPDX-License-Identifier: MIT
//
// DOC: the page layer's implementer header - pfn arithmetic and descriptor
// lookup for the layers that read descriptors (buddy, slab, the checker).
//
// PageMap (include/kmem/page_map.h) holds the sections; here are the inline
// lookups: pfn -> section -> descriptor, the lock-free readability test, and
// the walk from any page of a block to its head. Nothing here allocates or
// takes a lock; writers (the buddy) hold the zone lock of the block, or own
// the block.
#pragma once

#include <kmem/page_map.h>

#include "page/page_desc.h"
#include "platform/current.h"

namespace kmem {

static_assert(kMaxOrder < (1u << PageDesc::kOrderBits), "orders fit the descriptor");
static_assert(kMaxBlockPages <= PageDesc::kMaxAux, "a tail's distance to its head fits aux");

inline constexpr uint64_t pfn_of(uint64_t pa) { return pa >> kPageShift; }
inline constexpr uint64_t pa_of(uint64_t pfn) { return pfn << kPageShift; }
inline constexpr uint64_t pages(unsigned order) { return uint64_t{1} << order; }
inline constexpr uint64_t kMaxPfn = kMaxPhysMemory >> kPageShift;
inline constexpr size_t section_of(uint64_t pfn) { return static_cast<size_t>(pfn >> (kSectionShift - kPageShift)); }
inline constexpr uint64_t section_start_pfn(size_t s) { return static_cast<uint64_t>(s) << (kSectionShift - kPageShift); }
inline constexpr uint32_t offset_in_section(uint64_t pfn) { return static_cast<uint32_t>(pfn & (kPagesPerSection - 1)); }

inline constexpr bool is_head_state(PageState s) {
    return s == PageState::free || s == PageState::free_pcp || s == PageState::allocated ||
           s == PageState::slab || s == PageState::reserved;
}

namespace page {

inline const Section &section(const PageMap &m, uint64_t pfn) { return m.section_at(section_of(pfn)); }
// The descriptor slot of pfn, readable or not (the caller knows the section
// has an array that covers pfn).
// The descriptor slot of page `off` of section s (covered by its array).
inline PageDesc *desc_in(const Section &s, uint32_t off) { return (off < s.gap_begin ? s.descs : s.descs_hi) + off; }
inline PageDesc *raw_desc(const PageMap &m, uint64_t pfn) { return desc_in(section(m, pfn), offset_in_section(pfn)); }
// Each range test is one unsigned compare: off - begin < end - begin.
inline bool in_lazy(const Section &s, uint64_t pfn) {
    // Read without a lock (free_pages); the run only shrinks under the zone
    // lock, so any pair of bounds excludes a page that was allocated.
    const uint32_t lb = __atomic_load_n(&s.lazy_begin, __ATOMIC_RELAXED);
    const uint32_t le = __atomic_load_n(&s.lazy_end, __ATOMIC_RELAXED);
    return offset_in_section(pfn) - lb < le - lb;
}
inline bool in_meta(const Section &s, uint64_t pfn) {
    return offset_in_section(pfn) - s.meta_begin < s.meta_end - s.meta_begin;
}
// True when pfn surely has a readable descriptor: a page of a fully online
// section (which always has its array), neither in its lazy run nor in its
// array - one load and one compare (Section::readable), with no call. False
// sends the caller to unreadable(), which decides.
[[gnu::always_inline]] inline bool readable_fast(const PageMap &m, uint64_t pfn) {
    if (pfn >= kMaxPfn) [[unlikely]] return false;
    const uint64_t w = __atomic_load_n(&section(m, pfn).readable, __ATOMIC_ACQUIRE);
    return offset_in_section(pfn) - static_cast<uint32_t>(w) < static_cast<uint32_t>(w >> 32);
}
// The descriptor of a pfn readable_fast vouched for: its section is wholly
// online, so it has no gap and needs no compare.
[[gnu::always_inline]] inline PageDesc *vouched_desc(const PageMap &m, uint64_t pfn) {
    return section(m, pfn).descs + offset_in_section(pfn);
}
// Why pfn has no readable descriptor, or null if it has one.
inline const char *unreadable(const PageMap &m, uint64_t pfn, const MemoryMap &online) {
    if (readable_fast(m, pfn)) [[likely]] return nullptr;
    return m.unreadable_slow(pfn, online);
}

// The block containing pfn (which must be readable): its head and order.
inline bool find_block(const PageMap &m, uint64_t pfn, uint64_t &head, unsigned &order) {
    for (unsigned o = 0; o <= kMaxOrder; ++o) {
        const uint64_t h = pfn & ~(pages(o) - 1);
        const uint64_t w = raw_desc(m, h)->word();
        if (is_head_state(PageDesc::state_of(w)) && PageDesc::order_of(w) >= o &&
            h + pages(PageDesc::order_of(w)) > pfn) {
            head = h;
            order = PageDesc::order_of(w);
            return true;
        }
    }
    return false;
}

// The owner field of a slab page: the header's place relative to the
// page's start, in 64-byte units (negative: an earlier page of the slab).
inline constexpr uint32_t slab_owner(int64_t header_minus_page) {
    return static_cast<uint32_t>(header_minus_page / 64) & PageDesc::kMaxOwner;
}
// Does descriptor word w belong to a page of a live slab (state slab or
// slab_tail: PageDesc's bits 0-2 are 5 or 7)?
[[gnu::always_inline]] inline bool names_slab(uint64_t w) { return (w & 5) == 5; }
// The header a live slab's page names: `page` is the page's virtual
// address (or any address inside it), w its descriptor word.
[[gnu::always_inline]] inline void *slab_header_at(const void *page, uint64_t w) {
    const uintptr_t base = reinterpret_cast<uintptr_t>(page) & ~uintptr_t{kPageSize - 1};
    return reinterpret_cast<void *>(base + static_cast<uintptr_t>((static_cast<int64_t>(w) >> PageDesc::kOwnerShift) * 64));
}
// The same, or null when the page is no live slab's.
inline void *slab_header_named(const void *page, uint64_t w) {
    return names_slab(w) ? slab_header_at(page, w) : nullptr;
}

} // namespace page
} // namespace kmem
