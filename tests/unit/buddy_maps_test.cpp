// Every real firmware map in data/memmaps (and the BIOS-e820 map of the real
// Linux 6.1 boot log in data/linux-boot) boots in the hosted simulator the way
// a kernel would: bootstrap with a 1 GiB early window, then online the rest.
//
// For each map this proves:
//   - after bootstrap only RAM below 1 GiB is online and check() passes;
//   - after onlining the rest, check() passes and every usable page of the
//     map is accounted for. The relation asserted, with
//       arrays  = totals().metadata_bytes - totals().sections * sizeof(Section)
//               (bytes of page-descriptor arrays; a whole number of pages),
//       borrowed = descriptor pages of arrays that live in blocks borrowed
//               from the buddy (sections too small to hold their own array),
//     is
//       managed == usable_bytes / 4096 - (arrays / 4096 - borrowed)
//     i.e. arrays placed inside the memory they describe are the only usable
//     pages that are not managed; borrowed arrays are managed pages held as
//     allocated blocks (so totals().allocated == 0 exactly when borrowed == 0).
//     The in-place part is cross-checked against the sections themselves;
//   - every node of the map has its memory in the allocator (the 1 TiB
//     8-node Supermicro map shows 8 nodes, each with a Normal zone);
//   - 3,000 allocations of random orders, zones and nodes (at most half the
//     memory held at a time, random blocks freed to make room) return blocks
//     inside online memory, below the zone limit and on the node asked for,
//     never overlapping; after freeing them and draining, check() passes and
//     the free count is exactly what it was after boot.
#include <kmem/buddy.h>

#include "hosted_machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace kmem {
namespace {

using test::GiB;
using test::HostedMachine;

constexpr uint64_t kWindow = 1 * GiB;

std::vector<std::string> all_maps() {
    std::vector<std::string> maps;
    for (const auto &e : std::filesystem::directory_iterator(test::data_path("memmaps")))
        if (e.is_regular_file()) maps.push_back("memmaps/" + e.path().filename().string());
    std::sort(maps.begin(), maps.end());
    maps.push_back("linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log");
    return maps;
}

std::string test_name(const ::testing::TestParamInfo<std::string> &info) {
    std::string n = info.param.substr(info.param.find('/') + 1);
    for (char &c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return n;
}

// Descriptor pages of arrays borrowed from the buddy (white box: an array
// that lies in no section's in-place range - whole sections onlined
// together keep their arrays in the first one's range).
uint64_t borrowed_descriptor_pages(const PhysAllocator &a) {
    const std::vector<test::PfnRange> in_place = test::in_place_meta(a);
    uint64_t n = 0;
    for (size_t s = 0; s < kMaxSections; ++s) {
        const Section &sec = a.page_map().section_at(s);
        if (!sec.descs) continue;
        const uint64_t pfn = pfn_of(Plat::virt_to_phys(sec.descs));
        const bool placed = std::any_of(in_place.begin(), in_place.end(),
                                        [&](const test::PfnRange &r) { return pfn >= r.start && pfn < r.end; });
        if (!placed) n += PageMap::array_pages(covered_pages(sec));
    }
    return n;
}

class BuddyMaps : public ::testing::TestWithParam<std::string> {};

TEST_P(BuddyMaps, BootsWithA1GiBWindowThenOnlinesTheRest) {
    HostedMachine m;
    m.load_map(GetParam());
    ASSERT_FALSE(HasFatalFailure());
    const MemoryMap &map = m.map();
    uint64_t usable = 0, below_window = 0;
    for (const MemRange &r : map)
        if (r.type == MemType::usable || r.type == MemType::kernel_reserved) {
            usable += r.size() / kPageSize;
            if (r.start < kWindow) below_window += (std::min(r.end, kWindow) - r.start) / kPageSize;
        }
    ASSERT_GT(usable, 0u);

    const Status b = m.boot(kWindow);
    ASSERT_TRUE(b.ok()) << b.reason();
    PhysAllocator &a = m.a();
    ASSERT_TRUE(a.check().ok()) << a.check().reason();
    EXPECT_LE(a.online_map().highest_address(), kWindow);
    PhysTotals t = a.totals();
    EXPECT_EQ(t.managed + test::in_place_meta_pages(a), below_window);

    const auto t0 = std::chrono::steady_clock::now();
    const Status o = m.online_rest();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(o.ok()) << o.reason();
    ASSERT_TRUE(a.check().ok()) << a.check().reason();

    t = a.totals();
    ASSERT_EQ((t.metadata_bytes - t.sections * sizeof(Section)) % kPageSize, 0u);
    const uint64_t arrays = (t.metadata_bytes - t.sections * sizeof(Section)) / kPageSize;
    const uint64_t borrowed = borrowed_descriptor_pages(a);
    EXPECT_EQ(t.managed, usable - (arrays - borrowed));
    EXPECT_EQ(arrays - borrowed, test::in_place_meta_pages(a));
    if (borrowed == 0) {
        EXPECT_EQ(t.allocated, 0u);
    } else {
        EXPECT_GE(t.allocated, borrowed);
    }
    EXPECT_EQ(t.reserved, map.bytes(MemType::kernel_reserved) / kPageSize);
    EXPECT_EQ(t.free + t.pcp, t.managed - t.allocated - t.reserved);
    EXPECT_EQ(a.online_map().highest_address(), m.ram_top());
    EXPECT_EQ(a.node_count(), map.node_count());
    for (uint16_t n = 0; n < kMaxNodes; ++n) {
        if (!map.bytes_in_node(n, MemType::usable)) continue;
        uint64_t managed = 0;
        for (unsigned ty = 0; ty < kZoneTypes; ++ty) managed += a.zone(n, static_cast<ZoneType>(ty)).managed;
        EXPECT_GT(managed, 0u) << "node " << n;
    }
    std::printf("[ map      ] %-58s %9llu pages managed, %5llu descriptor pages (%llu borrowed), "
                "%llu sections, %u nodes, rest online in %.2f ms\n",
                GetParam().c_str(), static_cast<unsigned long long>(t.managed),
                static_cast<unsigned long long>(arrays), static_cast<unsigned long long>(borrowed),
                static_cast<unsigned long long>(t.sections), a.node_count(), ms);

    // A few thousand blocks of every order, zone and node, then all back.
    const PhysTotals booted = t;
    std::mt19937_64 rng(std::hash<std::string>{}(GetParam()));
    struct Block {
        uint64_t pa;
        unsigned order;
    };
    std::vector<Block> held;
    uint64_t held_pages = 0, served = 0;
    for (int i = 0; i < 3000; ++i) {
        while (held_pages * 2 > booted.managed) { // keep at most half the memory held
            const size_t k = rng() % held.size();
            ASSERT_TRUE(a.free_pages(held[k].pa, held[k].order).ok());
            held_pages -= uint64_t{1} << held[k].order;
            held[k] = held.back();
            held.pop_back();
        }
        const unsigned order = static_cast<unsigned>(rng() % 2 ? rng() % (kPcpMaxOrder + 1) : rng() % (kMaxOrder + 1));
        uint32_t flags = 0;
        uint16_t node = kAnyNode;
        switch (rng() % 6) {
        case 0: flags = kAllocZoneDma32; break;
        case 1: flags = kAllocZoneDma; break;
        case 2: flags = kAllocNoPcp; break;
        case 3: {
            // An exact node among those with memory.
            std::vector<uint16_t> with;
            for (uint16_t n = 0; n < kMaxNodes; ++n)
                if (map.bytes_in_node(n, MemType::usable)) with.push_back(n);
            node = with[rng() % with.size()];
            flags = kAllocExactNode;
            break;
        }
        default: break;
        }
        Result<uint64_t> r = a.alloc_pages(order, flags, node);
        if (!r.ok()) {
            EXPECT_EQ(r.code(), Errc::no_memory);
            continue;
        }
        const uint64_t pa = r.value(), end = pa + (kPageSize << order);
        EXPECT_EQ(pa % (kPageSize << order), 0u);
        const MemRange *on = a.online_map().find(pa);
        ASSERT_NE(on, nullptr) << std::hex << pa;
        EXPECT_LE(end, on->end) << std::hex << pa;
        if (flags & kAllocZoneDma) {
            EXPECT_LE(end, kZoneDmaEnd);
        }
        if (flags & kAllocZoneDma32) {
            EXPECT_LE(end, kZoneDma32End);
        }
        if (flags & kAllocExactNode) {
            EXPECT_EQ(on->node, node);
        }
        held.push_back({pa, order});
        held_pages += uint64_t{1} << order;
        ++served;
    }
    EXPECT_GT(served, 2000u);
    std::vector<Block> sorted = held;
    std::sort(sorted.begin(), sorted.end(), [](const Block &x, const Block &y) { return x.pa < y.pa; });
    for (size_t i = 1; i < sorted.size(); ++i)
        ASSERT_LE(sorted[i - 1].pa + (kPageSize << sorted[i - 1].order), sorted[i].pa) << "blocks overlap";
    ASSERT_TRUE(a.check().ok()) << a.check().reason();
    std::shuffle(held.begin(), held.end(), rng);
    for (const Block &bl : held) ASSERT_TRUE(a.free_pages(bl.pa, bl.order).ok());
    a.drain_local_pcp();
    t = a.totals();
    EXPECT_EQ(t.free, booted.free + booted.pcp);
    EXPECT_EQ(t.pcp, 0u);
    EXPECT_EQ(t.allocated, booted.allocated);
    ASSERT_TRUE(a.check().ok()) << a.check().reason();
}

INSTANTIATE_TEST_SUITE_P(BuddyData, BuddyMaps, ::testing::ValuesIn(all_maps()), test_name);

// Proves: the list above really holds every map (13 firmware maps and the
// boot log), so a map cannot silently drop out of the suite.
TEST(BuddyMapsList, EveryDataMapIsBooted) {
    const std::vector<std::string> maps = all_maps();
    EXPECT_GE(maps.size(), 14u);
    EXPECT_NE(std::find(maps.begin(), maps.end(), "memmaps/supermicro-h11dsu-epyc-naples-1tib-8numa.txt"),
              maps.end());
}

// Proves: the 1 TiB, 8-node Supermicro map comes up with all 8 nodes, each
// with its memory in a Normal zone (nodes 1..7 lie wholly above 4 GiB), and
// an exact-node allocation on each node lands inside that node's map ranges.
TEST(BuddyMapsSupermicro, EightNodesWithNormalZones) {
    HostedMachine m;
    m.load_map("memmaps/supermicro-h11dsu-epyc-naples-1tib-8numa.txt");
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_EQ(m.map().node_count(), 8u);
    ASSERT_TRUE(m.boot(kWindow).ok());
    ASSERT_TRUE(m.online_rest().ok());
    PhysAllocator &a = m.a();
    EXPECT_EQ(a.node_count(), 8u);
    EXPECT_GT(a.totals().managed, (uint64_t{1000} << 30) / kPageSize);
    for (uint16_t n = 0; n < 8; ++n) {
        const Zone &z = a.zone(n, ZoneType::normal);
        EXPECT_TRUE(z.present) << "node " << n;
        EXPECT_GT(z.managed, (uint64_t{100} << 30) / kPageSize) << "node " << n;
        EXPECT_GT(z.lazy, 0u) << "node " << n;
        Result<uint64_t> r = a.alloc_pages(kMaxOrder, kAllocExactNode | kAllocNoPcp, n);
        ASSERT_TRUE(r.ok()) << "node " << n;
        bool inside = false;
        m.map().for_each(MemType::usable, n, [&](const MemRange &mr) {
            inside |= r.value() >= mr.start && r.value() + (kPageSize << kMaxOrder) <= mr.end;
        });
        EXPECT_TRUE(inside) << "node " << n << " block at " << std::hex << r.value();
        ASSERT_TRUE(a.free_pages(r.value(), kMaxOrder).ok());
    }
    ASSERT_TRUE(a.check().ok()) << a.check().reason();
}

} // namespace
} // namespace kmem
