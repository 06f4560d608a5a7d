// Helpers shared by the buddy allocator's unit tests (tests/unit/buddy_*_test.cpp):
// comparing PhysTotals, taking and giving back every free block, buddyinfo
// rows, and the standard two-node machine most of those tests boot.
#pragma once

#include <kmem/buddy.h>

#include "hosted_machine.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace kmem::test {

constexpr uint64_t pfn(uint64_t pa) { return pa >> kPageShift; }
constexpr uint64_t block_bytes(unsigned order) { return kPageSize << order; }

inline std::string describe(const PhysTotals &t) {
    std::ostringstream s;
    s << "{managed " << t.managed << " free " << t.free << " pcp " << t.pcp << " reserved "
      << t.reserved << " allocated " << t.allocated << " lazy " << t.lazy << " meta "
      << t.metadata_bytes << " sections " << t.sections << "}";
    return s.str();
}
// Every field equal (a failed call must not even carve a lazy run).
inline bool same(const PhysTotals &x, const PhysTotals &y) {
    return x.managed == y.managed && x.free == y.free && x.pcp == y.pcp && x.reserved == y.reserved &&
           x.allocated == y.allocated && x.lazy == y.lazy && x.metadata_bytes == y.metadata_bytes &&
           x.sections == y.sections;
}
// Equal but for lazy pages (memory that was used and given back is on the
// free lists now, not in a lazy run).
inline bool same_books(const PhysTotals &x, const PhysTotals &y) {
    PhysTotals z = y;
    z.lazy = x.lazy;
    return same(x, z);
}
// Nothing taken: equal but for pages moved from the per-CPU lists to the
// zones (an allocation that finds no block drains its CPU's lists first).
inline bool nothing_taken(const PhysTotals &x, const PhysTotals &y) {
    PhysTotals z = y;
    z.free += z.pcp - x.pcp;
    z.pcp = x.pcp;
    return same(x, z);
}
#define EXPECT_SAME_TOTALS(x, y) \
    EXPECT_TRUE(::kmem::test::same((x), (y))) << ::kmem::test::describe(x) << "\n" << ::kmem::test::describe(y)
#define EXPECT_NOTHING_TAKEN(x, y) \
    EXPECT_TRUE(::kmem::test::nothing_taken((x), (y))) << ::kmem::test::describe(x) << "\n" << ::kmem::test::describe(y)
#define EXPECT_SAME_BOOKS(x, y) \
    EXPECT_TRUE(::kmem::test::same_books((x), (y))) << ::kmem::test::describe(x) << "\n" << ::kmem::test::describe(y)
#define ASSERT_BOOKS(a) ASSERT_TRUE((a).check().ok()) << (a).check().reason()

struct Block {
    uint64_t pa;
    unsigned order;
    uint64_t end() const { return pa + block_bytes(order); }
};

// Allocate until nothing is left: order `top` first, then smaller ones.
inline std::vector<Block> grab_all(PhysAllocator &a, uint32_t flags, unsigned top = kMaxOrder,
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
inline void release(PhysAllocator &a, std::vector<Block> &blocks) {
    for (const Block &b : blocks) {
        const Status s = a.free_pages(b.pa, b.order);
        EXPECT_TRUE(s.ok()) << s.reason();
    }
    blocks.clear();
    a.drain_local_pcp();
}
inline bool overlaps(const Block &b, uint64_t start, uint64_t end) { return b.pa < end && start < b.end(); }

// Free blocks per order as /proc/buddyinfo counts them (lazy runs are free
// max-order blocks).
inline std::vector<uint64_t> buddyinfo_row(const Zone &z) {
    std::vector<uint64_t> row;
    for (unsigned o = 0; o <= kMaxOrder; ++o) row.push_back(z.area[o].blocks);
    row[kMaxOrder] += z.lazy / kMaxBlockPages;
    return row;
}

// The standard machine: node 0 has DMA [1 MiB, 16 MiB), DMA32 [16 MiB,
// 64 MiB) and Normal [4 GiB, 4 GiB + 64 MiB); node 1 has Normal
// [8 GiB, 8 GiB + 64 MiB).
inline constexpr uint64_t kN0Normal = 4 * GiB, kN1Normal = 8 * GiB;
inline void standard_machine(HostedMachine &m) {
    m.add_ram(1 * MiB, 64 * MiB, 0);
    m.add_ram(kN0Normal, kN0Normal + 64 * MiB, 0);
    m.add_ram(kN1Normal, kN1Normal + 64 * MiB, 1);
    m.boot_all();
}

} // namespace kmem::test
