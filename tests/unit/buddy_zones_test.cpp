// Zones and NUMA nodes: ranges split at 16 MiB and 4 GiB, zone flags and the
// Normal -> DMA32 -> DMA fallback, replaced descriptor arrays going back to
// the right zones, preferred and exact nodes, and set_cpu_node.
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout,
// never copied from a run. Shared helpers: tests/buddy_test_util.h.
#include <kmem/buddy.h>

#include "buddy_test_util.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace kmem {
namespace {

using namespace test;

// ==================================================================== zones

// Proves: one range crossing 16 MiB and 4 GiB is split into DMA, DMA32 and
// Normal at exactly those addresses, and the three zones plus the descriptor
// arrays account for every page of the range.
TEST(BuddyZones, RangeAcross16MiBAnd4GiBIsSplit) {
    HostedMachine m;
    m.add_ram(1 * MiB, 4 * GiB + 64 * MiB);
    m.boot_all();
    PhysAllocator &a = m.a();
    const Zone &dma = a.zone(0, ZoneType::dma), &dma32 = a.zone(0, ZoneType::dma32),
               &normal = a.zone(0, ZoneType::normal);
    ASSERT_TRUE(dma.present && dma32.present && normal.present);
    EXPECT_EQ(dma.start_pfn, pfn(1 * MiB));
    EXPECT_EQ(dma.end_pfn, pfn(16 * MiB));
    EXPECT_EQ(dma.managed, pfn(15 * MiB)); // no descriptor array lands in DMA
    EXPECT_EQ(dma32.start_pfn, pfn(16 * MiB));
    EXPECT_LE(dma32.end_pfn, pfn(4 * GiB));
    EXPECT_EQ(normal.start_pfn, pfn(4 * GiB));
    EXPECT_LE(normal.end_pfn, pfn(4 * GiB + 64 * MiB));
    EXPECT_EQ(dma.managed + dma32.managed + normal.managed + test::in_place_meta_pages(a),
              pfn(4 * GiB + 63 * MiB));
    EXPECT_EQ(a.totals().sections, 5u);
    for (const Zone *z : {&dma, &dma32, &normal}) EXPECT_GT(z->wmark_min, 0u);
    ASSERT_BOOKS(a);
}

// Proves: kAllocZoneDma only returns blocks entirely below 16 MiB and
// kAllocZoneDma32 only below 4 GiB (while Normal memory is plentiful), a
// plain allocation prefers Normal, both zone flags together are refused, and
// a zone-restricted allocation that exhausts its zones stops there instead of
// taking memory above its limit.
TEST(BuddyZones, ZoneFlagsOnlyReturnMemoryBelowTheirLimit) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    const PhysTotals start = a.totals();
    std::mt19937_64 rng(7);
    std::vector<Block> held;
    for (int i = 0; i < 300; ++i) {
        const unsigned order = static_cast<unsigned>(rng() % 7);
        const uint32_t extra = (rng() & 1) ? uint32_t{kAllocNoPcp} : 0u;
        Result<uint64_t> d = a.alloc_pages(order, kAllocZoneDma | extra);
        if (d.ok()) {
            EXPECT_LE(d.value() + block_bytes(order), 16 * MiB);
            held.push_back({d.value(), order});
        }
        Result<uint64_t> d32 = a.alloc_pages(order, kAllocZoneDma32 | extra);
        ASSERT_TRUE(d32.ok());
        EXPECT_LE(d32.value() + block_bytes(order), 4 * GiB);
        held.push_back({d32.value(), order});
        Result<uint64_t> n = a.alloc_pages(order, extra);
        ASSERT_TRUE(n.ok());
        EXPECT_GE(n.value(), kN0Normal);
        EXPECT_LE(n.value() + block_bytes(order), kN0Normal + 64 * MiB);
        held.push_back({n.value(), order});
    }
    const PhysTotals mid = a.totals();
    EXPECT_EQ(a.alloc_pages(0, kAllocZoneDma | kAllocZoneDma32).code(), Errc::invalid_argument);
    EXPECT_EQ(a.alloc_pages(5, kAllocZoneDma | kAllocZoneDma32 | kAllocNoPcp).code(), Errc::invalid_argument);
    EXPECT_SAME_TOTALS(a.totals(), mid);

    // Exhaust DMA32 and DMA with the DMA32 flag: Normal is never touched.
    const uint64_t normal_free = a.zone(0, ZoneType::normal).free;
    std::vector<Block> low = grab_all(a, kAllocZoneDma32 | kAllocReserves);
    for (const Block &b : low) EXPECT_LE(b.end(), 4 * GiB);
    EXPECT_EQ(a.zone(0, ZoneType::dma32).free, 0u);
    EXPECT_EQ(a.zone(0, ZoneType::dma).free, 0u);
    EXPECT_EQ(a.zone(0, ZoneType::normal).free, normal_free);
    EXPECT_EQ(a.alloc_pages(0, kAllocZoneDma | kAllocNoPcp).code(), Errc::no_memory);
    release(a, low);
    release(a, held);
    EXPECT_EQ(a.totals().free, start.free);
    ASSERT_BOOKS(a);
}

// Proves: when the preferred zone (Normal) is down to its watermark, plain
// allocations fall back to DMA32 and then DMA, in that order, and each zone's
// ZoneStats.fallbacks counts exactly the allocations it served for another
// preferred zone; every zone stops at exactly its min watermark.
TEST(BuddyZones, FallbackFromNormalToDma32ToDma) {
    HostedMachine m;
    m.add_ram(1 * MiB, 32 * MiB);
    m.add_ram(4 * GiB, 4 * GiB + 16 * MiB);
    m.boot_all();
    PhysAllocator &a = m.a();
    const Zone &dma = a.zone(0, ZoneType::dma), &dma32 = a.zone(0, ZoneType::dma32),
               &normal = a.zone(0, ZoneType::normal);
    const uint64_t expected = (dma.free - dma.wmark_min) + (dma32.free - dma32.wmark_min) +
                              (normal.free - normal.wmark_min);
    std::vector<Block> held;
    uint64_t in_zone[3] = {0, 0, 0};
    int last_zone = 2;
    for (;;) {
        Result<uint64_t> r = a.alloc_pages(0, kAllocNoPcp);
        if (!r.ok()) {
            EXPECT_EQ(r.code(), Errc::no_memory);
            break;
        }
        held.push_back({r.value(), 0});
        const int zt = r.value() >= 4 * GiB ? 2 : r.value() >= 16 * MiB ? 1 : 0;
        EXPECT_LE(zt, last_zone) << "went back up to a higher zone";
        last_zone = zt;
        ++in_zone[zt];
    }
    EXPECT_EQ(held.size(), expected);
    EXPECT_EQ(in_zone[2], normal.managed - normal.wmark_min);
    EXPECT_EQ(normal.stats.fallbacks, 0u);
    EXPECT_EQ(dma32.stats.fallbacks, in_zone[1]);
    EXPECT_EQ(dma.stats.fallbacks, in_zone[0]);
    for (const Zone *z : {&dma, &dma32, &normal}) EXPECT_EQ(z->free, z->wmark_min);
    release(a, held);
    ASSERT_BOOKS(a);
}

// Proves: a descriptor array that straddles 16 MiB (placed at the top of a
// range ending just above it) and is later replaced by a bigger one (a range
// higher in the same section) is given back to the right zones: DMA never
// holds a page at or above 16 MiB, and DMA32 gets the pages above it.
TEST(BuddyZones, ReplacedDescriptorArrayGoesBackToTheRightZones) {
    HostedMachine m;
    m.add_ram(1 * MiB, 16 * MiB + 8 * KiB); // its array: 20 pages across 16 MiB
    m.add_ram(32 * MiB, 64 * MiB);          // needs a bigger array: the old one is freed
    m.boot_all();
    PhysAllocator &a = m.a();
    const Zone &dma = a.zone(0, ZoneType::dma), &dma32 = a.zone(0, ZoneType::dma32);
    EXPECT_LE(dma.end_pfn, pfn(16 * MiB));
    EXPECT_EQ(dma.managed, pfn(15 * MiB));
    EXPECT_EQ(dma.managed + dma32.managed + test::in_place_meta_pages(a), pfn(15 * MiB + 8 * KiB + 32 * MiB));
    std::vector<Block> low = grab_all(a, kAllocZoneDma | kAllocReserves);
    uint64_t got = 0;
    for (const Block &b : low) {
        EXPECT_LE(b.end(), 16 * MiB) << std::hex << b.pa;
        got += uint64_t{1} << b.order;
    }
    EXPECT_EQ(got, dma.managed);
    release(a, low);
    ASSERT_BOOKS(a);
}

// ==================================================================== nodes

// Proves: a node argument is served from that node; when it is exhausted
// the allocation falls back to another node (counted as a fallback there)
// unless kAllocExactNode is given, which fails with no_memory instead; a node
// with no memory falls back, or fails when exact; exact without a node and
// node ids >= kMaxNodes are refused.
TEST(BuddyNodes, PreferredNodeFirstThenFallbackUnlessExact) {
    HostedMachine m;
    m.add_ram(1 * MiB, 64 * MiB, 0);
    m.add_ram(4 * GiB, 4 * GiB + 32 * MiB, 0);
    m.add_ram(8 * GiB, 8 * GiB + 32 * MiB, 1);
    m.add_ram(12 * GiB, 12 * GiB + 32 * MiB, 2);
    m.boot_all();
    PhysAllocator &a = m.a();
    EXPECT_EQ(a.node_count(), 3u);
    auto in = [](uint64_t pa, uint64_t base) { return pa >= base && pa < base + 32 * MiB; };
    Result<uint64_t> r1 = a.alloc_pages(3, 0, 1), r2 = a.alloc_pages(5, 0, 2), r0 = a.alloc_pages(0);
    ASSERT_TRUE(r1.ok() && r2.ok() && r0.ok());
    EXPECT_TRUE(in(r1.value(), 8 * GiB));
    EXPECT_TRUE(in(r2.value(), 12 * GiB));
    EXPECT_TRUE(in(r0.value(), 4 * GiB));
    std::vector<Block> held{{r1.value(), 3}, {r2.value(), 5}, {r0.value(), 0}};

    // Exhaust node 1 (exact): everything comes from node 1.
    std::vector<Block> n1 = grab_all(a, kAllocExactNode | kAllocNoPcp, kMaxOrder, 1);
    for (const Block &b : n1) EXPECT_TRUE(in(b.pa, 8 * GiB) && in(b.end() - 1, 8 * GiB)) << std::hex << b.pa;
    EXPECT_EQ(a.alloc_pages(0, kAllocExactNode, 1).code(), Errc::no_memory);
    const uint64_t fb0 = a.zone(0, ZoneType::normal).stats.fallbacks;
    const uint64_t fb2 = a.zone(2, ZoneType::normal).stats.fallbacks;
    Result<uint64_t> f = a.alloc_pages(2, kAllocNoPcp, 1);
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(in(f.value(), 8 * GiB));
    EXPECT_EQ(a.zone(0, ZoneType::normal).stats.fallbacks + a.zone(2, ZoneType::normal).stats.fallbacks,
              fb0 + fb2 + 1);
    held.push_back({f.value(), 2});

    // A node without memory: fallback, or no_memory when exact.
    Result<uint64_t> none = a.alloc_pages(0, kAllocNoPcp, 5);
    ASSERT_TRUE(none.ok());
    held.push_back({none.value(), 0});
    const PhysTotals t = a.totals();
    EXPECT_EQ(a.alloc_pages(0, kAllocExactNode, 5).code(), Errc::no_memory);
    EXPECT_EQ(a.alloc_pages(0, kAllocExactNode).code(), Errc::invalid_argument);
    EXPECT_EQ(a.alloc_pages(0, 0, kMaxNodes).code(), Errc::invalid_argument);
    EXPECT_EQ(a.alloc_pages_range(0, 0, 8 * GiB, 0, kMaxNodes).code(), Errc::invalid_argument);
    EXPECT_SAME_TOTALS(a.totals(), t);
    release(a, n1);
    release(a, held);
    ASSERT_BOOKS(a);
}

// Proves: set_cpu_node moves the calling CPU's plain allocations (per-CPU
// fast path and slow path alike) to the new node, and back.
TEST(BuddyNodes, SetCpuNodeChangesWherePlainAllocationsComeFrom) {
    HostedMachine m;
    m.add_ram(4 * GiB, 4 * GiB + 32 * MiB, 0);
    m.add_ram(8 * GiB, 8 * GiB + 32 * MiB, 1);
    m.add_ram(12 * GiB, 12 * GiB + 32 * MiB, 2);
    m.boot_all();
    PhysAllocator &a = m.a();
    const unsigned cpu = hosted::claim_cpu();
    std::vector<Block> held;
    auto node_of = [](uint64_t pa) { return static_cast<int>(pa / (4 * GiB)) - 1; };
    for (uint16_t node : {0, 2, 1, 0}) {
        a.set_cpu_node(cpu, node);
        EXPECT_EQ(a.cpu_node(cpu), node);
        for (unsigned order : {0u, 0u, 3u, 6u}) {
            Result<uint64_t> r = a.alloc_pages(order);
            ASSERT_TRUE(r.ok());
            EXPECT_EQ(node_of(r.value()), node) << "order " << order;
            held.push_back({r.value(), order});
        }
    }
    a.set_cpu_node(cpu, kMaxNodes); // ignored
    EXPECT_EQ(a.cpu_node(cpu), 0u);
    release(a, held);
    a.set_cpu_node(cpu, 0);
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
