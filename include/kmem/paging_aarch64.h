// SPDX-License-Identifier: MIT
//
// DOC: AArch64 stage-1 translation tables built with pages from the buddy.
//
// Aarch64PageTables builds the EL1&0 stage-1 tables TTBR0_EL1 points at: 4 KiB
// granule, 48-bit VA (T0SZ = 16), four levels - L0 (VA bits 47:39), L1 (38:30,
// 1 GiB blocks), L2 (29:21, 2 MiB blocks), L3 (20:12, 4 KiB pages). Every
// table is a zeroed page from PhysAllocator, reached through the platform's
// phys_to_virt. map() picks the largest size that fits each step, as
// PageTables (the x86_64 builder in paging.h) does, and takes MapAttrs,
// PageSizeMask and Translation from there. Before it writes anything, map()
// counts and allocates every table page it will need, so a mapping is all or
// nothing and a failure leaves the buddy exactly as it was. translate() walks
// the tables as the MMU would. Bare metal programs MAIR_EL1 = kAarch64Mair,
// TCR_EL1 = aarch64_tcr(ID_AA64MMFR0_EL1.PARange) and TTBR0_EL1 = root()
// (docs/paging.md).
//
// Descriptors: table (L0-L2) = next table | 0b11; block (L1, L2) = address |
// attributes | 0b01; page (L3) = address | attributes | 0b11. Leaf attributes:
// AttrIndx[4:2] (the MAIR index of the CacheMode), AP[7:6] (bit 7: read-only,
// bit 6: EL0 access when `user`), SH[9:8] = inner shareable, AF[10] = 1, nG[11]
// = !global, PXN[53], UXN[54]. Execute permission: a kernel mapping
// (user = false) is never executable at EL0 (UXN always; AP = 0b00 with UXN
// clear would be EL0 execute-only memory), and `executable` clears PXN. A user
// mapping is never executable at EL1 (PXN always: the kernel must not run user
// pages, and the architecture forces it for EL0-writable ones anyway), and
// `executable` means EL0-executable: it clears UXN.
#pragma once

#include <kmem/buddy.h>
#include <kmem/paging.h>
#include <kmem/result.h>

#include <stdint.h>

namespace kmem {

// Stage-1 VMSAv8-64 descriptor bits (4 KiB granule).
enum A64DescBit : uint64_t {
    kA64Valid = 1ull << 0,
    kA64Table = 1ull << 1,      // L0-L2: a table descriptor; L3: a page (set in both)
    kA64AttrIndxMask = 7ull << 2, // AttrIndx[4:2]: MAIR_EL1 attribute index
    kA64Ns = 1ull << 5,         // non-secure (ignored in the non-secure EL1&0 regime)
    kA64ApUser = 1ull << 6,     // AP[1]: EL0 has access
    kA64ApReadOnly = 1ull << 7, // AP[2]: read-only (at EL1, and EL0 when AP[1])
    kA64ShInner = 3ull << 8,    // SH[9:8] = 0b11: inner shareable
    kA64ShMask = 3ull << 8,
    kA64Af = 1ull << 10,        // access flag (set: no access-flag fault)
    kA64NotGlobal = 1ull << 11, // nG: the entry is tagged with the ASID
    kA64Contiguous = 1ull << 52,
    kA64Pxn = 1ull << 53,       // privileged (EL1) execute-never
    kA64Uxn = 1ull << 54,       // unprivileged (EL0) execute-never
};
inline constexpr unsigned kA64AttrIndxShift = 2;
// Output address of a descriptor: bits 47:12 (48-bit PA, 4 KiB granule).
inline constexpr uint64_t kA64AddrMask = 0x0000fffffffff000ull;
inline constexpr unsigned kA64VaBits = 48;
inline constexpr uint64_t kA64VaLimit = uint64_t{1} << kA64VaBits; // TTBR0 range
inline constexpr uint64_t kA64PaLimit = uint64_t{1} << 48;         // what the descriptors hold

// MAIR_EL1 attribute indices the builder uses (AttrIndx).
enum A64MairIndex : uint8_t {
    kA64MairNormalWb = 0, // CacheMode::write_back
    kA64MairDevice = 1,   // CacheMode::uncached: Device-nGnRE
    kA64MairNormalNc = 2, // CacheMode::write_through: Normal non-cacheable
};
// MAIR_EL1 a kernel must program for these tables: Attr0 = 0xFF (Normal,
// inner and outer write-back non-transient, read- and write-allocate), Attr1 =
// 0x04 (Device-nGnRE), Attr2 = 0x44 (Normal, inner and outer non-cacheable).
inline constexpr uint64_t kAarch64Mair = 0x44'04'FFull;

// TCR_EL1 for these tables: T0SZ = 16, IRGN0 = ORGN0 = 0b01 (write-back
// write-allocate walks), SH0 = 0b11, TG0 = 0b00 (4 KiB); TTBR1 walks off
// (EPD1 = 1) with a valid TG1 = 0b10 (4 KiB) and T1SZ = 16; IPS = the CPU's
// ID_AA64MMFR0_EL1.PARange, capped at 0b101 (48 bits, what the descriptors
// hold). ASIDs come from TTBR0 (A1 = 0), 8 bits (AS = 0).
inline constexpr uint64_t kAarch64TcrBase = (uint64_t{16} << 0)   // T0SZ
                                            | (uint64_t{1} << 8)  // IRGN0
                                            | (uint64_t{1} << 10) // ORGN0
                                            | (uint64_t{3} << 12) // SH0
                                            | (uint64_t{16} << 16) // T1SZ
                                            | (uint64_t{1} << 23) // EPD1
                                            | (uint64_t{2} << 30); // TG1
constexpr uint64_t aarch64_tcr(unsigned parange) {
    return kAarch64TcrBase | (uint64_t{parange > 5 ? 5u : parange} << 32); // IPS
}
static_assert(aarch64_tcr(5) == 0x5'8090'3510ull);

// root() is the TTBR0_EL1 BADDR.
class Aarch64PageTables : public PageTableBooks {
public:
    // Allocate the L0 table.
    Status init(PhysAllocator &phys);

    // Map [va, va + size) to [pa, pa + size); all page-aligned, va below 2^48
    // (TTBR0), pa below 2^48; fails if any page is mapped already, or if the
    // buddy cannot give every table page needed (nothing is changed then).
    Status map(uint64_t va, uint64_t pa, uint64_t size, const MapAttrs &attrs = {},
               uint8_t sizes = kPageAll);
    Result<Translation> translate(uint64_t va) const;

    // The leaf attribute bits (everything but the address and bits 1:0) that
    // map() writes for `attrs`.
    static uint64_t leaf_attributes(const MapAttrs &attrs);

private:
    bool range_free(uint64_t va, uint64_t size) const;
    // Walk the steps map() would take without writing: the number of table
    // pages it would allocate, or an error when no allowed size fits.
    Result<uint64_t> tables_needed(uint64_t va, uint64_t pa, uint64_t size, uint8_t sizes) const;
};

} // namespace kmem
