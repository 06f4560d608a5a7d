// SPDX-License-Identifier: MIT
//
// DOC: AArch64 stage-1 translation tables (4 KiB granule, 48-bit VA): building and walking them.
//
// Tables are zeroed pages from the buddy, written through phys_to_virt. Table
// descriptors carry no hierarchical attributes (APTable, UXNTable, PXNTable
// are 0, so the leaf decides what is allowed, as Linux does); a leaf carries
// the MAIR index, AP, SH, AF, nG, PXN and UXN bits (leaf_attributes). map()
// first checks the whole range is unmapped, then walks the steps it will
// take without writing to count the table pages it needs, and takes them all
// from the buddy (linked through their first word) before it writes a single
// descriptor: a mapping is all or nothing, and a failed one gives every page
// back. map() only ever fills invalid entries, so a live table needs no
// break-before-make; the caller still owes a DSB before the walker may see
// the new entries (docs/paging.md).
#include <kmem/paging_aarch64.h>

#include "table_reserve.h"

namespace kmem {
namespace {

constexpr unsigned kShift[4] = {39, 30, 21, 12}; // L0, L1, L2, L3
constexpr uint8_t kSizeBit[4] = {0, kPage1G, kPage2M, kPage4K}; // no L0 blocks with 4 KiB
constexpr uint64_t kTypeMask = kA64Valid | kA64Table;
constexpr uint64_t kTypeBlock = kA64Valid;            // L1, L2
constexpr uint64_t kTypeTable = kA64Valid | kA64Table; // L0-L2 table, L3 page

constexpr unsigned index_at(uint64_t va, unsigned level) { return (va >> kShift[level]) & 511; }
constexpr uint64_t level_size(unsigned level) { return uint64_t{1} << kShift[level]; }

using paging::table_virt;

// A leaf of `level`'s size fits this step of [v, v + left) -> [p, ...).
bool leaf_fits(unsigned level, uint64_t v, uint64_t p, uint64_t left, uint8_t sizes) {
    const uint64_t sz = level_size(level);
    return (sizes & kSizeBit[level]) && !((v | p) & (sz - 1)) && left >= sz;
}

// A descriptor that ends the walk at `level`: a block (L1, L2) or a page (L3).
bool is_leaf(uint64_t e, unsigned level) {
    return level == 3 ? (e & kTypeMask) == kTypeTable : (e & kTypeMask) == kTypeBlock;
}

} // namespace

uint64_t Aarch64PageTables::leaf_attributes(const MapAttrs &a) {
    uint64_t b = kA64Af | kA64ShInner; // SH is ignored for Device memory (Linux sets it too)
    uint64_t mair = kA64MairNormalWb;
    if (a.cache == CacheMode::uncached) mair = kA64MairDevice;
    if (a.cache == CacheMode::write_through) mair = kA64MairNormalNc;
    b |= mair << kA64AttrIndxShift;
    if (!a.writable) b |= kA64ApReadOnly;
    if (!a.global) b |= kA64NotGlobal;
    if (a.user) {
        // EL0 access; EL1 never executes user memory; `executable`: EL0 may.
        b |= kA64ApUser | kA64Pxn;
        if (!a.executable) b |= kA64Uxn;
    } else {
        // EL0 never executes kernel memory (AP[1] = 0 with UXN clear would be
        // EL0 execute-only); `executable`: EL1 may.
        b |= kA64Uxn;
        if (!a.executable) b |= kA64Pxn;
    }
    return b;
}

Status Aarch64PageTables::init(PhysAllocator &phys) {
    return paging::take_root(phys_, phys, root_, table_pages_, "no page for the L0 table");
}

bool Aarch64PageTables::range_free(uint64_t va, uint64_t size) const {
    const uint64_t end = va + size; // <= 2^48: no wrap
    while (va < end) {
        const uint64_t *t = table_virt(root_);
        uint64_t step = level_size(0);
        for (unsigned level = 0; level < 4; ++level) {
            step = level_size(level);
            const uint64_t e = t[index_at(va, level)];
            if (!(e & kA64Valid)) break;
            if (level == 0 && (e & kTypeMask) == kTypeBlock) return false; // malformed: not ours
            if (level > 0 && is_leaf(e, level)) return false;
            if (level == 3) return false; // reserved L3 type: treat as taken
            t = table_virt(e & kA64AddrMask);
        }
        va = (va & ~(step - 1)) + step; // next entry at the level where the walk stopped
    }
    return true;
}

Result<uint64_t> Aarch64PageTables::tables_needed(uint64_t va, uint64_t pa, uint64_t size,
                                                  uint8_t sizes) const {
    // A table this dry run would create under the entry at `level` is
    // remembered by its region (va >> kShift[level]) + 1; va only grows, so
    // one per level is enough. Entries inside such a table read as invalid.
    uint64_t created[4] = {};
    uint64_t needed = 0;
    for (uint64_t done = 0; done < size;) {
        const uint64_t v = va + done, p = pa + done, left = size - done;
        const uint64_t *t = table_virt(root_);
        for (unsigned level = 0;; ++level) {
            const uint64_t e = t ? t[index_at(v, level)] : 0;
            if (!(e & kA64Valid) && level > 0 && leaf_fits(level, v, p, left, sizes)) {
                done += level_size(level);
                break;
            }
            if (level == 3)
                return make_error(Errc::invalid_argument, "range not aligned to the allowed page sizes");
            if (e & kA64Valid) { // a table: range_free saw no leaf in the range
                t = table_virt(e & kA64AddrMask);
                continue;
            }
            const uint64_t region = (v >> kShift[level]) + 1;
            if (created[level] != region) {
                created[level] = region;
                ++needed;
            }
            t = nullptr;
        }
    }
    return needed;
}

Status Aarch64PageTables::map(uint64_t va, uint64_t pa, uint64_t size, const MapAttrs &attrs,
                              uint8_t sizes) {
    if (!phys_) return make_error(Errc::wrong_phase, "page tables are not initialised");
    if ((va | pa | size) & (kPageSize - 1))
        return make_error(Errc::invalid_argument, "address or size not page-aligned");
    if (size == 0) return {};
    if (va >= kA64VaLimit || size > kA64VaLimit - va)
        return make_error(Errc::invalid_range, "virtual range beyond the 48-bit TTBR0 range");
    if (pa >= kA64PaLimit || size > kA64PaLimit - pa)
        return make_error(Errc::invalid_range, "physical range beyond the 48-bit output address");
    if (!(sizes & kPageAll)) return make_error(Errc::invalid_argument, "no page size allowed");
    if (!range_free(va, size)) return make_error(Errc::invalid_range, "part of the range is already mapped");

    Result<uint64_t> need = tables_needed(va, pa, size, sizes);
    if (!need.ok()) return need.status();
    paging::TableReserve reserve;
    KMEM_TRY(reserve.take(*phys_, need.value(), "no page for a translation table"));

    const uint64_t leaf = leaf_attributes(attrs);
    for (uint64_t done = 0; done < size;) {
        const uint64_t v = va + done, p = pa + done, left = size - done;
        uint64_t *t = table_virt(root_);
        for (unsigned level = 0;; ++level) {
            uint64_t &e = t[index_at(v, level)];
            if (!(e & kA64Valid) && level > 0 && leaf_fits(level, v, p, left, sizes)) {
                e = p | leaf | (level == 3 ? kTypeTable : kTypeBlock);
                ++count_[3 - level]; // L3: 4K, L2: 2M, L1: 1G
                done += level_size(level);
                break;
            }
            if (level == 3) Plat::panic("aarch64 paging: no leaf fits (counting bug)");
            if (!(e & kA64Valid)) {
                e = reserve.pop("aarch64 paging: table reserve ran out (counting bug)") | kTypeTable;
                ++table_pages_;
            }
            t = table_virt(e & kA64AddrMask);
        }
    }
    if (reserve.count()) Plat::panic("aarch64 paging: table pages left over (counting bug)");
    mapped_bytes_ += size;
    return {};
}

Result<Translation> Aarch64PageTables::translate(uint64_t va) const {
    if (!phys_) return make_error(Errc::wrong_phase, "page tables are not initialised");
    if (va >= kA64VaLimit) return make_error(Errc::invalid_argument, "address beyond the 48-bit TTBR0 range");
    const uint64_t *t = table_virt(root_);
    for (unsigned level = 0; level < 4; ++level) {
        const uint64_t e = t[index_at(va, level)];
        if (!(e & kA64Valid)) return make_error(Errc::invalid_argument, "address is not mapped");
        if (level == 0 && (e & kTypeMask) == kTypeBlock)
            return make_error(Errc::malformed, "block descriptor at L0");
        if (level == 3 && !is_leaf(e, 3))
            return make_error(Errc::malformed, "reserved descriptor type at L3");
        if (level > 0 && is_leaf(e, level)) {
            const uint64_t page = level_size(level);
            Translation tr;
            tr.page_size = page;
            tr.entry = e;
            tr.pa = (e & kA64AddrMask & ~(page - 1)) | (va & (page - 1));
            return tr;
        }
        t = table_virt(e & kA64AddrMask);
    }
    return make_error(Errc::malformed, "walk fell off the tables");
}

} // namespace kmem
