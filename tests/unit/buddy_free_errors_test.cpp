// Every error of free_pages (double frees, wrong orders, pages that are not
// online, descriptor and reserved pages...) leaves the books unchanged; and
// alloc_pages_exact / free_pages_exact.
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

// ===================================================== free_pages errors

// Proves: each wrong free_pages is refused with its code and leaves totals()
// identical: double free while the block is on a per-CPU list and after it
// merged on the buddy lists, a page inside a block, the wrong order,
// unaligned addresses, pages that are not online (hole, beyond 64 TiB), a
// lazy page that was never allocated, a descriptor page, a reserved page,
// order > kMaxOrder; and unknown allocation flags are refused.
TEST(BuddyFreeErrors, EveryErrorLeavesTheBooksUnchanged) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    // q: an order-4 block at a max-order boundary (so "order 5" is aligned).
    const uint64_t qa = kN0Normal + 40 * MiB;
    Result<uint64_t> q = a.alloc_pages_range(4, qa, qa + 16 * kPageSize, kAllocNoPcp);
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q.value(), qa);
    Result<uint64_t> p0 = a.alloc_pages(0);
    Result<uint64_t> p2 = a.alloc_pages(2);
    Result<uint64_t> p6 = a.alloc_pages(6);
    ASSERT_TRUE(q.ok() && p0.ok() && p2.ok() && p6.ok());
    ASSERT_TRUE(a.reserve_range(10 * MiB, 10 * MiB + 8 * kPageSize, "r").ok());
    ASSERT_TRUE(a.free_pages(p0.value(), 0).ok()); // now on this CPU's list
    ASSERT_TRUE(a.free_pages(p6.value(), 6).ok()); // merged on the buddy lists
    const uint64_t lazy_page = kN1Normal + 8 * MiB;
    ASSERT_EQ(a.desc(pfn(lazy_page)), nullptr); // still lazy
    const test::PfnRange meta = test::in_place_meta(a).front();

    struct Case {
        const char *what;
        uint64_t pa;
        unsigned order;
        Errc code;
    } cases[] = {
        {"double free on the per-CPU list", p0.value(), 0, Errc::double_free},
        {"double free after merging", p6.value(), 6, Errc::double_free},
        {"inside a block freed and merged", p6.value() + 4 * kPageSize, 0, Errc::double_free},
        {"inside an allocated block", q.value() + 3 * kPageSize, 0, Errc::not_allocated},
        {"inside an allocated block, aligned", q.value() + 8 * kPageSize, 3, Errc::not_allocated},
        {"wrong order (smaller)", q.value(), 2, Errc::invalid_argument},
        {"wrong order (larger)", q.value(), 5, Errc::invalid_argument},
        {"unaligned address", q.value() + 100, 4, Errc::invalid_argument},
        {"address not aligned to the order", q.value() + kPageSize, 4, Errc::invalid_argument},
        {"hole", 2 * GiB, 0, Errc::not_allocated},
        {"below RAM", 0, 0, Errc::not_allocated},
        {"beyond 64 TiB", kMaxPhysMemory + 64 * MiB, 0, Errc::not_allocated},
        {"lazy page", lazy_page, 0, Errc::double_free},
        {"descriptor page", meta.start * kPageSize, 0, Errc::not_allocated},
        {"reserved page", 10 * MiB, 0, Errc::not_allocated},
        {"reserved block", 10 * MiB, 3, Errc::not_allocated},
        {"order above kMaxOrder", q.value(), kMaxOrder + 1, Errc::invalid_argument},
    };
    const PhysTotals t0 = a.totals();
    for (const Case &c : cases) {
        const Status s = a.free_pages(c.pa, c.order);
        EXPECT_EQ(s.code(), c.code) << c.what << ": " << errc_name(s.code()) << " " << s.reason();
        EXPECT_SAME_TOTALS(a.totals(), t0);
    }
    for (uint32_t flags : {1u << 8, 1u << 20, 1u << 31, kAllocKnownFlags + 1}) {
        EXPECT_EQ(a.alloc_pages(0, flags).code(), Errc::invalid_argument) << flags;
        EXPECT_EQ(a.alloc_pages(kMaxOrder, flags).code(), Errc::invalid_argument) << flags;
        EXPECT_SAME_TOTALS(a.totals(), t0);
    }
    EXPECT_EQ(a.alloc_pages(kMaxOrder + 1).code(), Errc::invalid_argument);
    EXPECT_SAME_TOTALS(a.totals(), t0);
    ASSERT_BOOKS(a);
    ASSERT_TRUE(a.free_pages(q.value(), 4).ok());
    ASSERT_TRUE(a.free_pages(p2.value(), 2).ok());
    EXPECT_EQ(a.free_pages(p2.value(), 2).code(), Errc::double_free);
    a.drain_local_pcp();
    EXPECT_EQ(a.free_pages(p0.value(), 0).code(), Errc::double_free); // merged now
    EXPECT_EQ(a.free_pages(q.value(), 4).code(), Errc::double_free);
    ASSERT_BOOKS(a);
}

// Proves: alloc_pages_exact keeps exactly `count` pages (the tail goes back
// at once), free_pages_exact wants the same count, and a second free is a
// double free.
TEST(BuddyFreeErrors, ExactAllocations) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    a.drain_local_pcp();
    const PhysTotals t0 = a.totals();
    Result<uint64_t> r = a.alloc_pages_exact(5);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(a.totals().allocated, t0.allocated + 5);
    EXPECT_EQ(a.totals().free, t0.free - 5);
    EXPECT_EQ(a.free_pages_exact(r.value(), 4).code(), Errc::invalid_argument);
    EXPECT_EQ(a.free_pages_exact(r.value() + kPageSize, 4).code(), Errc::not_allocated);
    EXPECT_EQ(a.alloc_pages_exact(0).code(), Errc::invalid_argument);
    EXPECT_EQ(a.alloc_pages_exact(kMaxBlockPages + 1).code(), Errc::invalid_argument);
    EXPECT_EQ(a.alloc_pages_exact(3, kAllocTails).code(), Errc::invalid_argument);
    ASSERT_TRUE(a.free_pages_exact(r.value(), 5).ok());
    EXPECT_EQ(a.free_pages_exact(r.value(), 5).code(), Errc::double_free);
    Result<uint64_t> big = a.alloc_pages_exact(kMaxBlockPages - 1, kAllocZoneDma32);
    ASSERT_TRUE(big.ok());
    EXPECT_LT(big.value(), 4 * GiB);
    ASSERT_TRUE(a.free_pages_exact(big.value(), kMaxBlockPages - 1).ok());
    a.drain_local_pcp();
    EXPECT_EQ(a.totals().free, t0.free);
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
