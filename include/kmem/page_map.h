// SPDX-License-Identifier: MIT
//
// DOC: the page map - where every page's descriptor lives (the page layer).
//
// Physical memory is cut into 1 GiB sections. A section that has online
// memory owns one array of 8-byte page descriptors (src/page/page_desc.h),
// placed inside the memory it describes or borrowed from the buddy, and
// covering whole max-order blocks up to the highest online page - except
// one gap: the largest run of whole max-order blocks with no online page
// (below the first online range, or a hole between two), which costs no
// descriptors. pfn -> descriptor is one table load, a compare and an add. A section also records which of
// its pages have no descriptor worth reading: the pages of its lazy run
// (free, never written: the buddy carves them on demand) and those that hold
// the array itself. `readable` packs the longest stretch of pages outside
// both into one word, so the lock-free test "does this pfn have a
// descriptor?" is one load and one compare (PageMap::readable).
//
// The page layer also keeps the table of owner reasons a descriptor names by
// index (a reservation's why, "page descriptors").
//
// A PageMap lives inside PhysAllocator (static storage, all-zero is empty).
// The buddy writes sections and descriptors; the slab and boot layers read
// them through PhysAllocator's narrow methods or src/page/page_map.h (the
// implementer's header), never through buddy/internal.h.
#pragma once

#include <kmem/config.h>
#include <kmem/memmap.h>
#include <kmem/platform.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem {

class PageDesc;
inline constexpr uint64_t kPageDescBytes = 8; // sizeof(PageDesc), asserted in src/page/page_desc.h

// What a page is; every descriptor starts with it (src/page/page_desc.h).
enum class PageState : uint8_t {
    offline = 0,   // not online (or never written): never a block head
    free = 1,      // head of a free block on a buddy free list
    free_pcp = 2,  // head of a free block cached on a per-CPU list
    allocated = 3, // head of an allocated block
    tail = 4,      // a page inside a block whose head is elsewhere
    slab = 5,      // head of a block the slab allocator owns
    reserved = 6,  // head of a reserved block (firmware, kernel image, memblock_reserve)
    slab_tail = 7, // a page inside a live slab, after its head (names the slab's header)
};

inline constexpr unsigned kMaxOrder = KMEM_MAX_ORDER; // kmem/config.h; 10: 2^10 pages = 4 MiB blocks
inline constexpr unsigned kSectionShift = 30;         // 1 GiB sections
inline constexpr uint64_t kPagesPerSection = uint64_t{1} << (kSectionShift - kPageShift);
inline constexpr uint64_t kMaxPhysMemory = uint64_t{64} << 40; // 64 TiB of pfns
inline constexpr size_t kMaxSections = kMaxPhysMemory >> kSectionShift;
inline constexpr uint64_t kMaxBlockPages = uint64_t{1} << kMaxOrder;
static_assert(kMaxOrder <= 18, "MAX_ORDER out of range: the descriptor holds orders up to 18");
static_assert(kPagesPerSection % kMaxBlockPages == 0, "a section holds whole max-order blocks");

// One 1 GiB section of the physical address space.
struct Section {
    PageDesc *descs;      // offset  0: the array (descriptors of pages [0, gap_begin) first), or null
    PageDesc *descs_hi;   // offset  8: the array less gap_end - gap_begin entries: pages
                          //   [gap_end, cov_end) are at descs_hi + page (== descs: no gap)
    uint32_t cov_end;     // offset 16: pages [0, cov_end) are covered (whole max-order blocks) ...
    uint32_t gap_begin;   // offset 20: ... but [gap_begin, gap_end), which has no descriptors
    uint32_t gap_end;     // offset 24:   (whole max-order blocks, none online; empty: gap_begin == gap_end)
    uint32_t lazy_begin;  // offset 28: page offset of the lazy run (multiple of kMaxBlockPages)
    uint32_t lazy_end;    // offset 32: page offset of its end (== lazy_begin: none)
    uint32_t next_lazy;   // offset 36: next section (index + 1) with a lazy run in the same zone (buddy's list)
    uint32_t online;      // offset 40: online pages in this section
    uint32_t meta_begin;  // offset 44: pages [meta_begin, meta_end) of the section hold the
    uint32_t meta_end;    // offset 48:   descriptor array (empty: the array lives elsewhere)
    uint8_t lazy_zone;    // offset 52: zone index of the lazy run
    uint8_t pad[3];       // offset 53
    // offset 56: the fast readability test's one word (PageMap::readable):
    // pages [start, start + size) have descriptors - the longest stretch of
    // the section outside its lazy run and its array, none while the section
    // is not wholly online; bits 0-31 start, 32-63 size (0: a section never
    // set up has none). Published after the descriptors it vouches for are
    // written; it only ever grows while the section is wholly online, so a
    // stale word is cautious, never wrong.
    uint64_t readable;
};
static_assert(sizeof(Section) == 64, "one cache line per section");
static_assert(offsetof(Section, descs_hi) == 8 && offsetof(Section, cov_end) == 16 && offsetof(Section, gap_end) == 24);
static_assert(offsetof(Section, lazy_begin) == 28 && offsetof(Section, next_lazy) == 36);
static_assert(offsetof(Section, online) == 40 && offsetof(Section, meta_end) == 48);
static_assert(offsetof(Section, lazy_zone) == 52 && offsetof(Section, readable) == 56);

// Pages a section's array has descriptors for.
inline uint32_t covered_pages(const Section &s) { return s.cov_end - (s.gap_end - s.gap_begin); }

class PageMap {
public:
    // Owner reasons a descriptor can name (reserve_range's why, ...): more
    // distinct strings than this share the last entry, "reserved (reason
    // table full)". The reason is what a report shows; no accounting uses it.
    static constexpr uint32_t kMaxReasons = 1024;

    constexpr PageMap() = default;
    PageMap(const PageMap &) = delete;
    PageMap &operator=(const PageMap &) = delete;

    // Sections that have a descriptor array, and the bytes those arrays take.
    uint64_t sections_used() const { return sections_used_; }
    // Descriptor arrays plus the section entries in use.
    uint64_t metadata_bytes() const { return array_bytes_ + sections_used_ * sizeof(Section); }

    const Section &section_at(size_t sn) const { return sections_[sn]; }
    Section &section_at(size_t sn) { return sections_[sn]; }

    // The index + 1 a descriptor stores for `why` (0 for null); the reason an
    // index names (null for 0). Reasons are compared by content.
    uint32_t reason_index(const char *why);
    const char *reason(uint32_t index) const;

    // The coverage an array of section sn needs so that the pages [lo, hi)
    // (whole max-order blocks) have descriptors, with what the current
    // array covers: `cover` (its end) and the gap [gap_begin, gap_end) - the
    // largest run of blocks the new array may leave out: its current gap or
    // the blocks below or between the parts, less [lo, hi). False when the
    // current array covers [lo, hi) already.
    struct Coverage {
        uint32_t cover, gap_begin, gap_end;
        uint32_t pages() const { return cover - (gap_end - gap_begin); }
    };
    bool coverage_for(size_t sn, uint32_t lo, uint32_t hi, Coverage &out) const;
    // Give section sn the array `array` with coverage c, whose own pages are
    // [meta_begin, meta_end) of the section (empty: elsewhere). The
    // descriptors of the old array that are worth reading are copied;
    // returns the old array (null: none), whose memory the caller frees.
    PageDesc *install_array(size_t sn, PageDesc *array, const Coverage &c, uint32_t meta_begin, uint32_t meta_end);
    // Pages an array with descriptors for `pages` pages takes.
    static constexpr uint64_t array_pages(uint64_t pages) {
        return (pages * kPageDescBytes + kPageSize - 1) / kPageSize;
    }
    // Zero `count` descriptors from pfn (inside one section that has an array).
    void zero_descs(uint64_t pfn, uint64_t count);
    // Recompute section sn's readable word after its online count, lazy run
    // or array changed (descriptors written first).
    void publish_readable(size_t sn);
    // Why pfn has no readable descriptor (null: it has one). `online` is the
    // list of online ranges, for sections only partly online.
    const char *unreadable_slow(uint64_t pfn, const MemoryMap &online) const;

private:
    Section sections_[kMaxSections]{};
    uint64_t sections_used_ = 0;
    uint64_t array_bytes_ = 0;
    const char *reasons_[kMaxReasons]{};
    uint32_t reason_count_ = 0;
};

} // namespace kmem
