// SPDX-License-Identifier: MIT
//
// DOC: RISC-V Sv39 and Sv48 page tables built with pages from the buddy.
//
// Riscv64PageTables builds the tables satp points at in Sv39 (three levels:
// VPN[2] = VA bits 38:30, 1 GiB leaves; VPN[1] = 29:21, 2 MiB; VPN[0] =
// 20:12, 4 KiB) or Sv48 (a fourth level on top: VPN[3] = 47:39). Every table
// is a zeroed page from PhysAllocator, reached through the platform's
// phys_to_virt. map() picks the largest allowed size that fits each step, as
// the other two builders do, and takes MapAttrs, PageSizeMask and
// Translation from paging.h; it counts and takes every table page it needs
// before it writes one entry, so a mapping is all or nothing and a failure
// leaves the buddy exactly as it was. translate() walks the tables as the
// MMU would. Virtual addresses are canonical: bits 63..38 (Sv39) or 63..47
// (Sv48) all equal, so each mode has a lower and an upper half.
//
// Entries: a table entry is V with R = W = X = 0 and the next table's PPN
// (bits 53:10); a leaf (at any level) has V, R, W when `writable`, X when
// `executable`, U when `user`, G when `global`, A and D always (the builder
// does not manage them: a CPU that faults on A = 0 or D = 0 never faults on
// these), and, with Svpbmt, PBMT (bits 62:61) from the CacheMode. Without
// Svpbmt the cache mode is the platform's PMAs' (QEMU virt: its MMIO is I/O
// by physical address) and PBMT stays 0. A bare-metal kernel writes
// satp = riscv_satp(mode, root()) and runs sfence.vma (docs/paging.md).
#pragma once

#include <kmem/buddy.h>
#include <kmem/paging.h>
#include <kmem/result.h>

#include <stdint.h>

namespace kmem {

// Sv39/Sv48 page-table entry bits.
enum RvPteBit : uint64_t {
    kRvValid = 1ull << 0,
    kRvRead = 1ull << 1,
    kRvWrite = 1ull << 2,
    kRvExec = 1ull << 3,
    kRvUser = 1ull << 4,
    kRvGlobal = 1ull << 5,
    kRvAccessed = 1ull << 6,
    kRvDirty = 1ull << 7,
};
inline constexpr uint64_t kRvLeafMask = kRvRead | kRvWrite | kRvExec; // any of them: a leaf
// Svpbmt's memory type (bits 62:61): 0 = the PMAs', 1 = NC (non-cacheable,
// idempotent), 2 = IO (non-cacheable, strongly ordered), 3 reserved.
inline constexpr unsigned kRvPbmtShift = 61;
inline constexpr uint64_t kRvPbmtMask = 3ull << kRvPbmtShift;
inline constexpr uint64_t kRvPbmtNc = 1ull << kRvPbmtShift;
inline constexpr uint64_t kRvPbmtIo = 2ull << kRvPbmtShift;
// Bits 60:54 are reserved (0); bit 63 is Svnapot's N (not used: a walker
// without Svnapot faults on it).
inline constexpr uint64_t kRvReservedMask = (0x7full << 54) | (1ull << 63);
// The PPN, bits 53:10: physical addresses below 2^56.
inline constexpr unsigned kRvPpnShift = 10;
inline constexpr uint64_t kRvPpnMask = ((uint64_t{1} << 44) - 1) << kRvPpnShift;
inline constexpr uint64_t kRvPaLimit = uint64_t{1} << 56;

// The translation modes the builder writes: satp.MODE's values.
enum class RiscvMode : uint8_t { sv39 = 8, sv48 = 9 };
constexpr unsigned riscv_levels(RiscvMode m) { return m == RiscvMode::sv39 ? 3 : 4; }
constexpr unsigned riscv_va_bits(RiscvMode m) { return m == RiscvMode::sv39 ? 39 : 48; }
// satp: MODE[63:60] | ASID[59:44] | PPN[43:0] of the root table.
constexpr uint64_t riscv_satp(RiscvMode m, uint64_t root_pa, uint16_t asid = 0) {
    return uint64_t{static_cast<uint8_t>(m)} << 60 | uint64_t{asid} << 44 | root_pa >> 12;
}
static_assert(riscv_satp(RiscvMode::sv39, 0x80201000) == 0x8000000000080201ull);
// A canonical address of the mode: bits 63..va_bits-1 all copies of one bit.
constexpr bool riscv_canonical(RiscvMode m, uint64_t va) {
    const uint64_t top = va >> (riscv_va_bits(m) - 1);
    return top == 0 || top == ~uint64_t{0} >> (riscv_va_bits(m) - 1);
}

// root() is the PPN's page (riscv_satp builds the satp value).
class Riscv64PageTables : public PageTableBooks {
public:
    // Before init(): the mode (Sv39 unless told) and whether the CPU has
    // Svpbmt (no unless told). Errc::wrong_phase after init().
    Status configure(RiscvMode mode, bool svpbmt = false);
    // Allocate the root table.
    Status init(PhysAllocator &phys);

    // Map [va, va + size) to [pa, pa + size); all page-aligned, va canonical
    // and in one half of the mode's space, pa below 2^56; fails if any page is
    // mapped already, or if the buddy cannot give every table page needed
    // (nothing is changed then).
    Status map(uint64_t va, uint64_t pa, uint64_t size, const MapAttrs &attrs = {},
               uint8_t sizes = kPageAll);
    Result<Translation> translate(uint64_t va) const;

    RiscvMode mode() const { return mode_; }
    bool svpbmt() const { return svpbmt_; }
    // The leaf bits (everything but the PPN) map() writes for `attrs`.
    static uint64_t leaf_bits(const MapAttrs &attrs, bool svpbmt);

private:
    unsigned levels() const { return riscv_levels(mode_); }
    unsigned shift(unsigned level) const { return 12 + 9 * (levels() - 1 - level); }
    bool leaf_allowed(unsigned level, uint8_t sizes) const;
    bool range_free(uint64_t va, uint64_t size) const;
    // The steps map() would take, without writing: how many table pages it
    // would allocate, or an error when no allowed size fits.
    Result<uint64_t> tables_needed(uint64_t va, uint64_t pa, uint64_t size, uint8_t sizes) const;

    RiscvMode mode_ = RiscvMode::sv39;
    bool svpbmt_ = false;
};

} // namespace kmem
