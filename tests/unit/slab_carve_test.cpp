// Lazy slabs (SlabOptions::random_freelist off): a fast cache's new slab
// chains no object; its owning CPU carves a page's worth at a time, in
// address order, so memory no object was handed out from is never written.
// What is never carved is free, counted by no list, and not an object yet:
// freeing a pointer to it is an error that changes nothing.
//
// Every test runs on a fresh simulated machine; the fixture's TearDown checks
// the books of slab and buddy.
#include <kmem/buddy.h>
#include <kmem/slab.h>

#include "platform/hosted/hosted.h"
#include "slab/slab_internal.h"

#include "slab_machine.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace kmem {
namespace {

using SI = SlabInternals;

class SlabCarveTest : public SlabMachineTest {
protected:
    void SetUp() override {
        SlabOptions o;
        o.random_freelist = false;
        o.min_slab_objects = 64;
        start({kNode0Low, kNode0High}, o);
        Result<KmemCache *> r = slab().cache_create("carve1k", 1000);
        ASSERT_TRUE(r.ok()) << r.error().reason;
        c_ = r.value();
        ASSERT_GE(c_->objects, 32u);
        ASSERT_GT(c_->order, 0);
    }
    const SlabHeader *slab_of(const void *p) {
        const char *why = nullptr;
        return SI::slab_of(slab(), p, &why);
    }
    // Objects whose first byte lies in the slab's first page.
    uint32_t first_page_objects() const { return (kPageSize - c_->object0 + c_->stride - 1) / c_->stride; }
    KmemCache *c_ = nullptr;
};

// One allocation carves the first page's objects; the rest of the slab is
// neither chained nor written until objects reach it, and they come in
// address order.
TEST_F(SlabCarveTest, ANewSlabIsCarvedAPageAtATime) {
    void *first = slab().cache_alloc(c_);
    ASSERT_NE(first, nullptr);
    const SlabHeader *s = slab_of(first);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(first, SI::object(c_, s, 0));
    EXPECT_EQ(SI::carved(s), first_page_objects());
    // Mark the objects' memory past the first page: carving must not touch
    // it before objects there are about to be handed out. (The header sits
    // before the first object or after the last: not in there.)
    uint8_t *base = SI::base(s);
    const size_t slab_bytes = c_->first + size_t{c_->objects} * c_->stride;
    std::memset(base + kPageSize, 0xAB, slab_bytes - kPageSize);
    std::vector<void *> objs{first};
    for (uint32_t i = 1; i < c_->objects; ++i) {
        void *p = slab().cache_alloc(c_);
        ASSERT_EQ(p, SI::object(c_, s, i)) << "object " << i << " not in address order";
        objs.push_back(p);
        // Objects wholly beyond what has been carved are still untouched.
        const uint8_t *end = base + c_->object0 + uint64_t{SI::carved(s)} * c_->stride;
        for (const uint8_t *b = end; b < base + slab_bytes; b += 64)
            ASSERT_EQ(*b, 0xAB) << "byte " << (b - base) << " written before its object was carved (" << i << ")";
        ASSERT_LE(static_cast<uint64_t>(static_cast<uint8_t *>(p) - base), uint64_t{SI::carved(s)} * c_->stride + c_->object0);
    }
    EXPECT_EQ(SI::carved(s), c_->objects);
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
    for (void *p : objs) ASSERT_TRUE(slab().cache_free(c_, p).ok());
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
}

// A pointer to an object never carved is not an object: freeing it fails
// (not_allocated) and the books stay exact; the object is handed out later
// like any other.
TEST_F(SlabCarveTest, FreeingAnUncarvedObjectIsAnError) {
    void *first = slab().cache_alloc(c_);
    ASSERT_NE(first, nullptr);
    const SlabHeader *s = slab_of(first);
    void *later = SI::object(c_, s, c_->objects - 1);
    ASSERT_LT(SI::carved(s), c_->objects);
    const SlabTotals before = slab().cache_totals(c_);
    Status st = slab().cache_free(c_, later);
    EXPECT_EQ(st.code(), Errc::not_allocated) << st.reason();
    st = slab().kfree(later);
    EXPECT_EQ(st.code(), Errc::not_allocated) << st.reason();
    EXPECT_EQ(slab().ksize(later), 0u);
    EXPECT_EQ(slab().cache_totals(c_).active_objects, before.active_objects);
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
    std::vector<void *> objs{first};
    for (uint32_t i = 1; i < c_->objects; ++i) objs.push_back(slab().cache_alloc(c_));
    EXPECT_EQ(objs.back(), later);
    for (void *p : objs) ASSERT_TRUE(slab().cache_free(c_, p).ok());
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
}

// A partly carved slab that leaves its CPU (flush) goes on the node's partial
// list though its freelist is empty: what was never carved is free. Another
// CPU freezes it and carves on; remote frees into it, and its emptying, keep
// the counts exact.
TEST_F(SlabCarveTest, APartlyCarvedSlabMovesBetweenCpus) {
    const unsigned home = hosted::claim_cpu();
    std::vector<void *> objs;
    for (uint32_t i = 0; i < first_page_objects(); ++i) objs.push_back(slab().cache_alloc(c_));
    const SlabHeader *s = slab_of(objs[0]);
    ASSERT_EQ(SI::carved(s), first_page_objects());
    slab().flush_all_cpus(); // freelist empty, objects left to carve: partial
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
    EXPECT_EQ(slab().cache_totals(c_).slabs, 1u);
    hosted::bind_cpu(7);
    void *next = slab().cache_alloc(c_); // the node's partial slab, carved on
    EXPECT_EQ(next, SI::object(c_, s, first_page_objects()));
    objs.push_back(next);
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
    hosted::bind_cpu(home); // remote frees into a slab CPU 7 holds
    for (void *p : objs) ASSERT_TRUE(slab().cache_free(c_, p).ok());
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
    slab().flush_all_cpus();
    EXPECT_EQ(slab().cache_totals(c_).active_objects, 0u);
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
    EXPECT_TRUE(slab().cache_destroy(c_).ok());
}

} // namespace
} // namespace kmem
