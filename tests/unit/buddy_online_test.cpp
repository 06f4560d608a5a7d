// The buddy allocator coming up: bootstrap onlines exactly the RAM inside
// the early window (and reserves the map's kernel ranges), online_map_ranges
// onlines the rest, and online_range refuses every bad range.
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout,
// never copied from a run. Shared helpers: tests/buddy_test_util.h.
#include <kmem/buddy.h>

#include "buddy_test_util.h"

#include <gtest/gtest.h>

#include <vector>

namespace kmem {
namespace {

using namespace test;

// =================================================================== online

// Proves: bootstrap onlines exactly the RAM inside the window (nothing above
// it is online, allocatable or freeable), the descriptor arrays are the only
// pages of the window that are not managed, and online_map_ranges later
// onlines exactly the rest (including the part of a range that crossed the
// window's end, whose section's descriptor array is then moved and the old
// one given back). A second bootstrap is refused.
TEST(BuddyOnline, BootstrapOnlinesOnlyTheWindowThenTheRest) {
    HostedMachine m;
    m.add_ram(0x1000, 0x9f000);
    m.add_ram(1 * MiB, 512 * MiB);
    m.add_ram(4 * GiB, 4 * GiB + 128 * MiB);
    ASSERT_TRUE(m.boot(256 * MiB).ok());
    PhysAllocator &a = m.a();

    const MemoryMap &on = a.online_map();
    ASSERT_EQ(on.size(), 2u);
    EXPECT_EQ(on[0].start, 0x1000u);
    EXPECT_EQ(on[0].end, 0x9f000u);
    EXPECT_EQ(on[1].start, 1 * MiB);
    EXPECT_EQ(on[1].end, 256 * MiB);
    PhysTotals t = a.totals();
    const uint64_t window_pages = pfn(0x9f000 - 0x1000) + pfn(255 * MiB);
    EXPECT_EQ(t.managed + test::in_place_meta_pages(a), window_pages);
    EXPECT_EQ(t.free, t.managed);
    EXPECT_EQ(t.allocated, 0u);
    EXPECT_EQ(t.sections, 1u);
    EXPECT_EQ(t.metadata_bytes, test::in_place_meta_pages(a) * kPageSize + sizeof(Section));
    EXPECT_FALSE(a.zone(0, ZoneType::normal).present);
    // Above the window: not online.
    EXPECT_EQ(a.free_pages(300 * MiB, 0).code(), Errc::not_allocated);
    EXPECT_EQ(a.free_pages(4 * GiB, 0).code(), Errc::not_allocated);
    EXPECT_EQ(a.alloc_pages_range(0, 256 * MiB, 8 * GiB, kAllocReserves).code(), Errc::no_memory);
    EXPECT_EQ(a.bootstrap(m.map(), 0, 256 * MiB).code(), Errc::wrong_phase);
    ASSERT_BOOKS(a);

    ASSERT_TRUE(m.online_rest().ok());
    ASSERT_EQ(on.size(), 3u);
    EXPECT_EQ(on[1].start, 1 * MiB);
    EXPECT_EQ(on[1].end, 512 * MiB);
    EXPECT_EQ(on[2].start, 4 * GiB);
    EXPECT_EQ(on[2].end, 4 * GiB + 128 * MiB);
    t = a.totals();
    EXPECT_EQ(t.managed + test::in_place_meta_pages(a), window_pages + pfn(256 * MiB) + pfn(128 * MiB));
    EXPECT_EQ(t.free, t.managed);
    EXPECT_EQ(t.sections, 2u);
    EXPECT_EQ(t.metadata_bytes, test::in_place_meta_pages(a) * kPageSize + 2 * sizeof(Section));
    EXPECT_TRUE(a.zone(0, ZoneType::normal).present);
    Result<uint64_t> r = a.alloc_pages_range(0, 256 * MiB, 512 * MiB, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(a.free_pages(r.value(), 0).ok());
    ASSERT_BOOKS(a);
}

// Proves: kernel_reserved ranges of the map are onlined (managed) but
// reserved at bootstrap, with the map's reason as owner, and never handed out
// until unreserve_range gives them back.
TEST(BuddyOnline, BootstrapReservesTheMapsKernelRanges) {
    HostedMachine m;
    m.add_ram(1 * MiB, 32 * MiB);
    static const char kWhy[] = "kernel image";
    ASSERT_TRUE(m.map().reserve(2 * MiB, 3 * MiB + 100, kWhy).ok()); // rounds out to a page
    m.boot_all();
    PhysAllocator &a = m.a();
    const uint64_t n = pfn(1 * MiB) + 1;
    PhysTotals t = a.totals();
    EXPECT_EQ(t.reserved, n);
    EXPECT_EQ(t.managed + test::in_place_meta_pages(a), pfn(31 * MiB));
    const PageDesc *d = a.desc(pfn(2 * MiB));
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->state(), PageState::reserved);
    EXPECT_STREQ(a.page_map().reason(d->owner()), kWhy);
    std::vector<Block> all = grab_all(a, kAllocReserves | kAllocNoPcp);
    for (const Block &b : all) EXPECT_FALSE(overlaps(b, 2 * MiB, 3 * MiB + kPageSize)) << b.pa;
    release(a, all);
    ASSERT_TRUE(a.unreserve_range(2 * MiB, 3 * MiB + kPageSize).ok());
    EXPECT_EQ(a.totals().reserved, 0u);
    EXPECT_EQ(a.totals().free, t.free + n);
    ASSERT_BOOKS(a);
}

// Proves: online_range refuses unmapped or partly mapped ranges, unaligned
// ends, empty and inverted ranges, ranges beyond 64 TiB, ranges overlapping
// or equal to online memory and node ids >= kMaxNodes, each with its code and
// with the totals and the online map unchanged; then accepts the good range
// and onlines exactly its pages (minus its descriptor array).
TEST(BuddyOnline, OnlineRangeRefusesBadRanges) {
    HostedMachine m;
    m.add_ram(1 * MiB, 64 * MiB);
    m.create(4 * GiB + 64 * MiB);
    ASSERT_TRUE(m.boot(64 * MiB).ok());
    PhysAllocator &a = m.a();
    ASSERT_TRUE(HostedMachine::map_window(64 * MiB, 80 * MiB).ok());
    ASSERT_TRUE(HostedMachine::map_window(4 * GiB, 4 * GiB + 32 * MiB).ok());
    const PhysTotals before = a.totals();
    const size_t ranges = a.online_map().size();
    struct Bad {
        uint64_t start, end;
        uint16_t node;
        Errc code;
    } bad[] = {
        {4 * GiB, 4 * GiB + 64 * MiB, 0, Errc::invalid_argument},            // half unmapped
        {4 * GiB + 32 * MiB, 4 * GiB + 64 * MiB, 0, Errc::invalid_argument}, // unmapped
        {4 * GiB + 1, 4 * GiB + 8 * MiB, 0, Errc::invalid_argument},         // start unaligned
        {4 * GiB, 4 * GiB + 8 * MiB + 512, 0, Errc::invalid_argument},       // end unaligned
        {4 * GiB, 4 * GiB, 0, Errc::invalid_range},                          // empty
        {4 * GiB + 8 * MiB, 4 * GiB, 0, Errc::invalid_range},                // inverted
        {kMaxPhysMemory, kMaxPhysMemory + 4 * KiB, 0, Errc::invalid_range},  // beyond 64 TiB
        {16 * MiB, 32 * MiB, 0, Errc::invalid_range},                        // already online
        {1 * MiB, 64 * MiB, 0, Errc::invalid_range},                         // exactly online
        {60 * MiB, 80 * MiB, 0, Errc::invalid_range},                        // overlaps the top
        {0, 1 * MiB + 4 * KiB, 0, Errc::invalid_range},                      // overlaps the bottom
        {4 * GiB, 4 * GiB + 32 * MiB, kMaxNodes, Errc::invalid_argument},    // node id
        {4 * GiB, 4 * GiB + 32 * MiB, 0xffff, Errc::invalid_argument},       // node id
    };
    for (const Bad &b : bad) {
        const Status s = a.online_range(b.start, b.end, b.node);
        EXPECT_EQ(s.code(), b.code) << std::hex << b.start << "-" << b.end << ": " << s.reason();
        EXPECT_SAME_TOTALS(a.totals(), before);
        EXPECT_EQ(a.online_map().size(), ranges);
    }
    ASSERT_BOOKS(a);

    ASSERT_TRUE(a.online_range(4 * GiB, 4 * GiB + 32 * MiB, 0).ok());
    const PhysTotals t = a.totals();
    EXPECT_EQ(t.managed - before.managed + (t.metadata_bytes - before.metadata_bytes - sizeof(Section)) / kPageSize,
              pfn(32 * MiB));
    EXPECT_EQ(t.sections, before.sections + 1);
    EXPECT_EQ(a.online_range(4 * GiB, 4 * GiB + 32 * MiB, 0).code(), Errc::invalid_range);
    ASSERT_TRUE(a.online_range(64 * MiB, 80 * MiB, kMaxNodes - 1).ok());
    EXPECT_EQ(a.node_count(), 2u);
    EXPECT_TRUE(a.zone(kMaxNodes - 1, ZoneType::dma32).present);
    Result<uint64_t> r = a.alloc_pages(4, kAllocExactNode, kMaxNodes - 1);
    ASSERT_TRUE(r.ok());
    EXPECT_GE(r.value(), 64 * MiB);
    EXPECT_LE(r.value() + block_bytes(4), 80 * MiB);
    EXPECT_TRUE(a.free_pages(r.value(), 4).ok());
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
