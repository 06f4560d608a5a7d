// SPDX-License-Identifier: MIT
//
// DOC: PageDesc - the 16-byte descriptor of one 4 KiB page.
//
// Linux spends 64 bytes per page on struct page; kmem spends 16 (0.39 % of
// RAM). A descriptor is written only when something needs it: the head page
// of every block (free, allocated, reserved, slab) carries the block's state
// and order; the other pages of a block are "tail" (or zero, which reads as
// offline and is never taken for a head). Free-list links do not live here:
// they live in the first bytes of the free block itself.
//
// Descriptors live in one array per 1 GiB section, placed inside the memory
// they describe (see section.h); pfn -> descriptor is one table load and an
// add.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kmem {

enum class PageState : uint8_t {
    offline = 0,   // not online (or never written): never a block head
    free = 1,      // head of a free block on a buddy free list
    free_pcp = 2,  // head of a free block cached on a per-CPU list
    allocated = 3, // head of an allocated block
    tail = 4,      // a page inside a block whose head is elsewhere
    slab = 5,      // head of a block the slab allocator owns
    reserved = 6,  // head of a reserved block (firmware, kernel image, memblock_reserve)
};

struct PageDesc {
    PageState state; // what this page is (above)
    uint8_t order;   // heads: log2 of the block's size in pages
    uint8_t zone;    // heads: index of the zone the block belongs to
    uint8_t flags;   // kPageChecked (check() scratch), kPageTailsWritten, kPageExact
    uint32_t aux;    // heads: allocation flags; tails (when written): offset to the head
    uint64_t owner;  // heads: owner word (slab header, reservation reason, caller cookie)
};

static_assert(sizeof(PageDesc) == 16, "the descriptor budget is 16 bytes per page");
static_assert(alignof(PageDesc) == 8);
static_assert(offsetof(PageDesc, state) == 0);
static_assert(offsetof(PageDesc, order) == 1);
static_assert(offsetof(PageDesc, zone) == 2);
static_assert(offsetof(PageDesc, flags) == 3);
static_assert(offsetof(PageDesc, aux) == 4);
static_assert(offsetof(PageDesc, owner) == 8);

inline constexpr uint8_t kPageChecked = 1u << 0;      // visited by check()
inline constexpr uint8_t kPageTailsWritten = 1u << 1; // the block's tails point to it
inline constexpr uint8_t kPageExact = 1u << 2;        // first block of an exact allocation (aux = pages)

} // namespace kmem
