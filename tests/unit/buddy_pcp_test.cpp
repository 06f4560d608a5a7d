// The per-CPU page lists: batched refills, hits, the high mark, draining the
// calling CPU's list and another CPU's (drain_cpu_pcp).
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout,
// never copied from a run. Shared helpers: tests/buddy_test_util.h.
#include <kmem/buddy.h>

#include "buddy_test_util.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace kmem {
namespace {

using namespace test;

// ============================================================ per-CPU lists

// Proves: order <= kPcpMaxOrder allocations refill the CPU's list in
// batches (32 >> order blocks, counted as zone allocations) and are then
// served from it without touching the zone; larger orders, kAllocNoPcp,
// kAllocReserves and address windows bypass the list; frees go to the list
// until it passes its high mark (4 batches), which drains one batch;
// drain_local_pcp returns everything.
TEST(BuddyPcp, BatchesHitsHighMarkAndDrain) {
    HostedMachine m;
    m.add_ram(4 * GiB, 4 * GiB + 64 * MiB);
    m.boot_all();
    PhysAllocator &a = m.a();
    a.drain_local_pcp();
    const Zone &z = a.zone(0, ZoneType::normal);
    const PhysTotals t0 = a.totals();
    const uint64_t allocs0 = z.stats.allocs;
    std::vector<Block> held;
    auto alloc = [&](unsigned order, uint32_t flags = 0) {
        Result<uint64_t> r = a.alloc_pages(order, flags);
        EXPECT_TRUE(r.ok());
        held.push_back({r.value(), order});
    };
    alloc(0);
    EXPECT_EQ(a.totals().pcp, 31u);
    EXPECT_EQ(z.stats.allocs, allocs0 + 32);
    for (int i = 0; i < 31; ++i) alloc(0);
    EXPECT_EQ(a.totals().pcp, 0u);
    EXPECT_EQ(z.stats.allocs, allocs0 + 32); // all hits
    alloc(0);
    EXPECT_EQ(z.stats.allocs, allocs0 + 64);
    EXPECT_EQ(a.totals().pcp, 31u);
    for (unsigned o = 1; o <= kPcpMaxOrder; ++o) {
        const uint64_t pcp = a.totals().pcp, allocs = z.stats.allocs;
        alloc(o);
        const uint64_t batch = 32u >> o;
        EXPECT_EQ(a.totals().pcp, pcp + (batch - 1) * (uint64_t{1} << o)) << o;
        EXPECT_EQ(z.stats.allocs, allocs + batch) << o;
    }
    // Bypasses: one zone allocation each, the lists untouched.
    const uint64_t pcp = a.totals().pcp;
    uint64_t allocs = z.stats.allocs;
    alloc(kPcpMaxOrder + 1);
    alloc(0, kAllocNoPcp);
    alloc(2, kAllocReserves);
    {
        Result<uint64_t> r = a.alloc_pages_range(0, 4 * GiB, 5 * GiB, 0);
        ASSERT_TRUE(r.ok());
        held.push_back({r.value(), 0});
    }
    EXPECT_EQ(a.totals().pcp, pcp);
    EXPECT_EQ(z.stats.allocs, allocs + 4);
    std::set<uint64_t> distinct;
    for (const Block &b : held) distinct.insert(b.pa);
    EXPECT_EQ(distinct.size(), held.size());

    // Frees fill the list up to its high mark, then drain a batch.
    release(a, held);
    EXPECT_EQ(a.totals().pcp, 0u);
    std::vector<Block> many;
    for (int i = 0; i < 200; ++i) {
        Result<uint64_t> r = a.alloc_pages(0, kAllocNoPcp);
        ASSERT_TRUE(r.ok());
        many.push_back({r.value(), 0});
    }
    const uint64_t frees = z.stats.frees;
    for (int i = 0; i < 128; ++i) ASSERT_TRUE(a.free_pages(many[i].pa, 0).ok());
    EXPECT_EQ(a.totals().pcp, 128u);
    EXPECT_EQ(z.stats.frees, frees);
    ASSERT_TRUE(a.free_pages(many[128].pa, 0).ok());
    EXPECT_EQ(a.totals().pcp, 129u - 32u);
    EXPECT_EQ(z.stats.frees, frees + 32);
    for (int i = 129; i < 200; ++i) {
        ASSERT_TRUE(a.free_pages(many[i].pa, 0).ok());
        EXPECT_LE(a.totals().pcp, 128u);
    }
    ASSERT_BOOKS(a);
    a.drain_local_pcp();
    EXPECT_EQ(a.totals().pcp, 0u);
    EXPECT_EQ(a.totals().free, t0.free);
    ASSERT_BOOKS(a);
}

// Proves: another CPU's list (a thread that has exited) holds its pages
// until drain_cpu_pcp(that cpu) returns them; the calling CPU's list is not
// affected, and blocks freed by a CPU other than the allocating one go to the
// freeing CPU's list.
TEST(BuddyPcp, DrainCpuPcpReturnsAnotherCpusList) {
    HostedMachine m;
    m.add_ram(4 * GiB, 4 * GiB + 64 * MiB);
    m.boot_all();
    PhysAllocator &a = m.a();
    a.drain_local_pcp();
    const unsigned me = hosted::claim_cpu();
    const PhysTotals t0 = a.totals();
    Result<uint64_t> mine = a.alloc_pages(0);
    ASSERT_TRUE(mine.ok());
    const uint64_t my_pcp = a.totals().pcp;
    unsigned other = kMaxCpus;
    std::vector<Block> theirs;
    std::thread th([&] {
        other = hosted::claim_cpu();
        for (int i = 0; i < 40; ++i) {
            Result<uint64_t> r = a.alloc_pages(i % 3 == 0 ? 1 : 0);
            if (r.ok()) theirs.push_back({r.value(), i % 3 == 0 ? 1u : 0u});
        }
        // Frees half of them there, and the block the main CPU allocated.
        for (size_t i = 0; i < theirs.size(); i += 2) EXPECT_TRUE(a.free_pages(theirs[i].pa, theirs[i].order).ok());
        EXPECT_TRUE(a.free_pages(mine.value(), 0).ok());
    });
    th.join();
    ASSERT_NE(other, me);
    ASSERT_LT(other, kMaxCpus);
    EXPECT_GT(a.totals().pcp, my_pcp);
    ASSERT_BOOKS(a);
    a.drain_cpu_pcp(other);
    EXPECT_EQ(a.totals().pcp, my_pcp);
    a.drain_cpu_pcp(kMaxCpus); // ignored
    for (size_t i = 1; i < theirs.size(); i += 2) ASSERT_TRUE(a.free_pages(theirs[i].pa, theirs[i].order).ok());
    a.drain_local_pcp();
    EXPECT_EQ(a.totals().pcp, 0u);
    EXPECT_EQ(a.totals().free, t0.free);
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
