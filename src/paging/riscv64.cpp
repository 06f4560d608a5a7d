// SPDX-License-Identifier: MIT
//
// DOC: RISC-V Sv39/Sv48 page tables: building and walking them.
//
// Tables are zeroed pages from the buddy, written through phys_to_virt. Level
// 0 is the root (VPN[2] in Sv39, VPN[3] in Sv48); the last level holds 4 KiB
// leaves. Table entries carry V and the PPN only (U, A, D are reserved in
// them, and G is left to the leaves), so each leaf decides what is allowed.
// map() first checks the whole range is unmapped, then walks the steps it
// will take without writing to count the table pages it needs and takes them
// all from the buddy (linked through their first word) before it writes a
// single entry: a mapping is all or nothing, and a failed one gives every
// page back. map() only turns invalid entries into valid ones, so live tables
// need an sfence.vma only for the hart's own stale "invalid" (RISC-V may
// cache those), which the kernel issues after the mapping (docs/paging.md).
#include <kmem/paging_riscv64.h>

#include "table_reserve.h"

namespace kmem {
namespace {

using paging::table_virt;

uint64_t entry_pa(uint64_t entry) { return (entry & kRvPpnMask) >> kRvPpnShift << 12; }
uint64_t table_entry(uint64_t pa) { return (pa >> 12) << kRvPpnShift | kRvValid; }

} // namespace

uint64_t Riscv64PageTables::leaf_bits(const MapAttrs &a, bool svpbmt) {
    uint64_t b = kRvValid | kRvRead | kRvAccessed | kRvDirty;
    if (a.writable) b |= kRvWrite;
    if (a.executable) b |= kRvExec;
    if (a.user) b |= kRvUser;
    if (a.global) b |= kRvGlobal;
    if (svpbmt && a.cache == CacheMode::uncached) b |= kRvPbmtIo;
    if (svpbmt && a.cache == CacheMode::write_through) b |= kRvPbmtNc;
    return b;
}

Status Riscv64PageTables::configure(RiscvMode mode, bool svpbmt) {
    if (phys_) return make_error(Errc::wrong_phase, "the mode is set before the root table exists");
    if (mode != RiscvMode::sv39 && mode != RiscvMode::sv48)
        return make_error(Errc::invalid_argument, "not a translation mode this builder writes");
    mode_ = mode;
    svpbmt_ = svpbmt;
    return {};
}

Status Riscv64PageTables::init(PhysAllocator &phys) {
    return paging::take_root(phys_, phys, root_, table_pages_, "no page for the root table");
}

bool Riscv64PageTables::leaf_allowed(unsigned level, uint8_t sizes) const {
    switch (shift(level)) {
    case 12: return sizes & kPage4K;
    case 21: return sizes & kPage2M;
    case 30: return sizes & kPage1G;
    default: return false; // Sv48's 512 GiB leaves: not a size map() offers
    }
}

bool Riscv64PageTables::range_free(uint64_t va, uint64_t size) const {
    for (uint64_t done = 0; done < size;) {
        const uint64_t v = va + done;
        const uint64_t *t = table_virt(root_);
        uint64_t step = 0;
        for (unsigned level = 0; level < levels(); ++level) {
            step = uint64_t{1} << shift(level);
            const uint64_t e = t[(v >> shift(level)) & 511];
            if (!(e & kRvValid)) break;
            if ((e & kRvLeafMask) || level + 1 == levels()) return false; // a leaf, or a malformed entry
            t = table_virt(entry_pa(e));
        }
        done += step - (v & (step - 1)); // to the next entry where the walk stopped
    }
    return true;
}

Result<uint64_t> Riscv64PageTables::tables_needed(uint64_t va, uint64_t pa, uint64_t size, uint8_t sizes) const {
    // A table this dry run would create under an entry at `level` is known by
    // its region (v >> shift(level)) + 1; v only grows, so one per level is
    // enough. Entries inside such a table read as invalid.
    uint64_t created[4] = {};
    uint64_t needed = 0;
    for (uint64_t done = 0; done < size;) {
        const uint64_t v = va + done, p = pa + done, left = size - done;
        const uint64_t *t = table_virt(root_);
        for (unsigned level = 0;; ++level) {
            const uint64_t e = t ? t[(v >> shift(level)) & 511] : 0;
            const uint64_t sz = uint64_t{1} << shift(level);
            if (!(e & kRvValid) && leaf_allowed(level, sizes) && !((v | p) & (sz - 1)) && left >= sz) {
                done += sz;
                break;
            }
            if (level + 1 == levels())
                return make_error(Errc::invalid_argument, "range not aligned to the allowed page sizes");
            if (e & kRvValid) { // a table: range_free saw no leaf in the range
                t = table_virt(entry_pa(e));
                continue;
            }
            const uint64_t region = (v >> shift(level)) + 1;
            if (created[level] != region) {
                created[level] = region;
                ++needed;
            }
            t = nullptr;
        }
    }
    return needed;
}

Status Riscv64PageTables::map(uint64_t va, uint64_t pa, uint64_t size, const MapAttrs &attrs, uint8_t sizes) {
    if (!phys_) return make_error(Errc::wrong_phase, "page tables are not initialised");
    if ((va | pa | size) & (kPageSize - 1))
        return make_error(Errc::invalid_argument, "address or size not page-aligned");
    if (size == 0) return {};
    const uint64_t last = va + (size - 1);
    if (last < va || !riscv_canonical(mode_, va) || !riscv_canonical(mode_, last) || (va >> 63) != (last >> 63))
        return make_error(Errc::invalid_range, "virtual range not canonical in one half of the mode's space");
    if (pa >= kRvPaLimit || size > kRvPaLimit - pa)
        return make_error(Errc::invalid_range, "physical range beyond the 56-bit physical address");
    if (!(sizes & kPageAll)) return make_error(Errc::invalid_argument, "no page size allowed");
    if (!range_free(va, size)) return make_error(Errc::invalid_range, "part of the range is already mapped");

    Result<uint64_t> need = tables_needed(va, pa, size, sizes);
    if (!need.ok()) return need.status();
    paging::TableReserve reserve;
    KMEM_TRY(reserve.take(*phys_, need.value(), "no page for a page table"));

    const uint64_t leaf = leaf_bits(attrs, svpbmt_);
    for (uint64_t done = 0; done < size;) {
        const uint64_t v = va + done, p = pa + done, left = size - done;
        uint64_t *t = table_virt(root_);
        for (unsigned level = 0;; ++level) {
            uint64_t &e = t[(v >> shift(level)) & 511];
            const uint64_t sz = uint64_t{1} << shift(level);
            if (!(e & kRvValid) && leaf_allowed(level, sizes) && !((v | p) & (sz - 1)) && left >= sz) {
                e = (p >> 12) << kRvPpnShift | leaf;
                ++count_[sz == kPageSize ? 0 : sz == (uint64_t{1} << 21) ? 1 : 2];
                done += sz;
                break;
            }
            if (level + 1 == levels()) Plat::panic("riscv64 paging: no leaf fits (counting bug)");
            if (!(e & kRvValid)) {
                e = table_entry(reserve.pop("riscv64 paging: table reserve ran out (counting bug)"));
                ++table_pages_;
            }
            t = table_virt(entry_pa(e));
        }
    }
    if (reserve.count()) Plat::panic("riscv64 paging: table pages left over (counting bug)");
    mapped_bytes_ += size;
    return {};
}

Result<Translation> Riscv64PageTables::translate(uint64_t va) const {
    if (!phys_) return make_error(Errc::wrong_phase, "page tables are not initialised");
    if (!riscv_canonical(mode_, va)) return make_error(Errc::invalid_argument, "address is not canonical");
    const uint64_t *t = table_virt(root_);
    for (unsigned level = 0; level < levels(); ++level) {
        const uint64_t e = t[(va >> shift(level)) & 511];
        if (!(e & kRvValid)) return make_error(Errc::invalid_argument, "address is not mapped");
        if (e & kRvReservedMask) return make_error(Errc::malformed, "reserved bits set in an entry");
        const uint64_t pbmt = e & kRvPbmtMask;
        if (pbmt && (!svpbmt_ || pbmt == kRvPbmtMask)) return make_error(Errc::malformed, "reserved PBMT value");
        if (e & kRvLeafMask) {
            if ((e & (kRvRead | kRvWrite)) == kRvWrite) return make_error(Errc::malformed, "writable but not readable");
            const uint64_t page = uint64_t{1} << shift(level);
            if (entry_pa(e) & (page - 1)) return make_error(Errc::malformed, "misaligned superpage");
            Translation tr;
            tr.page_size = page;
            tr.entry = e;
            tr.pa = entry_pa(e) | (va & (page - 1));
            return tr;
        }
        if (level + 1 == levels()) return make_error(Errc::malformed, "a table entry at the last level");
        t = table_virt(entry_pa(e));
    }
    return make_error(Errc::malformed, "walk fell off the tables");
}

} // namespace kmem
