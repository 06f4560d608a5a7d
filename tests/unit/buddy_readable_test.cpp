// SPDX-License-Identifier: MIT
//
// The fast readability test (page::readable_fast, one load and one
// compare against Section::readable): it never vouches for a page whose
// descriptor may be unwritten - a page of the lazy run, of the section's
// descriptor array, of a section not wholly online - and it vouches for the
// pages carved out of the lazy run as soon as their descriptors are written.
// Whatever it declines, unreadable() (the slow test) still decides exactly.
#include <kmem/buddy.h>

#include "hosted_machine.h"

#include <gtest/gtest.h>

namespace kmem {
namespace {

using test::GiB;
using test::HostedMachine;
using test::MiB;

// Every page of section sn: fast says readable only where the slow test
// does, and the pages it declines that are readable are counted.
uint64_t declined_readable(const PhysAllocator &a, size_t sn) {
    uint64_t declined = 0;
    for (uint64_t pfn = section_start_pfn(sn); pfn < section_start_pfn(sn + 1); ++pfn) {
        const bool slow = a.unreadable(pfn) == nullptr;
        const bool fast = page::readable_fast(a.page_map(), pfn);
        EXPECT_FALSE(fast && !slow) << "pfn " << pfn << " vouched for: " << a.page_map().unreadable_slow(pfn, a.online_map());
        if (slow && !fast) ++declined;
        if (::testing::Test::HasFailure()) return declined;
    }
    return declined;
}

class BuddyReadable : public ::testing::Test {
protected:
    void SetUp() override {
        m_.add_ram(1 * MiB, 64 * MiB);          // section 0: partly online
        m_.add_ram(1 * GiB, 2 * GiB);           // section 1: wholly online
        ASSERT_TRUE(m_.boot().ok());
        ASSERT_TRUE(m_.online_rest().ok());
    }
    PhysAllocator &a() { return m_.a(); }
    HostedMachine m_;
};

// A section never onlined, and one partly online, get nothing from the fast
// test; a wholly online one gets the stretch between its lazy run and its
// array, and that stretch grows as blocks are carved from the lazy run.
TEST_F(BuddyReadable, TheFastTestVouchesOnlyForWrittenDescriptors) {
    EXPECT_FALSE(page::readable_fast(a().page_map(), section_start_pfn(3)));
    EXPECT_FALSE(page::readable_fast(a().page_map(), pfn_of(2 * MiB)));
    const Section &s1 = a().page_map().section_at(1);
    ASSERT_EQ(s1.online, kPagesPerSection);
    ASSERT_LT(s1.lazy_begin, s1.lazy_end) << "the test wants a lazy run";
    const uint64_t lazy_pages = s1.lazy_end - s1.lazy_begin;
    declined_readable(a(), 0);
    declined_readable(a(), 1);
    if (HasFailure()) return;
    // Carve the whole lazy run, one max-order block at a time.
    std::vector<uint64_t> held;
    for (;;) {
        Result<uint64_t> r = a().alloc_pages(kMaxOrder, kAllocNoPcp);
        if (!r.ok()) break;
        held.push_back(r.value());
        const uint64_t pfn = pfn_of(r.value());
        if (pfn >= section_start_pfn(1) && pfn < section_start_pfn(2)) {
            ASSERT_TRUE(page::readable_fast(a().page_map(), pfn)) << "a carved block is not vouched for";
        }
    }
    EXPECT_EQ(s1.lazy_begin, s1.lazy_end);
    EXPECT_GE(held.size(), lazy_pages / kMaxBlockPages);
    // Nothing lazy is left, and the array sits at the top of the section:
    // the fast test vouches for every other page.
    ASSERT_EQ(s1.meta_end, kPagesPerSection);
    EXPECT_EQ(declined_readable(a(), 1), 0u);
    for (uint64_t pa : held) ASSERT_TRUE(a().free_pages(pa, kMaxOrder).ok());
    EXPECT_TRUE(a().check().ok()) << a().check().reason();
}

} // namespace
} // namespace kmem
