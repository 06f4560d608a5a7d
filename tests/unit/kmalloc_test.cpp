// kmalloc and friends: kmalloc/kzalloc/kcalloc/krealloc/kfree/ksize, the
// size classes, exact-page large allocations, NUMA and DMA requests, and
// every way kfree can be misused - each refused with its exact error code,
// with the books of slab and buddy still consistent and unchanged.
#include <kmem/buddy.h>
#include <kmem/memmap.h>
#include <kmem/slab.h>

#include "platform/hosted/hosted.h"
#include "slab/slab_internal.h"

#include "slab_machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kmem {
namespace {

class KmallocTest : public SlabMachineTest {
protected:
    void SetUp() override { start({kNode0Low, kNode0High, kNode1}); }
};

// Everything a misused kfree must leave as it was.
struct Books {
    SlabTotals s;
    PhysTotals p;
    static Books of(const SlabAllocator &sa, const PhysAllocator &a) { return {sa.totals(), a.totals()}; }
};
void expect_unchanged(const Books &a, const Books &b) {
    EXPECT_EQ(a.s.slabs, b.s.slabs);
    EXPECT_EQ(a.s.objects, b.s.objects);
    EXPECT_EQ(a.s.active_objects, b.s.active_objects);
    EXPECT_EQ(a.s.large_allocations, b.s.large_allocations);
    EXPECT_EQ(a.s.large_pages, b.s.large_pages);
    EXPECT_EQ(a.p.free, b.p.free);
    EXPECT_EQ(a.p.pcp, b.p.pcp);
    EXPECT_EQ(a.p.allocated, b.p.allocated);
    EXPECT_EQ(a.p.reserved, b.p.reserved);
}

// The slab an object lives in (test-side, through the page descriptors).
const SlabHeader *slab_of(SlabAllocator &sa, const void *p) {
    const char *why = nullptr;
    return SlabInternals::slab_of(sa, p, &why);
}

// ------------------------------------------------------------------ the family

// kmalloc(0) is the zero-size pointer: not null, ksize 0, kfree accepts it;
// kfree(null) is fine too.
TEST_F(KmallocTest, ZeroSizeAndNull) {
    EXPECT_EQ(slab().kmalloc(0), kZeroSizePtr);
    EXPECT_EQ(slab().kzalloc(0), kZeroSizePtr);
    EXPECT_EQ(slab().kcalloc(0, 100), kZeroSizePtr);
    EXPECT_EQ(slab().ksize(kZeroSizePtr), 0u);
    EXPECT_EQ(slab().ksize(nullptr), 0u);
    const Books before = Books::of(slab(), phys());
    EXPECT_TRUE(slab().kfree(nullptr).ok());
    EXPECT_TRUE(slab().kfree(kZeroSizePtr).ok());
    expect_unchanged(before, Books::of(slab(), phys()));
}

// kzalloc zeroes the whole usable size, also when the object was dirty
// (the same object comes back: the CPU freelist is LIFO).
TEST_F(KmallocTest, KzallocZeroesRecycledMemory) {
    for (size_t n : {size_t{1}, size_t{24}, size_t{100}, size_t{1000}, size_t{8192}, size_t{20000}}) {
        SCOPED_TRACE(n);
        auto *p = static_cast<uint8_t *>(slab().kmalloc(n));
        ASSERT_NE(p, nullptr);
        const size_t k = slab().ksize(p);
        std::memset(p, 0xff, k);
        ASSERT_TRUE(slab().kfree(p).ok());
        auto *q = static_cast<uint8_t *>(slab().kmalloc(n));
        if (n <= kKmallocMaxCacheSize) {
            EXPECT_EQ(q, p) << "LIFO reuse expected";
            if (k > 8) { // (the first 8 bytes of a free object hold its freelist link)
                EXPECT_EQ(q[k - 1], 0xff) << "plain kmalloc does not zero";
            }
        }
        ASSERT_TRUE(slab().kfree(q).ok());
        auto *z = static_cast<uint8_t *>(slab().kzalloc(n));
        ASSERT_NE(z, nullptr);
        for (size_t i = 0; i < slab().ksize(z); ++i) ASSERT_EQ(z[i], 0) << "byte " << i;
        ASSERT_TRUE(slab().kfree(z).ok());
    }
}

// kcalloc: n * size zeroed; an overflowing product is null with the reason.
TEST_F(KmallocTest, KcallocZeroesAndCatchesOverflow) {
    auto *d = static_cast<uint8_t *>(slab().kmalloc(400));
    std::memset(d, 0xee, 400);
    ASSERT_TRUE(slab().kfree(d).ok());
    auto *p = static_cast<uint8_t *>(slab().kcalloc(4, 100));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p, d);
    for (int i = 0; i < 400; ++i) ASSERT_EQ(p[i], 0);
    ASSERT_TRUE(slab().kfree(p).ok());
    const Books before = Books::of(slab(), phys());
    EXPECT_EQ(slab().kcalloc(SIZE_MAX / 2, 3), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
    EXPECT_EQ(slab().kcalloc(size_t{1} << 33, size_t{1} << 32), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
    expect_unchanged(before, Books::of(slab(), phys()));
    // Not an overflow, but more than a max-order block: refused too.
    EXPECT_EQ(slab().kcalloc(1 << 20, 8), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
}

// Unknown kmalloc flags are refused.
TEST_F(KmallocTest, UnknownFlagsAreRefused) {
    EXPECT_EQ(slab().kmalloc(64, kAllocExactNode), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
    EXPECT_EQ(slab().kmalloc(64, 1u << 20), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
    EXPECT_EQ(slab().kmalloc(20000, kAllocTails), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
}

// ------------------------------------------------------------------ krealloc

// Growing moves the contents, shrinking stays in place, null allocates,
// size 0 frees and returns kZeroSizePtr.
TEST_F(KmallocTest, KreallocGrowShrinkNullZero) {
    auto *p = static_cast<uint8_t *>(slab().kmalloc(100));
    ASSERT_NE(p, nullptr);
    for (int i = 0; i < 100; ++i) p[i] = static_cast<uint8_t>(i);
    // Shrink (and grow within ksize) in place.
    EXPECT_EQ(slab().krealloc(p, 50), p);
    EXPECT_EQ(slab().krealloc(p, slab().ksize(p)), p);
    // Grow through the size classes, into a large allocation and beyond.
    void *q = p;
    for (size_t n : {size_t{200}, size_t{4000}, size_t{8192}, size_t{9000}, size_t{70000}, size_t{300000}}) {
        void *r = slab().krealloc(q, n);
        ASSERT_NE(r, nullptr) << n;
        EXPECT_GE(slab().ksize(r), n);
        auto *b = static_cast<uint8_t *>(r);
        for (int i = 0; i < 100; ++i) ASSERT_EQ(b[i], static_cast<uint8_t>(i)) << n;
        q = r;
    }
    const uint64_t large = slab().totals().large_allocations;
    EXPECT_EQ(large, 1u); // the old ones were freed on the way
    // A large allocation shrinks in place too.
    EXPECT_EQ(slab().krealloc(q, 10), q);
    // Size 0: frees and returns the zero-size pointer.
    EXPECT_EQ(slab().krealloc(q, 0), kZeroSizePtr);
    EXPECT_EQ(slab().totals().large_allocations, 0u);
    // From null or kZeroSizePtr: a fresh allocation.
    void *n1 = slab().krealloc(nullptr, 64);
    void *n2 = slab().krealloc(kZeroSizePtr, 64);
    ASSERT_TRUE(n1 && n2 && n1 != kZeroSizePtr && n2 != kZeroSizePtr);
    EXPECT_GE(slab().ksize(n1), 64u);
    EXPECT_TRUE(slab().kfree(n1).ok());
    EXPECT_TRUE(slab().kfree(n2).ok());
}

// With kAllocZero the grown part is zero even when the new object is dirty
// recycled memory; the old bytes are kept.
TEST_F(KmallocTest, KreallocZeroesTheNewPart) {
    auto *dirty = static_cast<uint8_t *>(slab().kmalloc(1000));
    std::memset(dirty, 0xee, slab().ksize(dirty));
    ASSERT_TRUE(slab().kfree(dirty).ok()); // the next kmalloc(1000) gets it back
    auto *p = static_cast<uint8_t *>(slab().kzalloc(100));
    std::memset(p, 0xab, 100);
    auto *q = static_cast<uint8_t *>(slab().krealloc(p, 1000, kAllocZero));
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q, dirty);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(q[i], 0xab);
    for (size_t i = 100; i < slab().ksize(q); ++i) ASSERT_EQ(q[i], 0) << "byte " << i;
    // And into a large allocation.
    auto *r = static_cast<uint8_t *>(slab().krealloc(q, 50000, kAllocZero));
    ASSERT_NE(r, nullptr);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(r[i], 0xab);
    for (size_t i = 100; i < slab().ksize(r); ++i) ASSERT_EQ(r[i], 0) << "byte " << i;
    EXPECT_TRUE(slab().kfree(r).ok());
}

// krealloc of a pointer kmalloc did not return fails and touches nothing; a
// failed grow leaves the old allocation intact.
TEST_F(KmallocTest, KreallocFailures) {
    int on_stack = 0;
    const Books before = Books::of(slab(), phys());
    EXPECT_EQ(slab().krealloc(&on_stack, 100), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::not_allocated);
    expect_unchanged(before, Books::of(slab(), phys()));
    auto *p = static_cast<uint8_t *>(slab().kmalloc(100));
    std::memset(p, 0x77, 100);
    EXPECT_EQ(slab().krealloc(p, 64 * MiB), nullptr); // above a max-order block
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
    EXPECT_EQ(slab().ksize(p), 112u);
    EXPECT_EQ(p[99], 0x77);
    EXPECT_TRUE(slab().kfree(p).ok());
}

// ------------------------------------------------------------------ sizes

// The size classes: class_size(size_class(n)) is the smallest class >= n for
// every n in 1..8192; classes are strictly increasing, end at 8192, and above
// 64 bytes waste at most 20 % of what is allocated.
TEST_F(KmallocTest, SizeClasses) {
    for (unsigned i = 1; i < kKmallocClasses; ++i)
        EXPECT_LT(SlabAllocator::class_size(i - 1), SlabAllocator::class_size(i));
    EXPECT_EQ(SlabAllocator::class_size(0), 8u);
    EXPECT_EQ(SlabAllocator::class_size(kKmallocClasses - 1), kKmallocMaxCacheSize);
    for (size_t n = 1; n <= kKmallocMaxCacheSize; ++n) {
        const unsigned c = SlabAllocator::size_class(n);
        ASSERT_LT(c, kKmallocClasses) << n;
        const size_t cs = SlabAllocator::class_size(c);
        ASSERT_GE(cs, n) << n;
        if (c > 0) {
            ASSERT_LT(SlabAllocator::class_size(c - 1), n) << n << ": a smaller class fits";
        }
        if (n > 64) {
            ASSERT_LE((cs - n) * 5, cs) << n << ": wastes more than 20 %";
        }
        ASSERT_EQ(slab().kmalloc_cache(n)->object_size, cs) << n;
    }
    // Classes named in the docs.
    const size_t expect[] = {8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256};
    for (unsigned i = 0; i < std::size(expect); ++i) EXPECT_EQ(SlabAllocator::class_size(i), expect[i]);
    EXPECT_EQ(slab().kmalloc_cache(0), nullptr);
    EXPECT_EQ(slab().kmalloc_cache(8193), nullptr);
}

// ksize >= the request for every size 1..8192 (it is the class size) with
// all of them live at once: each object is filled over its whole ksize with
// its own pattern and checked at free, so no two overlap.
TEST_F(KmallocTest, KsizeForEverySmallSize) {
    std::vector<uint8_t *> objs(kKmallocMaxCacheSize + 1);
    for (size_t n = 1; n <= kKmallocMaxCacheSize; ++n) {
        auto *p = static_cast<uint8_t *>(slab().kmalloc(n));
        ASSERT_NE(p, nullptr) << n;
        const size_t k = slab().ksize(p);
        ASSERT_GE(k, n);
        ASSERT_EQ(k, SlabAllocator::class_size(SlabAllocator::size_class(n)));
        ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 8, 0u);
        std::memset(p, static_cast<int>(n * 7 + 1), k);
        objs[n] = p;
    }
    ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
    for (size_t n = 1; n <= kKmallocMaxCacheSize; ++n) {
        const size_t k = slab().ksize(objs[n]);
        for (size_t i = 0; i < k; ++i)
            ASSERT_EQ(objs[n][i], static_cast<uint8_t>(n * 7 + 1)) << "size " << n << " byte " << i;
        ASSERT_TRUE(slab().kfree(objs[n]).ok());
    }
    slab().flush_all_cpus();
    EXPECT_EQ(slab().totals().active_objects, 0u);
}

// Large requests (> 8 KiB) take exactly ceil(n / 4096) pages from the buddy,
// report that as ksize, and give all of them back.
TEST_F(KmallocTest, LargeRequestsTakeExactPages) {
    for (size_t n : {size_t{8193}, size_t{10000}, size_t{12288}, size_t{12289}, size_t{16385}, size_t{100000},
                     size_t{MiB + 1}, size_t{3 * MiB + 5}, size_t{4 * MiB}}) {
        SCOPED_TRACE(n);
        const uint64_t want = (n + kPageSize - 1) / kPageSize;
        const PhysTotals before = phys().totals();
        auto *p = static_cast<uint8_t *>(slab().kmalloc(n));
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(pa(p) % kPageSize, 0u);
        EXPECT_EQ(slab().ksize(p), want * kPageSize);
        EXPECT_EQ(phys().totals().allocated, before.allocated + want);
        EXPECT_EQ(phys().totals().free + phys().totals().pcp, before.free + before.pcp - want);
        EXPECT_EQ(slab().totals().large_allocations, 1u);
        EXPECT_EQ(slab().totals().large_pages, want);
        std::memset(p, 0x3c, want * kPageSize);
        ASSERT_TRUE(phys().check().ok()) << phys().check().reason();
        ASSERT_TRUE(slab().kfree(p).ok());
        EXPECT_EQ(phys().totals().allocated, before.allocated);
        EXPECT_EQ(slab().totals().large_allocations, 0u);
        EXPECT_EQ(slab().totals().large_pages, 0u);
    }
    // Beyond a max-order block: refused with the reason.
    EXPECT_EQ(slab().kmalloc(4 * MiB + 1), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
    EXPECT_EQ(slab().kmalloc(SIZE_MAX), nullptr);
    EXPECT_EQ(slab().last_error().code, Errc::invalid_argument);
}

// ------------------------------------------------------------------ NUMA, DMA

// kmalloc_node prefers the node asked for, small and large.
TEST_F(KmallocTest, KmallocNodePrefersTheNode) {
    std::vector<void *> objs;
    for (size_t n : {size_t{8}, size_t{100}, size_t{3000}, size_t{8192}, size_t{20000}}) {
        for (int i = 0; i < 50; ++i) {
            void *p1 = slab().kmalloc_node(n, 0, 1);
            void *p0 = slab().kmalloc_node(n, 0, 0);
            ASSERT_TRUE(p1 && p0);
            EXPECT_TRUE(inside(p1, kNode1)) << n << " " << std::hex << pa(p1);
            EXPECT_FALSE(inside(p0, kNode1)) << n << " " << std::hex << pa(p0);
            objs.insert(objs.end(), {p1, p0});
        }
    }
    for (void *p : objs) ASSERT_TRUE(slab().kfree(p).ok());
}

// A node without memory falls back to one that has some, without making a
// new slab for every request. Found by this suite: each request for a
// memoryless node made a new slab (nothing ever landed on that node's lists).
TEST_F(KmallocTest, KmallocNodeWithoutMemoryFallsBack) {
    std::vector<void *> objs;
    const KmemCache *c = slab().kmalloc_cache(64);
    for (int i = 0; i < 500; ++i) {
        void *p = slab().kmalloc_node(64, 0, 5);
        ASSERT_NE(p, nullptr);
        objs.push_back(p);
    }
    EXPECT_LE(slab().cache_totals(c).slabs, (500 + c->objects - 1) / c->objects + 1);
    for (void *p : objs) ASSERT_TRUE(slab().kfree(p).ok());
    // Large requests fall back too.
    void *big = slab().kmalloc_node(50000, 0, 5);
    ASSERT_NE(big, nullptr);
    EXPECT_TRUE(slab().kfree(big).ok());
}

// kAllocZoneDma / kAllocZoneDma32: below 16 MiB / 4 GiB, small and large;
// without a zone flag this machine serves node 0's Normal zone (above
// 4 GiB), so a zone flag that was ignored would show.
TEST_F(KmallocTest, DmaFlags) {
    struct Case {
        uint32_t flags;
        uint64_t lo, hi;
    };
    std::vector<void *> objs;
    for (const Case &k : {Case{kAllocZoneDma, 0, 16 * MiB}, Case{kAllocZoneDma32, 0, 4 * GiB},
                          Case{0, 4 * GiB, 4 * GiB + 128 * MiB}}) {
        for (size_t n : {size_t{8}, size_t{96}, size_t{700}, size_t{8192}, size_t{8193}, size_t{40000}}) {
            SCOPED_TRACE(std::to_string(k.flags) + " size " + std::to_string(n));
            for (int i = 0; i < 30; ++i) {
                void *p = slab().kmalloc(n, k.flags);
                ASSERT_NE(p, nullptr);
                EXPECT_GE(pa(p), k.lo);
                EXPECT_LE(pa(p) + n, k.hi);
                EXPECT_GE(slab().ksize(p), n);
                objs.push_back(p);
            }
        }
    }
    EXPECT_EQ(slab().kmalloc_cache(64, kAllocZoneDma)->flags & kCacheDma, uint32_t{kCacheDma});
    EXPECT_EQ(slab().kmalloc_cache(64, kAllocZoneDma32)->flags & kCacheDma32, uint32_t{kCacheDma32});
    for (void *p : objs) ASSERT_TRUE(slab().kfree(p).ok());
}

// ------------------------------------------------------------------ kfree misuse

// Each bad kfree: the exact error, and nothing changed.
class KfreeMisuse : public KmallocTest {
protected:
    void expect_refused(const void *p, Errc code, const char *what, bool ksize_zero = true) {
        SCOPED_TRACE(what);
        const Books before = Books::of(slab(), phys());
        const Status s = slab().kfree(p);
        EXPECT_EQ(s.code(), code) << errc_name(s.code()) << ": " << s.reason();
        expect_unchanged(before, Books::of(slab(), phys()));
        const Status sc = slab().check();
        EXPECT_TRUE(sc.ok()) << sc.reason();
        const Status bc = phys().check();
        EXPECT_TRUE(bc.ok()) << bc.reason();
        if (ksize_zero) {
            EXPECT_EQ(slab().ksize(p), 0u) << "ksize of a pointer that is no object";
        }
    }
};

TEST_F(KfreeMisuse, StackAndHeapPointers) {
    int on_stack = 0;
    expect_refused(&on_stack, Errc::not_allocated, "stack");
    auto host_heap = std::make_unique<uint64_t[]>(16);
    expect_refused(host_heap.get(), Errc::not_allocated, "host heap");
}

TEST_F(KfreeMisuse, MiddleOfAnObjectAndSlabHeader) {
    auto *p = static_cast<uint8_t *>(slab().kmalloc(100)); // kmalloc-112
    ASSERT_NE(p, nullptr);
    expect_refused(p + 1, Errc::invalid_argument, "p + 1");
    expect_refused(p + 8, Errc::invalid_argument, "p + 8");
    expect_refused(p + 111, Errc::invalid_argument, "p + 111");
    const SlabHeader *s = slab_of(slab(), p);
    ASSERT_NE(s, nullptr);
    expect_refused(s, Errc::invalid_argument, "slab header");
    expect_refused(reinterpret_cast<const uint8_t *>(s) + 32, Errc::invalid_argument, "inside the header");
    // The same through another CPU (the slow path checks too).
    std::thread([&] {
        EXPECT_EQ(slab().kfree(p + 16).code(), Errc::invalid_argument);
        EXPECT_EQ(slab().kfree(s).code(), Errc::invalid_argument);
    }).join();
    // A slab of more than one page: a pointer into its last page, off an
    // object boundary (kmalloc-4096 slabs are order 3).
    auto *big = static_cast<uint8_t *>(slab().kmalloc(4096));
    ASSERT_GT(slab().kmalloc_cache(4096)->order, 0);
    expect_refused(big + 2048, Errc::invalid_argument, "middle of a 4 KiB object");
    EXPECT_TRUE(slab().kfree(big).ok());
    EXPECT_TRUE(slab().kfree(p).ok());
}

TEST_F(KfreeMisuse, PagesKmallocNeverHandedOut) {
    // A hole between RAM ranges and RAM nothing ever touched.
    expect_refused(va(512 * MiB), Errc::not_allocated, "hole");
    expect_refused(va(kNode1.end - 16 * kPageSize), Errc::not_allocated, "untouched RAM");
    // Pages the buddy handed to someone else (not kmalloc).
    Result<uint64_t> r = phys().alloc_pages(2);
    ASSERT_TRUE(r.ok());
    expect_refused(va(r.value()), Errc::not_allocated, "buddy pages");
    expect_refused(va(r.value() + kPageSize), Errc::not_allocated, "buddy pages, second page");
    EXPECT_TRUE(phys().free_pages(r.value(), 2).ok());
}

TEST_F(KfreeMisuse, SecondPageOfALargeAllocation) {
    for (size_t n : {kKmallocMaxCacheSize + 1, 3 * kPageSize, size_t{20000}, size_t{MiB}}) {
        auto *p = static_cast<uint8_t *>(slab().kmalloc(n));
        ASSERT_NE(p, nullptr);
        ASSERT_GT(slab().ksize(p), kKmallocMaxCacheSize);
        expect_refused(p + kPageSize, Errc::not_allocated, "second page");
        expect_refused(p + (slab().ksize(p) - kPageSize), Errc::not_allocated, "last page");
        expect_refused(p + 8, Errc::not_allocated, "inside the first page");
        EXPECT_TRUE(slab().kfree(p).ok());
    }
}

// Double free, small, while the object is at the head of the CPU freelist.
TEST_F(KfreeMisuse, DoubleFreeOnTheCpuFreelist) {
    void *p = slab().kmalloc(64);
    void *q = slab().kmalloc(64);
    ASSERT_TRUE(slab().kfree(p).ok());
    expect_refused(p, Errc::double_free, "again at once", false);
    EXPECT_TRUE(slab().kfree(q).ok());
}

// Double free after the object moved to its slab's freelist through a flush
// (the slab is otherwise unused, so it stays as a kept empty slab). Found by
// this suite: the second free was accepted and the slab's in-use count
// wrapped below zero.
TEST_F(KfreeMisuse, DoubleFreeAfterAFlush) {
    void *p = slab().kmalloc(200);
    ASSERT_TRUE(slab().kfree(p).ok());
    slab().flush_all_cpus();
    ASSERT_EQ(slab().cache_totals(slab().kmalloc_cache(200)).slabs, 1u);
    expect_refused(p, Errc::double_free, "after flush, slab kept", false);
}

// Double free after the slab itself went back to the buddy: the pointer is
// no slab object any more. A page-aligned one is known to be free by the
// buddy's books (double free); any other is "not allocated" - the allocator
// cannot tell a late double free from a stray pointer there.
TEST_F(KfreeMisuse, DoubleFreeAfterTheSlabWentBack) {
    const KmemCache *c = slab().kmalloc_cache(2048); // 7 per order-2 slab, one at offset 4096
    std::vector<void *> objs;
    for (uint32_t i = 0; i < (c->min_partial + 3u) * c->objects; ++i) objs.push_back(slab().kmalloc(2048));
    for (void *o : objs) ASSERT_TRUE(slab().kfree(o).ok());
    slab().flush_all_cpus();
    ASSERT_EQ(slab().cache_totals(c).slabs, c->min_partial);
    int gone = 0, aligned = 0;
    for (void *o : objs) {
        if (slab_of(slab(), o)) continue; // its slab was kept
        ++gone;
        const bool page = pa(o) % kPageSize == 0;
        aligned += page;
        expect_refused(o, page ? Errc::double_free : Errc::not_allocated, "slab freed");
    }
    EXPECT_EQ(gone, 3 * static_cast<int>(c->objects));
    EXPECT_GT(aligned, 0);
}

// The pages of a slab that went back are handed out again by the buddy (not
// as a slab). A kfree into one of its former tail pages must be refused: the
// fast path trusts a tail descriptor only while it names a live slab, and
// free_slab stops the tails naming it.
TEST_F(KfreeMisuse, FormerSlabTailPagesInOtherHands) {
    const KmemCache *c = slab().kmalloc_cache(2048); // order-2 slabs
    ASSERT_EQ(c->order, 2);
    std::vector<void *> objs; // three slabs more than the node keeps
    for (uint32_t i = 0; i < (c->min_partial + 3u) * c->objects; ++i) objs.push_back(slab().kmalloc(2048));
    for (void *o : objs) ASSERT_TRUE(slab().kfree(o).ok());
    slab().flush_all_cpus();
    phys().drain_local_pcp(); // the slabs' pages back on the buddy's lists
    int checked = 0;
    for (void *o : objs) {
        if (slab_of(slab(), o)) continue; // its slab was kept
        const uint64_t head = pa(o) & ~((kPageSize << c->order) - 1);
        if (pa(o) - head < kPageSize) continue; // want a former tail page
        Result<uint64_t> r = phys().alloc_pages_range(c->order, head, head + (kPageSize << c->order));
        ASSERT_TRUE(r.ok()) << r.error().reason;
        ASSERT_EQ(r.value(), head);
        expect_refused(o, Errc::not_allocated, "former slab tail, now buddy pages");
        // Even when the new owner's data happens to look like a slab header.
        auto *fake = static_cast<SlabHeader *>(va(head));
        *fake = SlabHeader{};
        fake->cache = const_cast<KmemCache *>(c);
        fake->magic = kSlabMagic;
        expect_refused(o, Errc::not_allocated, "former slab tail under a look-alike header");
        ASSERT_TRUE(phys().free_pages(head, c->order).ok());
        phys().drain_local_pcp();
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

// Double free through another CPU: the remote free put the object at the
// head of its slab's freelist; freeing it again there is refused, from the
// remote CPU and - once the owner's slab is deactivated - from the owner.
// (What is detected is a second free of the object at the head of the
// freelist the free goes to, as SLUB's hardened freelist does; an object
// deeper in a freelist freed again is not caught outside debug caches.)
TEST_F(KfreeMisuse, DoubleFreeFromAnotherCpu) {
    const KmemCache *c = slab().kmalloc_cache(64);
    std::vector<void *> objs;
    for (uint32_t i = 0; i < c->objects; ++i) objs.push_back(slab().kmalloc(64));
    const SlabHeader *s = slab_of(slab(), objs[0]);
    for (void *o : objs) ASSERT_EQ(slab_of(slab(), o), s); // one whole slab, CPU freelist empty
    void *p = objs[5];
    std::thread([&] {
        ASSERT_TRUE(slab().kfree(p).ok()); // remote: onto the slab's freelist
        expect_refused(p, Errc::double_free, "again from the remote CPU", false);
    }).join();
    slab().flush_all_cpus(); // as when the owner CPU goes idle
    expect_refused(p, Errc::double_free, "again from the owner", false);
    for (void *o : objs)
        if (o != p) {
            EXPECT_TRUE(slab().kfree(o).ok());
        }
}

// Double free of a large allocation: its pages are free in the buddy.
TEST_F(KfreeMisuse, DoubleFreeLarge) {
    for (size_t n : {size_t{9000}, size_t{65536}, size_t{MiB + 3}}) {
        void *p = slab().kmalloc(n);
        ASSERT_NE(p, nullptr);
        ASSERT_TRUE(slab().kfree(p).ok());
        expect_refused(p, Errc::double_free, "large");
    }
}

// ------------------------------------------------------------------ caches and CPUs

// cache_free into the wrong cache is refused; kfree works on a cache object.
TEST_F(KmallocTest, CacheFreeIntoTheWrongCache) {
    Result<KmemCache *> a = slab().cache_create("a96", 96);
    ASSERT_TRUE(a.ok());
    void *k = slab().kmalloc(96);
    void *o = slab().cache_alloc(a.value());
    const Books before = Books::of(slab(), phys());
    EXPECT_EQ(slab().cache_free(a.value(), k).code(), Errc::invalid_argument);
    EXPECT_EQ(slab().cache_free(const_cast<KmemCache *>(slab().kmalloc_cache(96)), o).code(),
              Errc::invalid_argument);
    expect_unchanged(before, Books::of(slab(), phys()));
    EXPECT_TRUE(slab().kfree(o).ok()); // kfree finds the owner itself
    EXPECT_TRUE(slab().kfree(k).ok());
    EXPECT_TRUE(slab().cache_destroy(a.value()).ok());
}

// Remote free: objects of this CPU's active slab freed by another thread go
// to the slab's own freelist (the CPU freelist is not touched), and this CPU
// takes them back when its freelist runs dry - no new slab needed.
TEST_F(KmallocTest, RemoteFreeThenReuse) {
    const KmemCache *c = slab().kmalloc_cache(256);
    // Take every object of one slab, so the CPU freelist is empty.
    std::vector<void *> objs;
    objs.push_back(slab().kmalloc(256));
    const SlabHeader *s = slab_of(slab(), objs[0]);
    ASSERT_NE(s, nullptr);
    while (objs.size() < c->objects) objs.push_back(slab().kmalloc(256));
    for (void *o : objs) ASSERT_EQ(slab_of(slab(), o), s);
    const unsigned cpu = hosted::claim_cpu(); // this thread's CPU
    ASSERT_EQ(c->cpu[cpu].freelist, nullptr);
    ASSERT_EQ(c->cpu[cpu].slab, s);
    std::thread([&] {
        for (void *o : objs) ASSERT_TRUE(slab().kfree(o).ok());
    }).join();
    // The remote frees went to the slab's own freelist without the lock (it
    // is frozen: active on this CPU), which this CPU takes when it runs dry.
    const SlabState st = SlabInternals::state(s);
    EXPECT_EQ(st.inuse, 0u);
    EXPECT_NE(st.head, 0u);
    EXPECT_TRUE(st.frozen);
    EXPECT_EQ(c->cpu[cpu].freelist, nullptr);
    ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
    const uint64_t slabs = slab().cache_totals(c).slabs;
    std::set<void *> again;
    for (size_t i = 0; i < objs.size(); ++i) again.insert(slab().kmalloc(256));
    EXPECT_EQ(again, std::set<void *>(objs.begin(), objs.end()));
    EXPECT_EQ(slab().cache_totals(c).slabs, slabs);
    for (void *o : again) ASSERT_TRUE(slab().kfree(o).ok());
}

// Each thread gets its own CPU and its own active slab; objects cross
// threads freely.
TEST_F(KmallocTest, ThreadsHaveTheirOwnActiveSlabs) {
    std::vector<void *> a, b;
    std::thread t1([&] {
        for (int i = 0; i < 100; ++i) a.push_back(slab().kmalloc(128));
    });
    t1.join();
    std::thread t2([&] {
        hosted::bind_cpu(7);
        for (int i = 0; i < 100; ++i) b.push_back(slab().kmalloc(128));
        for (void *p : a) ASSERT_TRUE(slab().kfree(p).ok());
    });
    t2.join();
    EXPECT_NE(slab_of(slab(), a[0]), slab_of(slab(), b[0]));
    EXPECT_EQ(slab().kmalloc_cache(128)->cpu[7].slab, slab_of(slab(), b.back()));
    for (void *p : b) ASSERT_TRUE(slab().kfree(p).ok());
    slab().flush_all_cpus();
    EXPECT_EQ(slab().totals().active_objects, 0u);
}

} // namespace
} // namespace kmem
