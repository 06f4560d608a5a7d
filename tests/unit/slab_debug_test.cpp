// Slab debugging and hardening, each detection proven by triggering it:
// poisoning (write after free), red zones (overflow, underflow), double free
// on debug caches, init_on_alloc / init_on_free, the randomized freelist,
// the encoded freelist links, debug_all reaching kmalloc's caches, and the
// /proc/slabinfo report.
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
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace kmem {
namespace {

class SlabDebugTest : public SlabMachineTest {
protected:
    void SetUp() override { boot({}); }
    void boot(const SlabOptions &opts) {
        start({{1 * MiB, 64 * MiB, 0}, {4 * GiB, 4 * GiB + 64 * MiB, 0}}, opts);
    }
    KmemCache *create(const char *name, size_t size, uint32_t flags = 0) {
        Result<KmemCache *> r = slab().cache_create(name, size, 0, flags);
        EXPECT_TRUE(r.ok()) << name << ": " << r.error().reason;
        return r.ok() ? r.value() : nullptr;
    }
    // Make last_error() say something known, so that a later check of it
    // proves the later call set it.
    void reset_last_error() {
        EXPECT_EQ(slab().kmalloc(64, 1u << 30), nullptr);
        ASSERT_EQ(slab().last_error().code, Errc::invalid_argument);
    }
};

bool contains(const char *s, const char *part) { return std::string(s).find(part) != std::string::npos; }

const SlabHeader *slab_of(SlabAllocator &sa, const void *p) {
    const char *why = nullptr;
    return SlabInternals::slab_of(sa, p, &why);
}

// ------------------------------------------------------------------ poison

// A free object of a poisoned cache holds 0x6b with a final 0xa5 (after its
// 8-byte freelist link); a write after free is reported by check() and by
// the next allocation of that object, which still hands it out.
TEST_F(SlabDebugTest, PoisonCatchesWriteAfterFree) {
    KmemCache *c = create("poison", 64, kCachePoison);
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->fast);
    auto *p = static_cast<uint8_t *>(slab().cache_alloc(c));
    ASSERT_NE(p, nullptr);
    for (int i = 8; i < 63; ++i) ASSERT_EQ(p[i], kPoisonFree) << i; // it was free until now
    EXPECT_EQ(p[63], kPoisonEnd);
    std::memset(p, 0x11, 64);
    ASSERT_TRUE(slab().cache_free(c, p).ok());
    for (int i = 8; i < 63; ++i) ASSERT_EQ(p[i], kPoisonFree) << i; // poisoned again
    ASSERT_TRUE(slab().check().ok());

    p[20] = 0; // use after free
    const Status s = slab().check();
    EXPECT_EQ(s.code(), Errc::malformed);
    EXPECT_TRUE(contains(s.reason(), "poison")) << s.reason();

    reset_last_error();
    auto *q = static_cast<uint8_t *>(slab().cache_alloc(c));
    EXPECT_EQ(q, p); // the freed object comes back first
    EXPECT_EQ(slab().last_error().code, Errc::malformed);
    EXPECT_TRUE(contains(slab().last_error().reason, "poison")) << slab().last_error().reason;
    EXPECT_TRUE(slab().check().ok()); // allocated again: no longer checked as free
    ASSERT_TRUE(slab().cache_free(c, q).ok());

    // The last byte (0xa5) is checked too.
    p[63] = kPoisonFree;
    EXPECT_EQ(slab().check().code(), Errc::malformed);
    p[63] = kPoisonEnd;
    EXPECT_TRUE(slab().check().ok());
    EXPECT_TRUE(slab().cache_destroy(c).ok());
}

// Found by this suite: a poison-only cache reported "double free" for the
// first free of an object nobody had written (it is still poisoned).
TEST_F(SlabDebugTest, PoisonOnlyCacheFreesUnwrittenObjects) {
    KmemCache *c = create("poison-only", 128, kCachePoison);
    KmemCache *small = create("poison-8", 8, kCachePoison); // too small to poison at all
    ASSERT_TRUE(c && small);
    for (KmemCache *k : {c, small}) {
        std::vector<void *> objs;
        for (int i = 0; i < 100; ++i) objs.push_back(slab().cache_alloc(k));
        for (void *p : objs) {
            const Status s = slab().cache_free(k, p);
            EXPECT_TRUE(s.ok()) << k->name << ": " << s.reason();
        }
        EXPECT_EQ(slab().cache_totals(k).active_objects, 0u) << k->name;
    }
    EXPECT_TRUE(slab().cache_destroy(c).ok());
    EXPECT_TRUE(slab().cache_destroy(small).ok());
}

// ------------------------------------------------------------------ red zones

// Overflow by one byte and underflow by one byte: reported by check() while
// the object is live and by the free, which still frees it.
TEST_F(SlabDebugTest, RedZonesCatchOverflowAndUnderflow) {
    KmemCache *c = create("rz41", 41, kCacheRedZone);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->object_size, 41u); // debug caches report the size asked for
    struct Case {
        int offset;
        const char *what;
    };
    for (const Case &k : {Case{41, "overflow"}, Case{41 + static_cast<int>(kRedZoneBytes) - 1, "overflow"},
                          Case{-1, "underflow"}, Case{-static_cast<int>(kRedZoneBytes), "underflow"}}) {
        SCOPED_TRACE(k.offset);
        auto *p = static_cast<uint8_t *>(slab().cache_alloc(c));
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(slab().ksize(p), 41u);
        std::memset(p, 0x22, 41); // all of the object is fine
        ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
        p[k.offset] = 0x22; // one guard byte hit
        const Status s = slab().check();
        EXPECT_EQ(s.code(), Errc::malformed);
        EXPECT_TRUE(contains(s.reason(), k.what)) << s.reason();
        const uint64_t active = slab().cache_totals(c).active_objects;
        const Status f = slab().cache_free(c, p);
        EXPECT_EQ(f.code(), Errc::malformed);
        EXPECT_TRUE(contains(f.reason(), k.what)) << f.reason();
        EXPECT_EQ(slab().cache_totals(c).active_objects, active - 1) << "freed anyway";
        EXPECT_TRUE(slab().check().ok()) << "the free re-armed the red zones";
    }
    EXPECT_TRUE(slab().cache_destroy(c).ok());
}

// Damage to a free object's red zone is reported when the object is next
// allocated.
TEST_F(SlabDebugTest, RedZoneOfAFreeObjectCheckedOnAllocation) {
    KmemCache *c = create("rz64", 64, kCacheRedZone);
    auto *p = static_cast<uint8_t *>(slab().cache_alloc(c));
    ASSERT_TRUE(slab().cache_free(c, p).ok());
    p[64] = 0; // the right zone of a free object
    EXPECT_EQ(slab().check().code(), Errc::malformed);
    reset_last_error();
    EXPECT_EQ(slab().cache_alloc(c), p);
    EXPECT_EQ(slab().last_error().code, Errc::malformed);
    EXPECT_TRUE(contains(slab().last_error().reason, "red zone")) << slab().last_error().reason;
    ASSERT_TRUE(slab().cache_free(c, p).ok()); // allocation re-armed the zones
    EXPECT_TRUE(slab().cache_destroy(c).ok());
}

// Found by this suite: objects smaller than the 8-byte freelist link had
// their right red zone overwritten by the link, so check() failed on a fresh
// red-zoned cache of 1..7-byte objects. ksize is now at least 8.
TEST_F(SlabDebugTest, RedZonesOnTinyObjects) {
    for (size_t size = 1; size <= 9; ++size) {
        SCOPED_TRACE(size);
        KmemCache *c = create("tiny", size, kCacheRedZone | kCachePoison);
        ASSERT_NE(c, nullptr);
        std::vector<uint8_t *> objs;
        for (int i = 0; i < 10; ++i) objs.push_back(static_cast<uint8_t *>(slab().cache_alloc(c)));
        ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
        const size_t k = slab().ksize(objs[0]);
        EXPECT_GE(k, std::max<size_t>(size, 8));
        objs[0][k] = 0; // one past the usable size
        EXPECT_EQ(slab().cache_free(c, objs[0]).code(), Errc::malformed);
        for (size_t i = 1; i < objs.size(); ++i) EXPECT_TRUE(slab().cache_free(c, objs[i]).ok());
        ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
        EXPECT_TRUE(slab().cache_destroy(c).ok());
    }
}

// ------------------------------------------------------------------ double free (debug)

// Debug caches catch a double free wherever the object sits in the freelist
// (not only at its head): red zones say "free", and without red zones the
// slab's freelist is searched. Found by this suite: a poison-only cache took
// "still poisoned" for "already free" and refused the first free of any
// object nobody had written (PoisonOnlyCacheFreesUnwrittenObjects); such
// caches now search the freelist instead.
TEST_F(SlabDebugTest, DoubleFreeOnDebugCaches) {
    for (uint32_t flags : {uint32_t{kCacheRedZone}, uint32_t{kCachePoison}, uint32_t{kCacheDebugFlags}}) {
        SCOPED_TRACE(flags);
        KmemCache *c = create("dbl", 96, flags);
        ASSERT_NE(c, nullptr);
        void *p = slab().cache_alloc(c);
        void *q = slab().cache_alloc(c);
        void *r = slab().cache_alloc(c);
        ASSERT_TRUE(slab().cache_free(c, p).ok());
        EXPECT_EQ(slab().cache_free(c, p).code(), Errc::double_free) << "at the head";
        ASSERT_TRUE(slab().cache_free(c, q).ok());
        const SlabTotals t = slab().cache_totals(c);
        EXPECT_EQ(slab().cache_free(c, p).code(), Errc::double_free) << "below the head";
        std::thread([&] { EXPECT_EQ(slab().cache_free(c, p).code(), Errc::double_free) << "from another CPU"; })
            .join();
        EXPECT_EQ(slab().cache_totals(c).active_objects, t.active_objects);
        ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
        ASSERT_TRUE(slab().cache_free(c, r).ok());
        EXPECT_TRUE(slab().cache_destroy(c).ok());
    }
}

// ------------------------------------------------------------------ init_on_alloc / init_on_free

// init_on_alloc: every object comes back zeroed, from kmalloc and from a
// cache. Without it the same recycled object keeps its old bytes.
TEST_F(SlabDebugTest, InitOnAlloc) {
    for (bool on : {false, true}) {
        SCOPED_TRACE(on);
        SlabOptions o;
        o.init_on_alloc = on;
        boot(o);
        KmemCache *c = create("ioa", 200);
        for (int round = 0; round < 2; ++round) {
            auto *p = static_cast<uint8_t *>(round ? slab().cache_alloc(c) : slab().kmalloc(200));
            ASSERT_NE(p, nullptr);
            const size_t k = slab().ksize(p);
            for (size_t i = 0; i < k && on; ++i) ASSERT_EQ(p[i], 0) << i;
            std::memset(p, 0xaa, k);
            ASSERT_TRUE(slab().kfree(p).ok());
            auto *q = static_cast<uint8_t *>(round ? slab().cache_alloc(c) : slab().kmalloc(200));
            ASSERT_EQ(q, p);
            size_t zero = 0;
            for (size_t i = 8; i < k; ++i) zero += q[i] == 0;
            EXPECT_EQ(zero, on ? k - 8 : 0u);
            ASSERT_TRUE(slab().kfree(q).ok());
        }
        // Large kmalloc allocations are zeroed too: the same pages, back
        // from the CPU's list into the zone and out again.
        auto *big = static_cast<uint8_t *>(slab().kmalloc(30000));
        std::memset(big, 0xaa, 30000);
        ASSERT_TRUE(slab().kfree(big).ok());
        phys().drain_local_pcp();
        std::vector<void *> others;
        auto *big2 = static_cast<uint8_t *>(slab().kmalloc(30000));
        while (big2 && big2 != big && others.size() < 4096) {
            others.push_back(big2);
            big2 = static_cast<uint8_t *>(slab().kmalloc(30000));
        }
        for (void *other : others) ASSERT_TRUE(slab().kfree(other).ok());
        ASSERT_EQ(big2, big) << "the test wants the pages it wrote";
        EXPECT_EQ(big2[100], on ? 0 : 0xaa);
        if (on) {
            for (size_t i = 0; i < 30000; ++i) ASSERT_EQ(big2[i], 0) << "large, byte " << i;
        }
        ASSERT_TRUE(slab().kfree(big2).ok());
        EXPECT_TRUE(slab().cache_destroy(c).ok());
    }
}

// init_on_free: a freed object's bytes (after its 8-byte freelist link) are
// zero at once, on the fast path (own CPU) and the slow path (another CPU).
TEST_F(SlabDebugTest, InitOnFree) {
    for (bool on : {false, true}) {
        SCOPED_TRACE(on);
        SlabOptions o;
        o.init_on_free = on;
        boot(o);
        auto *p = static_cast<uint8_t *>(slab().kmalloc(500));
        auto *q = static_cast<uint8_t *>(slab().kmalloc(500));
        std::memset(p, 0xaa, 500);
        std::memset(q, 0xaa, 500);
        ASSERT_TRUE(slab().kfree(p).ok());                                   // fast path
        std::thread([&] { ASSERT_TRUE(slab().kfree(q).ok()); }).join();      // slow path
        for (uint8_t *x : {p, q}) {
            size_t zero = 0;
            for (size_t i = 8; i < 500; ++i) zero += x[i] == 0;
            EXPECT_EQ(zero, on ? 492u : 0u);
        }
        // Page-level allocations too: the pages are zero once freed (but the
        // first 8 bytes, where a free block on a per-CPU list keeps its link).
        auto *big = static_cast<uint8_t *>(slab().kmalloc(30000));
        ASSERT_NE(big, nullptr);
        std::memset(big, 0xaa, 30000);
        ASSERT_TRUE(slab().kfree(big).ok());
        size_t zero = 0;
        for (size_t i = 8; i < 30000; ++i) zero += big[i] == 0;
        EXPECT_EQ(zero, on ? 29992u : 0u) << "large";
    }
}

// Found by this suite: with init_on_free, a double free that reached the
// slow path zeroed the object's freelist link before the double free was
// noticed, corrupting the slab's freelist.
TEST_F(SlabDebugTest, InitOnFreeDoubleFreeKeepsTheFreelist) {
    SlabOptions o;
    o.init_on_free = true;
    boot(o);
    void *keep = slab().kmalloc(64);
    void *p = slab().kmalloc(64);
    std::thread([&] {
        ASSERT_TRUE(slab().kfree(p).ok());
        EXPECT_EQ(slab().kfree(p).code(), Errc::double_free);
    }).join();
    const Status s = slab().check();
    EXPECT_TRUE(s.ok()) << s.reason();
    EXPECT_TRUE(slab().kfree(keep).ok());
}

// ------------------------------------------------------------------ freelist order and encoding

// The allocation order of one fresh slab, as object indices.
std::vector<uint32_t> fresh_slab_order(SlabAllocator &sa, KmemCache *c, std::vector<void *> &keep) {
    std::vector<uint32_t> order;
    const SlabHeader *s = nullptr;
    for (uint32_t i = 0; i < c->objects; ++i) {
        void *p = sa.cache_alloc(c);
        keep.push_back(p);
        if (!s) s = slab_of(sa, p);
        EXPECT_EQ(slab_of(sa, p), s) << "object " << i << " from another slab";
        order.push_back(SlabInternals::index_of(c, s, p));
    }
    return order;
}

// random_freelist (the default): two fresh slabs of one cache hand their
// objects out in different orders, each a permutation of all objects and
// not address order. Off: address order.
TEST_F(SlabDebugTest, RandomFreelistOrder) {
    std::vector<uint32_t> identity;
    for (bool random : {true, false}) {
        SCOPED_TRACE(random);
        SlabOptions o;
        o.random_freelist = random;
        boot(o);
        KmemCache *c = create("order", 64);
        ASSERT_NE(c, nullptr);
        identity.resize(c->objects);
        std::iota(identity.begin(), identity.end(), 0u);
        std::vector<void *> keep;
        const std::vector<uint32_t> a = fresh_slab_order(slab(), c, keep);
        const std::vector<uint32_t> b = fresh_slab_order(slab(), c, keep);
        std::vector<uint32_t> sa = a, sb = b;
        std::sort(sa.begin(), sa.end());
        std::sort(sb.begin(), sb.end());
        EXPECT_EQ(sa, identity);
        EXPECT_EQ(sb, identity);
        if (random) {
            EXPECT_NE(a, b);
            EXPECT_NE(a, identity);
            EXPECT_NE(b, identity);
        } else {
            EXPECT_EQ(a, identity);
            EXPECT_EQ(b, identity);
        }
        for (void *p : keep) ASSERT_TRUE(slab().cache_free(c, p).ok());
        EXPECT_TRUE(slab().cache_destroy(c).ok());
    }
}

// Freelist links are stored as next ^ secret ^ address-of-link: the raw
// bytes at a free object's start are not the next pointer, and decode to it.
TEST_F(SlabDebugTest, FreelistLinksAreEncoded) {
    KmemCache *c = create("enc", 32);
    KmemCache *d = create("enc2", 32);
    ASSERT_TRUE(c && d);
    EXPECT_NE(c->secret, d->secret);
    void *a = slab().cache_alloc(c);
    void *b = slab().cache_alloc(c);
    ASSERT_TRUE(slab().cache_free(c, a).ok());
    ASSERT_TRUE(slab().cache_free(c, b).ok()); // CPU freelist: b -> a -> ...
    uintptr_t raw_b, raw_a;
    std::memcpy(&raw_b, b, sizeof raw_b);
    std::memcpy(&raw_a, a, sizeof raw_a);
    EXPECT_NE(raw_b, reinterpret_cast<uintptr_t>(a));
    EXPECT_EQ(raw_b, reinterpret_cast<uintptr_t>(a) ^ c->secret ^ reinterpret_cast<uintptr_t>(b));
    // a's successor is another object of the slab (or the end), never in clear.
    const auto next_a = reinterpret_cast<void *>(raw_a ^ c->secret ^ reinterpret_cast<uintptr_t>(a));
    const SlabHeader *s = slab_of(slab(), a);
    EXPECT_TRUE(next_a == nullptr || SlabInternals::index_of(c, s, next_a) != UINT32_MAX);
    EXPECT_NE(raw_a, reinterpret_cast<uintptr_t>(next_a));
    // The end of a chain is not a plain zero either.
    std::vector<void *> all;
    for (uint32_t i = 0; i < c->objects; ++i) all.push_back(slab().cache_alloc(c));
    ASSERT_TRUE(slab().cache_free(c, all[0]).ok()); // alone on the CPU freelist: next is null
    uintptr_t raw_end;
    std::memcpy(&raw_end, all[0], sizeof raw_end);
    EXPECT_NE(raw_end, 0u);
    EXPECT_EQ(raw_end, c->secret ^ reinterpret_cast<uintptr_t>(all[0]));
    for (size_t i = 1; i < all.size(); ++i) ASSERT_TRUE(slab().cache_free(c, all[i]).ok());
    EXPECT_TRUE(slab().cache_destroy(c).ok());
    EXPECT_TRUE(slab().cache_destroy(d).ok());
}

// A corrupted link (the first 8 bytes of a free object overwritten) is
// caught by check() instead of being followed.
TEST_F(SlabDebugTest, CorruptLinkCaughtByCheck) {
    auto *p = static_cast<uint8_t *>(slab().kmalloc(48));
    void *q = slab().kmalloc(48);
    ASSERT_TRUE(slab().kfree(p).ok());
    uint64_t saved;
    std::memcpy(&saved, p, 8);
    const uint64_t evil = reinterpret_cast<uintptr_t>(q); // a plain pointer to a live object
    std::memcpy(p, &evil, 8);
    const Status s = slab().check();
    EXPECT_EQ(s.code(), Errc::malformed);
    std::memcpy(p, &saved, 8);
    EXPECT_TRUE(slab().check().ok());
    EXPECT_TRUE(slab().kfree(q).ok());
}

// ------------------------------------------------------------------ debug_all

// debug_all puts poison and red zones on every cache, kmalloc's included:
// an overflow of a kmalloc object is caught, and so is a write after free.
TEST_F(SlabDebugTest, DebugAllReachesKmalloc) {
    SlabOptions o;
    o.debug_all = true;
    boot(o);
    for (unsigned i = 0; i < kKmallocClasses; ++i) {
        const KmemCache *k = slab().kmalloc_cache(SlabAllocator::class_size(i));
        EXPECT_EQ(k->flags & kCacheDebugFlags, kCacheDebugFlags) << k->name;
        EXPECT_FALSE(k->fast);
        EXPECT_GE(k->stride, k->object_size + 2 * kRedZoneBytes);
    }
    KmemCache *c = create("dbg-all", 100);
    EXPECT_EQ(c->flags & kCacheDebugFlags, kCacheDebugFlags);

    auto *p = static_cast<uint8_t *>(slab().kmalloc(64));
    ASSERT_EQ(slab().ksize(p), 64u);
    p[64] = 1;
    EXPECT_EQ(slab().check().code(), Errc::malformed);
    const Status f = slab().kfree(p);
    EXPECT_EQ(f.code(), Errc::malformed);
    EXPECT_TRUE(contains(f.reason(), "overflow")) << f.reason();
    EXPECT_TRUE(slab().check().ok());
    p[30] = 0; // write after free
    EXPECT_EQ(slab().check().code(), Errc::malformed);
    reset_last_error();
    EXPECT_EQ(slab().kmalloc(64), p);
    EXPECT_EQ(slab().last_error().code, Errc::malformed);
    EXPECT_EQ(slab().kfree(p).code(), Errc::ok);
    EXPECT_EQ(slab().kfree(p).code(), Errc::double_free);
    // Every size still works with all the checks on.
    std::vector<void *> objs;
    for (size_t n = 1; n <= kKmallocMaxCacheSize; n += 13) {
        auto *x = static_cast<uint8_t *>(slab().kmalloc(n));
        ASSERT_NE(x, nullptr);
        std::memset(x, 0x5c, n);
        objs.push_back(x);
    }
    ASSERT_TRUE(slab().check().ok()) << slab().check().reason();
    for (void *x : objs) ASSERT_TRUE(slab().kfree(x).ok());
    EXPECT_TRUE(slab().cache_destroy(c).ok());
}

// ------------------------------------------------------------------ slabinfo

// report_slabinfo: the two header lines of /proc/slabinfo 2.1, then one
// line per cache (empty DMA caches left out) that parses into the fields
// Linux prints and agrees with cache_totals(); the columns add up to totals().
TEST_F(SlabDebugTest, SlabinfoFormat) {
    KmemCache *c = create("my-cache", 300);
    std::vector<void *> objs;
    for (int i = 0; i < 50; ++i) objs.push_back(slab().cache_alloc(c));
    for (size_t n : {size_t{8}, size_t{100}, size_t{1000}, size_t{5000}}) objs.push_back(slab().kmalloc(n));
    void *dma = slab().kmalloc(64, kAllocZoneDma);
    std::string text;
    slab().report_slabinfo(
        [](void *ctx, const char *s, size_t n) { static_cast<std::string *>(ctx)->append(s, n); }, &text);
    std::istringstream in(text);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line, "slabinfo - version: 2.1");
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line.rfind("# name", 0), 0u) << line;
    EXPECT_NE(line.find("<active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"), std::string::npos);
    EXPECT_NE(line.find(": tunables <limit> <batchcount> <sharedfactor>"), std::string::npos);
    EXPECT_NE(line.find(": slabdata <active_slabs> <num_slabs> <sharedavail>"), std::string::npos);

    std::map<std::string, const KmemCache *> by_name;
    size_t expected_lines = 0;
    for (const KmemCache *k = slab().first_cache(); k; k = k->next) {
        by_name[k->name] = k;
        if (!(k->flags & (kCacheDma | kCacheDma32)) || slab().cache_totals(k).slabs) ++expected_lines;
    }
    uint64_t active = 0, total = 0;
    size_t lines = 0;
    bool saw_mine = false, saw_dma = false;
    while (std::getline(in, line)) {
        SCOPED_TRACE(line);
        std::istringstream f(line);
        std::string name, colon1, tunables, colon2, slabdata;
        uint64_t act, num, objsize, perslab, pages, limit, batch, shared, aslabs, nslabs, avail;
        f >> name >> act >> num >> objsize >> perslab >> pages >> colon1 >> tunables >> limit >> batch >> shared >>
            colon2 >> slabdata >> aslabs >> nslabs >> avail;
        ASSERT_FALSE(f.fail()) << "unparsable";
        std::string rest;
        EXPECT_FALSE(f >> rest) << "trailing text";
        EXPECT_EQ(colon1, ":");
        EXPECT_EQ(tunables, "tunables");
        EXPECT_EQ(colon2, ":");
        EXPECT_EQ(slabdata, "slabdata");
        ASSERT_EQ(by_name.count(name), 1u) << "unknown or duplicate cache name";
        const KmemCache *k = by_name[name];
        const SlabTotals t = slab().cache_totals(k);
        EXPECT_EQ(act, t.active_objects);
        EXPECT_EQ(num, t.objects);
        EXPECT_EQ(objsize, k->object_size);
        EXPECT_EQ(perslab, k->objects);
        EXPECT_EQ(pages, uint64_t{1} << k->order);
        EXPECT_EQ(nslabs, t.slabs);
        EXPECT_LE(aslabs, nslabs);
        EXPECT_LE(act, num);
        EXPECT_EQ(avail, 0u);
        saw_mine |= name == "my-cache";
        saw_dma |= name == "dma-kmalloc-64";
        if (name == "my-cache") {
            EXPECT_GE(act, 50u);
        }
        active += act;
        total += num;
        ++lines;
    }
    EXPECT_EQ(lines, expected_lines);
    EXPECT_TRUE(saw_mine);
    EXPECT_TRUE(saw_dma);
    EXPECT_EQ(active, slab().totals().active_objects);
    EXPECT_EQ(total, slab().totals().objects);
    for (void *p : objs) ASSERT_TRUE(slab().kfree(p).ok());
    ASSERT_TRUE(slab().kfree(dma).ok());
    EXPECT_TRUE(slab().cache_destroy(c).ok());
}

} // namespace
} // namespace kmem
