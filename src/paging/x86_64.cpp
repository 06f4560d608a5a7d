// SPDX-License-Identifier: MIT
//
// DOC: x86_64 4-level page tables: building and walking them.
//
// Tables are zeroed pages from the buddy, written through phys_to_virt.
// Intermediate entries are present + writable + user (the leaf decides what
// is allowed, as Linux does); a leaf carries NX, the cache attribute (PWT,
// PCD), global and user bits. map() checks the whole range is unmapped
// before it writes anything; if the buddy runs out of pages half way, it
// clears the entries it wrote, so the mapping is all or nothing (page-table
// pages allocated meanwhile stay, empty, for later use).
#include <kmem/paging.h>

#include "table_reserve.h"

namespace kmem {
namespace {

constexpr unsigned kShift[4] = {39, 30, 21, 12}; // PML4, PDPT, PD, PT
constexpr uint64_t k4K = uint64_t{1} << 12, k2M = uint64_t{1} << 21, k1G = uint64_t{1} << 30;

constexpr bool canonical(uint64_t va) { return (va >> 47) == 0 || (va >> 47) == 0x1ffff; }
constexpr unsigned index_at(uint64_t va, unsigned level) { return (va >> kShift[level]) & 511; }

using paging::table_virt;

uint64_t leaf_bits(const MapAttrs &a, bool huge) {
    uint64_t b = kPtePresent;
    if (a.writable) b |= kPteWrite;
    if (a.user) b |= kPteUser;
    if (a.global) b |= kPteGlobal;
    if (!a.executable) b |= kPteNx;
    if (a.cache == CacheMode::write_through) b |= kPtePwt;
    if (a.cache == CacheMode::uncached) b |= kPtePcd | kPtePwt;
    if (huge) b |= kPteHuge;
    return b;
}

constexpr uint64_t kTableBits = kPtePresent | kPteWrite | kPteUser;

} // namespace

Status PageTables::init(PhysAllocator &phys) {
    return paging::take_root(phys_, phys, root_, table_pages_, "no page for the root table");
}

Result<uint64_t *> PageTables::table_at(uint64_t *parent, unsigned index, bool create) {
    const uint64_t e = parent[index];
    if (e & kPtePresent) {
        if (e & kPteHuge) return make_error(Errc::invalid_range, "a larger page already maps this range");
        return table_virt(e & kPteAddrMask);
    }
    if (!create) return make_error(Errc::no_entries, "no table here");
    Result<uint64_t> r = phys_->alloc_pages(0, kAllocZero);
    if (!r.ok()) return make_error(Errc::no_memory, "no page for a page table");
    parent[index] = r.value() | kTableBits;
    ++table_pages_;
    return table_virt(r.value());
}

bool PageTables::range_free(uint64_t va, uint64_t size) const {
    const uint64_t end = va + size;
    while (va < end) {
        const uint64_t *t = table_virt(root_);
        uint64_t step = uint64_t{1} << kShift[0];
        bool descended = true;
        for (unsigned level = 0; level < 4 && descended; ++level) {
            step = uint64_t{1} << kShift[level];
            const uint64_t e = t[index_at(va, level)];
            if (!(e & kPtePresent)) {
                descended = false;
                break;
            }
            if (level == 3 || (e & kPteHuge)) return false;
            t = table_virt(e & kPteAddrMask);
        }
        va = (va & ~(step - 1)) + step; // next entry at the level where the walk stopped
        if (va == 0) break;             // wrapped past the top of the address space
    }
    return true;
}

Status PageTables::map(uint64_t va, uint64_t pa, uint64_t size, const MapAttrs &attrs,
                       uint8_t sizes) {
    if (!phys_) return make_error(Errc::wrong_phase, "page tables are not initialised");
    if ((va | pa | size) & (kPageSize - 1))
        return make_error(Errc::invalid_argument, "address or size not page-aligned");
    if (size == 0) return {};
    if (va + size - 1 < va || !canonical(va) || !canonical(va + size - 1) ||
        (va >> 47) != ((va + size - 1) >> 47))
        return make_error(Errc::invalid_range, "virtual range is not canonical");
    if (pa + size > kPhysAddrLimit || pa + size < pa)
        return make_error(Errc::invalid_range, "physical range beyond the 52-bit limit");
    if (!(sizes & kPageAll)) return make_error(Errc::invalid_argument, "no page size allowed");
    if (!range_free(va, size)) return make_error(Errc::invalid_range, "part of the range is already mapped");

    const uint64_t start_va = va;
    uint64_t done = 0;
    Status st;
    while (done < size) {
        const uint64_t v = va + done, p = pa + done, left = size - done;
        uint64_t *t = table_virt(root_);
        Result<uint64_t *> pdpt = table_at(t, index_at(v, 0), true);
        if (!pdpt.ok()) { st = pdpt.status(); break; }
        // A large leaf only where no table is (an empty one, left by an
        // undone mapping, is reused: overwriting it would lose its page).
        if ((sizes & kPage1G) && !((v | p) & (k1G - 1)) && left >= k1G && !(pdpt.value()[index_at(v, 1)] & kPtePresent)) {
            pdpt.value()[index_at(v, 1)] = p | leaf_bits(attrs, true);
            ++count_[2];
            done += k1G;
            continue;
        }
        Result<uint64_t *> pd = table_at(pdpt.value(), index_at(v, 1), true);
        if (!pd.ok()) { st = pd.status(); break; }
        if ((sizes & kPage2M) && !((v | p) & (k2M - 1)) && left >= k2M && !(pd.value()[index_at(v, 2)] & kPtePresent)) {
            pd.value()[index_at(v, 2)] = p | leaf_bits(attrs, true);
            ++count_[1];
            done += k2M;
            continue;
        }
        if (!(sizes & kPage4K)) {
            st = make_error(Errc::invalid_argument, "range not aligned to the allowed page sizes");
            break;
        }
        Result<uint64_t *> ptab = table_at(pd.value(), index_at(v, 2), true);
        if (!ptab.ok()) { st = ptab.status(); break; }
        ptab.value()[index_at(v, 3)] = p | leaf_bits(attrs, false);
        ++count_[0];
        done += k4K;
    }
    if (st.ok()) {
        mapped_bytes_ += size;
        return {};
    }
    // Undo: clear every leaf written by this call.
    for (uint64_t off = 0; off < done;) {
        const uint64_t v = start_va + off;
        uint64_t *t = table_virt(root_);
        for (unsigned level = 0;; ++level) {
            uint64_t &e = t[index_at(v, level)];
            if (level == 3 || (e & kPteHuge)) {
                --count_[3 - level]; // PT: 4K, PD: 2M, PDPT: 1G
                e = 0;
                off += uint64_t{1} << kShift[level];
                break;
            }
            t = table_virt(e & kPteAddrMask);
        }
    }
    return st;
}

Result<Translation> PageTables::translate(uint64_t va) const {
    if (!phys_) return make_error(Errc::wrong_phase, "page tables are not initialised");
    if (!canonical(va)) return make_error(Errc::invalid_argument, "address is not canonical");
    const uint64_t *t = table_virt(root_);
    for (unsigned level = 0; level < 4; ++level) {
        const uint64_t e = t[index_at(va, level)];
        if (!(e & kPtePresent)) return make_error(Errc::invalid_argument, "address is not mapped");
        if (level == 3 || (e & kPteHuge)) {
            if (level == 0) return make_error(Errc::malformed, "huge bit in a PML4 entry");
            const uint64_t page = uint64_t{1} << kShift[level];
            Translation tr;
            tr.page_size = page;
            tr.entry = e;
            tr.pa = (e & kPteAddrMask & ~(page - 1)) | (va & (page - 1));
            return tr;
        }
        t = table_virt(e & kPteAddrMask);
    }
    return make_error(Errc::malformed, "walk fell off the tables");
}

} // namespace kmem
