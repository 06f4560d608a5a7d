// RISC-V Sv39 and Sv48 page tables built from buddy pages in simulated
// physical memory: leaf size choice in both modes, every attribute's entry
// bits (with and without Svpbmt), canonical halves, the walker and the
// entries it must refuse, overlap and bad-input errors, all-or-nothing on
// exhaustion (the buddy left exactly as it was), and the direct map of QEMU
// virt's RAM where the RISC-V kernel puts it.
#include <kmem/boot.h>
#include <kmem/paging_riscv64.h>

#include "hosted_machine.h"
#include "platform/hosted/hosted.h"

#include <gtest/gtest.h>

#include <vector>

namespace kmem {
namespace {

constexpr uint64_t K4 = 4096, M = 1ull << 20, G = 1ull << 30;
// The RISC-V kernel's direct map: the start of Sv39's upper half.
constexpr uint64_t kBase = 0xffffffc000000000ull;
// QEMU virt's RAM starts here.
constexpr uint64_t kVirtRam = 0x80000000ull;
constexpr RiscvMode kModes[] = {RiscvMode::sv39, RiscvMode::sv48};

using RvMachine = test::FlatMachine;

uint64_t *table(uint64_t pa) { return static_cast<uint64_t *>(hosted::Platform::phys_to_virt(pa)); }
uint64_t next(uint64_t entry) { return (entry & kRvPpnMask) >> kRvPpnShift << 12; }

Riscv64PageTables make(RvMachine &m, RiscvMode mode, bool svpbmt = false) {
    Riscv64PageTables pt;
    EXPECT_TRUE(pt.configure(mode, svpbmt).ok());
    EXPECT_TRUE(pt.init(m.a()).ok());
    return pt;
}

TEST(Riscv64PageTables, SatpAndCanonicalAddresses) {
    EXPECT_EQ(riscv_levels(RiscvMode::sv39), 3u);
    EXPECT_EQ(riscv_levels(RiscvMode::sv48), 4u);
    // MODE 8 (Sv39) or 9 (Sv48) in bits 63:60, ASID in 59:44, the root's PPN.
    EXPECT_EQ(riscv_satp(RiscvMode::sv39, 0x80201000), 0x8000'0000'0008'0201ull);
    EXPECT_EQ(riscv_satp(RiscvMode::sv48, 0x80201000, 5), 0x9000'5000'0008'0201ull);
    // Sv39: [0, 2^38) and [2^64 - 2^38, 2^64); Sv48: [0, 2^47) and [2^64 - 2^47, 2^64).
    EXPECT_TRUE(riscv_canonical(RiscvMode::sv39, 0x3fffffffffull));
    EXPECT_FALSE(riscv_canonical(RiscvMode::sv39, 0x4000000000ull));
    EXPECT_FALSE(riscv_canonical(RiscvMode::sv39, 0xffffffbfffffffffull));
    EXPECT_TRUE(riscv_canonical(RiscvMode::sv39, kBase));
    EXPECT_TRUE(riscv_canonical(RiscvMode::sv48, 0x4000000000ull));
    EXPECT_TRUE(riscv_canonical(RiscvMode::sv48, 0x7fffffffffffull));
    EXPECT_FALSE(riscv_canonical(RiscvMode::sv48, 0x800000000000ull));
    EXPECT_TRUE(riscv_canonical(RiscvMode::sv48, 0xffff800000000000ull));
    EXPECT_TRUE(riscv_canonical(RiscvMode::sv48, kBase)) << "one direct-map base serves both modes";
    // The boot layer's choice, whatever the host.
    EXPECT_TRUE(riscv_canonical(RiscvMode::sv39, 0xffffffc000000000ull));
}

TEST(Riscv64PageTables, ConfigureOnlyBeforeInit) {
    RvMachine m(64 * M);
    Riscv64PageTables pt;
    EXPECT_EQ(pt.mode(), RiscvMode::sv39);
    EXPECT_FALSE(pt.svpbmt());
    EXPECT_EQ(pt.configure(static_cast<RiscvMode>(10)).code(), Errc::invalid_argument); // Sv57: not written
    ASSERT_TRUE(pt.configure(RiscvMode::sv48, true).ok());
    ASSERT_TRUE(pt.init(m.a()).ok());
    EXPECT_EQ(pt.mode(), RiscvMode::sv48);
    EXPECT_TRUE(pt.svpbmt());
    EXPECT_EQ(pt.configure(RiscvMode::sv39).code(), Errc::wrong_phase);
    EXPECT_EQ(pt.mode(), RiscvMode::sv48);
    EXPECT_EQ(pt.init(m.a()).code(), Errc::wrong_phase);
}

TEST(Riscv64PageTables, LargestLeafThatFitsInBothModes) {
    for (RiscvMode mode : kModes) {
        SCOPED_TRACE(riscv_levels(mode));
        RvMachine m(64 * M);
        Riscv64PageTables pt = make(m, mode);
        // 1 GiB + 2 MiB + 4 KiB at a 1 GiB-aligned va and pa: one of each.
        ASSERT_TRUE(pt.map(kBase, 4 * G, G + 2 * M + K4).ok());
        EXPECT_EQ(pt.pages_1g(), 1u);
        EXPECT_EQ(pt.pages_2m(), 1u);
        EXPECT_EQ(pt.pages_4k(), 1u);
        EXPECT_EQ(pt.mapped_bytes(), G + 2 * M + K4);
        // Sv39: the root holds the 1 GiB leaf, then a 2 MiB-level and a 4 KiB-level
        // table; Sv48 adds one level above.
        EXPECT_EQ(pt.table_pages(), mode == RiscvMode::sv39 ? 3u : 4u);
        // Table entries are V and the next table's PPN, nothing else (Sv39: the
        // root's entry for the second GiB; Sv48: the root's last entry).
        const uint64_t *root = table(pt.root());
        const uint64_t top = mode == RiscvMode::sv39 ? root[257] : root[511];
        EXPECT_EQ(top & ~kRvPpnMask, kRvValid);

        auto t = pt.translate(kBase + 12345);
        ASSERT_TRUE(t.ok());
        EXPECT_EQ(t.value().pa, 4 * G + 12345);
        EXPECT_EQ(t.value().page_size, G);
        t = pt.translate(kBase + G + 2 * M - 1);
        ASSERT_TRUE(t.ok());
        EXPECT_EQ(t.value().pa, 5 * G + 2 * M - 1);
        EXPECT_EQ(t.value().page_size, 2 * M);
        t = pt.translate(kBase + G + 2 * M + 17);
        ASSERT_TRUE(t.ok());
        EXPECT_EQ(t.value().pa, 5 * G + 2 * M + 17);
        EXPECT_EQ(t.value().page_size, K4);
        EXPECT_EQ(pt.translate(kBase + G + 2 * M + K4).code(), Errc::invalid_argument);
        EXPECT_EQ(pt.translate(kBase - 1).code(), Errc::invalid_argument);
        ASSERT_TRUE(m.a().check().ok());
    }
}

TEST(Riscv64PageTables, MisalignedPhysicalForcesSmallerPages) {
    RvMachine m(64 * M);
    Riscv64PageTables pt = make(m, RiscvMode::sv39);
    // va 1 GiB-aligned but pa only 4 KiB-aligned: every page is 4 KiB.
    ASSERT_TRUE(pt.map(0x40000000, 0x1000, 4 * M).ok());
    EXPECT_EQ(pt.pages_4k(), 1024u);
    EXPECT_EQ(pt.pages_2m() + pt.pages_1g(), 0u);
    EXPECT_EQ(pt.table_pages(), 1u + 1 + 2); // root, one 2 MiB-level table, two 4 KiB-level tables
    for (uint64_t off = 0; off < 4 * M; off += K4 * 97)
        EXPECT_EQ(pt.translate(0x40000000 + off).value().pa, 0x1000 + off);
    // pa 2 MiB- but not 1 GiB-aligned: 2 MiB leaves only.
    ASSERT_TRUE(pt.map(0x80000000, 0x80200000, G).ok());
    EXPECT_EQ(pt.pages_2m(), 512u);
    EXPECT_EQ(pt.pages_1g(), 0u);
    EXPECT_EQ(pt.translate(0x80000000 + G - 1).value().pa, 0x80200000 + G - 1);
}

TEST(Riscv64PageTables, AllowedSizesAreHonoured) {
    RvMachine m(64 * M);
    Riscv64PageTables pt = make(m, RiscvMode::sv48);
    ASSERT_TRUE(pt.map(0, 0, 2 * G, {}, kPage4K | kPage2M).ok());
    EXPECT_EQ(pt.pages_1g(), 0u);
    EXPECT_EQ(pt.pages_2m(), 1024u);
    ASSERT_TRUE(pt.map(4 * G, 4 * G, 4 * M, {}, kPage4K).ok());
    EXPECT_EQ(pt.pages_4k(), 1024u);
    // Only 2 MiB allowed but the range is 4 KiB-aligned: refused, nothing taken.
    const uint64_t free = m.free_pages(), tables = pt.table_pages();
    EXPECT_EQ(pt.map(8 * G, 8 * G + K4, 2 * M, {}, kPage2M).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.map(8 * G, 8 * G, 4 * M, {}, 0).code(), Errc::invalid_argument);
    EXPECT_FALSE(pt.translate(8 * G).ok());
    EXPECT_EQ(pt.table_pages(), tables);
    EXPECT_EQ(m.free_pages(), free);
}

TEST(Riscv64PageTables, EveryAttributeLandsInTheLeaf) {
    struct Case {
        const char *what;
        uint64_t va, pa, size;
        MapAttrs attrs;
        uint64_t entry, entry_svpbmt; // the leaf, worked out by hand, without and with Svpbmt
    };
    // PPN = pa >> 12 in bits 53:10; V 0x1, R 0x2, W 0x4, X 0x8, U 0x10, G 0x20, A 0x40, D 0x80.
    const Case cases[] = {
        // Kernel text, 2 MiB at 0x80200000: PPN 0x80200 << 10 = 0x20080000 | V R X G A D (0xeb).
        {"kernel text", kBase + 0x80200000, 0x80200000, 2 * M,
         {.writable = false, .executable = true, .user = false, .global = true, .cache = CacheMode::write_back},
         0x2008'00ebull, 0x2008'00ebull},
        // Kernel data, 1 GiB at 0x80000000: 0x20000000 | V R W G A D (0xe7).
        {"kernel data", kBase + G, 0x80000000, G,
         {.writable = true, .executable = false, .user = false, .global = true, .cache = CacheMode::write_back},
         0x2000'00e7ull, 0x2000'00e7ull},
        // The NS16550 page at 0x10000000, not global: 0x4000000 | V R W A D (0xc7);
        // with Svpbmt PBMT = IO (2 << 61).
        {"device", kBase + 8 * G, 0x10000000, K4,
         {.writable = true, .executable = false, .user = false, .global = false, .cache = CacheMode::uncached},
         0x400'00c7ull, 0x4000'0000'0400'00c7ull},
        // Write-combining at 0x20000000, global: 0x8000000 | 0xe7; with Svpbmt NC (1 << 61).
        {"write-combining", kBase + 9 * G, 0x20000000, K4,
         {.writable = true, .executable = false, .user = false, .global = true, .cache = CacheMode::write_through},
         0x800'00e7ull, 0x2000'0000'0800'00e7ull},
        // User data at 0x200000 (lower half): 0x80000 | V R W U A D (0xd7).
        {"user data", 0x400000, 0x200000, K4,
         {.writable = true, .executable = false, .user = true, .global = false, .cache = CacheMode::write_back},
         0x8'00d7ull, 0x8'00d7ull},
        // User text at 0x400000: 0x100000 | V R X U A D (0xdb).
        {"user text", 0x401000, 0x400000, K4,
         {.writable = false, .executable = true, .user = true, .global = false, .cache = CacheMode::write_back},
         0x10'00dbull, 0x10'00dbull},
    };
    for (bool svpbmt : {false, true}) {
        SCOPED_TRACE(svpbmt ? "Svpbmt" : "PMAs");
        RvMachine m(64 * M);
        Riscv64PageTables pt = make(m, RiscvMode::sv39, svpbmt);
        for (const Case &c : cases) {
            SCOPED_TRACE(c.what);
            const uint64_t want = svpbmt ? c.entry_svpbmt : c.entry;
            ASSERT_TRUE(pt.map(c.va, c.pa, c.size, c.attrs).ok());
            auto t = pt.translate(c.va);
            ASSERT_TRUE(t.ok());
            EXPECT_EQ(t.value().entry, want) << std::hex << t.value().entry;
            EXPECT_EQ(t.value().page_size, c.size);
            EXPECT_EQ(Riscv64PageTables::leaf_bits(c.attrs, svpbmt), want & ~kRvPpnMask);
        }
    }
    // Each bit on its own, against the defaults (kernel, RW, not executable, not global).
    const uint64_t def = Riscv64PageTables::leaf_bits({}, false);
    EXPECT_EQ(def, kRvValid | kRvRead | kRvWrite | kRvAccessed | kRvDirty);
    EXPECT_EQ(Riscv64PageTables::leaf_bits({.writable = false}, false), def & ~kRvWrite);
    EXPECT_EQ(Riscv64PageTables::leaf_bits({.executable = true}, false), def | kRvExec);
    EXPECT_EQ(Riscv64PageTables::leaf_bits({.user = true}, false), def | kRvUser);
    EXPECT_EQ(Riscv64PageTables::leaf_bits({.global = true}, false), def | kRvGlobal);
    EXPECT_EQ(Riscv64PageTables::leaf_bits({.cache = CacheMode::uncached}, false), def);
    EXPECT_EQ(Riscv64PageTables::leaf_bits({.cache = CacheMode::uncached}, true), def | kRvPbmtIo);
    EXPECT_EQ(Riscv64PageTables::leaf_bits({.cache = CacheMode::write_through}, true), def | kRvPbmtNc);
}

TEST(Riscv64PageTables, WalkerTranslatesEverySizeAndRejectsMalformedEntries) {
    RvMachine m(64 * M);
    Riscv64PageTables pt;
    EXPECT_EQ(pt.translate(0).code(), Errc::wrong_phase);
    ASSERT_TRUE(pt.configure(RiscvMode::sv39).ok());
    ASSERT_TRUE(pt.init(m.a()).ok());
    // One of each size, under separate root entries; every offset inside each.
    ASSERT_TRUE(pt.map(1 * G, 7 * G, G).ok());
    ASSERT_TRUE(pt.map(2 * G, 3 * G + 6 * M, 2 * M).ok());
    ASSERT_TRUE(pt.map(3 * G + 5 * K4, 0x123456000, K4).ok());
    for (uint64_t off : {uint64_t{0}, uint64_t{1}, K4 - 1, K4, 2 * M - 1, G / 2, G - 1}) {
        EXPECT_EQ(pt.translate(G + off).value().pa, 7 * G + off);
        if (off < 2 * M) {
            EXPECT_EQ(pt.translate(2 * G + off).value().pa, 3 * G + 6 * M + off);
        }
        if (off < K4) {
            EXPECT_EQ(pt.translate(3 * G + 5 * K4 + off).value().pa, 0x123456000 + off);
        }
    }
    // Not mapped at each level.
    EXPECT_EQ(pt.translate(4 * G).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.translate(2 * G + 2 * M).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.translate(3 * G + 4 * K4).code(), Errc::invalid_argument);
    // Not canonical: the hole between the halves.
    EXPECT_EQ(pt.translate(uint64_t{1} << 38).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.translate(0x8000000000000000ull).code(), Errc::invalid_argument);

    // Entries the MMU would fault on.
    uint64_t *root = table(pt.root());
    const uint64_t giga = root[1];
    root[1] = (giga & ~kRvRead); // W without R
    EXPECT_EQ(pt.translate(G).code(), Errc::malformed);
    root[1] = giga | (uint64_t{1} << 54); // a reserved bit
    EXPECT_EQ(pt.translate(G).code(), Errc::malformed);
    root[1] = giga | kRvPbmtIo; // PBMT on a CPU without Svpbmt
    EXPECT_EQ(pt.translate(G).code(), Errc::malformed);
    root[1] = giga + (uint64_t{1} << kRvPpnShift); // a 1 GiB leaf at pa 7 GiB + 4 KiB
    EXPECT_EQ(pt.translate(G).code(), Errc::malformed);
    root[1] = giga;
    EXPECT_TRUE(pt.translate(G).ok());
    // A table entry where only leaves may be: the last level.
    uint64_t *pte = table(next(table(next(root[3]))[0]));
    const uint64_t page = pte[5];
    pte[5] = page & ~kRvLeafMask;
    EXPECT_EQ(pt.translate(3 * G + 5 * K4).code(), Errc::malformed);
    EXPECT_EQ(pt.map(3 * G + 5 * K4, 0, K4).code(), Errc::invalid_range) << "malformed reads as taken";
    pte[5] = page;
    EXPECT_TRUE(pt.translate(3 * G + 5 * K4).ok());
}

TEST(Riscv64PageTables, BadInputIsRefusedAndChangesNothing) {
    for (RiscvMode mode : kModes) {
        SCOPED_TRACE(riscv_levels(mode));
        RvMachine m(64 * M);
        Riscv64PageTables pt;
        EXPECT_EQ(pt.map(0, 0, K4).code(), Errc::wrong_phase);
        ASSERT_TRUE(pt.configure(mode).ok());
        ASSERT_TRUE(pt.init(m.a()).ok());
        const uint64_t free = m.free_pages();
        const uint64_t half = uint64_t{1} << (riscv_va_bits(mode) - 1); // the lower half's end
        // Unaligned va, pa, size.
        EXPECT_EQ(pt.map(0x1001, 0, K4).code(), Errc::invalid_argument);
        EXPECT_EQ(pt.map(0, 0x1001, K4).code(), Errc::invalid_argument);
        EXPECT_EQ(pt.map(0, 0, K4 + 1).code(), Errc::invalid_argument);
        // Wrapping past 2^64, in va and in pa.
        EXPECT_EQ(pt.map(0xfffffffffffff000ull, 0, 2 * K4).code(), Errc::invalid_range);
        EXPECT_EQ(pt.map(0, 0xfffffffffffff000ull, 2 * K4).code(), Errc::invalid_range);
        // Into, across and out of the hole between the halves.
        EXPECT_EQ(pt.map(half, 0, K4).code(), Errc::invalid_range);
        EXPECT_EQ(pt.map(half - K4, 0, 2 * K4).code(), Errc::invalid_range);
        EXPECT_EQ(pt.map(0 - half - K4, 0, 2 * K4).code(), Errc::invalid_range);
        EXPECT_EQ(pt.map(0, 0, 0 - half + K4).code(), Errc::invalid_range) << "from one half to the other";
        // Beyond the 56-bit physical address.
        EXPECT_EQ(pt.map(0, kRvPaLimit, K4).code(), Errc::invalid_range);
        EXPECT_EQ(pt.map(0, kRvPaLimit - K4, 2 * K4).code(), Errc::invalid_range);
        EXPECT_EQ(pt.table_pages(), 1u);
        EXPECT_EQ(pt.mapped_bytes(), 0u);
        EXPECT_EQ(m.free_pages(), free);
        // The last page of each half is fine; so is the top of the physical space.
        ASSERT_TRUE(pt.map(half - K4, kRvPaLimit - K4, K4).ok());
        EXPECT_EQ(pt.translate(half - 1).value().pa, kRvPaLimit - 1);
        ASSERT_TRUE(pt.map(0 - K4, 0x5000, K4).ok());
        EXPECT_EQ(pt.translate(~uint64_t{0}).value().pa, 0x5fffu);
        ASSERT_TRUE(pt.map(0 - half, 0x6000, K4).ok());
        EXPECT_EQ(pt.translate(0 - half).value().pa, 0x6000u);
        EXPECT_TRUE(pt.map(0, 0, 0).ok());
    }
}

TEST(Riscv64PageTables, OverlapIsRefusedWithNothingChanged) {
    RvMachine m(64 * M);
    Riscv64PageTables pt = make(m, RiscvMode::sv48);
    ASSERT_TRUE(pt.map(8 * M, 8 * M, 4 * M).ok()); // two 2 MiB leaves
    ASSERT_TRUE(pt.map(2 * G, 2 * G, G).ok());     // a 1 GiB leaf
    ASSERT_TRUE(pt.map(3 * G + 8 * K4, 0, K4).ok()); // one 4 KiB page
    const uint64_t tables = pt.table_pages(), mapped = pt.mapped_bytes(), free = m.free_pages();
    const uint64_t n4 = pt.pages_4k(), n2 = pt.pages_2m(), n1 = pt.pages_1g();
    EXPECT_EQ(pt.map(6 * M, 0, 4 * M).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(10 * M + K4, 0, K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(11 * M, 11 * M, 4 * M).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(2 * G + 5 * M, 0, K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(G, G, 4 * G).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(3 * G, 3 * G, G).code(), Errc::invalid_range); // over the lone page's tables
    EXPECT_EQ(pt.table_pages(), tables);
    EXPECT_EQ(pt.mapped_bytes(), mapped);
    EXPECT_EQ(pt.pages_4k(), n4);
    EXPECT_EQ(pt.pages_2m(), n2);
    EXPECT_EQ(pt.pages_1g(), n1);
    EXPECT_EQ(m.free_pages(), free);
    EXPECT_FALSE(pt.translate(6 * M).ok());
    EXPECT_FALSE(pt.translate(3 * G).ok());
    // Right next to the page, in the same tables: fine, and the tables are reused.
    ASSERT_TRUE(pt.map(3 * G, 3 * G, 8 * K4).ok());
    ASSERT_TRUE(pt.map(3 * G + 9 * K4, 3 * G + 9 * K4, 2 * M - 9 * K4).ok());
    EXPECT_EQ(pt.table_pages(), tables);
    EXPECT_EQ(pt.translate(3 * G + 2 * M - 1).value().pa, 3 * G + 2 * M - 1);
}

TEST(Riscv64PageTables, RunningOutOfTablesChangesNothing) {
    RvMachine m(64 * M);
    Riscv64PageTables pt = make(m, RiscvMode::sv48);
    // 64 MiB in 4 KiB pages in the upper half: a table under the root, one
    // under that, and 32 last-level tables.
    constexpr uint64_t kVa = kBase + 16 * G, kSize = 64 * M, kNeeded = 1 + 1 + 32;
    const uint64_t free = m.free_pages();

    ASSERT_TRUE(m.a().fail_nth_allocation(10).ok()); // the 10th page fails: the 9 taken go back
    EXPECT_EQ(pt.map(kVa, 0, kSize, {}, kPage4K).code(), Errc::no_memory);
    EXPECT_EQ(m.a().injected_failures(), 1u);
    ASSERT_TRUE(m.a().fail_nth_allocation(0).ok());
    EXPECT_EQ(m.free_pages(), free);

    std::vector<uint64_t> held;
    ASSERT_NO_FATAL_FAILURE(m.hold_all_but(4, held));
    EXPECT_EQ(pt.map(kVa, 0, kSize, {}, kPage4K).code(), Errc::no_memory);
    EXPECT_EQ(m.free_pages(), 4u);
    EXPECT_EQ(pt.mapped_bytes(), 0u);
    EXPECT_EQ(pt.table_pages(), 1u);
    for (uint64_t off = 0; off < kSize; off += K4) ASSERT_FALSE(pt.translate(kVa + off).ok());
    for (uint64_t pa : held) ASSERT_TRUE(m.a().free_pages(pa, 0).ok());
    EXPECT_EQ(m.free_pages(), free);

    ASSERT_TRUE(pt.map(kVa, 0, kSize, {}, kPage4K).ok());
    EXPECT_EQ(pt.table_pages(), 1 + kNeeded);
    EXPECT_EQ(m.free_pages(), free - kNeeded);
    EXPECT_EQ(pt.translate(kVa + kSize - 1).value().pa, kSize - 1);
    ASSERT_TRUE(m.a().check().ok());
}

// QEMU virt's RAM ([0x80000000, + ram)) at the RISC-V kernel's direct map.
TEST(Riscv64PageTables, DirectMapOfQemuVirt) {
    struct Case {
        uint64_t ram;
        uint64_t n1g, n2m, n4k, tables_sv39; // Sv48: one table more
    };
    const Case cases[] = {
        {512 * M, 0, 256, 0, 2},  // [2G, 2.5G): 2 MiB leaves; root and one table
        {1025 * M, 1, 0, 256, 3}, // [2G, 3G + 1M): a 1 GiB leaf, 256 pages under two tables
        {2 * G, 2, 0, 0, 1},      // [2G, 4G): two 1 GiB leaves in the root
        {8 * G, 8, 0, 0, 1},      // [2G, 10G)
    };
    for (RiscvMode mode : kModes)
        for (const Case &c : cases) {
            SCOPED_TRACE(c.ram);
            RvMachine m(64 * M);
            Riscv64PageTables pt = make(m, mode);
            const uint64_t free = m.free_pages();
            ASSERT_TRUE(pt.map(kBase + kVirtRam, kVirtRam, c.ram).ok());
            const uint64_t tables = c.tables_sv39 + (mode == RiscvMode::sv48);
            EXPECT_EQ(pt.mapped_bytes(), c.ram);
            EXPECT_EQ(pt.pages_1g(), c.n1g);
            EXPECT_EQ(pt.pages_2m(), c.n2m);
            EXPECT_EQ(pt.pages_4k(), c.n4k);
            EXPECT_EQ(pt.table_pages(), tables);
            EXPECT_EQ(m.free_pages(), free - (tables - 1));
            for (uint64_t pa = kVirtRam; pa < kVirtRam + c.ram; pa += 3 * M + 5 * K4 + 7)
                ASSERT_EQ(pt.translate(kBase + pa).value().pa, pa);
            EXPECT_EQ(pt.translate(kBase + kVirtRam + c.ram - 1).value().pa, kVirtRam + c.ram - 1);
            EXPECT_FALSE(pt.translate(kBase + kVirtRam + c.ram).ok());
            EXPECT_FALSE(pt.translate(kBase + kVirtRam - 1).ok());
            EXPECT_FALSE(pt.translate(kBase).ok()); // the MMIO below RAM
            ASSERT_TRUE(m.a().check().ok());
        }
}

} // namespace
} // namespace kmem
