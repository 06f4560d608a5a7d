// Coalescing: freed blocks merge back through every order into one max-order
// block, and never across a zone or node boundary.
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout,
// never copied from a run. Shared helpers: tests/buddy_test_util.h.
#include <kmem/buddy.h>

#include "buddy_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace kmem {
namespace {

using namespace test;

// =============================================================== coalescing

// Takes every page of one max-order block (through allocation in an address
// window), and returns them three ways: page by page leaving exactly one
// free block of each order 0..kMaxOrder-1 before the last page (which must
// then merge through every order into one max-order block); in reverse
// order; and as mixed-order blocks in random order. Proves merging at every
// order, seen in the zone's free-area counts (buddyinfo).
TEST(BuddyCoalesce, EveryOrderMergesBackIntoOneMaxBlock) {
    HostedMachine m;
    m.add_ram(4 * GiB, 4 * GiB + 64 * MiB);
    m.boot_all();
    PhysAllocator &a = m.a();
    const Zone &z = a.zone(0, ZoneType::normal);
    const uint64_t B = 4 * GiB + 32 * MiB; // a max-order block in the middle of the lazy run
    const uint64_t Bend = B + block_bytes(kMaxOrder);
    std::mt19937_64 rng(11);

    auto take_pages = [&] {
        std::vector<uint64_t> got;
        for (uint64_t i = 0; i < kMaxBlockPages; ++i) {
            Result<uint64_t> r = a.alloc_pages_range(0, B, Bend, kAllocNoPcp);
            EXPECT_TRUE(r.ok());
            if (!r.ok()) break;
            got.push_back(r.value());
        }
        std::sort(got.begin(), got.end());
        EXPECT_EQ(std::unique(got.begin(), got.end()), got.end());
        EXPECT_EQ(got.size(), kMaxBlockPages);
        EXPECT_EQ(got.front(), B);
        EXPECT_EQ(got.back(), Bend - kPageSize);
        EXPECT_EQ(a.alloc_pages_range(0, B, Bend, kAllocNoPcp).code(), Errc::no_memory);
        return got;
    };

    // 1: pages 1..1023 in a random order -> one free block of each order
    //    0..9; then page 0 -> one max-order block.
    std::vector<uint64_t> pages = take_pages();
    std::vector<uint64_t> base = buddyinfo_row(z);
    std::vector<uint64_t> rest(pages.begin() + 1, pages.end());
    std::shuffle(rest.begin(), rest.end(), rng);
    for (uint64_t p : rest) ASSERT_TRUE(a.free_pages(p, 0).ok());
    a.drain_local_pcp();
    std::vector<uint64_t> row = buddyinfo_row(z);
    for (unsigned o = 0; o < kMaxOrder; ++o) EXPECT_EQ(row[o], base[o] + 1) << "order " << o;
    EXPECT_EQ(row[kMaxOrder], base[kMaxOrder]);
    ASSERT_TRUE(a.free_pages(B, 0).ok());
    a.drain_local_pcp();
    row = buddyinfo_row(z);
    for (unsigned o = 0; o < kMaxOrder; ++o) EXPECT_EQ(row[o], base[o]) << "order " << o;
    EXPECT_EQ(row[kMaxOrder], base[kMaxOrder] + 1);
    ASSERT_BOOKS(a);

    // 2: all pages in descending order, drained as the per-CPU list overflows.
    pages = take_pages();
    base = buddyinfo_row(z);
    for (auto it = pages.rbegin(); it != pages.rend(); ++it) ASSERT_TRUE(a.free_pages(*it, 0).ok());
    a.drain_local_pcp();
    row = buddyinfo_row(z);
    for (unsigned o = 0; o < kMaxOrder; ++o) EXPECT_EQ(row[o], base[o]) << "order " << o;
    EXPECT_EQ(row[kMaxOrder], base[kMaxOrder] + 1);

    // 3: mixed orders (9, 8, ..., 1, 0, 0 twice over the halves), freed shuffled.
    for (int round = 0; round < 4; ++round) {
        std::vector<Block> blocks;
        for (int o = kMaxOrder - 1; o >= 0; --o) {
            Result<uint64_t> r = a.alloc_pages_range(static_cast<unsigned>(o), B, Bend, kAllocNoPcp);
            ASSERT_TRUE(r.ok()) << o;
            EXPECT_EQ(r.value() % block_bytes(static_cast<unsigned>(o)), 0u);
            blocks.push_back({r.value(), static_cast<unsigned>(o)});
        }
        Result<uint64_t> last = a.alloc_pages_range(0, B, Bend, kAllocNoPcp);
        ASSERT_TRUE(last.ok());
        blocks.push_back({last.value(), 0});
        base = buddyinfo_row(z);
        std::shuffle(blocks.begin(), blocks.end(), rng);
        for (const Block &b : blocks) ASSERT_TRUE(a.free_pages(b.pa, b.order).ok());
        a.drain_local_pcp();
        row = buddyinfo_row(z);
        for (unsigned o = 0; o < kMaxOrder; ++o) EXPECT_EQ(row[o], base[o]) << "order " << o;
        EXPECT_EQ(row[kMaxOrder], base[kMaxOrder] + 1);
    }
    ASSERT_BOOKS(a);
}

// Proves: free blocks never merge across a node boundary that splits a
// max-order block (two order-9 halves in two zones stay apart, so no
// max-order block exists there), nor across the 16 MiB zone boundary.
TEST(BuddyCoalesce, NeverAcrossAZoneOrNodeBoundary) {
    HostedMachine m;
    m.add_ram(1 * MiB, 32 * MiB, 0);
    m.add_ram(4 * GiB, 4 * GiB + 34 * MiB, 0); // the max-order block at +32 MiB is split
    m.add_ram(4 * GiB + 34 * MiB, 4 * GiB + 64 * MiB, 1);
    m.boot_all();
    PhysAllocator &a = m.a();
    const uint64_t X = 4 * GiB + 32 * MiB;
    EXPECT_EQ(a.alloc_pages_range(kMaxOrder, X, X + 4 * MiB, kAllocReserves).code(), Errc::no_memory);
    for (int round = 0; round < 3; ++round) {
        Result<uint64_t> lo = a.alloc_pages_range(kMaxOrder - 1, X, X + 2 * MiB, kAllocReserves);
        Result<uint64_t> hi = a.alloc_pages_range(kMaxOrder - 1, X + 2 * MiB, X + 4 * MiB, kAllocReserves);
        ASSERT_TRUE(lo.ok() && hi.ok());
        EXPECT_EQ(lo.value(), X);
        EXPECT_EQ(hi.value(), X + 2 * MiB);
        EXPECT_EQ(a.desc(pfn(X))->zone(), PhysAllocator::zone_index(0, ZoneType::normal));
        EXPECT_EQ(a.desc(pfn(X + 2 * MiB))->zone(), PhysAllocator::zone_index(1, ZoneType::normal));
        ASSERT_TRUE(a.free_pages(lo.value(), kMaxOrder - 1).ok());
        ASSERT_TRUE(a.free_pages(hi.value(), kMaxOrder - 1).ok());
        EXPECT_EQ(a.alloc_pages_range(kMaxOrder, X, X + 4 * MiB, kAllocReserves).code(), Errc::no_memory);
        ASSERT_BOOKS(a);
    }
    // All of DMA, then all of DMA32 (with the DMA flag / the DMA32 range):
    // every block lies on its side of 16 MiB.
    std::vector<Block> dma = grab_all(a, kAllocZoneDma | kAllocReserves);
    for (const Block &b : dma) EXPECT_LE(b.end(), 16 * MiB);
    release(a, dma);
    for (unsigned o = 0; o <= kMaxOrder; ++o)
        for (;;) {
            Result<uint64_t> r = a.alloc_pages_range(o, 8 * MiB, 32 * MiB, kAllocReserves | kAllocNoPcp);
            if (!r.ok()) break;
            EXPECT_TRUE(r.value() + block_bytes(o) <= 16 * MiB || r.value() >= 16 * MiB) << std::hex << r.value();
            dma.push_back({r.value(), o});
        }
    EXPECT_EQ(a.alloc_pages_range(0, 8 * MiB, 32 * MiB, kAllocReserves).code(), Errc::no_memory);
    release(a, dma);
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
