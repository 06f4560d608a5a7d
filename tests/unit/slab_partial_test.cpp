// A CPU's partial list is a queue: slabs join at the tail (a full slab that
// gets its first free back, a slab handed back by another CPU, slabs taken
// from the node), and a refill takes the oldest - it has had the longest to
// collect frees - unless the newest is at least half free. The list is linked
// both ways and check() verifies the links and the tail.
//
// Every test runs on a fresh simulated machine; the fixture's TearDown checks
// the books of slab and buddy.
#include <kmem/buddy.h>
#include <kmem/slab.h>

#include "platform/hosted/hosted.h"
#include "slab/slab_internal.h"

#include "slab_machine.h"

#include <gtest/gtest.h>

#include <vector>

namespace kmem {
namespace {

using SI = SlabInternals;

class SlabPartialTest : public SlabMachineTest {
protected:
    void SetUp() override {
        start({kNode0Low});
        Result<KmemCache *> r = slab().cache_create("queue256", 256);
        ASSERT_TRUE(r.ok()) << r.error().reason;
        c_ = r.value();
        cpu_ = Plat::cpu_id();
        // Three full slabs and an active one.
        for (uint32_t i = 0; i < 3 * c_->objects + 1; ++i) objs_.push_back(slab().cache_alloc(c_));
        ASSERT_EQ(slab().cache_totals(c_).slabs, 4u);
    }
    void TearDown() override {
        for (void *p : objs_)
            if (p) {
                EXPECT_TRUE(slab().cache_free(c_, p).ok());
            }
        EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
        SlabMachineTest::TearDown();
    }
    const SlabHeader *slab_of(const void *p) {
        const char *why = nullptr;
        return SI::slab_of(slab(), p, &why);
    }
    // Free `count` objects of full slab k (0..2), from its end.
    void free_from(uint32_t k, uint32_t count) {
        for (uint32_t i = 0; i < count; ++i) {
            void *&p = objs_[(k + 1) * c_->objects - 1 - i];
            ASSERT_TRUE(slab().cache_free(c_, p).ok());
            p = nullptr;
        }
    }
    std::vector<const SlabHeader *> queue() const {
        std::vector<const SlabHeader *> q;
        for (const SlabHeader *s = c_->cpu[cpu_].partial; s; s = s->next) q.push_back(s);
        return q;
    }
    // Use up the active slab: the next allocation refills.
    void exhaust_active() {
        while (c_->cpu[cpu_].freelist) objs_.push_back(slab().cache_alloc(c_));
    }
    KmemCache *c_ = nullptr;
    unsigned cpu_ = 0;
    std::vector<void *> objs_;
};

// Full slabs join in the order of their first frees; the refill takes the
// oldest though a newer one has more free objects (less than half).
TEST_F(SlabPartialTest, ARefillTakesTheOldestSlab) {
    const SlabHeader *a = slab_of(objs_[0]), *b = slab_of(objs_[c_->objects]);
    free_from(0, 1);
    free_from(1, c_->objects / 4);
    ASSERT_EQ(queue(), (std::vector<const SlabHeader *>{a, b}));
    EXPECT_EQ(c_->cpu[cpu_].partial_tail, b);
    ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
    exhaust_active();
    objs_.push_back(slab().cache_alloc(c_));
    EXPECT_EQ(c_->cpu[cpu_].slab, a);
    EXPECT_EQ(queue(), (std::vector<const SlabHeader *>{b}));
    EXPECT_EQ(c_->cpu[cpu_].partial_tail, b);
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
}

// The newest slab goes first when at least half of it is free; the queue
// keeps its order and links around the one taken from its end.
TEST_F(SlabPartialTest, AHalfFreeNewestSlabGoesFirst) {
    const SlabHeader *a = slab_of(objs_[0]), *b = slab_of(objs_[c_->objects]),
                     *d = slab_of(objs_[2 * c_->objects]);
    free_from(0, 1);
    free_from(1, 1);
    free_from(2, (c_->objects + 1) / 2);
    ASSERT_EQ(queue(), (std::vector<const SlabHeader *>{a, b, d}));
    exhaust_active();
    objs_.push_back(slab().cache_alloc(c_));
    EXPECT_EQ(c_->cpu[cpu_].slab, d);
    EXPECT_EQ(queue(), (std::vector<const SlabHeader *>{a, b}));
    EXPECT_EQ(c_->cpu[cpu_].partial_tail, b);
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
}

// A broken back link or tail is caught by check().
TEST_F(SlabPartialTest, CheckVerifiesTheLinks) {
    free_from(0, 1);
    free_from(1, 1);
    ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
    CacheCpu &cc = c_->cpu[cpu_];
    SlabHeader *second = cc.partial->next;
    SlabHeader *saved = second->prev;
    second->prev = nullptr;
    EXPECT_FALSE(slab().check().ok());
    second->prev = saved;
    cc.partial_tail = cc.partial;
    EXPECT_FALSE(slab().check().ok());
    cc.partial_tail = second;
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
}

} // namespace
} // namespace kmem
