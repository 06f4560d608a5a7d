// A model-based random test of slab and kmalloc: over a million mixed
// operations (fixed seed) against a reference model of the live objects.
//
// Operations: kmalloc / kzalloc / kmalloc_node with sizes 1..20000 (skewed
// small, large ones included) and DMA flags; cache_alloc from caches created
// with random sizes, alignments and flags (debug ones included); frees of
// random live objects by kfree or cache_free; krealloc; cache_shrink;
// flush_all_cpus; destroying a cache and creating another; and switching the
// CPU the test thread runs as, so frees land on slabs active on other CPUs
// (remote frees) deterministically.
//
// The model (live pointer -> size, fill byte, owner) checks at every step
// that no two live objects overlap (over their whole ksize), that every
// object is aligned as promised and in the zone asked for, and at free (or
// krealloc) that its contents survived. check() of slab and buddy runs after
// every batch. At the end everything is freed, caches are shrunk and
// destroyed, per-CPU page lists drained, and the buddy's free page count
// must be exactly what it was before the first allocation.
#include <kmem/buddy.h>
#include <kmem/memmap.h>
#include <kmem/slab.h>

#include "platform/hosted/hosted.h"

#include "slab_machine.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <map>
#include <ostream>
#include <string>
#include <memory>
#include <unordered_map>
#include <vector>

namespace kmem {
namespace {

constexpr Ram kModelLow{1 * MiB, 192 * MiB, 0};
constexpr Ram kModelHigh{4 * GiB, 4 * GiB + 192 * MiB, 0};
constexpr Ram kModelNode1{8 * GiB, 8 * GiB + 192 * MiB, 1};

using test::Rng;

bool all_bytes(const uint8_t *p, size_t n, uint8_t v) {
    uint64_t w;
    std::memset(&w, v, sizeof w);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        std::memcpy(&x, p + i, 8);
        if (x != w) return false;
    }
    for (; i < n; ++i)
        if (p[i] != v) return false;
    return true;
}

// ------------------------------------------------------------------ the model

struct Live {
    size_t size;     // bytes the caller asked for (filled with `fill`)
    size_t usable;   // ksize when allocated
    uint8_t fill;
    int cache;       // index into caches, or -1 for kmalloc
    bool dma;        // in ZONE_DMA
};

class Model {
public:
    Model(SlabAllocator &sa, PhysAllocator &a) : sa_(sa), a_(a) {}

    // The live set: pointer -> object, plus a vector for uniform picks and
    // an address-ordered map to prove objects never overlap.
    std::unordered_map<uintptr_t, Live> live;
    std::vector<uintptr_t> order;
    std::unordered_map<uintptr_t, size_t> pos;
    std::map<uintptr_t, uintptr_t> ranges; // start -> end (usable)
    std::vector<KmemCache *> caches;
    std::vector<uint64_t> cache_live;
    uint64_t allocs = 0, frees = 0, reallocs = 0, large = 0;
    size_t dma_usable = 0;

    void add(void *p, const Live &l) {
        const auto u = reinterpret_cast<uintptr_t>(p);
        ASSERT_EQ(live.count(u), 0u) << "handed out twice: " << p;
        const uintptr_t end = u + std::max<size_t>(l.usable, 1);
        auto next = ranges.lower_bound(u);
        if (next != ranges.end()) {
            ASSERT_LE(end, next->first) << "overlaps the next object";
        }
        if (next != ranges.begin()) {
            ASSERT_LE(std::prev(next)->second, u) << "overlaps the previous object";
        }
        ranges.emplace(u, end);
        live.emplace(u, l);
        pos[u] = order.size();
        order.push_back(u);
        if (l.cache >= 0) ++cache_live[static_cast<size_t>(l.cache)];
        if (l.dma) dma_usable += l.usable;
        ++allocs;
    }
    Live remove(uintptr_t u) {
        const Live l = live.at(u);
        EXPECT_TRUE(all_bytes(reinterpret_cast<uint8_t *>(u), l.size, l.fill))
            << "contents of " << reinterpret_cast<void *>(u) << " (" << l.size << " bytes) changed while live";
        const size_t i = pos.at(u);
        order[i] = order.back();
        pos[order[i]] = i;
        order.pop_back();
        pos.erase(u);
        live.erase(u);
        ranges.erase(u);
        if (l.cache >= 0) --cache_live[static_cast<size_t>(l.cache)];
        if (l.dma) dma_usable -= l.usable;
        ++frees;
        return l;
    }

    void fill(void *p, Live &l, Rng &rng) {
        l.fill = static_cast<uint8_t>(rng.next() | 1);
        std::memset(p, l.fill, l.size);
    }

    SlabAllocator &sa_;
    PhysAllocator &a_;
};

size_t kmalloc_size(Rng &rng) {
    const uint64_t r = rng.below(100);
    if (r < 50) return 1 + rng.below(64);
    if (r < 80) return 1 + rng.below(512);
    if (r < 95) return 1 + rng.below(8192);
    return 1 + rng.below(20000);
}

// Alignment a kmalloc object of usable size k must have.
size_t kmalloc_align(size_t k) {
    if (k > kKmallocMaxCacheSize) return kPageSize;
    if ((k & (k - 1)) == 0 && k <= kPageSize) return k; // naturally aligned powers of two
    return 8;
}

KmemCache *random_cache(SlabAllocator &sa, Rng &rng) {
    for (;;) {
        size_t size = rng.chance(80) ? 1 + rng.below(3000) : 1 + rng.below(16000);
        const size_t aligns[] = {0, 0, 0, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
        const size_t align = aligns[rng.below(std::size(aligns))];
        uint32_t flags = 0;
        if (rng.chance(20)) flags |= kCacheHwAlign;
        const uint64_t z = rng.below(10);
        if (z == 0) flags |= kCacheDma;
        else if (z == 1) flags |= kCacheDma32;
        if (flags & kCacheDma) size = std::min<size_t>(size, 2048); // ZONE_DMA is 15 MiB here
        if (rng.chance(15)) flags |= kCachePoison;
        if (rng.chance(15)) flags |= kCacheRedZone;
        Result<KmemCache *> r = sa.cache_create("model", size, align, flags);
        if (r.ok()) return r.value();
        EXPECT_EQ(r.code(), Errc::invalid_argument) << r.error().reason;
    }
}

void check_zone(const void *p, size_t size, uint32_t zone_flags) {
    if (zone_flags & kAllocZoneDma) {
        ASSERT_LE(pa(p) + size, 16 * MiB) << "DMA object above 16 MiB";
    }
    if (zone_flags & kAllocZoneDma32) {
        ASSERT_LE(pa(p) + size, 4 * GiB) << "DMA32 object above 4 GiB";
    }
}

void check_node(const void *p, uint16_t node) {
    const bool on1 = pa(p) >= kModelNode1.start && pa(p) < kModelNode1.end;
    ASSERT_EQ(on1, node == 1) << "object on the wrong node: " << std::hex << pa(p);
}

uint32_t cache_zone(const KmemCache *c) {
    return (c->flags & kCacheDma) ? uint32_t{kAllocZoneDma} : (c->flags & kCacheDma32) ? uint32_t{kAllocZoneDma32} : 0u;
}

// The two slab layouts: shuffled freelists chained when a slab is made (the
// default), and objects in address order carved a page at a time from slabs
// of at least 64 objects (the malloc shim's options).
// ZONE_DMA holds 15 MiB: what lives there stays well below that
// (fragmentation and the slabs CPUs keep take their share - 64 KiB slabs a
// bigger one), so that running out of it is a failure, not the test's luck.
struct Layout {
    const char *name;
    bool random_freelist;
    uint32_t min_slab_objects;
    size_t dma_budget;
};
void PrintTo(const Layout &l, std::ostream *os) { *os << l.name; }
class SlabModel : public ::testing::TestWithParam<Layout> {};

TEST_P(SlabModel, MillionRandomOperations) {
    SlabOptions opts;
    opts.random_freelist = GetParam().random_freelist;
    opts.min_slab_objects = GetParam().min_slab_objects;
    Machine m({kModelLow, kModelHigh, kModelNode1}, opts);
    SlabAllocator &sa = m.slab();
    PhysAllocator &a = m.phys();
    const unsigned home_cpu = hosted::claim_cpu();
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) a.drain_cpu_pcp(cpu);
    const PhysTotals start = a.totals();
    ASSERT_EQ(start.pcp, 0u);

    Rng rng{test::test_seed(0x51ab5eedull)}; // KMEM_TEST_SEED overrides it (scripts/soak)
    Model model(sa, a);
    constexpr int kCaches = 16;
    for (int i = 0; i < kCaches; ++i) {
        model.caches.push_back(random_cache(sa, rng));
        model.cache_live.push_back(0);
    }
    constexpr uint64_t kOps = 1'000'000, kBatch = 10'000;
    constexpr size_t kMaxLive = 30'000;
    constexpr unsigned kCpus = 4; // CPU slots the test thread runs as
    unsigned cpus[kCpus] = {home_cpu, 40, 41, 42};
    uint64_t shrinks = 0, flushes = 0, recreated = 0, switches = 0, executed = 0;

    for (uint64_t op = 1; op <= kOps; ++op) {
        const uint64_t r = rng.below(1000);
        const size_t n = model.live.size();
        enum { kAlloc, kFree, kRealloc, kShrink, kSwitch, kFlush, kReplace } what =
            r < 560 ? kAlloc : r < 590 ? kRealloc : r < 593 ? kShrink : r < 594 ? kSwitch : kFree;
        if (r == 594 && rng.chance(5)) what = kFlush;
        if (r == 595 && rng.chance(5)) what = kReplace;
        if (n >= kMaxLive) what = kFree;
        if (n < 64) what = kAlloc;
        uintptr_t realloc_victim = 0; // a kmalloc object
        if (what == kRealloc) {
            for (int tries = 0; tries < 8 && !realloc_victim; ++tries) {
                const uintptr_t c = model.order[rng.below(model.order.size())];
                if (model.live.at(c).cache < 0) realloc_victim = c;
            }
            if (!realloc_victim) what = kFree;
        }
        ++executed;
        if (what == kAlloc) {
            // ---- allocate
            Live l{};
            void *p = nullptr;
            uint32_t zone = 0;
            int want_node = -1;
            bool zero = false;
            const bool dma_full = model.dma_usable > GetParam().dma_budget;
            size_t ci = rng.below(model.caches.size());
            if (dma_full)
                while (model.caches[ci]->flags & kCacheDma) ci = (ci + 1) % model.caches.size();
            if (rng.chance(60)) { // kmalloc
                l.size = kmalloc_size(rng);
                l.cache = -1;
                uint32_t flags = 0;
                const uint64_t k = rng.below(100);
                if (k < 3 && !dma_full) zone = kAllocZoneDma;
                else if (k < 8) zone = kAllocZoneDma32;
                if (rng.chance(10)) flags |= kAllocZero;
                zero = flags & kAllocZero;
                if (!zone && rng.chance(5)) {
                    want_node = static_cast<int>(rng.below(2));
                    p = sa.kmalloc_node(l.size, flags, static_cast<uint16_t>(want_node));
                } else {
                    p = sa.kmalloc(l.size, flags | zone);
                }
                ASSERT_NE(p, nullptr) << "kmalloc(" << l.size << ") failed: " << sa.last_error().reason << " op " << op
                                      << " zone " << zone << " live " << model.live.size() << " dma free "
                                      << a.zone(0, ZoneType::dma).free << " dma32 free "
                                      << a.zone(0, ZoneType::dma32).free << " normal free "
                                      << a.zone(0, ZoneType::normal).free;
                l.usable = sa.ksize(p);
                ASSERT_GE(l.usable, l.size);
                if (l.size <= kKmallocMaxCacheSize) {
                    ASSERT_EQ(l.usable, SlabAllocator::class_size(SlabAllocator::size_class(l.size)));
                } else {
                    ASSERT_EQ(l.usable, (l.size + kPageSize - 1) / kPageSize * kPageSize);
                    ++model.large;
                }
                ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % kmalloc_align(l.usable), 0u) << l.usable;
            } else { // a cache
                l.cache = static_cast<int>(ci);
                KmemCache *c = model.caches[static_cast<size_t>(l.cache)];
                zone = cache_zone(c);
                const uint32_t flags = rng.chance(10) ? uint32_t{kAllocZero} : 0u;
                zero = flags != 0;
                if (!zone && rng.chance(5)) {
                    want_node = static_cast<int>(rng.below(2));
                    p = sa.cache_alloc(c, flags, static_cast<uint16_t>(want_node));
                } else {
                    p = sa.cache_alloc(c, flags);
                }
                ASSERT_NE(p, nullptr) << "cache_alloc failed: " << sa.last_error().reason << " op " << op << " flags "
                                      << c->flags << " size " << c->object_size << " order " << unsigned(c->order)
                                      << " live " << model.live.size() << " cache live "
                                      << model.cache_live[static_cast<size_t>(l.cache)] << " slabs "
                                      << sa.cache_totals(c).slabs << " dma free " << a.zone(0, ZoneType::dma).free
                                      << " dma32 free " << a.zone(0, ZoneType::dma32).free;
                l.size = 1 + rng.below(c->object_size);
                l.usable = c->object_size;
                ASSERT_EQ(sa.ksize(p), c->object_size);
                ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % c->align, 0u) << c->align;
            }
            if (zero) {
                ASSERT_TRUE(all_bytes(static_cast<uint8_t *>(p), l.usable, 0)) << "kAllocZero not zero";
            }
            check_zone(p, l.usable, zone);
            l.dma = zone == kAllocZoneDma;
            if (want_node >= 0) check_node(p, static_cast<uint16_t>(want_node));
            model.fill(p, l, rng);
            model.add(p, l);
            if (::testing::Test::HasFatalFailure()) return;
        } else if (what == kFree) {
            // ---- free a random live object
            const uintptr_t u = model.order[rng.below(model.order.size())];
            const Live l = model.remove(u);
            Status s;
            if (l.cache >= 0 && rng.chance(70))
                s = sa.cache_free(model.caches[static_cast<size_t>(l.cache)], reinterpret_cast<void *>(u));
            else
                s = sa.kfree(reinterpret_cast<void *>(u));
            ASSERT_TRUE(s.ok()) << s.reason();
        } else if (what == kRealloc) {
            // ---- krealloc a kmalloc object
            const uintptr_t u = realloc_victim;
            const Live old = model.remove(u);
            Live l = old;
            l.size = kmalloc_size(rng);
            const uint32_t zone = old.dma ? uint32_t{kAllocZoneDma} : 0u; // stay in the zone
            if (zone && l.size > 4096) l.size = 1 + rng.below(4096);
            void *p = sa.krealloc(reinterpret_cast<void *>(u), l.size, zone);
            ASSERT_NE(p, nullptr) << sa.last_error().reason;
            if (l.size <= old.usable) {
                ASSERT_EQ(reinterpret_cast<uintptr_t>(p), u) << "shrink moved";
            }
            ASSERT_TRUE(all_bytes(static_cast<uint8_t *>(p), std::min(old.size, l.size), old.fill))
                << "krealloc lost contents";
            l.usable = sa.ksize(p);
            ASSERT_GE(l.usable, l.size);
            check_zone(p, l.usable, zone);
            model.fill(p, l, rng);
            model.add(p, l);
            ++model.reallocs;
            if (::testing::Test::HasFatalFailure()) return;
        } else if (what == kShrink) {
            sa.cache_shrink(model.caches[rng.below(model.caches.size())]);
            ++shrinks;
        } else if (what == kSwitch) {
            // Switch CPUs: the slabs active on the old one are now remote.
            hosted::bind_cpu(cpus[rng.below(kCpus)]);
            ++switches;
        } else if (what == kFlush) {
            sa.flush_all_cpus();
            ++flushes;
        } else if (what == kReplace) {
            // Replace a cache: free its objects, destroy it, make another.
            const size_t ci = rng.below(model.caches.size());
            std::vector<uintptr_t> mine;
            for (const auto &[u, l] : model.live)
                if (l.cache == static_cast<int>(ci)) mine.push_back(u);
            for (uintptr_t u : mine) {
                model.remove(u);
                ASSERT_TRUE(sa.cache_free(model.caches[ci], reinterpret_cast<void *>(u)).ok());
            }
            ASSERT_EQ(model.cache_live[ci], 0u);
            const Status d = sa.cache_destroy(model.caches[ci]);
            ASSERT_TRUE(d.ok()) << d.reason();
            model.caches[ci] = random_cache(sa, rng);
            ++recreated;
        }
        if (op % kBatch == 0) {
            const Status s = sa.check();
            ASSERT_TRUE(s.ok()) << "after op " << op << ": slab check: " << s.reason();
            const Status b = a.check();
            ASSERT_TRUE(b.ok()) << "after op " << op << ": buddy check: " << b.reason();
        }
    }

    // ---- the end: free everything, give everything back.
    while (!model.order.empty()) {
        const uintptr_t u = model.order.back();
        model.remove(u);
        ASSERT_TRUE(sa.kfree(reinterpret_cast<void *>(u)).ok());
    }
    hosted::bind_cpu(home_cpu);
    sa.flush_all_cpus();
    EXPECT_EQ(sa.totals().large_allocations, 0u);
    for (KmemCache *c : model.caches) ASSERT_TRUE(sa.cache_destroy(c).ok());
    sa.flush_all_cpus();
    EXPECT_EQ(sa.totals().active_objects, 0u);
    for (const KmemCache *c = sa.first_cache(); c; c = c->next) sa.cache_shrink(const_cast<KmemCache *>(c));
    const SlabTotals t = sa.totals();
    EXPECT_EQ(t.slabs, 0u);
    EXPECT_EQ(t.slab_pages, 0u);
    ASSERT_TRUE(sa.check().ok()) << sa.check().reason();
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) a.drain_cpu_pcp(cpu);
    ASSERT_TRUE(a.check().ok()) << a.check().reason();
    const PhysTotals end = a.totals();
    EXPECT_EQ(end.free, start.free) << "pages lost: " << static_cast<int64_t>(start.free - end.free);
    EXPECT_EQ(end.allocated, start.allocated);
    EXPECT_EQ(end.pcp, 0u);

    // The run did what it claims.
    EXPECT_EQ(executed, kOps);
    EXPECT_GE(model.allocs, 500'000u);
    EXPECT_GE(model.frees, 450'000u);
    EXPECT_GT(model.reallocs, 10'000u);
    EXPECT_GT(model.large, 1'000u);
    EXPECT_GT(shrinks, 1'000u);
    EXPECT_GT(flushes, 10u);
    EXPECT_GT(recreated, 5u);
    EXPECT_GT(switches, 500u);
    std::printf("model: %llu allocs, %llu frees, %llu reallocs, %llu large, %llu shrinks, %llu flushes, "
                "%llu caches replaced, %llu CPU switches\n",
                (unsigned long long)model.allocs, (unsigned long long)model.frees,
                (unsigned long long)model.reallocs, (unsigned long long)model.large, (unsigned long long)shrinks,
                (unsigned long long)flushes, (unsigned long long)recreated, (unsigned long long)switches);
}

INSTANTIATE_TEST_SUITE_P(Layouts, SlabModel,
                         ::testing::Values(Layout{"Shuffled", true, 0, 2 * MiB},
                                           Layout{"Carved", false, 64, MiB / 2}),
                         [](const ::testing::TestParamInfo<Layout> &i) { return std::string(i.param.name); });

} // namespace
} // namespace kmem
