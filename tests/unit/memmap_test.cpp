// Unit tests of MemoryMap: sanitizing rules, every operation, capacity and
// the all-or-nothing guarantee.
#include <kmem/memmap.h>

#include "test_util.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace kmem {
namespace {

constexpr uint64_t K = 1024, M = K * K, G = M * K;

struct Expect {
    uint64_t start, end;
    MemType type;
    uint16_t node = 0;
};

void expect_ranges(const MemoryMap &m, const std::vector<Expect> &want) {
    ASSERT_TRUE(m.check().ok()) << m.check().reason();
    ASSERT_EQ(m.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(m[i].start, want[i].start) << "range " << i;
        EXPECT_EQ(m[i].end, want[i].end) << "range " << i;
        EXPECT_EQ(m[i].type, want[i].type) << "range " << i;
        EXPECT_EQ(m[i].node, want[i].node) << "range " << i;
    }
}

TEST(MemoryMap, EmptyMap) {
    StaticMemoryMap<4> m;
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.capacity(), 4u);
    EXPECT_EQ(m.usable_bytes(), 0u);
    EXPECT_EQ(m.node_count(), 1u);
    EXPECT_EQ(m.highest_address(), 0u);
    EXPECT_EQ(m.find(0), nullptr);
    EXPECT_TRUE(m.check().ok());
}

TEST(MemoryMap, AddKeepsRangesSorted) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add(4 * G, 8 * G, MemType::usable).ok());
    ASSERT_TRUE(m.add(0, 640 * K, MemType::usable).ok());
    ASSERT_TRUE(m.add(1 * M, 3 * G, MemType::usable).ok());
    expect_ranges(m, {{0, 640 * K, MemType::usable},
                      {1 * M, 3 * G, MemType::usable},
                      {4 * G, 8 * G, MemType::usable}});
    EXPECT_EQ(m.usable_bytes(), 640 * K + 3 * G - 1 * M + 4 * G);
}

TEST(MemoryMap, ZeroLengthIsDropped) {
    StaticMemoryMap<4> m;
    ASSERT_TRUE(m.add(1 * M, 1 * M, MemType::usable).ok());
    EXPECT_TRUE(m.empty());
}

TEST(MemoryMap, AdjacentSameTypeMerges) {
    StaticMemoryMap<4> m;
    ASSERT_TRUE(m.add(0, 1 * M, MemType::usable).ok());
    ASSERT_TRUE(m.add(1 * M, 2 * M, MemType::usable).ok());
    ASSERT_TRUE(m.add(2 * M, 3 * M, MemType::reserved).ok());
    expect_ranges(m, {{0, 2 * M, MemType::usable}, {2 * M, 3 * M, MemType::reserved}});
}

TEST(MemoryMap, AdjacentDifferentNodesDoNotMerge) {
    StaticMemoryMap<4> m;
    ASSERT_TRUE(m.add(0, 1 * G, MemType::usable, 0).ok());
    ASSERT_TRUE(m.add(1 * G, 2 * G, MemType::usable, 1).ok());
    expect_ranges(m, {{0, 1 * G, MemType::usable, 0}, {1 * G, 2 * G, MemType::usable, 1}});
    EXPECT_EQ(m.node_count(), 2u);
    EXPECT_EQ(m.bytes_in_node(1, MemType::usable), 1 * G);
}

TEST(MemoryMap, MoreRestrictiveTypeWinsWhicheverComesFirst) {
    // usable [0, 16M) overlapped by reserved [4M, 8M), in both orders.
    for (int order = 0; order < 2; ++order) {
        StaticMemoryMap<8> m;
        if (order == 0) {
            ASSERT_TRUE(m.add(0, 16 * M, MemType::usable).ok());
            ASSERT_TRUE(m.add(4 * M, 8 * M, MemType::reserved).ok());
        } else {
            ASSERT_TRUE(m.add(4 * M, 8 * M, MemType::reserved).ok());
            ASSERT_TRUE(m.add(0, 16 * M, MemType::usable).ok());
        }
        expect_ranges(m, {{0, 4 * M, MemType::usable},
                          {4 * M, 8 * M, MemType::reserved},
                          {8 * M, 16 * M, MemType::usable}});
    }
}

TEST(MemoryMap, TypeOrderIsLinuxLike) {
    // ACPI data over usable -> ACPI; NVS over ACPI -> NVS; reserved beats all.
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add(0, 12 * M, MemType::usable).ok());
    ASSERT_TRUE(m.add(0, 8 * M, MemType::acpi_reclaimable).ok());
    ASSERT_TRUE(m.add(0, 4 * M, MemType::acpi_nvs).ok());
    ASSERT_TRUE(m.add(2 * M, 10 * M, MemType::reserved).ok());
    expect_ranges(m, {{0, 2 * M, MemType::acpi_nvs},
                      {2 * M, 10 * M, MemType::reserved},
                      {10 * M, 12 * M, MemType::usable}});
}

TEST(MemoryMap, UsableShrinksToWholePages) {
    StaticMemoryMap<8> m;
    // 0x0-0x9fbff usable (end inclusive in e820 terms) -> [0, 0x9f000).
    ASSERT_TRUE(m.add(0, 0x9fc00, MemType::usable).ok());
    ASSERT_TRUE(m.add(0x9fc00, 0xa0000, MemType::reserved).ok());
    // A usable range entirely inside one page disappears.
    ASSERT_TRUE(m.add(0x100800, 0x100c00, MemType::usable).ok());
    expect_ranges(m, {{0, 0x9f000, MemType::usable}, {0x9fc00, 0xa0000, MemType::reserved}});
}

TEST(MemoryMap, UntrimmedAddsKeepAPageSplitAcrossEntries) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add_untrimmed(0x1800, 0x2000, MemType::usable).ok());
    ASSERT_TRUE(m.add_untrimmed(0x1000, 0x1800, MemType::usable).ok());
    m.trim_usable_to_pages();
    expect_ranges(m, {{0x1000, 0x2000, MemType::usable}});
}

TEST(MemoryMap, ReserveRoundsOutToPagesAndOnlyTakesUsable) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add(0, 4 * M, MemType::usable).ok());
    ASSERT_TRUE(m.add(4 * M, 5 * M, MemType::acpi_nvs).ok());
    ASSERT_TRUE(m.add(6 * M, 8 * M, MemType::usable).ok());
    // The kernel image at [1M + 0x234, 2M + 0x10) and everything from 3M to
    // 7M (which crosses ACPI NVS and a hole).
    ASSERT_TRUE(m.reserve(1 * M + 0x234, 2 * M + 0x10, "kernel image").ok());
    ASSERT_TRUE(m.reserve(3 * M, 7 * M, "test").ok());
    expect_ranges(m, {{0, 1 * M, MemType::usable},
                      {1 * M, 2 * M + 0x1000, MemType::kernel_reserved},
                      {2 * M + 0x1000, 3 * M, MemType::usable},
                      {3 * M, 4 * M, MemType::kernel_reserved},
                      {4 * M, 5 * M, MemType::acpi_nvs},
                      {6 * M, 7 * M, MemType::kernel_reserved},
                      {7 * M, 8 * M, MemType::usable}});
    EXPECT_STREQ(m[1].why, "kernel image");
    EXPECT_STREQ(m[3].why, "test");
}

TEST(MemoryMap, RemoveCutsAnything) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add(0, 8 * M, MemType::usable).ok());
    ASSERT_TRUE(m.add(8 * M, 9 * M, MemType::reserved).ok());
    ASSERT_TRUE(m.remove(6 * M, 8 * M + 4096).ok());
    expect_ranges(m, {{0, 6 * M, MemType::usable}, {8 * M + 4096, 9 * M, MemType::reserved}});
    ASSERT_TRUE(m.remove(0, 16 * M).ok());
    EXPECT_TRUE(m.empty());
}

TEST(MemoryMap, SetNodeSplitsAtNodeBoundary) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add(0, 4 * G, MemType::usable).ok());
    ASSERT_TRUE(m.set_node(2 * G, 8 * G, 3).ok()); // node beyond the map's end: no effect there
    expect_ranges(m, {{0, 2 * G, MemType::usable, 0}, {2 * G, 4 * G, MemType::usable, 3}});
    EXPECT_EQ(m.node_count(), 2u);
}

// A range split only by node keeps every page: a page cut by a node
// boundary goes to the node of its first byte (issue 20, item 4).
TEST(MemoryMap, NodeBoundaryInsideAPageKeepsThePage) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add_untrimmed(0, 2 * G, MemType::usable).ok());
    ASSERT_TRUE(m.set_node(G + 0x800, 2 * G, 1).ok());
    m.trim_usable_to_pages();
    expect_ranges(m, {{0, G + 0x1000, MemType::usable, 0}, {G + 0x1000, 2 * G, MemType::usable, 1}});
    EXPECT_EQ(m.usable_bytes(), 2 * G);
}

TEST(MemoryMap, ThreeNodesInsideOnePage) {
    // Nodes 0, 1, 2 meet inside the page at 1 MiB; node 1 holds only bytes
    // of that page, none of its first byte: it gets no page.
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add_untrimmed(0, 4 * M, MemType::usable).ok());
    ASSERT_TRUE(m.set_node(M + 0x100, M + 0x200, 1).ok());
    ASSERT_TRUE(m.set_node(M + 0x200, 4 * M, 2).ok());
    m.trim_usable_to_pages();
    expect_ranges(m, {{0, M + 0x1000, MemType::usable, 0}, {M + 0x1000, 4 * M, MemType::usable, 2}});
    // A node that starts at a page's first byte keeps it.
    StaticMemoryMap<8> n;
    ASSERT_TRUE(n.add_untrimmed(0x800, 4 * M + 0x800, MemType::usable).ok());
    ASSERT_TRUE(n.set_node(2 * M, 4 * M + 0x800, 3).ok());
    n.trim_usable_to_pages();
    expect_ranges(n, {{0x1000, 2 * M, MemType::usable, 0}, {2 * M, 4 * M, MemType::usable, 3}});
}

TEST(MemoryMap, NodeSplitPageAtTheEndOfRamIsStillPartial) {
    // The run ends inside the page: that page is not whole RAM on any node.
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add_untrimmed(0, M + 0x900, MemType::usable).ok());
    ASSERT_TRUE(m.set_node(M + 0x800, M + 0x900, 1).ok());
    m.trim_usable_to_pages();
    expect_ranges(m, {{0, M, MemType::usable, 0}});
    // A split by type is not a split by node: the partial page leaves the map.
    StaticMemoryMap<8> t;
    ASSERT_TRUE(t.add_untrimmed(0, M + 0x800, MemType::usable).ok());
    ASSERT_TRUE(t.add_untrimmed(M + 0x800, 2 * M, MemType::reserved).ok());
    t.trim_usable_to_pages();
    expect_ranges(t, {{0, M, MemType::usable}, {M + 0x800, 2 * M, MemType::reserved}});
}

TEST(MemoryMap, FindUsesBinarySearch) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add(0, 1 * M, MemType::usable).ok());
    ASSERT_TRUE(m.add(2 * M, 3 * M, MemType::reserved).ok());
    ASSERT_NE(m.find(0), nullptr);
    EXPECT_EQ(m.find(1 * M - 1)->type, MemType::usable);
    EXPECT_EQ(m.find(1 * M), nullptr);
    EXPECT_EQ(m.find(2 * M)->type, MemType::reserved);
    EXPECT_EQ(m.find(3 * M), nullptr);
}

TEST(MemoryMap, BadRangesAreRejectedAndChangeNothing) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add(0, 1 * M, MemType::usable).ok());
    Status s = m.add(2 * M, 1 * M, MemType::usable);
    EXPECT_EQ(s.code(), Errc::invalid_range);
    EXPECT_STREQ(s.reason(), "range ends before it starts");
    s = m.add(0, kPhysAddrLimit + 4096, MemType::reserved);
    EXPECT_EQ(s.code(), Errc::invalid_range);
    EXPECT_EQ(m.set_node(0, 1 * M, kMaxNodes).code(), Errc::invalid_argument);
    EXPECT_EQ(m.add(0, 1 * M, static_cast<MemType>(42)).code(), Errc::unknown_type);
    expect_ranges(m, {{0, 1 * M, MemType::usable}});
}

TEST(MemoryMap, CapacityOverflowIsAnErrorAndLosesNothing) {
    StaticMemoryMap<3> m;
    ASSERT_TRUE(m.add(0, 1 * M, MemType::usable).ok());
    ASSERT_TRUE(m.add(2 * M, 3 * M, MemType::usable).ok());
    ASSERT_TRUE(m.add(4 * M, 5 * M, MemType::usable).ok());
    Status s = m.add(6 * M, 7 * M, MemType::usable);
    EXPECT_EQ(s.code(), Errc::capacity);
    // Splitting a range in the middle needs two more slots: also refused.
    EXPECT_EQ(m.add(2 * M + 4096, 2 * M + 8192, MemType::reserved).code(), Errc::capacity);
    expect_ranges(m, {{0, 1 * M, MemType::usable},
                      {2 * M, 3 * M, MemType::usable},
                      {4 * M, 5 * M, MemType::usable}});
    // Filling a hole between two equal ranges shrinks the map: allowed.
    ASSERT_TRUE(m.add(1 * M, 2 * M, MemType::usable).ok());
    EXPECT_EQ(m.size(), 2u);
}

TEST(MemoryMap, AssignCopiesAndChecksCapacity) {
    StaticMemoryMap<8> a;
    StaticMemoryMap<1> small;
    ASSERT_TRUE(a.add(0, 1 * M, MemType::usable).ok());
    ASSERT_TRUE(a.add(2 * M, 3 * M, MemType::usable).ok());
    EXPECT_EQ(small.assign(a).code(), Errc::capacity);
    EXPECT_TRUE(small.empty());
    StaticMemoryMap<8> b;
    ASSERT_TRUE(b.assign(a).ok());
    expect_ranges(b, {{0, 1 * M, MemType::usable}, {2 * M, 3 * M, MemType::usable}});
}

TEST(MemoryMap, ForEachByTypeAndNode) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(m.add(0, 1 * G, MemType::usable, 0).ok());
    ASSERT_TRUE(m.add(1 * G, 2 * G, MemType::reserved, 0).ok());
    ASSERT_TRUE(m.add(2 * G, 3 * G, MemType::usable, 1).ok());
    uint64_t all = 0, node1 = 0;
    m.for_each(MemType::usable, [&](const MemRange &r) { all += r.size(); });
    m.for_each(MemType::usable, 1, [&](const MemRange &r) { node1 += r.size(); });
    EXPECT_EQ(all, 2 * G);
    EXPECT_EQ(node1, 1 * G);
}

// Random adds, reserves and removes against a page-granular reference model.
TEST(MemoryMap, RandomOperationsMatchAPageModel) {
    constexpr uint64_t kPages = 512;
    std::mt19937_64 rng(test::test_seed(12345)); // KMEM_TEST_SEED overrides it (scripts/soak)
    for (int round = 0; round < 50; ++round) {
        StaticMemoryMap<kPages> m;
        std::vector<int> model(kPages, -1); // -1 hole, else MemType
        for (int op = 0; op < 200; ++op) {
            uint64_t a = rng() % kPages, b = rng() % kPages;
            if (a > b) std::swap(a, b);
            ++b;
            const int kind = static_cast<int>(rng() % 4);
            const auto type = static_cast<MemType>(rng() % kMemTypeCount);
            if (kind <= 1) {
                ASSERT_TRUE(m.add(a * kPageSize, b * kPageSize, type).ok());
                for (uint64_t p = a; p < b; ++p)
                    model[p] = std::max(model[p], static_cast<int>(type));
            } else if (kind == 2) {
                ASSERT_TRUE(m.reserve(a * kPageSize, b * kPageSize, "model").ok());
                for (uint64_t p = a; p < b; ++p)
                    if (model[p] == static_cast<int>(MemType::usable))
                        model[p] = static_cast<int>(MemType::kernel_reserved);
            } else {
                ASSERT_TRUE(m.remove(a * kPageSize, b * kPageSize).ok());
                for (uint64_t p = a; p < b; ++p) model[p] = -1;
            }
            ASSERT_TRUE(m.check().ok()) << m.check().reason();
        }
        for (uint64_t p = 0; p < kPages; ++p) {
            const MemRange *r = m.find(p * kPageSize);
            if (model[p] < 0) EXPECT_EQ(r, nullptr) << "page " << p;
            else {
                ASSERT_NE(r, nullptr) << "page " << p;
                EXPECT_EQ(static_cast<int>(r->type), model[p]) << "page " << p;
            }
        }
    }
}

} // namespace
} // namespace kmem
