// Odd ranges, sections and lazy runs: unaligned ranges, holes and single
// pages are managed page-exactly, single pages borrow or grow descriptor
// arrays, and lazy runs across sections are carved one block at a time.
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout,
// never copied from a run. Shared helpers: tests/buddy_test_util.h.
#include <kmem/buddy.h>

#include "buddy_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace kmem {
namespace {

using namespace test;

// ==================================================== odd ranges, sections, lazy

// Proves: ranges whose ends align to no block size, holes between them and
// a one-page range are managed page-exactly: everything can be allocated
// (largest blocks first), no block ever covers a hole or crosses a range
// end, and the pages allocated are exactly the managed pages.
TEST(BuddyRanges, UnalignedRangesHolesAndASinglePage) {
    HostedMachine m;
    const uint64_t P = kPageSize;
    const std::vector<std::pair<uint64_t, uint64_t>> ram = {
        {1 * MiB + 3 * P, 5 * MiB - 5 * P},
        {5 * MiB + P, 5 * MiB + 2 * P}, // one page
        {7 * MiB + 7 * P, 13 * MiB + 3 * P},
        {13 * MiB + 9 * P, 29 * MiB + 31 * P}, // crosses 16 MiB
    };
    for (auto [s, e] : ram) m.add_ram(s, e);
    m.boot_all();
    PhysAllocator &a = m.a();
    uint64_t pages = 0;
    for (auto [s, e] : ram) pages += pfn(e - s);
    const PhysTotals t = a.totals();
    EXPECT_EQ(t.managed + test::in_place_meta_pages(a), pages);
    EXPECT_EQ(t.free, t.managed);
    std::vector<Block> all = grab_all(a, kAllocReserves | kAllocNoPcp);
    uint64_t got = 0;
    for (const Block &b : all) {
        bool inside = false;
        for (auto [s, e] : ram) inside |= b.pa >= s && b.end() <= e;
        EXPECT_TRUE(inside) << std::hex << b.pa << " order " << b.order;
        EXPECT_EQ(b.pa % block_bytes(b.order), 0u);
        for (const test::PfnRange &mr : test::in_place_meta(a))
            EXPECT_FALSE(overlaps(b, mr.start * P, mr.end * P));
        got += uint64_t{1} << b.order;
    }
    EXPECT_EQ(got, t.managed);
    EXPECT_EQ(a.totals().free, 0u);
    // The one-page range was handed out as a single page.
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const Block &b) { return b.pa == 5 * MiB + P; }));
    release(a, all);
    EXPECT_SAME_BOOKS(a.totals(), t);
    ASSERT_BOOKS(a);
}

// Proves: a one-page range in a section that has no descriptor array yet
// borrows one from the buddy (metadata and allocated pages grow by that
// block, the section count by one) and its page is then allocatable and
// freeable on its own node; a one-page range inside a section whose array
// does not cover it makes a new, bigger array and gives the old one back.
TEST(BuddyRanges, SinglePageRangesBorrowOrGrowDescriptorArrays) {
    HostedMachine m;
    m.add_ram(1 * MiB, 64 * MiB);
    m.create(3 * GiB);
    m.boot_all();
    PhysAllocator &a = m.a();
    const PhysTotals t0 = a.totals();

    const uint64_t lone = 2 * GiB + 5 * kPageSize;
    ASSERT_TRUE(HostedMachine::map_window(lone, lone + kPageSize).ok());
    ASSERT_TRUE(a.online_range(lone, lone + kPageSize, 3).ok());
    PhysTotals t1 = a.totals();
    // 1024 descriptors need 2 pages: an order-1 block borrowed from the buddy.
    EXPECT_EQ(t1.managed, t0.managed + 1);
    EXPECT_EQ(t1.sections, t0.sections + 1);
    EXPECT_EQ(t1.metadata_bytes, t0.metadata_bytes + 2 * kPageSize + sizeof(Section));
    EXPECT_EQ(t1.allocated, t0.allocated + 2);
    Result<uint64_t> r = a.alloc_pages(0, kAllocExactNode | kAllocNoPcp, 3);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), lone);
    EXPECT_EQ(a.alloc_pages(0, kAllocExactNode | kAllocReserves, 3).code(), Errc::no_memory);
    ASSERT_TRUE(a.free_pages(lone, 0).ok());
    ASSERT_BOOKS(a);

    // Same section, beyond the array's cover (the array covers one max-order
    // block): the array grows to cover 2 GiB + 8 MiB; the new one (4 pages) is
    // borrowed too, the old one freed.
    const uint64_t far = 2 * GiB + 8 * MiB - kPageSize;
    ASSERT_TRUE(HostedMachine::map_window(far, far + kPageSize).ok());
    ASSERT_TRUE(a.online_range(far, far + kPageSize, 3).ok());
    a.drain_local_pcp();
    const PhysTotals t2 = a.totals();
    EXPECT_EQ(t2.managed, t1.managed + 1);
    EXPECT_EQ(t2.sections, t1.sections);
    EXPECT_EQ(t2.metadata_bytes, t1.metadata_bytes + 2 * kPageSize);
    EXPECT_EQ(t2.allocated, t1.allocated + 4 - 2);
    std::set<uint64_t> got;
    for (int i = 0; i < 2; ++i) {
        Result<uint64_t> p = a.alloc_pages(0, kAllocExactNode | kAllocNoPcp, 3);
        ASSERT_TRUE(p.ok());
        got.insert(p.value());
    }
    EXPECT_EQ(got, (std::set<uint64_t>{lone, far}));
    for (uint64_t p : got) ASSERT_TRUE(a.free_pages(p, 0).ok());
    a.drain_local_pcp();
    ASSERT_BOOKS(a);
}

// Proves: a range spanning several 1 GiB sections (and 4 GiB) is onlined as
// lazy runs (one section entry each, lazy pages counted in Zone.lazy and
// PhysTotals.lazy); allocating max-order blocks beyond what the free lists
// hold carves the runs exactly one block at a time (ZoneStats.carved counts
// them, Zone.lazy drops by 2^kMaxOrder each), and every block lies in the
// range.
TEST(BuddyRanges, LazyRunsAcrossSectionsAreCarvedOnDemand) {
    HostedMachine m;
    const uint64_t s = 4 * GiB - 8 * MiB + 12 * KiB, e = 7 * GiB + 3 * MiB + 4 * KiB;
    m.add_ram(s, e);
    m.boot_all();
    PhysAllocator &a = m.a();
    const PhysTotals t = a.totals();
    EXPECT_EQ(t.sections, 5u); // sections 3 (DMA32 part), 4, 5, 6 and 7
    EXPECT_EQ(t.managed + test::in_place_meta_pages(a), pfn(e - s));
    const Zone &z = a.zone(0, ZoneType::normal);
    EXPECT_GT(z.lazy, 2 * kPagesPerSection);
    EXPECT_EQ(t.lazy, z.lazy + a.zone(0, ZoneType::dma32).lazy);
    EXPECT_EQ(z.stats.carved, 0u);
    const uint64_t listed = z.area[kMaxOrder].blocks;
    const uint64_t lazy0 = z.lazy;
    std::vector<Block> held;
    for (uint64_t i = 0; i < listed + 5; ++i) {
        Result<uint64_t> r = a.alloc_pages(kMaxOrder, kAllocNoPcp);
        ASSERT_TRUE(r.ok());
        EXPECT_GE(r.value(), 4 * GiB);
        EXPECT_LE(r.value() + block_bytes(kMaxOrder), e);
        EXPECT_EQ(r.value() % block_bytes(kMaxOrder), 0u);
        held.push_back({r.value(), kMaxOrder});
    }
    EXPECT_EQ(z.stats.carved, 5u);
    EXPECT_EQ(z.lazy, lazy0 - 5 * kMaxBlockPages);
    EXPECT_EQ(a.totals().lazy, t.lazy - 5 * kMaxBlockPages);
    ASSERT_BOOKS(a);
    release(a, held);
    EXPECT_EQ(a.totals().free, t.free);
    ASSERT_BOOKS(a);
}

// Proves: carving happens for small orders too when the lists are empty, and
// only one max-order block at a time.
TEST(BuddyRanges, SmallAllocationCarvesOneBlock) {
    HostedMachine m;
    m.add_ram(4 * GiB, 5 * GiB);
    m.boot_all();
    PhysAllocator &a = m.a();
    const Zone &z = a.zone(0, ZoneType::normal);
    // Empty the free lists (they hold the eager edges only).
    std::vector<Block> held;
    for (unsigned o = 0; o <= kMaxOrder; ++o)
        while (z.area[o].blocks) {
            Result<uint64_t> r = a.alloc_pages(o, kAllocNoPcp);
            ASSERT_TRUE(r.ok());
            held.push_back({r.value(), o});
        }
    const uint64_t carved = z.stats.carved, lazy = z.lazy;
    ASSERT_GT(lazy, 0u);
    Result<uint64_t> r = a.alloc_pages(0, kAllocNoPcp);
    ASSERT_TRUE(r.ok());
    held.push_back({r.value(), 0});
    EXPECT_EQ(z.stats.carved, carved + 1);
    EXPECT_EQ(z.lazy, lazy - kMaxBlockPages);
    for (unsigned o = 0; o < kMaxOrder; ++o) EXPECT_EQ(z.area[o].blocks, 1u) << o;
    release(a, held);
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
