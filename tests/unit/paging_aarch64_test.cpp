// AArch64 stage-1 translation tables (4 KiB granule, 48-bit VA) built from
// buddy pages in simulated physical memory: block/page size choice, every
// attribute's descriptor bits, the walker, overlap and bad-input errors,
// all-or-nothing on exhaustion (the buddy left exactly as it was), and direct
// maps of QEMU virt's and a Raspberry Pi 4's RAM.
#include <kmem/memmap_parse.h>
#include <kmem/paging_aarch64.h>

#include "hosted_machine.h"
#include "platform/hosted/hosted.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kmem {
namespace {

constexpr uint64_t K4 = 4096, M = 1ull << 20, G = 1ull << 30;
// A lower-half (TTBR0) linear-map base: L0 index 128, 1 GiB-aligned.
constexpr uint64_t kBase = 0x0000400000000000ull;
// QEMU virt's RAM starts here.
constexpr uint64_t kVirtRam = 0x40000000ull;

// A simulated machine with `ram` bytes at [0, ram), all mapped, [1M, ram) online.
using A64Machine = test::FlatMachine;

const uint64_t *table(uint64_t pa) {
    return static_cast<const uint64_t *>(hosted::Platform::phys_to_virt(pa));
}

TEST(Aarch64PageTables, MairAndTcrConstants) {
    // MAIR_EL1: Attr0 (bits 7:0) = 0xFF, Attr1 (15:8) = 0x04, Attr2 (23:16) = 0x44.
    EXPECT_EQ(kAarch64Mair & 0xff, 0xffu);
    EXPECT_EQ((kAarch64Mair >> (8 * kA64MairDevice)) & 0xff, 0x04u);
    EXPECT_EQ((kAarch64Mair >> (8 * kA64MairNormalNc)) & 0xff, 0x44u);
    // TCR_EL1: T0SZ 16 (0x10) | IRGN0 01 (0x100) | ORGN0 01 (0x400) | SH0 11
    // (0x3000) | T1SZ 16 (0x100000) | EPD1 (0x800000) | TG1 10 (0x80000000) |
    // IPS at bits 34:32: cortex-a57 reports PARange 0b0100 (44 bits).
    EXPECT_EQ(aarch64_tcr(4), 0x4'8090'3510ull);
    EXPECT_EQ(aarch64_tcr(5), 0x5'8090'3510ull);
    EXPECT_EQ(aarch64_tcr(6), 0x5'8090'3510ull); // 52-bit PA: capped at 48
}

TEST(Aarch64PageTables, LargestBlockThatFits) {
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    EXPECT_FALSE(pt.ready());
    ASSERT_TRUE(pt.init(m.a()).ok());
    EXPECT_TRUE(pt.ready());
    // 1 GiB + 2 MiB + 4 KiB at a 1 GiB-aligned va and pa: one of each.
    ASSERT_TRUE(pt.map(kBase, 4 * G, G + 2 * M + K4).ok());
    EXPECT_EQ(pt.pages_1g(), 1u);
    EXPECT_EQ(pt.pages_2m(), 1u);
    EXPECT_EQ(pt.pages_4k(), 1u);
    EXPECT_EQ(pt.mapped_bytes(), G + 2 * M + K4);
    // L0 + L1 + L2 + L3
    EXPECT_EQ(pt.table_pages(), 4u);
    // Table descriptors are the next table's address | 0b11 and nothing else.
    const uint64_t l0e = table(pt.root())[kBase >> 39];
    EXPECT_EQ(l0e & ~kA64AddrMask, 0b11u);
    const uint64_t l1e = table(l0e & kA64AddrMask)[1]; // va bits 38:30 = 1: the L2 table
    EXPECT_EQ(l1e & ~kA64AddrMask, 0b11u);

    auto t = pt.translate(kBase + 12345);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().pa, 4 * G + 12345);
    EXPECT_EQ(t.value().page_size, G);
    EXPECT_EQ(t.value().entry & 0b11, 0b01u); // a block
    t = pt.translate(kBase + G + 2 * M - 1);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().pa, 5 * G + 2 * M - 1);
    EXPECT_EQ(t.value().page_size, 2 * M);
    EXPECT_EQ(t.value().entry & 0b11, 0b01u); // a block
    t = pt.translate(kBase + G + 2 * M + 17);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().pa, 5 * G + 2 * M + 17);
    EXPECT_EQ(t.value().page_size, K4);
    EXPECT_EQ(t.value().entry & 0b11, 0b11u); // a page
    EXPECT_EQ(pt.translate(kBase + G + 2 * M + K4).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.translate(kBase - 1).code(), Errc::invalid_argument);
    ASSERT_TRUE(m.a().check().ok());
}

TEST(Aarch64PageTables, MisalignedPhysicalForcesSmallerPages) {
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    // va 1 GiB-aligned but pa only 4 KiB-aligned: every page is 4 KiB.
    ASSERT_TRUE(pt.map(0x40000000, 0x1000, 4 * M).ok());
    EXPECT_EQ(pt.pages_4k(), 1024u);
    EXPECT_EQ(pt.pages_2m() + pt.pages_1g(), 0u);
    EXPECT_EQ(pt.table_pages(), 1u + 1 + 1 + 2); // L0, L1, L2, two L3
    for (uint64_t off = 0; off < 4 * M; off += K4 * 97)
        EXPECT_EQ(pt.translate(0x40000000 + off).value().pa, 0x1000 + off);
    // pa 2 MiB- but not 1 GiB-aligned: 2 MiB blocks only.
    ASSERT_TRUE(pt.map(0x80000000, 0x80200000, G).ok());
    EXPECT_EQ(pt.pages_2m(), 512u);
    EXPECT_EQ(pt.pages_1g(), 0u);
    EXPECT_EQ(pt.translate(0x80000000 + G - 1).value().pa, 0x80200000 + G - 1);
}

TEST(Aarch64PageTables, AllowedSizesAreHonoured) {
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    ASSERT_TRUE(pt.map(0, 0, 2 * G, {}, kPage4K | kPage2M).ok());
    EXPECT_EQ(pt.pages_1g(), 0u);
    EXPECT_EQ(pt.pages_2m(), 1024u);
    ASSERT_TRUE(pt.map(4 * G, 4 * G, 4 * M, {}, kPage4K).ok());
    EXPECT_EQ(pt.pages_4k(), 1024u);
    EXPECT_EQ(pt.pages_2m(), 1024u);
    // Only 2 MiB blocks allowed but the range is 4 KiB-aligned: refused, and
    // nothing is taken from the buddy.
    const uint64_t free = m.free_pages(), tables = pt.table_pages();
    EXPECT_EQ(pt.map(8 * G, 8 * G + K4, 2 * M, {}, kPage2M).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.map(8 * G, 8 * G, 4 * M, {}, 0).code(), Errc::invalid_argument);
    EXPECT_FALSE(pt.translate(8 * G).ok()); // nothing left behind
    EXPECT_EQ(pt.table_pages(), tables);
    EXPECT_EQ(m.free_pages(), free);
}

TEST(Aarch64PageTables, EveryAttributeLandsInTheLeaf) {
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    struct Case {
        const char *what;
        uint64_t va, pa, size;
        MapAttrs attrs;
        uint64_t entry; // the leaf descriptor, worked out by hand
    };
    const Case cases[] = {
        // Kernel text, 2 MiB block: pa 0x1000000 | UXN (1 << 54) | AF 0x400 |
        // SH 0x300 | AP[2] read-only 0x80 | AttrIndx 0 | block 0b01; global:
        // nG clear; executable: PXN clear.
        {"kernel text", kBase + 16 * M, 16 * M, 2 * M,
         {.writable = false, .executable = true, .user = false, .global = true,
          .cache = CacheMode::write_back},
         0x0040'0000'0100'0781ull},
        // Kernel data, 1 GiB block: pa 0x40000000 | UXN | PXN | AF | SH | AP 00 |
        // block: 0x701.
        {"kernel data", kBase + G, G, G,
         {.writable = true, .executable = false, .user = false, .global = true,
          .cache = CacheMode::write_back},
         0x0060'0000'4000'0701ull},
        // PL011 MMIO, 4 KiB page: pa 0x09000000 | UXN | PXN | nG 0x800 | AF 0x400 |
        // SH 0x300 | AttrIndx 1 (Device-nGnRE) 0x4 | page 0b11 = 0xf07.
        {"device", kBase + 512 * G - 2 * M, 0x09000000, K4,
         {.writable = true, .executable = false, .user = false, .global = false,
          .cache = CacheMode::uncached},
         0x0060'0000'0900'0f07ull},
        // Framebuffer, 4 KiB page: AttrIndx 2 (Normal non-cacheable) 0x8 | AF |
        // SH | page = 0x70b; global; UXN | PXN.
        {"write-combining", kBase + 512 * G - M, 0x10000000, K4,
         {.writable = true, .executable = false, .user = false, .global = true,
          .cache = CacheMode::write_through},
         0x0060'0000'1000'070bull},
        // User data, 4 KiB page: AP[1] EL0 access 0x40 | nG | AF | SH | page =
        // 0xf43; EL1 never executes user memory (PXN) and not executable (UXN).
        {"user data", 0x400000, 0x200000, K4,
         {.writable = true, .executable = false, .user = true, .global = false,
          .cache = CacheMode::write_back},
         0x0060'0000'0020'0f43ull},
        // User text, 4 KiB page: AP 11 (read-only, EL0) 0xc0 | nG | AF | SH |
        // page = 0xfc3; executable at EL0: UXN clear, PXN set.
        {"user text", 0x401000, 0x400000, K4,
         {.writable = false, .executable = true, .user = true, .global = false,
          .cache = CacheMode::write_back},
         0x0020'0000'0040'0fc3ull},
        // Kernel, executable and writable, 2 MiB block (early boot identity map):
        // UXN | AF | SH | block = 0x701.
        {"kernel rwx", 0x40200000, 0x40200000, 2 * M,
         {.writable = true, .executable = true, .user = false, .global = true,
          .cache = CacheMode::write_back},
         0x0040'0000'4020'0701ull},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.what);
        ASSERT_TRUE(pt.map(c.va, c.pa, c.size, c.attrs).ok());
        auto t = pt.translate(c.va);
        ASSERT_TRUE(t.ok());
        EXPECT_EQ(t.value().entry, c.entry) << std::hex << t.value().entry;
        EXPECT_EQ(t.value().page_size, c.size);
        EXPECT_EQ(Aarch64PageTables::leaf_attributes(c.attrs),
                  c.entry & ~kA64AddrMask & ~uint64_t{0b11});
    }
    // Each bit on its own, against the defaults (kernel, RW, not executable,
    // not global, write-back): AF | SH | nG | PXN | UXN | MAIR 0.
    const uint64_t def = Aarch64PageTables::leaf_attributes({});
    EXPECT_EQ(def, kA64Af | kA64ShInner | kA64NotGlobal | kA64Pxn | kA64Uxn);
    EXPECT_EQ(Aarch64PageTables::leaf_attributes({.writable = false}), def | kA64ApReadOnly);
    EXPECT_EQ(Aarch64PageTables::leaf_attributes({.executable = true}), def & ~kA64Pxn);
    EXPECT_EQ(Aarch64PageTables::leaf_attributes({.user = true}), def | kA64ApUser);
    EXPECT_EQ(Aarch64PageTables::leaf_attributes({.executable = true, .user = true}),
              (def | kA64ApUser) & ~kA64Uxn);
    EXPECT_EQ(Aarch64PageTables::leaf_attributes({.global = true}), def & ~kA64NotGlobal);
    EXPECT_EQ(Aarch64PageTables::leaf_attributes({.cache = CacheMode::uncached}),
              def | (uint64_t{kA64MairDevice} << kA64AttrIndxShift));
    EXPECT_EQ(Aarch64PageTables::leaf_attributes({.cache = CacheMode::write_through}),
              def | (uint64_t{kA64MairNormalNc} << kA64AttrIndxShift));
}

TEST(Aarch64PageTables, WalkerTranslatesEverySizeAndRejectsMalformedTables) {
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    EXPECT_EQ(pt.translate(0).code(), Errc::wrong_phase);
    ASSERT_TRUE(pt.init(m.a()).ok());
    // One of each size, in separate L0 entries; every offset inside each.
    ASSERT_TRUE(pt.map(1 * (1ull << 39), 7 * G, G).ok());
    ASSERT_TRUE(pt.map(2 * (1ull << 39), 3 * G + 6 * M, 2 * M).ok());
    ASSERT_TRUE(pt.map(3 * (1ull << 39) + 5 * K4, 0x123456000, K4).ok());
    for (uint64_t off : {uint64_t{0}, uint64_t{1}, K4 - 1, K4, 2 * M - 1, G / 2, G - 1}) {
        auto t = pt.translate((1ull << 39) + off);
        ASSERT_TRUE(t.ok());
        EXPECT_EQ(t.value().pa, 7 * G + off);
        EXPECT_EQ(t.value().page_size, G);
        if (off < 2 * M) {
            t = pt.translate(2 * (1ull << 39) + off);
            ASSERT_TRUE(t.ok());
            EXPECT_EQ(t.value().pa, 3 * G + 6 * M + off);
            EXPECT_EQ(t.value().page_size, 2 * M);
        }
        if (off < K4) {
            t = pt.translate(3 * (1ull << 39) + 5 * K4 + off);
            ASSERT_TRUE(t.ok());
            EXPECT_EQ(t.value().pa, 0x123456000 + off);
            EXPECT_EQ(t.value().page_size, K4);
        }
    }
    // Not mapped at each level: an empty L0 entry, L1 entry, L2 entry, L3 entry.
    EXPECT_EQ(pt.translate(4 * (1ull << 39)).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.translate((1ull << 39) + G).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.translate(2 * (1ull << 39) + 2 * M).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.translate(3 * (1ull << 39) + 4 * K4).code(), Errc::invalid_argument);
    // Beyond the TTBR0 range (and the TTBR1 half) the walker refuses.
    EXPECT_EQ(pt.translate(kA64VaLimit).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.translate(0xffff000000000000ull).code(), Errc::invalid_argument);
    // Descriptors the MMU would fault on: a block at L0, type 0b01 at L3.
    uint64_t *l0 = static_cast<uint64_t *>(hosted::Platform::phys_to_virt(pt.root()));
    l0[5] = 0x8000000000ull | kA64Af | 0b01;
    EXPECT_EQ(pt.translate(5 * (1ull << 39)).code(), Errc::malformed);
    EXPECT_EQ(pt.map(5 * (1ull << 39) + G, 0, K4).code(), Errc::invalid_range);
    l0[5] = 0;
    const uint64_t l1 = l0[3] & kA64AddrMask;
    const uint64_t l2 = table(l1)[0] & kA64AddrMask;
    uint64_t *l3 = static_cast<uint64_t *>(hosted::Platform::phys_to_virt(table(l2)[0] & kA64AddrMask));
    l3[5] = (l3[5] & ~uint64_t{0b11}) | 0b01;
    EXPECT_EQ(pt.translate(3 * (1ull << 39) + 5 * K4).code(), Errc::malformed);
    l3[5] |= 0b11;
    EXPECT_TRUE(pt.translate(3 * (1ull << 39) + 5 * K4).ok());
}

TEST(Aarch64PageTables, BadInputIsRefusedAndChangesNothing) {
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    EXPECT_EQ(pt.map(0, 0, K4).code(), Errc::wrong_phase);
    ASSERT_TRUE(pt.init(m.a()).ok());
    EXPECT_EQ(pt.init(m.a()).code(), Errc::wrong_phase);
    const uint64_t free = m.free_pages();
    // Unaligned va, pa, size.
    EXPECT_EQ(pt.map(0x1001, 0, K4).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.map(0, 0x1001, K4).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.map(0, 0, K4 + 1).code(), Errc::invalid_argument);
    // Wrapping past 2^64, in va and in pa.
    EXPECT_EQ(pt.map(0xfffffffffffff000ull, 0, 2 * K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(0, 0xfffffffffffff000ull, 2 * K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(K4, 0, 0xfffffffffffff000ull).code(), Errc::invalid_range); // ends at 2^64
    // Beyond the 48-bit TTBR0 range: at, across, and the TTBR1 half.
    EXPECT_EQ(pt.map(kA64VaLimit, 0, K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(kA64VaLimit - K4, 0, 2 * K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(0xffff000000000000ull, 0, K4).code(), Errc::invalid_range);
    // Beyond the 48-bit output address the descriptors hold.
    EXPECT_EQ(pt.map(0, kA64PaLimit, K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(0, kA64PaLimit - K4, 2 * K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(0, kPhysAddrLimit - K4, K4).code(), Errc::invalid_range); // x86's 52 bits
    EXPECT_EQ(pt.table_pages(), 1u);
    EXPECT_EQ(pt.mapped_bytes(), 0u);
    EXPECT_EQ(m.free_pages(), free);
    // The last page of each is fine; an empty range is a no-op.
    ASSERT_TRUE(pt.map(kA64VaLimit - K4, kA64PaLimit - K4, K4).ok());
    EXPECT_EQ(pt.translate(kA64VaLimit - 1).value().pa, kA64PaLimit - 1);
    EXPECT_TRUE(pt.map(0, 0, 0).ok());
    EXPECT_TRUE(pt.map(kA64VaLimit - K4, 0, 0).ok());
}

TEST(Aarch64PageTables, OverlapIsRefusedWithNothingChanged) {
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    ASSERT_TRUE(pt.map(8 * M, 8 * M, 4 * M).ok());       // two 2 MiB blocks
    ASSERT_TRUE(pt.map(2 * G, 2 * G, G).ok());             // a 1 GiB block
    ASSERT_TRUE(pt.map(3 * G + 8 * K4, 0, K4).ok());       // one 4 KiB page
    const uint64_t tables = pt.table_pages(), mapped = pt.mapped_bytes(), free = m.free_pages();
    const uint64_t n4 = pt.pages_4k(), n2 = pt.pages_2m(), n1 = pt.pages_1g();
    // Overlaps [8M, 12M) from below, from inside, from above.
    EXPECT_EQ(pt.map(6 * M, 0, 4 * M).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(10 * M + K4, 0, K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(11 * M, 11 * M, 4 * M).code(), Errc::invalid_range);
    // A page inside the 1 GiB block, and a range that covers it.
    EXPECT_EQ(pt.map(2 * G + 5 * M, 0, K4).code(), Errc::invalid_range);
    EXPECT_EQ(pt.map(G, G, 4 * G).code(), Errc::invalid_range);
    // A 1 GiB block over the lone page (the L2 and L3 tables under it hold it).
    EXPECT_EQ(pt.map(3 * G, 3 * G, G).code(), Errc::invalid_range);
    EXPECT_EQ(pt.table_pages(), tables);
    EXPECT_EQ(pt.mapped_bytes(), mapped);
    EXPECT_EQ(pt.pages_4k(), n4);
    EXPECT_EQ(pt.pages_2m(), n2);
    EXPECT_EQ(pt.pages_1g(), n1);
    EXPECT_EQ(m.free_pages(), free);
    EXPECT_FALSE(pt.translate(6 * M).ok());
    EXPECT_FALSE(pt.translate(3 * G).ok());
    EXPECT_EQ(pt.translate(3 * G + 8 * K4).value().pa, 0u);
    // Right next to the page, in the same tables: fine, and the existing
    // tables are reused (a leaf never replaces a table).
    ASSERT_TRUE(pt.map(3 * G, 3 * G, 8 * K4).ok());
    ASSERT_TRUE(pt.map(3 * G + 9 * K4, 3 * G + 9 * K4, 2 * M - 9 * K4).ok());
    EXPECT_EQ(pt.table_pages(), tables);
    EXPECT_EQ(pt.pages_2m(), n2);
    EXPECT_EQ(pt.translate(3 * G + 2 * M - 1).value().pa, 3 * G + 2 * M - 1);
}

TEST(Aarch64PageTables, RunningOutOfTablesChangesNothing) {
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    // A 4 KiB mapping of 64 MiB at 16 GiB needs an L1, an L2 and 32 L3 tables.
    constexpr uint64_t kVa = 16 * G, kSize = 64 * M, kNeeded = 1 + 1 + 32;
    const uint64_t free = m.free_pages();

    // The buddy fails the 10th page: the 9 taken go back, nothing is written.
    ASSERT_TRUE(m.a().fail_nth_allocation(10).ok());
    EXPECT_EQ(pt.map(kVa, 0, kSize, {}, kPage4K).code(), Errc::no_memory);
    EXPECT_EQ(m.a().injected_failures(), 1u);
    ASSERT_TRUE(m.a().fail_nth_allocation(0).ok());
    EXPECT_EQ(m.free_pages(), free);

    // The buddy nearly empty: the first table page fails.
    std::vector<uint64_t> held;
    ASSERT_NO_FATAL_FAILURE(m.hold_all_but(4, held));
    const uint64_t few = m.free_pages();
    EXPECT_EQ(few, 4u);
    EXPECT_EQ(pt.map(kVa, 0, kSize, {}, kPage4K).code(), Errc::no_memory);
    EXPECT_EQ(m.free_pages(), few);

    EXPECT_EQ(pt.mapped_bytes(), 0u);
    EXPECT_EQ(pt.pages_4k(), 0u);
    EXPECT_EQ(pt.table_pages(), 1u);
    for (uint64_t off = 0; off < kSize; off += K4) ASSERT_FALSE(pt.translate(kVa + off).ok());
    for (uint64_t pa : held) ASSERT_TRUE(m.a().free_pages(pa, 0).ok());
    EXPECT_EQ(m.free_pages(), free);
    ASSERT_TRUE(m.a().check().ok());

    // With memory back, the same mapping takes exactly the counted pages.
    ASSERT_TRUE(pt.map(kVa, 0, kSize, {}, kPage4K).ok());
    EXPECT_EQ(pt.table_pages(), 1 + kNeeded);
    EXPECT_EQ(m.free_pages(), free - kNeeded);
    EXPECT_EQ(pt.pages_4k(), kSize / K4);
    EXPECT_EQ(pt.translate(kVa + kSize - 1).value().pa, kSize - 1);
    ASSERT_TRUE(m.a().check().ok());
}

// The linear map of QEMU virt's RAM ([0x40000000, + ram)) at kBase + pa.
struct VirtCase {
    uint64_t ram;
    uint64_t n1g, n2m, n4k, tables;
};

TEST(Aarch64PageTables, DirectMapOfQemuVirt) {
    const VirtCase cases[] = {
        {512 * M, 0, 256, 0, 3},   // [1G, 1.5G): 2 MiB blocks; L0, L1, L2
        {1025 * M, 1, 0, 256, 4},  // [1G, 2G + 1M): one 1 GiB block, 256 pages; + L3
        {2 * G, 2, 0, 0, 2},       // [1G, 3G): two 1 GiB blocks; L0, L1
        {8 * G, 8, 0, 0, 2},       // [1G, 9G)
    };
    for (const VirtCase &c : cases) {
        SCOPED_TRACE(c.ram);
        static StaticMemoryMap<> map;
        map.clear();
        ASSERT_TRUE(map.add(kVirtRam, kVirtRam + c.ram, MemType::usable).ok());
        A64Machine m(64 * M);
        Aarch64PageTables pt;
        ASSERT_TRUE(pt.init(m.a()).ok());
        const uint64_t free = m.free_pages();
        for (const MemRange &r : map)
            ASSERT_TRUE(pt.map(kBase + r.start, r.start, r.size()).ok());
        EXPECT_EQ(pt.mapped_bytes(), c.ram);
        EXPECT_EQ(pt.pages_1g(), c.n1g);
        EXPECT_EQ(pt.pages_2m(), c.n2m);
        EXPECT_EQ(pt.pages_4k(), c.n4k);
        EXPECT_EQ(pt.table_pages(), c.tables);
        EXPECT_EQ(m.free_pages(), free - (c.tables - 1));
        for (uint64_t pa = kVirtRam; pa < kVirtRam + c.ram; pa += 3 * M + 5 * K4 + 7) {
            auto t = pt.translate(kBase + pa);
            ASSERT_TRUE(t.ok());
            EXPECT_EQ(t.value().pa, pa);
        }
        EXPECT_EQ(pt.translate(kBase + kVirtRam + c.ram - 1).value().pa, kVirtRam + c.ram - 1);
        EXPECT_FALSE(pt.translate(kBase + kVirtRam + c.ram).ok());
        EXPECT_FALSE(pt.translate(kBase + kVirtRam - 1).ok());
        EXPECT_FALSE(pt.translate(kBase).ok()); // the flash and MMIO below RAM
        ASSERT_TRUE(m.a().check().ok());
    }
}

// A real arm64 board's RAM layout (Raspberry Pi 4, 8 GiB, from the device tree).
TEST(Aarch64PageTables, DirectMapOfARaspberryPi4) {
    static StaticMemoryMap<> map;
    const std::string text = test::read_file(test::data_path("memmaps/rpi4-8g-arm64-dt-layout.txt"));
    ASSERT_TRUE(parse_linux_text(text.data(), text.size(), map).ok());
    A64Machine m(64 * M);
    Aarch64PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    uint64_t ram = 0;
    for (const MemRange &r : map) {
        if (r.type != MemType::usable) continue;
        ASSERT_TRUE(pt.map(kBase + r.start, r.start, r.size()).ok());
        ram += r.size();
    }
    EXPECT_EQ(pt.mapped_bytes(), ram);
    EXPECT_EQ(ram, 8443133952u);
    // [0, 0x3b400000): 474 2M; [1G, 0xfc000000): 2 1G + 480 2M; [4G, 8G): 4 1G.
    EXPECT_EQ(pt.pages_1g(), 6u);
    EXPECT_EQ(pt.pages_2m(), 954u);
    EXPECT_EQ(pt.pages_4k(), 0u);
    EXPECT_EQ(pt.table_pages(), 4u); // L0, L1, the L2s of [0, 1G) and [3G, 4G)
    for (const MemRange &r : map) {
        if (r.type != MemType::usable) {
            EXPECT_FALSE(pt.translate(kBase + r.start).ok());
            continue;
        }
        for (uint64_t pa : {r.start, r.start + r.size() / 2, r.end - 1})
            EXPECT_EQ(pt.translate(kBase + pa).value().pa, pa);
    }
    EXPECT_FALSE(pt.translate(kBase + 0x3b400000).ok());
    ASSERT_TRUE(m.a().check().ok());
}

} // namespace
} // namespace kmem
