// What an allocation gets: running out of memory and the min watermark
// (with and without kAllocReserves), kAllocZero's zeroed pages, and
// kAllocTails' head_of inside a block.
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout,
// never copied from a run. Shared helpers: tests/buddy_test_util.h.
#include <kmem/buddy.h>

#include "buddy_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

namespace kmem {
namespace {

using namespace test;

// ================================================ out of memory, watermarks

// Proves: with kAllocReserves everything can be allocated (random orders,
// then smaller ones) until no_memory, every zone then has zero free pages,
// and freeing everything restores the exact starting free + per-CPU count.
TEST(BuddyExhaustion, AllocateEverythingThenFreeEverything) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    const PhysTotals t0 = a.totals();
    std::mt19937_64 rng(5);
    std::vector<Block> held;
    unsigned order = kMaxOrder;
    for (;;) {
        const unsigned o = static_cast<unsigned>(rng() % (order + 1));
        Result<uint64_t> r = a.alloc_pages(o, kAllocReserves);
        if (r.ok()) {
            held.push_back({r.value(), o});
            continue;
        }
        ASSERT_EQ(r.code(), Errc::no_memory);
        if (o == 0) break;
        order = o - 1;
    }
    for (;;) { // what order 0 attempts missed in other zones: none may remain
        Result<uint64_t> r = a.alloc_pages(0, kAllocReserves);
        if (!r.ok()) break;
        held.push_back({r.value(), 0});
    }
    const PhysTotals full = a.totals();
    EXPECT_EQ(full.free, 0u);
    EXPECT_EQ(full.lazy, 0u);
    EXPECT_EQ(full.allocated + full.pcp, t0.free + t0.pcp + t0.allocated);
    EXPECT_EQ(a.alloc_pages(0, kAllocNoPcp | kAllocReserves).code(), Errc::no_memory);
    ASSERT_BOOKS(a);
    std::shuffle(held.begin(), held.end(), rng);
    for (const Block &b : held) ASSERT_TRUE(a.free_pages(b.pa, b.order).ok());
    const PhysTotals after = a.totals();
    EXPECT_EQ(after.free + after.pcp, t0.free + t0.pcp);
    a.drain_local_pcp();
    EXPECT_EQ(a.totals().free, t0.free + t0.pcp);
    ASSERT_BOOKS(a);
}

// Proves: without kAllocReserves allocation stops with every zone at exactly
// its min watermark (per-CPU refills included), while kAllocReserves can
// still dip below it.
TEST(BuddyExhaustion, WatermarkMinStaysFreeWithoutReserves) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    std::vector<Block> held;
    for (;;) {
        Result<uint64_t> r = a.alloc_pages(0);
        if (!r.ok()) {
            EXPECT_EQ(r.code(), Errc::no_memory);
            break;
        }
        held.push_back({r.value(), 0});
    }
    EXPECT_EQ(a.totals().pcp, 0u);
    std::vector<Block> more = grab_all(a, 0); // no other order fits either
    EXPECT_TRUE(more.empty());
    for (uint16_t n = 0; n < 2; ++n)
        for (unsigned t = 0; t < kZoneTypes; ++t) {
            const Zone &z = a.zone(n, static_cast<ZoneType>(t));
            if (!z.present) continue;
            EXPECT_GT(z.wmark_min, 0u);
            EXPECT_EQ(z.free, z.wmark_min) << n << " " << zone_type_name(static_cast<ZoneType>(t));
        }
    Result<uint64_t> r = a.alloc_pages(3, kAllocReserves);
    ASSERT_TRUE(r.ok());
    held.push_back({r.value(), 3});
    const Zone &z = a.zone(r.value() >= kN1Normal ? 1 : 0,
                           r.value() >= kN0Normal ? ZoneType::normal
                           : r.value() >= 16 * MiB ? ZoneType::dma32
                                                   : ZoneType::dma);
    EXPECT_EQ(z.free, z.wmark_min - 8);
    release(a, held);
    ASSERT_BOOKS(a);
}

// ===================================================== zeroing and tails

// Proves: kAllocZero zeroes every byte of the block (fast path, slow path,
// and a large block), and memory is otherwise not zeroed (the control: the
// same block reallocated without the flag keeps its old bytes).
TEST(BuddyFlags, ZeroReturnsZeroedPages) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    auto all_bytes = [](uint64_t pa, uint64_t from, uint64_t len, uint8_t v) {
        const uint8_t *p = HostedMachine::ptr(pa);
        for (uint64_t i = from; i < len; ++i)
            if (p[i] != v) return false;
        return true;
    };
    for (auto [order, extra] : {std::pair{2u, 0u}, std::pair{5u, 0u},
                                std::pair{7u, 0u}, std::pair{kMaxOrder, uint32_t{kAllocZoneDma32}}}) {
        Result<uint64_t> r = a.alloc_pages(order, extra);
        ASSERT_TRUE(r.ok());
        const uint64_t pa = r.value(), len = block_bytes(order);
        std::memset(HostedMachine::ptr(pa), 0xab, len);
        ASSERT_TRUE(a.free_pages(pa, order).ok());
        Result<uint64_t> again = a.alloc_pages(order, extra); // LIFO: the same block
        ASSERT_TRUE(again.ok());
        ASSERT_EQ(again.value(), pa);
        EXPECT_TRUE(all_bytes(pa, sizeof(FreeLink), len, 0xab)) << "control: memory is not zeroed by default";
        ASSERT_TRUE(a.free_pages(pa, order).ok());
        Result<uint64_t> z = a.alloc_pages(order, extra | kAllocZero);
        ASSERT_TRUE(z.ok());
        ASSERT_EQ(z.value(), pa);
        EXPECT_TRUE(all_bytes(pa, 0, len, 0)) << "order " << order;
        ASSERT_TRUE(a.free_pages(pa, order).ok());
    }
    Result<uint64_t> ranged = a.alloc_pages_range(3, 20 * MiB, 24 * MiB, kAllocZero);
    ASSERT_TRUE(ranged.ok());
    EXPECT_TRUE(all_bytes(ranged.value(), 0, block_bytes(3), 0));
    ASSERT_TRUE(a.free_pages(ranged.value(), 3).ok());
    ASSERT_BOOKS(a);
}

// Proves: with kAllocTails head_of(pfn) finds the head from every page of
// the block (fast path, slow path, max order); without it head_of fails on
// every page but the head, including pages whose stale tail descriptors
// point at a head from an earlier allocation with tails.
TEST(BuddyFlags, TailsMakeHeadOfWorkInsideTheBlock) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    for (auto [order, extra] : {std::pair{3u, 0u}, std::pair{5u, 0u}, std::pair{kMaxOrder, 0u},
                                std::pair{2u, uint32_t{kAllocZoneDma32}}}) {
        Result<uint64_t> r = a.alloc_pages(order, extra | kAllocTails);
        ASSERT_TRUE(r.ok());
        const uint64_t head = pfn(r.value());
        for (uint64_t i = 0; i < (uint64_t{1} << order); ++i) {
            Result<uint64_t> h = a.head_of(head + i);
            ASSERT_TRUE(h.ok()) << "order " << order << " page " << i << ": " << h.error().reason;
            EXPECT_EQ(h.value(), head);
        }
        ASSERT_TRUE(a.free_pages(r.value(), order).ok());
        // The same block again, without tails (LIFO): only the head is known.
        Result<uint64_t> w = a.alloc_pages(order, extra);
        ASSERT_TRUE(w.ok());
        ASSERT_EQ(w.value(), r.value());
        EXPECT_EQ(a.head_of(head).value(), head);
        for (uint64_t i = 1; i < (uint64_t{1} << order); ++i)
            EXPECT_EQ(a.head_of(head + i).code(), Errc::not_allocated) << "order " << order << " page " << i;
        ASSERT_TRUE(a.free_pages(w.value(), order).ok());
    }
    // A half of an old tails block, reallocated as its own block.
    Result<uint64_t> big = a.alloc_pages(4, kAllocTails | kAllocNoPcp);
    ASSERT_TRUE(big.ok());
    const uint64_t h = pfn(big.value());
    ASSERT_TRUE(a.free_pages(big.value(), 4).ok());
    Result<uint64_t> half = a.alloc_pages_range(3, big.value() + 8 * kPageSize, big.value() + 16 * kPageSize, 0);
    ASSERT_TRUE(half.ok());
    EXPECT_EQ(a.head_of(h + 8).value(), h + 8);
    EXPECT_EQ(a.head_of(h + 9).code(), Errc::not_allocated);
    EXPECT_EQ(a.head_of(pfn(2 * GiB)).code(), Errc::not_allocated);
    ASSERT_TRUE(a.free_pages(half.value(), 3).ok());
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
