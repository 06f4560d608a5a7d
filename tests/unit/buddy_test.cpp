// The buddy page allocator, path by path: bootstrap and onlining, zones,
// nodes, coalescing, odd ranges and lazy runs, per-CPU lists, allocation in
// an address window, reservations, every error of free_pages, running out of
// memory and watermarks, zeroing and tail descriptors, the /proc reports.
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout
// (pages in its ranges, the descriptor arrays placed inside them), never
// copied from a run.
#include <kmem/buddy.h>
#include <kmem/report.h>

#include "hosted_machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace kmem {
namespace {

using test::GiB;
using test::HostedMachine;
using test::KiB;
using test::MiB;

constexpr uint64_t pfn(uint64_t pa) { return pa >> kPageShift; }
constexpr uint64_t block_bytes(unsigned order) { return kPageSize << order; }

std::string describe(const PhysTotals &t) {
    std::ostringstream s;
    s << "{managed " << t.managed << " free " << t.free << " pcp " << t.pcp << " reserved "
      << t.reserved << " allocated " << t.allocated << " lazy " << t.lazy << " meta "
      << t.metadata_bytes << " sections " << t.sections << "}";
    return s.str();
}
// Every field equal (a failed call must not even carve a lazy run).
bool same(const PhysTotals &x, const PhysTotals &y) {
    return x.managed == y.managed && x.free == y.free && x.pcp == y.pcp && x.reserved == y.reserved &&
           x.allocated == y.allocated && x.lazy == y.lazy && x.metadata_bytes == y.metadata_bytes &&
           x.sections == y.sections;
}
// Equal but for lazy pages (memory that was used and given back is on the
// free lists now, not in a lazy run).
bool same_books(const PhysTotals &x, const PhysTotals &y) {
    PhysTotals z = y;
    z.lazy = x.lazy;
    return same(x, z);
}
// Nothing taken: equal but for pages moved from the per-CPU lists to the
// zones (an allocation that finds no block drains its CPU's lists first).
bool nothing_taken(const PhysTotals &x, const PhysTotals &y) {
    PhysTotals z = y;
    z.free += z.pcp - x.pcp;
    z.pcp = x.pcp;
    return same(x, z);
}
#define EXPECT_SAME_TOTALS(x, y) EXPECT_TRUE(same((x), (y))) << describe(x) << "\n" << describe(y)
#define EXPECT_NOTHING_TAKEN(x, y) EXPECT_TRUE(nothing_taken((x), (y))) << describe(x) << "\n" << describe(y)
#define EXPECT_SAME_BOOKS(x, y) EXPECT_TRUE(same_books((x), (y))) << describe(x) << "\n" << describe(y)
#define ASSERT_BOOKS(a) ASSERT_TRUE((a).check().ok()) << (a).check().reason()

struct Block {
    uint64_t pa;
    unsigned order;
    uint64_t end() const { return pa + block_bytes(order); }
};

// Allocate until nothing is left: order `top` first, then smaller ones.
std::vector<Block> grab_all(PhysAllocator &a, uint32_t flags, unsigned top = kMaxOrder,
                            uint16_t node = kAnyNode) {
    std::vector<Block> out;
    for (int o = static_cast<int>(top); o >= 0; --o)
        for (;;) {
            Result<uint64_t> r = a.alloc_pages(static_cast<unsigned>(o), flags, node);
            if (!r.ok()) {
                EXPECT_EQ(r.code(), Errc::no_memory);
                break;
            }
            out.push_back({r.value(), static_cast<unsigned>(o)});
        }
    return out;
}
void release(PhysAllocator &a, std::vector<Block> &blocks) {
    for (const Block &b : blocks) {
        const Status s = a.free_pages(b.pa, b.order);
        EXPECT_TRUE(s.ok()) << s.reason();
    }
    blocks.clear();
    a.drain_local_pcp();
}
bool overlaps(const Block &b, uint64_t start, uint64_t end) { return b.pa < end && start < b.end(); }

// Free blocks per order as /proc/buddyinfo counts them (lazy runs are free
// max-order blocks).
std::vector<uint64_t> buddyinfo_row(const Zone &z) {
    std::vector<uint64_t> row;
    for (unsigned o = 0; o <= kMaxOrder; ++o) row.push_back(z.area[o].blocks);
    row[kMaxOrder] += z.lazy / kMaxBlockPages;
    return row;
}

// The standard machine: node 0 has DMA [1 MiB, 16 MiB), DMA32 [16 MiB,
// 64 MiB) and Normal [4 GiB, 4 GiB + 64 MiB); node 1 has Normal
// [8 GiB, 8 GiB + 64 MiB).
constexpr uint64_t kN0Normal = 4 * GiB, kN1Normal = 8 * GiB;
void standard_machine(HostedMachine &m) {
    m.add_ram(1 * MiB, 64 * MiB, 0);
    m.add_ram(kN0Normal, kN0Normal + 64 * MiB, 0);
    m.add_ram(kN1Normal, kN1Normal + 64 * MiB, 1);
    m.boot_all();
}

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

// ============================================================= reservations

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

// ================================================================== reports

std::string capture(void (*report)(const PhysAllocator &, ReportSink, void *), const PhysAllocator &a) {
    std::string out;
    report(a, [](void *ctx, const char *text, size_t len) { static_cast<std::string *>(ctx)->append(text, len); },
           &out);
    return out;
}
std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

// Proves: /proc/buddyinfo has one Linux-format line per present zone whose
// numbers are the zone's free blocks per order (lazy runs as max-order
// blocks); /proc/zoneinfo's "pages free", min, managed and reserved match the
// zone; /proc/meminfo's MemTotal, MemFree, Reserved and Allocated are the
// totals in kB, in Linux's "Name:  %8lu kB" layout.
TEST(BuddyReports, LinuxFormatsMatchTheBooks) {
    HostedMachine m;
    standard_machine(m);
    PhysAllocator &a = m.a();
    ASSERT_TRUE(a.reserve_range(10 * MiB, 11 * MiB, "r").ok()); // (drains this CPU's list)
    std::vector<Block> held;
    for (unsigned o : {0u, 1u, 3u, 5u, 10u}) {
        Result<uint64_t> r = a.alloc_pages(o);
        ASSERT_TRUE(r.ok());
        held.push_back({r.value(), o});
    }
    const PhysTotals t = a.totals();
    ASSERT_GT(t.pcp, 0u);

    const std::vector<std::string> bi = lines_of(capture(report_buddyinfo, a));
    ASSERT_EQ(bi.size(), 4u); // DMA, DMA32, Normal on node 0; Normal on node 1
    EXPECT_EQ(bi[0].rfind("Node 0, zone      DMA ", 0), 0u) << bi[0];
    EXPECT_EQ(bi[3].rfind("Node 1, zone   Normal ", 0), 0u) << bi[3];
    for (const std::string &line : bi) {
        unsigned node = 0;
        char zname[16] = {};
        int consumed = 0;
        ASSERT_EQ(std::sscanf(line.c_str(), "Node %u, zone %15s%n", &node, zname, &consumed), 2) << line;
        ZoneType type = ZoneType::dma;
        for (unsigned zt = 0; zt < kZoneTypes; ++zt)
            if (std::string(zname) == zone_type_name(static_cast<ZoneType>(zt))) type = static_cast<ZoneType>(zt);
        EXPECT_EQ(std::string(zname), zone_type_name(type));
        std::istringstream nums(line.substr(static_cast<size_t>(consumed)));
        std::vector<uint64_t> got;
        for (uint64_t v; nums >> v;) got.push_back(v);
        EXPECT_EQ(got, buddyinfo_row(a.zone(static_cast<uint16_t>(node), type))) << line;
    }

    const std::string zi = capture(report_zoneinfo, a);
    const Zone &n0 = a.zone(0, ZoneType::normal), &dma = a.zone(0, ZoneType::dma);
    const size_t at = zi.find("Node 0, zone   Normal\n");
    ASSERT_NE(at, std::string::npos) << zi;
    const std::vector<std::string> zl = lines_of(zi.substr(at));
    auto field = [&](const std::vector<std::string> &ls, const std::string &name) -> uint64_t {
        for (size_t i = 1; i < ls.size() && ls[i].rfind("Node ", 0) != 0; ++i) {
            std::istringstream in(ls[i]);
            std::string w1, w2;
            in >> w1;
            if (w1 == "pages") in >> w2;
            if ((w1 == "pages" ? w1 + " " + w2 : w1) == name) {
                uint64_t v = 0;
                in >> v;
                return v;
            }
        }
        ADD_FAILURE() << "no " << name;
        return ~uint64_t{0};
    };
    const uint64_t pcp_n0 = t.pcp; // every per-CPU page here belongs to node 0 Normal
    EXPECT_EQ(field(zl, "pages free"), n0.free + pcp_n0);
    EXPECT_EQ(field(zl, "min"), n0.wmark_min);
    EXPECT_EQ(field(zl, "managed"), n0.managed);
    EXPECT_EQ(field(zl, "lazy"), n0.lazy);
    const std::vector<std::string> dl = lines_of(zi.substr(zi.find("Node 0, zone      DMA\n")));
    EXPECT_EQ(field(dl, "reserved"), dma.reserved);
    EXPECT_EQ(dma.reserved, 256u);

    const std::vector<std::string> mi = lines_of(capture(report_meminfo, a));
    auto kb = [&](const std::string &name) -> uint64_t {
        for (const std::string &l : mi)
            if (l.rfind(name + ":", 0) == 0) {
                EXPECT_EQ(l.size(), 16u + 8u + 3u) << l; // "Name:" padded to 16, %8lu, " kB"
                EXPECT_EQ(l.substr(l.size() - 3), " kB");
                return std::stoull(l.substr(16));
            }
        ADD_FAILURE() << "no " << name;
        return 0;
    };
    EXPECT_EQ(kb("MemTotal"), t.managed * 4);
    EXPECT_EQ(kb("MemFree"), (t.free + t.pcp) * 4);
    EXPECT_EQ(kb("Reserved"), t.reserved * 4);
    EXPECT_EQ(kb("Allocated"), t.allocated * 4);
    EXPECT_EQ(kb("PerCpuLists"), t.pcp * 4);
    EXPECT_LE(kb("MemAvailable"), kb("MemFree"));

    release(a, held);
    ASSERT_TRUE(a.unreserve_range(10 * MiB, 11 * MiB).ok());
    ASSERT_BOOKS(a);
}

} // namespace
} // namespace kmem
