// Allocation in an address window (alloc_pages_range): results inside the
// window and aligned, impossible windows failing cleanly, and blocks found
// below a partly covered lazy block.
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

// ========================================================= address windows

// Proves: alloc_pages_range returns only blocks inside [min, max), aligned
// to their order, from random windows over a machine with holes; a failure is
// no_memory only when the window holds no such free block (checked by
// trying the whole machine) and loses nothing.
TEST(BuddyRange, ResultsInsideTheWindowAndAligned) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    const PhysTotals t0 = a.totals();
    std::mt19937_64 rng(3);
    std::vector<Block> held;
    const uint64_t top = kN1Normal + 64 * MiB;
    for (int i = 0; i < 3000; ++i) {
        const unsigned order = static_cast<unsigned>(rng() % (kMaxOrder + 1));
        uint64_t lo = rng() % top, hi = lo + (rng() % (64 * MiB)) + 1;
        if (i % 4 == 0) { // windows around the interesting places
            const uint64_t at[] = {1 * MiB, 16 * MiB, 64 * MiB, kN0Normal, kN0Normal + 64 * MiB, kN1Normal};
            const uint64_t base = at[rng() % 6], back = rng() % (8 * MiB);
            lo = base > back ? base - back : 0;
            hi = lo + (rng() % (16 * MiB)) + 1;
        }
        const uint32_t flags = (rng() & 1) ? uint32_t{kAllocReserves} : 0u;
        const PhysTotals before = a.totals();
        Result<uint64_t> r = a.alloc_pages_range(order, lo, hi, flags);
        if (r.ok()) {
            EXPECT_GE(r.value(), lo);
            EXPECT_LE(r.value() + block_bytes(order), hi);
            EXPECT_EQ(r.value() % block_bytes(order), 0u);
            held.push_back({r.value(), order});
        } else {
            EXPECT_EQ(r.code(), Errc::no_memory);
            EXPECT_NOTHING_TAKEN(a.totals(), before);
        }
        if (held.size() > 200) {
            const Block b = held[rng() % held.size()];
            ASSERT_TRUE(a.free_pages(b.pa, b.order).ok());
            held.erase(std::find_if(held.begin(), held.end(), [&](const Block &x) { return x.pa == b.pa; }));
        }
    }
    std::sort(held.begin(), held.end(), [](const Block &x, const Block &y) { return x.pa < y.pa; });
    for (size_t i = 1; i < held.size(); ++i) EXPECT_LE(held[i - 1].end(), held[i].pa);
    release(a, held);
    EXPECT_EQ(a.totals().free, t0.free);
    ASSERT_BOOKS(a);
}

// Proves: windows that cannot hold the block fail with no_memory (a hole, a
// window smaller than the block, one that rounds to nothing, one holding only
// descriptor pages, one straddling two ranges that are not contiguous), an
// empty or inverted window is invalid_range, and none changes the totals.
TEST(BuddyRange, ImpossibleWindowsFailCleanly) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    const test::PfnRange meta = test::in_place_meta(a).back();
    const PhysTotals t0 = a.totals();
    struct Case {
        unsigned order;
        uint64_t lo, hi;
        Errc code;
    } cases[] = {
        {0, 1 * GiB, 2 * GiB, Errc::no_memory},                            // hole
        {0, 0, 1 * MiB, Errc::no_memory},                                  // below RAM
        {5, 8 * MiB, 8 * MiB + 31 * kPageSize, Errc::no_memory},           // too small
        {0, 8 * MiB + 1, 8 * MiB + kPageSize + 100, Errc::no_memory},      // rounds to nothing
        {1, 8 * MiB + kPageSize, 8 * MiB + 3 * kPageSize, Errc::no_memory}, // two pages, misaligned
        {0, meta.start * kPageSize, meta.end * kPageSize, Errc::no_memory}, // descriptors only
        {kMaxOrder, kN0Normal + 62 * MiB, kN0Normal + 66 * MiB, Errc::no_memory},
        {0, 8 * MiB, 8 * MiB, Errc::invalid_range},
        {0, 9 * MiB, 8 * MiB, Errc::invalid_range},
    };
    for (const Case &c : cases) {
        for (uint32_t flags : {0u, uint32_t{kAllocReserves}}) {
            Result<uint64_t> r = a.alloc_pages_range(c.order, c.lo, c.hi, flags);
            EXPECT_EQ(r.code(), c.code) << std::hex << c.lo << "-" << c.hi << " order " << std::dec << c.order;
            if (r.ok()) {
                ASSERT_TRUE(a.free_pages(r.value(), c.order).ok());
            }
            EXPECT_SAME_TOTALS(a.totals(), t0);
        }
    }
    EXPECT_EQ(a.alloc_pages_range(kMaxOrder + 1, 0, kN1Normal).code(), Errc::invalid_argument);
    ASSERT_BOOKS(a);
}

// Proves: a window whose top cuts into a lazy max-order block too far down
// for the block to hold the request still finds the aligned block just below
// it (inside the same lazy run), instead of failing.
TEST(BuddyRange, FindsBlockBelowAPartlyCoveredLazyBlock) {
    HostedMachine m;
    m.add_ram(4 * GiB, 4 * GiB + 64 * MiB);
    m.boot_all();
    PhysAllocator &a = m.a();
    ASSERT_GT(a.zone(0, ZoneType::normal).lazy, 8 * kMaxBlockPages);
    // [4 GiB, 4 GiB + 8 MiB + 400 KiB): the block at +8 MiB has 100 pages in
    // the window, the one at +4 MiB all of its pages.
    const uint64_t lo = 4 * GiB, hi = 4 * GiB + 8 * MiB + 400 * KiB;
    Result<uint64_t> r = a.alloc_pages_range(kMaxOrder - 1, lo, hi, 0);
    ASSERT_TRUE(r.ok()) << r.error().reason;
    EXPECT_EQ(r.value(), 4 * GiB + 6 * MiB); // the highest aligned 2 MiB block below hi
    ASSERT_TRUE(a.free_pages(r.value(), kMaxOrder - 1).ok());
    Result<uint64_t> big = a.alloc_pages_range(kMaxOrder, lo, hi, 0);
    ASSERT_TRUE(big.ok()) << big.error().reason;
    EXPECT_EQ(big.value(), 4 * GiB + 4 * MiB);
    ASSERT_TRUE(a.free_pages(big.value(), kMaxOrder).ok());
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
