// Reservations (reserve_range / unreserve_range): reserved pages are never
// handed out, reserving busy pages and unreserving pages that are not
// reserved are errors, and reserve then unreserve restores everything.
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout,
// never copied from a run. Shared helpers: tests/buddy_test_util.h.
#include <kmem/buddy.h>

#include "buddy_test_util.h"
#include "page/page_desc.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace kmem {
namespace {

using namespace test;

// ============================================================= reservations

// Proves: an exclusive reservation that touches a reserved page fails with
// Errc::busy and changes nothing; one beside it (and one over lazy, never
// written memory) succeeds; the reasons read back by content.
TEST(BuddyReserve, ExclusiveReservationRefusesReservedPages) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    ASSERT_TRUE(a.reserve_range(8 * MiB, 9 * MiB, "first").ok());
    a.drain_local_pcp();
    const PhysTotals t0 = a.totals();
    EXPECT_EQ(a.reserve_range_exclusive(9 * MiB - 4 * KiB, 10 * MiB, "second").code(), Errc::busy);
    EXPECT_EQ(a.reserve_range_exclusive(7 * MiB, 8 * MiB + 1, "second").code(), Errc::busy);
    a.drain_local_pcp();
    EXPECT_SAME_BOOKS(a.totals(), t0);
    ASSERT_BOOKS(a);
    ASSERT_TRUE(a.reserve_range_exclusive(9 * MiB, 10 * MiB, "second").ok());
    ASSERT_TRUE(a.reserve_range_exclusive(40 * MiB, 48 * MiB, "third").ok());
    EXPECT_EQ(a.totals().reserved, t0.reserved + pfn(9 * MiB));
    EXPECT_STREQ(a.page_map().reason(a.desc(pfn(9 * MiB))->owner()), "second");
    EXPECT_STREQ(a.page_map().reason(a.desc(pfn(8 * MiB))->owner()), "first");
    ASSERT_BOOKS(a);
}

// Proves: reserved pages (here across the 16 MiB zone boundary, partly lazy)
// are never handed out even when everything else is taken, are counted in
// PhysTotals.reserved, and unreserve_range gives back exactly them.
TEST(BuddyReserve, ReservedPagesAreNeverHandedOut) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    a.drain_local_pcp();
    const PhysTotals t0 = a.totals();
    const uint64_t rs = 8 * MiB + 12 * KiB, re = 20 * MiB - 4 * KiB;
    ASSERT_TRUE(a.reserve_range(rs, re, "test").ok());
    EXPECT_EQ(a.totals().reserved, pfn(re - rs));
    EXPECT_EQ(a.totals().free, t0.free - pfn(re - rs));
    ASSERT_BOOKS(a);
    std::vector<Block> all = grab_all(a, kAllocReserves | kAllocNoPcp);
    for (const Block &b : all) EXPECT_FALSE(overlaps(b, rs, re)) << std::hex << b.pa;
    EXPECT_EQ(a.totals().free, 0u);
    EXPECT_EQ(a.alloc_pages_range(0, rs, re, kAllocReserves).code(), Errc::no_memory);
    release(a, all);
    ASSERT_TRUE(a.unreserve_range(rs, re).ok());
    EXPECT_SAME_BOOKS(a.totals(), t0);
    ASSERT_BOOKS(a);
}

// Proves: reserving over allocated pages, or over pages cached on another
// CPU's list, fails with busy and changes nothing (the allocated block is
// still freeable, nothing is reserved, no page moved).
TEST(BuddyReserve, ReserveOverAllocatedOrCachedPagesIsBusy) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    Result<uint64_t> x = a.alloc_pages(4, kAllocNoPcp);
    ASSERT_TRUE(x.ok());
    a.drain_local_pcp();
    const PhysTotals t0 = a.totals();
    const std::vector<uint64_t> row0 = buddyinfo_row(a.zone(0, ZoneType::normal));
    EXPECT_EQ(a.reserve_range(x.value() - 8 * KiB, x.value() + 4 * KiB, "x").code(), Errc::busy);
    EXPECT_EQ(a.reserve_range(x.value() + 60 * KiB, x.value() + 1 * MiB, "x").code(), Errc::busy);
    EXPECT_EQ(a.reserve_range(0, 16 * GiB, "x").code(), Errc::busy);
    EXPECT_SAME_TOTALS(a.totals(), t0);
    EXPECT_EQ(buddyinfo_row(a.zone(0, ZoneType::normal)), row0);

    // Another CPU's list holds pages: reserving over them is busy as well.
    uint64_t cached = 0;
    std::thread th([&] {
        Result<uint64_t> r = a.alloc_pages(0);
        EXPECT_TRUE(r.ok());
        EXPECT_TRUE(a.free_pages(r.value(), 0).ok());
        cached = r.value();
    });
    th.join();
    const PhysTotals t1 = a.totals();
    EXPECT_EQ(a.reserve_range(cached, cached + kPageSize, "x").code(), Errc::busy);
    EXPECT_SAME_TOTALS(a.totals(), t1);
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) a.drain_cpu_pcp(cpu);
    ASSERT_TRUE(a.reserve_range(cached, cached + kPageSize, "x").ok());
    ASSERT_TRUE(a.unreserve_range(cached, cached + kPageSize).ok());
    ASSERT_TRUE(a.free_pages(x.value(), 4).ok());
    ASSERT_BOOKS(a);
}

// Proves: unreserve_range of pages that are free, allocated, descriptor
// pages, or only partly reserved fails with not_allocated and changes
// nothing (the reserved part stays reserved); an unreserve that covers no
// whole page or only a hole is a no-op.
TEST(BuddyReserve, UnreserveOfPagesThatAreNotReservedIsAnError) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    Result<uint64_t> x = a.alloc_pages(0, kAllocNoPcp);
    ASSERT_TRUE(x.ok());
    ASSERT_TRUE(a.reserve_range(10 * MiB, 11 * MiB, "r").ok());
    a.drain_local_pcp();
    const PhysTotals t0 = a.totals();
    const test::PfnRange meta = test::in_place_meta(a).front();
    EXPECT_EQ(a.unreserve_range(12 * MiB, 13 * MiB).code(), Errc::not_allocated);           // free
    EXPECT_EQ(a.unreserve_range(x.value(), x.value() + kPageSize).code(), Errc::not_allocated); // allocated
    EXPECT_EQ(a.unreserve_range(meta.start * kPageSize, meta.end * kPageSize).code(), Errc::not_allocated);
    EXPECT_EQ(a.unreserve_range(10 * MiB - kPageSize, 11 * MiB).code(), Errc::not_allocated); // partly
    EXPECT_EQ(a.unreserve_range(10 * MiB, 11 * MiB + kPageSize).code(), Errc::not_allocated);
    EXPECT_EQ(a.unreserve_range(11 * MiB, 10 * MiB).code(), Errc::invalid_range);
    EXPECT_SAME_TOTALS(a.totals(), t0);
    EXPECT_TRUE(a.unreserve_range(10 * MiB + 1, 10 * MiB + kPageSize).ok()); // no whole page
    EXPECT_TRUE(a.unreserve_range(1 * GiB, 2 * GiB).ok());                   // a hole
    EXPECT_SAME_TOTALS(a.totals(), t0);
    ASSERT_TRUE(a.unreserve_range(10 * MiB, 11 * MiB).ok());
    EXPECT_EQ(a.totals().reserved, 0u);
    ASSERT_TRUE(a.free_pages(x.value(), 0).ok());
    ASSERT_BOOKS(a);
}

// Proves: reserve then unreserve restores the exact free count and the exact
// buddyinfo counts, for ranges in lazy runs (start, middle and end of a run),
// on eager free blocks, unaligned, in pieces, overlapping an existing
// reservation, and unreserved in a different split than reserved.
TEST(BuddyReserve, ReserveThenUnreserveRestoresEverything) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    a.drain_local_pcp();
    const PhysTotals t0 = a.totals();
    auto rows = [&] {
        std::vector<std::vector<uint64_t>> r;
        for (uint16_t n = 0; n < 2; ++n)
            for (unsigned t = 0; t < kZoneTypes; ++t) r.push_back(buddyinfo_row(a.zone(n, static_cast<ZoneType>(t))));
        return r;
    };
    const auto rows0 = rows();
    struct R {
        uint64_t s, e;
    } ranges[] = {
        {kN0Normal, kN0Normal + 4 * MiB},                          // start of a lazy run
        {kN0Normal + 20 * MiB + 4 * KiB, kN0Normal + 21 * MiB},    // middle of a lazy run
        {kN1Normal + 57 * MiB + 100, kN1Normal + 61 * MiB - 100},  // near the end, unaligned
        {1 * MiB, 1 * MiB + 4 * KiB},                              // lowest page
        {15 * MiB, 17 * MiB},                                      // across 16 MiB
    };
    uint64_t expect_reserved = 0;
    for (const R &r : ranges) {
        ASSERT_TRUE(a.reserve_range(r.s, r.e, "t").ok());
        expect_reserved += pfn(((r.e + kPageSize - 1) & ~(kPageSize - 1)) - (r.s & ~(kPageSize - 1)));
        EXPECT_EQ(a.totals().reserved, expect_reserved);
        ASSERT_BOOKS(a);
    }
    // Overlapping an existing reservation adds only the new pages.
    ASSERT_TRUE(a.reserve_range(kN0Normal + 2 * MiB, kN0Normal + 6 * MiB, "t").ok());
    expect_reserved += pfn(2 * MiB);
    EXPECT_EQ(a.totals().reserved, expect_reserved);
    EXPECT_EQ(a.totals().free + a.totals().reserved, t0.free);
    ASSERT_BOOKS(a);
    // Give them back in other pieces than they were taken in.
    ASSERT_TRUE(a.unreserve_range(kN0Normal + 1 * MiB, kN0Normal + 5 * MiB).ok());
    ASSERT_TRUE(a.unreserve_range(kN0Normal, kN0Normal + 1 * MiB).ok());
    ASSERT_TRUE(a.unreserve_range(kN0Normal + 5 * MiB, kN0Normal + 6 * MiB).ok());
    ASSERT_BOOKS(a);
    ASSERT_TRUE(a.unreserve_range(kN0Normal + 20 * MiB + 4 * KiB, kN0Normal + 21 * MiB).ok());
    ASSERT_TRUE(a.unreserve_range(kN1Normal + 57 * MiB, kN1Normal + 61 * MiB).ok());
    ASSERT_TRUE(a.unreserve_range(1 * MiB, 1 * MiB + 4 * KiB).ok());
    ASSERT_TRUE(a.unreserve_range(16 * MiB, 17 * MiB).ok());
    ASSERT_TRUE(a.unreserve_range(15 * MiB, 16 * MiB).ok());
    const PhysTotals t1 = a.totals();
    EXPECT_EQ(t1.reserved, 0u);
    EXPECT_EQ(t1.free, t0.free);
    EXPECT_EQ(t1.managed, t0.managed);
    EXPECT_EQ(rows(), rows0);
    ASSERT_BOOKS(a);
}

// Proves: reserving a range over holes, descriptor arrays and lazy runs
// reserves exactly the free managed pages in it (descriptor pages and holes
// are skipped); with everything reserved nothing can be allocated; giving
// back the non-descriptor parts restores the free count.
TEST(BuddyReserve, ReserveOverHolesDescriptorsAndLazyRuns) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    a.drain_local_pcp();
    const PhysTotals t0 = a.totals();
    ASSERT_GT(t0.lazy, 0u);
    ASSERT_TRUE(a.reserve_range(0, kN1Normal + 64 * MiB, "everything").ok());
    PhysTotals t = a.totals();
    EXPECT_EQ(t.reserved, t0.free);
    EXPECT_EQ(t.free, 0u);
    EXPECT_EQ(t.lazy, 0u);
    EXPECT_EQ(a.alloc_pages(0, kAllocReserves).code(), Errc::no_memory);
    EXPECT_EQ(a.alloc_pages(0).code(), Errc::no_memory);
    ASSERT_BOOKS(a);
    // Twice is fine (already reserved).
    ASSERT_TRUE(a.reserve_range(0, kN1Normal + 64 * MiB, "everything").ok());
    EXPECT_SAME_TOTALS(a.totals(), t);
    // Unreserve online memory between the descriptor arrays.
    std::vector<test::PfnRange> meta = test::in_place_meta(a);
    uint64_t from = 0;
    for (const test::PfnRange &mr : meta) {
        ASSERT_TRUE(a.unreserve_range(from, mr.start * kPageSize).ok());
        from = mr.end * kPageSize;
    }
    ASSERT_TRUE(a.unreserve_range(from, kN1Normal + 64 * MiB).ok());
    t = a.totals();
    EXPECT_EQ(t.reserved, 0u);
    EXPECT_EQ(t.free, t0.free);
    ASSERT_BOOKS(a);
}

// Proves: an empty range reserves nothing, even at an unaligned address
// (rounding outward applies to pages the range touches; an empty range
// touches none), so reserve(x, x) and unreserve(x, x) stay symmetric.
TEST(BuddyReserve, EmptyRangeReservesNothing) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    a.drain_local_pcp();
    const PhysTotals t0 = a.totals();
    for (uint64_t x : {10 * MiB, 10 * MiB + 5, 10 * MiB + kPageSize - 1}) {
        ASSERT_TRUE(a.reserve_range(x, x, "empty").ok());
        EXPECT_SAME_TOTALS(a.totals(), t0);
        ASSERT_TRUE(a.unreserve_range(x, x).ok());
    }
    EXPECT_EQ(a.reserve_range(10 * MiB + 5, 10 * MiB + 4, "inverted").code(), Errc::invalid_range);
    EXPECT_SAME_TOTALS(a.totals(), t0);
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
