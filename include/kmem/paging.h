// SPDX-License-Identifier: MIT
//
// DOC: x86_64 page tables built with pages from the buddy.
//
// PageTables builds 4-level x86_64 tables (PML4 -> PDPT -> PD -> PT) in
// physical memory: every table is a zeroed page from PhysAllocator, reached
// through the platform's phys_to_virt. map() picks the largest page size that
// fits each step (1 GiB, 2 MiB, 4 KiB, as allowed); translate() walks the
// tables as the MMU would. Hosted, the tables really live in simulated
// physical memory and the walker checks them; bare metal loads root() into
// CR3.
#pragma once

#include <kmem/buddy.h>
#include <kmem/result.h>

#include <stdint.h>

namespace kmem {

// x86_64 page-table entry bits.
enum PteBit : uint64_t {
    kPtePresent = 1ull << 0,
    kPteWrite = 1ull << 1,
    kPteUser = 1ull << 2,
    kPtePwt = 1ull << 3,  // write-through
    kPtePcd = 1ull << 4,  // cache disable
    kPteAccessed = 1ull << 5,
    kPteDirty = 1ull << 6,
    kPteHuge = 1ull << 7, // PS: a 2 MiB or 1 GiB page (in a PD or PDPT entry)
    kPteGlobal = 1ull << 8,
    kPteNx = 1ull << 63,
};
inline constexpr uint64_t kPteAddrMask = 0x000ffffffffff000ull;

enum class CacheMode : uint8_t { write_back, write_through, uncached };

struct MapAttrs {
    bool writable = true;
    bool executable = false; // false: NX set
    bool user = false;
    bool global = false;
    CacheMode cache = CacheMode::write_back;
};

enum PageSizeMask : uint8_t {
    kPage4K = 1u << 0,
    kPage2M = 1u << 1,
    kPage1G = 1u << 2,
    kPageAll = kPage4K | kPage2M | kPage1G,
};

struct Translation {
    uint64_t pa = 0;        // physical address of the byte asked for
    uint64_t page_size = 0; // 4 KiB, 2 MiB or 1 GiB
    uint64_t entry = 0;     // the leaf entry
};

// Linux's x86_64 direct map starts here (4-level paging, no KASLR).
inline constexpr uint64_t kDirectMapBase = 0xffff888000000000ull;

// What every architecture's table builder keeps: the allocator its table
// pages come from, the root table and the counts of what it mapped.
class PageTableBooks {
public:
    bool ready() const { return phys_ != nullptr; }
    uint64_t root() const { return root_; } // physical address of the root table
    uint64_t table_pages() const { return table_pages_; }
    uint64_t mapped_bytes() const { return mapped_bytes_; }
    uint64_t pages_4k() const { return count_[0]; }
    uint64_t pages_2m() const { return count_[1]; }
    uint64_t pages_1g() const { return count_[2]; }

protected:
    PhysAllocator *phys_ = nullptr;
    uint64_t root_ = 0;
    uint64_t table_pages_ = 0;
    uint64_t mapped_bytes_ = 0;
    uint64_t count_[3] = {};
};

// x86-64, 4-level: root() is the CR3 value.
class PageTables : public PageTableBooks {
public:
    // Allocate the root table.
    Status init(PhysAllocator &phys);

    // Map [va, va + size) to [pa, pa + size); all page-aligned; fails if any
    // page is mapped already (nothing is changed then).
    Status map(uint64_t va, uint64_t pa, uint64_t size, const MapAttrs &attrs = {},
               uint8_t sizes = kPageAll);
    Result<Translation> translate(uint64_t va) const;

private:
    Result<uint64_t *> table_at(uint64_t *parent, unsigned index, bool create);
    bool range_free(uint64_t va, uint64_t size) const;
};

} // namespace kmem
