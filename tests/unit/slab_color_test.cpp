// Slab colouring: a slab's header sits in one of the 64-byte slots its
// objects leave free (before the first object, after the last), chosen by
// the slab's place in memory, so headers of one cache do not all share the
// low address bits of the slabs' starts (and so their cache sets). Every
// slot lies clear of the objects; the descriptors of every page name the
// header wherever it is, and the free path and check() find it.
//
// Every test runs on a fresh simulated machine; the fixture's TearDown checks
// the books of slab and buddy.
#include <kmem/buddy.h>
#include <kmem/slab.h>

#include "platform/hosted/hosted.h"
#include "slab/slab_internal.h"

#include "slab_machine.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace kmem {
namespace {

using SI = SlabInternals;

class SlabColorTest : public SlabMachineTest {
protected:
    void SetUp() override {
        SlabOptions o;
        o.min_slab_objects = 64;
        start({kNode0Low, kNode0High}, o);
    }
    const SlabHeader *slab_of(const void *p) {
        const char *why = nullptr;
        return SI::slab_of(slab(), p, &why);
    }
};

// For every kmalloc class: each slot is 64-byte aligned, inside the slab,
// and clear of every object's stride.
TEST_F(SlabColorTest, EverySlotIsClearOfTheObjects) {
    for (size_t size = 8; size <= kKmallocMaxCacheSize; size += 8) {
        const KmemCache *c = slab().kmalloc_cache(size);
        ASSERT_NE(c, nullptr);
        SCOPED_TRACE(c->name);
        ASSERT_GE(c->colors, 1u);
        const uint64_t slab_bytes = kPageSize << c->order;
        const uint64_t objects_end = c->first + uint64_t{c->objects} * c->stride;
        std::set<uint32_t> offsets;
        for (uint64_t k = 0; k < c->colors; ++k) {
            const uint32_t off = SI::header_offset(c, k << c->order);
            EXPECT_EQ(off % 64, 0u);
            EXPECT_LE(off + sizeof(SlabHeader), slab_bytes);
            EXPECT_TRUE(off + sizeof(SlabHeader) <= c->first || off >= objects_end) << off;
            offsets.insert(off);
        }
        EXPECT_EQ(offsets.size(), c->colors) << "two colours share a slot";
    }
    // The 1 KiB class leaves 15 slots before its first object (objects of a
    // power-of-two size start at their size) - slabs get several colours.
    EXPECT_GE(slab().kmalloc_cache(1024)->colors, 16u);
}

// Slabs of one cache get different header offsets; objects in every one of
// them are found, freed, and counted, and a free of a header is refused.
TEST_F(SlabColorTest, ColouredSlabsWorkEverywhere) {
    KmemCache *c = const_cast<KmemCache *>(slab().kmalloc_cache(1024));
    std::vector<void *> objs;
    std::set<uint32_t> offsets;
    for (uint32_t i = 0; i < 8 * c->objects; ++i) {
        void *p = slab().kmalloc(1024);
        ASSERT_NE(p, nullptr);
        objs.push_back(p);
        const SlabHeader *s = slab_of(p);
        ASSERT_NE(s, nullptr);
        offsets.insert(s->offset);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(SI::base(s)) % (kPageSize << c->order), 0u);
        EXPECT_EQ(slab().ksize(p), 1024u);
    }
    EXPECT_GT(offsets.size(), 1u) << "every slab's header at one offset";
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
    const SlabHeader *s = slab_of(objs.back());
    EXPECT_FALSE(slab().kfree(s).ok());
    for (void *p : objs) ASSERT_TRUE(slab().kfree(p).ok());
    EXPECT_TRUE(slab().check().ok()) << slab().check().reason();
}

// Debug caches keep their header at offset 0.
TEST_F(SlabColorTest, DebugCachesAreNotColoured) {
    Result<KmemCache *> r = slab().cache_create("dbg", 1024, 0, kCachePoison | kCacheRedZone);
    ASSERT_TRUE(r.ok()) << r.error().reason;
    EXPECT_EQ(r.value()->colors, 1u);
    void *p = slab().cache_alloc(r.value());
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(slab_of(p)->offset, 0u);
    ASSERT_TRUE(slab().cache_free(r.value(), p).ok());
    EXPECT_TRUE(slab().cache_destroy(r.value()).ok());
}

} // namespace
} // namespace kmem
