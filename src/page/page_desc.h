// SPDX-License-Identifier: MIT
//
// DOC: PageDesc - the 8-byte descriptor of one 4 KiB page.
//
// Linux spends 64 bytes per 4 KiB page on struct page (and works toward 8,
// the memdesc plan); kmem spends 8 (0.2 % of RAM): one 64-bit word holding
// the page's state, its block's order and zone, three flag bits, and two
// payload fields whose meaning depends on the state (table below). A
// descriptor is written only when something needs it: the head page of every
// block (free, allocated, reserved, slab) carries the block's state and
// order; the other pages of a block are "tail" (or zero, which reads as
// offline and is never taken for a head). Free-list links do not live here:
// they live in the first bytes of the free block itself.
//
// Bits   field  meaning
//  0-2   state  PageState
//  3-7   order  heads: log2 of the block's size in pages (0..kMaxOrder <= 18)
//  8-15  zone   heads: index of the zone the block belongs to (< 256)
// 16-18  flags  kPageChecked, kPageTailsWritten, kPageExact
// 19-38  aux    tails and slab tails: distance to the head in pages;
//               exact allocations' heads: the pages kept (<= 2^18)
// 39-63  owner  slab and slab_tail pages: where the slab's header is, as a
//               signed count of 64-byte units from the page's own start
//               (two's complement in 25 bits: the header is at page address
//               + (int64_t(word) >> 39) * 64); reserved and allocated heads:
//               a reason's index + 1 in the page map's table
//               (PageMap::reason; 0: none)
//
// What moved out of the 16-byte descriptor: the owner was a 64-bit pointer
// (slab header, a reason string). Now any page of a live slab finds its
// header from its own address - one arithmetic shift and an add, with no
// translation and no visit to the head page's descriptor - and a reason is
// an index into a table of at most PageMap::kMaxReasons strings (one table
// search when a range is reserved). The tails of a live slab have their own
// state, slab_tail, so a lookup needs no second test to know the page
// names a header.
//
// Every access is a relaxed atomic load or store of the whole word: owners
// write their heads without a zone lock while a buddy lookup on another CPU
// reads the state under one, and a word never tears. Writers of one
// descriptor never race each other (the block's holder, or the zone lock's).
#pragma once

#include <kmem/page_map.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem {


inline constexpr uint8_t kPageChecked = 1u << 0;      // visited by check()
inline constexpr uint8_t kPageTailsWritten = 1u << 1; // the block's tails point to it
inline constexpr uint8_t kPageExact = 1u << 2;        // first block of an exact allocation (aux = pages)

class PageDesc {
public:
    static constexpr unsigned kStateShift = 0, kStateBits = 3;
    static constexpr unsigned kOrderShift = 3, kOrderBits = 5;
    static constexpr unsigned kZoneShift = 8, kZoneBits = 8;
    static constexpr unsigned kFlagsShift = 16, kFlagsBits = 3;
    static constexpr unsigned kAuxShift = 19, kAuxBits = 20;
    static constexpr unsigned kOwnerShift = 39, kOwnerBits = 25;
    static constexpr uint32_t kMaxAux = (1u << kAuxBits) - 1;
    static constexpr uint32_t kMaxOwner = (1u << kOwnerBits) - 1;
    static constexpr uint64_t kOrderZoneMask = ((uint64_t{1} << (kOrderBits + kZoneBits)) - 1) << kOrderShift;

    // The word for a descriptor with these fields (each must fit its bits).
    static constexpr uint64_t make(PageState st, unsigned order, unsigned zone, unsigned flags = 0,
                                   uint32_t aux = 0, uint32_t owner = 0) {
        return uint64_t{static_cast<uint8_t>(st)} << kStateShift | uint64_t{order} << kOrderShift |
               uint64_t{zone} << kZoneShift | uint64_t{flags} << kFlagsShift | uint64_t{aux} << kAuxShift |
               uint64_t{owner} << kOwnerShift;
    }
    // Fields of a word (a snapshot taken with word()).
    static constexpr PageState state_of(uint64_t w) { return static_cast<PageState>(field(w, kStateShift, kStateBits)); }
    static constexpr unsigned order_of(uint64_t w) { return static_cast<unsigned>(field(w, kOrderShift, kOrderBits)); }
    static constexpr unsigned zone_of(uint64_t w) { return static_cast<unsigned>(field(w, kZoneShift, kZoneBits)); }
    static constexpr uint8_t flags_of(uint64_t w) { return static_cast<uint8_t>(field(w, kFlagsShift, kFlagsBits)); }
    static constexpr uint32_t aux_of(uint64_t w) { return static_cast<uint32_t>(field(w, kAuxShift, kAuxBits)); }
    static constexpr uint32_t owner_of(uint64_t w) { return static_cast<uint32_t>(w >> kOwnerShift); }

    uint64_t word() const { return __atomic_load_n(&word_, __ATOMIC_RELAXED); }
    void set_word(uint64_t w) { __atomic_store_n(&word_, w, __ATOMIC_RELAXED); }
    void clear() { set_word(0); }

    PageState state() const { return state_of(word()); }
    unsigned order() const { return order_of(word()); }
    unsigned zone() const { return zone_of(word()); }
    uint8_t flags() const { return flags_of(word()); }
    uint32_t aux() const { return aux_of(word()); }
    uint32_t owner() const { return owner_of(word()); }

    void set_flags(uint8_t f) { replace(kFlagsShift, kFlagsBits, f); }
    void add_flags(uint8_t f) { set_flags(static_cast<uint8_t>(flags() | f)); }
    void clear_flags(uint8_t f) { set_flags(static_cast<uint8_t>(flags() & ~f)); }
    void set_aux(uint32_t v) { replace(kAuxShift, kAuxBits, v); }
    void set_owner(uint32_t v) { replace(kOwnerShift, kOwnerBits, v); }

private:
    static constexpr uint64_t field(uint64_t w, unsigned shift, unsigned bits) {
        return (w >> shift) & ((uint64_t{1} << bits) - 1);
    }
    void replace(unsigned shift, unsigned bits, uint64_t v) {
        const uint64_t mask = ((uint64_t{1} << bits) - 1) << shift;
        set_word((word() & ~mask) | ((v << shift) & mask));
    }

    uint64_t word_; // offset 0: every field above, in one word
};

static_assert(sizeof(PageDesc) == 8 && sizeof(PageDesc) == kPageDescBytes, "the descriptor budget is 8 bytes per page");
static_assert(alignof(PageDesc) == 8);
static_assert(PageDesc::kOwnerShift + PageDesc::kOwnerBits == 64, "the fields fill the word");
static_assert(PageDesc::kAuxShift + PageDesc::kAuxBits == PageDesc::kOwnerShift);
static_assert(PageDesc::kFlagsShift + PageDesc::kFlagsBits == PageDesc::kAuxShift);
static_assert(PageDesc::kZoneShift + PageDesc::kZoneBits == PageDesc::kFlagsShift);
static_assert(PageDesc::kOrderShift + PageDesc::kOrderBits == PageDesc::kZoneShift);
static_assert(PageDesc::kStateShift + PageDesc::kStateBits == PageDesc::kOrderShift);
static_assert(static_cast<unsigned>(PageState::slab_tail) < (1u << PageDesc::kStateBits));
// The slab lookup's one test: state & 5 == 5 exactly for slab and slab_tail.
static_assert((static_cast<unsigned>(PageState::slab) & 5) == 5 && (static_cast<unsigned>(PageState::slab_tail) & 5) == 5);
static_assert((static_cast<unsigned>(PageState::offline) & 5) != 5 && (static_cast<unsigned>(PageState::free) & 5) != 5 &&
              (static_cast<unsigned>(PageState::free_pcp) & 5) != 5 && (static_cast<unsigned>(PageState::allocated) & 5) != 5 &&
              (static_cast<unsigned>(PageState::tail) & 5) != 5 && (static_cast<unsigned>(PageState::reserved) & 5) != 5);

} // namespace kmem
