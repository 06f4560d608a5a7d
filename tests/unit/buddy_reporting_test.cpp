// SPDX-License-Identifier: MIT
//
// Free page reporting (PhysAllocator::report_free): what is reported is free,
// never a block's link page, never twice while the block stays free; the
// books count it; allocation takes unreported memory first; merging and
// allocating take the mark away; the sink's writes (as madvise's zeroing
// would) break nothing.
#include <kmem/buddy.h>

#include "hosted_machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace kmem {
namespace {

using test::HostedMachine;
using test::MiB;

struct Range {
    uint64_t pa, bytes;
};

// The sink: records the range and scribbles over it, as a host that took
// the memory back and returned zero pages would change it.
void record(void *ctx, uint64_t pa, uint64_t bytes) {
    static_cast<std::vector<Range> *>(ctx)->push_back({pa, bytes});
    std::memset(Plat::phys_to_virt(pa), 0, bytes);
}

struct Held {
    uint64_t pa;
    unsigned order;
};

class BuddyReporting : public ::testing::Test {
protected:
    void SetUp() override {
        m_.add_ram(1 * MiB, 64 * MiB);
        ASSERT_TRUE(m_.boot().ok());
    }
    PhysAllocator &a() { return m_.a(); }
    Held alloc(unsigned order) {
        Result<uint64_t> r = a().alloc_pages(order, kAllocNoPcp);
        EXPECT_TRUE(r.ok());
        return {r.ok() ? r.value() : 0, order};
    }
    void free(const Held &h) { ASSERT_TRUE(a().free_pages(h.pa, h.order).ok()); }
    uint64_t report(unsigned min_order, uint64_t max_pages = ~uint64_t{0}) {
        return a().report_free(min_order, max_pages, record, &got_);
    }
    HostedMachine m_;
    std::vector<Range> got_;
};

// Every reported range is free memory after a free block's first page, and
// each block is reported once while it stays free.
TEST_F(BuddyReporting, ReportsFreeMemoryOnceAndNeverTheLinkPage) {
    std::vector<Held> held;
    for (unsigned i = 0; i < 64; ++i) held.push_back(alloc(i % 6));
    for (size_t i = 0; i < held.size(); i += 2) free(held[i]); // free every other one
    const uint64_t pages = report(1);
    EXPECT_GT(pages, 0u);
    uint64_t bytes = 0;
    for (const Range &r : got_) {
        bytes += r.bytes;
        EXPECT_EQ(r.pa % kPageSize, 0u);
        // Never inside a block still allocated.
        for (size_t i = 1; i < held.size(); i += 2)
            EXPECT_FALSE(r.pa < held[i].pa + (kPageSize << held[i].order) && held[i].pa < r.pa + r.bytes)
                << "reported memory that is allocated";
        // The page before it is a free block's link page: it reads as a free head.
        const PageDesc *d = a().desc(pfn_of(r.pa) - 1);
        ASSERT_NE(d, nullptr);
        EXPECT_EQ(d->state(), PageState::free);
        EXPECT_EQ(r.bytes, ((uint64_t{1} << d->order()) - 1) * kPageSize);
    }
    EXPECT_EQ(bytes, pages * kPageSize);
    EXPECT_EQ(a().totals().reported, pages);
    EXPECT_LE(a().unreported_free_pages() + pages, a().totals().free - a().totals().lazy);
    ASSERT_TRUE(a().check().ok()) << a().check().reason();
    got_.clear();
    EXPECT_EQ(report(1), 0u) << "reported twice";
    EXPECT_TRUE(got_.empty());
    for (size_t i = 1; i < held.size(); i += 2) free(held[i]);
    ASSERT_TRUE(a().check().ok()) << a().check().reason();
}

// max_pages stops the walk; larger blocks go first.
TEST_F(BuddyReporting, LargestFirstUpToTheLimit) {
    const uint64_t pages = report(1, 100);
    EXPECT_GE(pages, 100u);
    ASSERT_FALSE(got_.empty());
    EXPECT_EQ(got_.front().bytes, (kMaxBlockPages - 1) * kPageSize) << "not the largest block first";
    EXPECT_EQ(got_.size(), 1u) << "went on past the limit";
    ASSERT_TRUE(a().check().ok()) << a().check().reason();
}

// Allocation takes unreported blocks of an order before reported ones; a
// reported block that is allocated, split or merged loses its mark, and
// the books follow.
TEST_F(BuddyReporting, AllocationPrefersResidentMemoryAndClearsTheMark) {
    // Two order-5 blocks (above the per-CPU lists' orders) whose buddies stay
    // allocated, so neither merges: report one, free the other after.
    constexpr unsigned kOrder = kPcpMaxOrder + 2;
    // Take blocks until two buddy pairs are among them; the others go back.
    std::vector<Held> run, pairs;
    for (int i = 0; i < 16; ++i) run.push_back(alloc(kOrder));
    std::sort(run.begin(), run.end(), [](const Held &p, const Held &q) { return p.pa < q.pa; });
    for (size_t i = 0; i < run.size(); ++i) {
        if (pairs.size() < 4 && i + 1 < run.size() && (run[i].pa ^ run[i + 1].pa) == kPageSize << kOrder) {
            pairs.push_back(run[i]);
            pairs.push_back(run[++i]);
        } else {
            free(run[i]);
        }
    }
    ASSERT_EQ(pairs.size(), 4u) << "no two buddy pairs among 16 blocks";
    const Held x = pairs[0], y = pairs[2];
    free(x);
    const uint64_t before = a().totals().reported;
    report(kOrder);
    EXPECT_GT(a().totals().reported, before);
    free(y);
    // y (unreported) comes back first, then x (reported).
    const Held first = alloc(kOrder);
    EXPECT_EQ(first.pa, y.pa) << "took reported memory while resident memory was free";
    ASSERT_TRUE(a().check().ok()) << a().check().reason();
    free(first);
    // Report everything, then allocate it all back: nothing stays marked.
    report(1);
    ASSERT_GT(a().totals().reported, 0u);
    std::vector<Held> all;
    for (int o = kMaxOrder; o >= 0; --o)
        for (;;) {
            Result<uint64_t> r = a().alloc_pages(static_cast<unsigned>(o), kAllocNoPcp | kAllocReserves);
            if (!r.ok()) break;
            all.push_back({r.value(), static_cast<unsigned>(o)});
        }
    EXPECT_EQ(a().totals().reported, 0u);
    ASSERT_TRUE(a().check().ok()) << a().check().reason();
    // Give it back: merging makes unreported blocks again.
    for (const Held &h : all) free(h);
    EXPECT_EQ(a().totals().reported, 0u);
    EXPECT_EQ(a().unreported_free_pages(), a().totals().free - a().totals().lazy);
    ASSERT_TRUE(a().check().ok()) << a().check().reason();
}

// A free block's buddy freed after the block was reported: the two merge
// into one unreported block, and the mark's pages leave the count.
TEST_F(BuddyReporting, MergingClearsTheMark) {
    const Held lo = alloc(4), hi = alloc(4);
    ASSERT_EQ(lo.pa ^ hi.pa, kPageSize << 4) << "not buddies";
    free(lo);
    report(4);
    const uint64_t marked = a().totals().reported;
    EXPECT_GE(marked, (uint64_t{1} << 4) - 1);
    free(hi);
    // lo's mark is gone (and the marks of any bigger buddies the merge took in).
    EXPECT_LE(a().totals().reported, marked - ((uint64_t{1} << 4) - 1));
    const PageDesc *d = a().desc(pfn_of(lo.pa < hi.pa ? lo.pa : hi.pa));
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->state(), PageState::free);
    EXPECT_GE(d->order(), 5u);
    ASSERT_TRUE(a().check().ok()) << a().check().reason();
}

// idle_only reports a block only once it was free at the previous idle_only
// call: a caller that makes one every T gives back what stayed free for T.
TEST_F(BuddyReporting, IdleOnlyWaitsOneEpoch) {
    report(1); // everything free now is reported: only what follows counts
    const Held a1 = alloc(6), pin_a = alloc(6), b1 = alloc(6), pin_b = alloc(6);
    (void)pin_a;
    (void)pin_b;
    free(a1);
    got_.clear();
    EXPECT_EQ(a().report_free(6, ~uint64_t{0}, record, &got_, true), 0u) << "reported a block freed this epoch";
    free(b1); // freed in the new epoch
    EXPECT_EQ(a().report_free(6, ~uint64_t{0}, record, &got_, true), (uint64_t{1} << 6) - 1);
    ASSERT_EQ(got_.size(), 1u);
    EXPECT_EQ(got_[0].pa, a1.pa + kPageSize) << "not the block that was idle";
    EXPECT_EQ(a().report_free(6, ~uint64_t{0}, record, &got_, true), (uint64_t{1} << 6) - 1);
    ASSERT_EQ(got_.size(), 2u);
    EXPECT_EQ(got_[1].pa, b1.pa + kPageSize);
    ASSERT_TRUE(a().check().ok()) << a().check().reason();
}

} // namespace
} // namespace kmem
