// The Linux-format reports of the buddy allocator: /proc/buddyinfo,
// /proc/zoneinfo and /proc/meminfo match the books.
//
// Every test runs on a fresh simulated machine (tests/hosted_machine.h) and
// ends with check(): a test that leaves the books inconsistent fails even if
// its own assertions passed. Numbers are derived from the machine's layout,
// never copied from a run. Shared helpers: tests/buddy_test_util.h.
#include <kmem/buddy.h>
#include <kmem/report.h>

#include "buddy_test_util.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace kmem {
namespace {

using namespace test;

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
