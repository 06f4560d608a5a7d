// x86_64 page tables built from buddy pages in simulated physical memory:
// page-size choice, attributes, the walker, overlap and bad-input errors,
// all-or-nothing on exhaustion, and a direct map of a real machine's RAM.
#include <kmem/memmap_parse.h>
#include <kmem/paging.h>

#include "hosted_machine.h"
#include "platform/hosted/hosted.h"
#include "test_util.h"

#include <gtest/gtest.h>


namespace kmem {
namespace {

constexpr uint64_t M = 1ull << 20, G = 1ull << 30;

// A simulated machine with `ram` bytes at [0, ram), all mapped, [1M, ram) online.
using Machine = test::FlatMachine;

TEST(PageTables, LargestPageSizeThatFits) {
    Machine m(64 * M);
    PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    // 1 GiB + 2 MiB + 4 KiB at a 1 GiB-aligned va and pa: one of each.
    ASSERT_TRUE(pt.map(kDirectMapBase, 4 * G, G + 2 * M + 4096).ok());
    EXPECT_EQ(pt.pages_1g(), 1u);
    EXPECT_EQ(pt.pages_2m(), 1u);
    EXPECT_EQ(pt.pages_4k(), 1u);
    // root + PDPT + PD + PT
    EXPECT_EQ(pt.table_pages(), 4u);
    auto t = pt.translate(kDirectMapBase + 12345);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().pa, 4 * G + 12345);
    EXPECT_EQ(t.value().page_size, G);
    t = pt.translate(kDirectMapBase + G + 2 * M + 17);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().pa, 5 * G + 2 * M + 17);
    EXPECT_EQ(t.value().page_size, 4096u);
    EXPECT_FALSE(pt.translate(kDirectMapBase + G + 2 * M + 4096).ok());
}

TEST(PageTables, MisalignedPhysicalForcesSmallerPages) {
    Machine m(64 * M);
    PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    // va 1 GiB-aligned but pa only 4 KiB-aligned: every page is 4 KiB.
    ASSERT_TRUE(pt.map(0x40000000, 0x1000, 4 * M).ok());
    EXPECT_EQ(pt.pages_4k(), 1024u);
    EXPECT_EQ(pt.pages_2m() + pt.pages_1g(), 0u);
    for (uint64_t off = 0; off < 4 * M; off += 4096 * 97)
        EXPECT_EQ(pt.translate(0x40000000 + off).value().pa, 0x1000 + off);
}

TEST(PageTables, AllowedSizesAreHonoured) {
    Machine m(64 * M);
    PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    ASSERT_TRUE(pt.map(0, 0, 2 * G, {}, kPage4K | kPage2M).ok());
    EXPECT_EQ(pt.pages_1g(), 0u);
    EXPECT_EQ(pt.pages_2m(), 1024u);
    // Only 2 MiB pages allowed but the range is 4 KiB-aligned: refused.
    EXPECT_EQ(pt.map(4 * G, 4 * G + 4096, 2 * M, {}, kPage2M).code(), Errc::invalid_argument);
    EXPECT_FALSE(pt.translate(4 * G).ok()); // nothing left behind
}

TEST(PageTables, AttributesLandInTheLeaf) {
    Machine m(64 * M);
    PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    MapAttrs ro_exec{.writable = false, .executable = true, .user = false, .global = true,
                     .cache = CacheMode::write_back};
    ASSERT_TRUE(pt.map(0xffffffff80000000, 16 * M, 2 * M, ro_exec).ok());
    uint64_t e = pt.translate(0xffffffff80000000).value().entry;
    EXPECT_TRUE(e & kPtePresent);
    EXPECT_FALSE(e & kPteWrite);
    EXPECT_FALSE(e & kPteNx);
    EXPECT_TRUE(e & kPteGlobal);
    EXPECT_TRUE(e & kPteHuge);
    MapAttrs mmio{.writable = true, .executable = false, .user = false, .global = false,
                  .cache = CacheMode::uncached};
    ASSERT_TRUE(pt.map(0xffffc90000000000, 0xfee00000, 4096, mmio).ok());
    e = pt.translate(0xffffc90000000000).value().entry;
    EXPECT_TRUE(e & kPteNx);
    EXPECT_TRUE(e & kPtePcd);
    EXPECT_TRUE(e & kPtePwt);
    EXPECT_TRUE(e & kPteWrite);
}

TEST(PageTables, BadInputIsRefusedAndChangesNothing) {
    Machine m(64 * M);
    PageTables pt;
    EXPECT_EQ(pt.map(0, 0, 4096).code(), Errc::wrong_phase);
    ASSERT_TRUE(pt.init(m.a()).ok());
    EXPECT_EQ(pt.init(m.a()).code(), Errc::wrong_phase);
    EXPECT_EQ(pt.map(0x1001, 0, 4096).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.map(0, 0x1001, 4096).code(), Errc::invalid_argument);
    EXPECT_EQ(pt.map(0x0000800000000000, 0, 4096).code(), Errc::invalid_range); // non-canonical
    EXPECT_EQ(pt.map(0x00007ffffffff000, 0, 8192).code(), Errc::invalid_range); // crosses the hole
    EXPECT_EQ(pt.map(0, kPhysAddrLimit - 4096, 8192).code(), Errc::invalid_range);
    ASSERT_TRUE(pt.map(8 * M, 8 * M, 4 * M).ok());
    const uint64_t tables = pt.table_pages(), mapped = pt.mapped_bytes();
    EXPECT_EQ(pt.map(6 * M, 0, 4 * M).code(), Errc::invalid_range); // overlaps [8M, 12M)
    EXPECT_EQ(pt.table_pages(), tables);
    EXPECT_EQ(pt.mapped_bytes(), mapped);
    EXPECT_FALSE(pt.translate(6 * M).ok());
    EXPECT_EQ(pt.translate(0x0000800000000000).code(), Errc::invalid_argument);
}

TEST(PageTables, RunningOutOfTablesUndoesTheMapping) {
    Machine m(64 * M);
    PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    // Take every free page but a few, then ask for a 4 KiB mapping of 64 MiB
    // (32 page tables): it must fail and leave no page mapped.
    std::vector<uint64_t> held;
    ASSERT_NO_FATAL_FAILURE(m.hold_all_but(4, held));
    m.a().drain_local_pcp();
    Status s = pt.map(16 * G, 0, 64 * M, {}, kPage4K);
    EXPECT_EQ(s.code(), Errc::no_memory);
    EXPECT_EQ(pt.mapped_bytes(), 0u);
    EXPECT_EQ(pt.pages_4k(), 0u);
    for (uint64_t off = 0; off < 64 * M; off += 4096) ASSERT_FALSE(pt.translate(16 * G + off).ok());
    for (uint64_t pa : held) ASSERT_TRUE(m.a().free_pages(pa, 0).ok());
    ASSERT_TRUE(m.a().check().ok());
}

// The direct map of a real 8 GiB machine's RAM, as boot builds it.
TEST(PageTables, DirectMapOfARealMachine) {
    static StaticMemoryMap<> map;
    const std::string text = test::read_file(test::data_path("memmaps/qemu-q35-seabios-8g.txt"));
    ASSERT_TRUE(parse_linux_text(text.data(), text.size(), map).ok());
    Machine m(64 * M);
    PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    uint64_t ram = 0;
    for (const MemRange &r : map) {
        if (r.type != MemType::usable) continue;
        ASSERT_TRUE(pt.map(kDirectMapBase + r.start, r.start, r.size()).ok());
        ram += r.size();
    }
    EXPECT_EQ(pt.mapped_bytes(), ram);
    // 8 GiB: [0, 0x9f000) 4K pages, [1M, 2G-0x22000) mostly 2M, [4G, 10G) 1G pages.
    EXPECT_EQ(pt.pages_1g(), 6u);
    EXPECT_LE(pt.table_pages(), 8u);
    for (const MemRange &r : map) {
        if (r.type != MemType::usable) {
            EXPECT_FALSE(pt.translate(kDirectMapBase + r.start).ok());
            continue;
        }
        for (uint64_t pa : {r.start, r.start + r.size() / 2, r.end - 1})
            EXPECT_EQ(pt.translate(kDirectMapBase + pa).value().pa, pa);
    }
    ASSERT_TRUE(m.a().check().ok());
}

// An undone mapping leaves its (empty) tables; a later large mapping over
// them goes down into them instead of overwriting the entry and losing the
// table's page.
TEST(PageTables, EmptyTablesLeftByAnUndoAreReused) {
    Machine m(64 * M);
    PageTables pt;
    ASSERT_TRUE(pt.init(m.a()).ok());
    const uint64_t allocated = m.a().totals().allocated;
    ASSERT_TRUE(m.a().fail_nth_allocation(3).ok()); // PDPT, PD, then the PT fails
    EXPECT_EQ(pt.map(4 * G, 4 * G, 8 * M, {}, kPage4K).code(), Errc::no_memory);
    EXPECT_EQ(pt.table_pages(), 3u) << "root, PDPT and PD stay, empty";
    ASSERT_TRUE(pt.map(4 * G, 4 * G, G).ok());
    EXPECT_EQ(pt.pages_1g(), 0u) << "the empty PD is reused, not overwritten";
    EXPECT_EQ(pt.pages_2m(), 512u);
    EXPECT_EQ(pt.table_pages(), 3u);
    EXPECT_EQ(m.a().totals().allocated - allocated, pt.table_pages() - 1) << "every table page is reachable";
    auto t = pt.translate(4 * G + 3 * M + 5);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().pa, 4 * G + 3 * M + 5);
}

} // namespace
} // namespace kmem
