// The buddy allocator against a reference model: 1,000,000 random operations
// (allocations of every order with random flags, zone restrictions, nodes
// and address windows; exact-size allocations; frees of random live blocks,
// some from another CPU; reserve / unreserve of random ranges; double frees;
// per-CPU drains; memory hot-added while it runs) on a machine with three
// zones, two nodes that share a max-order block, holes, unaligned range ends
// and a lazy run per section.
//
// The model is one state byte per pfn of the simulated memory (offline,
// free, allocated, reserved, descriptor array) plus a free-page bitmap per
// zone. What it proves:
//   - every block handed out is aligned, lies in one zone of online memory,
//     obeys the zone / node / window it was asked for, and consists only of
//     pages the model says are free (no page is ever handed out twice, and
//     no descriptor or reserved page is handed out at all);
//   - an allocation fails only when the model has no suitable free block in
//     any allowed zone, or the zone's min watermark explains it. Free blocks
//     cached on per-CPU lists of another order are not available to the
//     buddy, so before judging a failure the test drains every CPU's list and
//     retries once; the retry must then succeed or be explained;
//   - allocated memory is never written by the allocator (two stamps per
//     block survive until the free), kAllocZero blocks read as zero and
//     kAllocTails blocks answer head_of from inside;
//   - reserve_range succeeds exactly when the range holds no allocated page
//     and unreserve_range exactly when every online page in it is reserved;
//     a failure changes nothing;
//   - wrong frees (double free, reserved pages) fail and change nothing;
//   - every 10,000 operations check() passes and the model's free,
//     allocated and reserved counts equal the allocator's totals;
//   - memory onlined while the allocator is in use (a new section every
//     150,000 operations, so fresh lazy runs keep appearing) joins the
//     books exactly: managed grows by its pages minus its descriptor array;
//   - at the end, with everything freed, drained and unreserved, the free
//     count is exactly what it was after boot plus the memory added.
// The seed is fixed, so a failure reproduces (KMEM_TEST_SEED overrides it:
// scripts/soak).
#include <kmem/buddy.h>

#include "hosted_machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

namespace kmem {
namespace {

using test::GiB;
using test::HostedMachine;
using test::KiB;
using test::MiB;

constexpr uint64_t kOps = 1'000'000;
constexpr uint64_t kCheckEvery = 10'000;
constexpr uint64_t kHotAddEvery = 150'000;
// Hot-added ranges: one per section from 6 GiB up, unaligned ends.
constexpr uint64_t kHotAddBase = 6 * GiB, kHotAddCount = 6;
constexpr uint64_t hot_add_start(uint64_t k) { return kHotAddBase + k * GiB + 3 * MiB + 20 * KiB; }
constexpr uint64_t hot_add_end(uint64_t k) { return kHotAddBase + k * GiB + 27 * MiB - 8 * KiB; }
constexpr uint64_t kSeed = 0x6b6d656d2d627564; // "kmem-bud"

enum PageModel : uint8_t { kOffline = 0, kFree, kAllocated, kReserved, kMeta };
constexpr uint8_t kNoZone = 0xff;

constexpr uint64_t block_bytes(unsigned order) { return kPageSize << order; }

ZoneType type_of(uint64_t pfn) {
    const uint64_t pa = pfn << kPageShift;
    return pa < kZoneDmaEnd ? ZoneType::dma : pa < kZoneDma32End ? ZoneType::dma32 : ZoneType::normal;
}

struct Model {
    std::vector<uint8_t> state, zone;
    std::vector<std::vector<uint64_t>> zfree; // per zone index: bitmap of free pfns
    uint64_t lo_pfn[kMaxZones], hi_pfn[kMaxZones];
    uint64_t count[5] = {};

    explicit Model(uint64_t npfn) : state(npfn, kOffline), zone(npfn, kNoZone), zfree(kMaxZones) {
        for (unsigned z = 0; z < kMaxZones; ++z) lo_pfn[z] = hi_pfn[z] = 0;
    }
    void online(uint64_t pfn, unsigned zi) {
        if (zfree[zi].empty()) {
            zfree[zi].assign(state.size() / 64 + 1, 0);
            lo_pfn[zi] = pfn;
        }
        lo_pfn[zi] = std::min(lo_pfn[zi], pfn);
        hi_pfn[zi] = std::max(hi_pfn[zi], pfn + 1);
        zone[pfn] = static_cast<uint8_t>(zi);
        set(pfn, kFree);
    }
    void set(uint64_t pfn, uint8_t st) {
        --count[state[pfn]];
        ++count[st];
        if (zone[pfn] != kNoZone) {
            uint64_t &w = zfree[zone[pfn]][pfn / 64];
            const uint64_t bit = uint64_t{1} << (pfn % 64);
            w = st == kFree ? (w | bit) : (w & ~bit);
        }
        state[pfn] = st;
    }
    // Is there an aligned block of 2^order free pages of zone zi inside pfns [lo, hi)?
    bool has_block(unsigned zi, unsigned order, uint64_t lo, uint64_t hi) const {
        if (zfree[zi].empty()) return false;
        lo = std::max(lo, lo_pfn[zi]);
        hi = std::min(hi, hi_pfn[zi]);
        const uint64_t n = uint64_t{1} << order;
        const std::vector<uint64_t> &bits = zfree[zi];
        uint64_t c = (lo + n - 1) & ~(n - 1);
        if (n >= 64) {
            for (; c + n <= hi; c += n) {
                uint64_t w = c / 64;
                while (w < (c + n) / 64 && bits[w] == ~uint64_t{0}) ++w;
                if (w == (c + n) / 64) return true;
            }
            return false;
        }
        uint64_t pattern = 0; // bits at multiples of n
        for (unsigned b = 0; b < 64; b += static_cast<unsigned>(n)) pattern |= uint64_t{1} << b;
        for (uint64_t w = c / 64; w * 64 < hi; ++w) {
            uint64_t m = bits[w];
            for (uint64_t s = 1; s < n; s <<= 1) m &= m >> s;
            m &= pattern;
            const uint64_t base = w * 64;
            if (base < c) m &= ~uint64_t{0} << (c - base);
            if (base + 64 > hi) { // the group must end by hi
                const uint64_t last = hi - base >= n ? hi - base - n + 1 : 0;
                m &= last >= 64 ? ~uint64_t{0} : (uint64_t{1} << last) - 1;
            }
            if (m) return true;
        }
        return false;
    }
};

struct Live {
    uint64_t pa;
    unsigned order;
    uint64_t pages; // 2^order, or the count of an exact allocation
    bool exact;
    uint64_t stamp;
};

struct Reservation {
    uint64_t s, e; // pfns
};

struct Request {
    unsigned order = 0;
    uint32_t flags = 0;
    uint16_t node = kAnyNode;
    bool ranged = false, exact = false;
    uint64_t lo = 0, hi = 0; // bytes (ranged)
    uint64_t count = 0;      // exact
};

class BuddyModel : public ::testing::Test {
protected:
    HostedMachine m;
    Model *model = nullptr;
    std::mt19937_64 rng{test::test_seed(kSeed)};
    std::vector<Live> live;
    std::vector<Reservation> resv;
    std::vector<Live> recently_freed;
    std::vector<unsigned> cpus;
    uint64_t hot_added = 0; // ranges onlined so far
    unsigned home_cpu = 0;
    uint64_t stats_retried = 0, stats_failed = 0, stats_explained = 0, stats_allocs = 0;

    uint64_t pick(uint64_t n) { return n ? rng() % n : 0; }
    bool chance(unsigned per_mille) { return rng() % 1000 < per_mille; }

    void drain_all() {
        for (unsigned c : cpus) m.a().drain_cpu_pcp(c);
    }

    static bool watermark_ok(const Zone &z, unsigned order, uint32_t flags) {
        const uint64_t floor = (flags & kAllocReserves) ? 0 : z.wmark_min;
        const uint64_t need = uint64_t{1} << order;
        return z.free >= need && z.free - need >= floor;
    }
    // A zone allowed for the request where the model has a suitable block and
    // the watermark would let the allocator take it, or -1.
    int unexplained(const Request &q) {
        const int top = (q.flags & kAllocZoneDma) ? 0 : (q.flags & kAllocZoneDma32) ? 1 : 2;
        uint64_t lo = 0, hi = model->state.size();
        if (q.ranged) {
            lo = (q.lo + kPageSize - 1) >> kPageShift;
            hi = std::min<uint64_t>(hi, q.hi >> kPageShift);
        }
        for (uint16_t n = 0; n < 2; ++n) {
            if ((q.flags & kAllocExactNode) && n != q.node) continue;
            for (int t = top; t >= 0; --t) {
                const Zone &z = m.a().zone(n, static_cast<ZoneType>(t));
                if (!z.present) continue;
                const unsigned zi = PhysAllocator::zone_index(n, static_cast<ZoneType>(t));
                if (model->has_block(zi, q.order, lo, hi) && watermark_ok(z, q.order, q.flags))
                    return static_cast<int>(zi);
            }
        }
        return -1;
    }

    Result<uint64_t> call(const Request &q) {
        if (q.exact) return m.a().alloc_pages_exact(q.count, q.flags, q.node);
        if (q.ranged) return m.a().alloc_pages_range(q.order, q.lo, q.hi, q.flags, q.node);
        return m.a().alloc_pages(q.order, q.flags, q.node);
    }

    Request random_request() {
        Request q;
        q.order = chance(600) ? static_cast<unsigned>(pick(kPcpMaxOrder + 1))
                              : static_cast<unsigned>(pick(kMaxOrder + 1));
        const unsigned z = static_cast<unsigned>(pick(100));
        if (z < 4) q.flags |= kAllocZoneDma;
        else if (z < 14) q.flags |= kAllocZoneDma32;
        if (chance(150)) q.flags |= kAllocNoPcp;
        if (chance(50)) q.flags |= kAllocReserves;
        if (chance(50)) q.flags |= kAllocTails;
        if (q.order <= 4 && chance(30)) q.flags |= kAllocZero;
        if (chance(250)) {
            q.node = static_cast<uint16_t>(pick(2));
            if (chance(500)) q.flags |= kAllocExactNode;
        }
        if (chance(20)) { // exact size
            q.exact = true;
            q.flags &= ~static_cast<uint32_t>(kAllocTails);
            q.count = chance(700) ? 1 + pick(40) : 1 + pick(kMaxBlockPages);
            q.order = 0;
            while ((uint64_t{1} << q.order) < q.count) ++q.order;
        } else if (chance(60)) { // an address window around a random online page
            q.ranged = true;
            const MemoryMap &on = m.a().online_map();
            MemRange r = on[pick(on.size())];
            if (hot_added && chance(500)) { // the newest memory, where the lazy run is
                r.start = hot_add_start(hot_added - 1);
                r.end = hot_add_end(hot_added - 1);
            }
            const uint64_t at = r.start + pick(r.end - r.start);
            const uint64_t span = chance(500) ? pick(64 * KiB) + 1 : pick(16 * MiB) + 1;
            q.lo = at > span ? at - pick(span) : 0;
            q.hi = at + pick(span) + 1;
            if (chance(400)) { // the top just past a max-order boundary: less than the block fits above it
                const uint64_t edge = at & ~(block_bytes(kMaxOrder) - 1);
                q.hi = edge + 1 + pick(kPageSize << q.order);
                q.lo = q.hi > span ? q.hi - span : 0;
            }
        }
        return q;
    }

    // A block came back: check it against the request and the model, take it.
    void accept(const Request &q, uint64_t pa) {
        const uint64_t n = q.exact ? q.count : uint64_t{1} << q.order;
        const uint64_t p0 = pa >> kPageShift;
        ASSERT_EQ(pa % (kPageSize << q.order), 0u) << "unaligned block";
        ASSERT_LE(p0 + n, model->state.size());
        const uint8_t zi = model->zone[p0];
        ASSERT_NE(zi, kNoZone) << std::hex << pa << ": not online";
        for (uint64_t i = 0; i < n; ++i) {
            ASSERT_EQ(model->state[p0 + i], kFree) << std::hex << "page " << ((p0 + i) << kPageShift)
                                                    << " handed out in state " << int(model->state[p0 + i]);
            ASSERT_EQ(model->zone[p0 + i], zi) << "block crosses a zone";
        }
        const PageDesc *d = m.a().desc(p0);
        ASSERT_NE(d, nullptr);
        EXPECT_EQ(d->state(), PageState::allocated);
        EXPECT_EQ(d->zone(), zi);
        const unsigned node = zi / kZoneTypes, type = zi % kZoneTypes;
        if (q.flags & kAllocExactNode) {
            EXPECT_EQ(node, q.node);
        }
        if (q.flags & kAllocZoneDma) {
            EXPECT_EQ(type, 0u);
        }
        if (q.flags & kAllocZoneDma32) {
            EXPECT_LE(type, 1u);
        }
        if (q.ranged) {
            EXPECT_GE(pa, q.lo);
            EXPECT_LE(pa + (n << kPageShift), q.hi);
        }
        uint8_t *mem = HostedMachine::ptr(pa);
        if (q.flags & kAllocZero) {
            for (uint64_t i = 0; i < (n << kPageShift); ++i)
                ASSERT_EQ(mem[i], 0) << "kAllocZero block not zeroed at +" << i;
        }
        if (q.flags & kAllocTails) {
            const uint64_t i = pick(n);
            Result<uint64_t> h = m.a().head_of(p0 + i);
            ASSERT_TRUE(h.ok()) << h.error().reason;
            EXPECT_EQ(h.value(), p0);
        }
        for (uint64_t i = 0; i < n; ++i) model->set(p0 + i, kAllocated);
        const uint64_t stamp = rng() | 1;
        std::memcpy(mem + 16, &stamp, 8);
        std::memcpy(mem + (n << kPageShift) - 8, &stamp, 8);
        live.push_back({pa, q.order, n, q.exact, stamp});
        ++stats_allocs;
    }

    void op_alloc() {
        const Request q = random_request();
        Result<uint64_t> r = call(q);
        if (r.ok()) return accept(q, r.value());
        ASSERT_EQ(r.code(), Errc::no_memory) << r.error().reason;
        ++stats_failed;
        Request judged = q;
        if (q.exact) judged.flags |= kAllocNoPcp;
        if (unexplained(judged) < 0) {
            ++stats_explained;
            return;
        }
        // Free pages may sit on per-CPU lists in blocks of another order.
        drain_all();
        ++stats_retried;
        r = call(q);
        if (r.ok()) return accept(q, r.value());
        const int zi = unexplained(judged);
        ASSERT_LT(zi, 0) << "allocation failed although zone " << zi << " has a free block: order " << q.order
                         << " flags " << std::hex << q.flags << " node " << std::dec << q.node << " window "
                         << std::hex << q.lo << "-" << q.hi << " exact " << q.exact << ": " << r.error().reason;
    }

    void op_free() {
        if (live.empty()) return;
        const size_t i = pick(live.size());
        const Live b = live[i];
        live[i] = live.back();
        live.pop_back();
        uint8_t *mem = HostedMachine::ptr(b.pa);
        uint64_t s1, s2;
        std::memcpy(&s1, mem + 16, 8);
        std::memcpy(&s2, mem + (b.pages << kPageShift) - 8, 8);
        ASSERT_EQ(s1, b.stamp) << std::hex << b.pa << ": allocated memory was overwritten";
        ASSERT_EQ(s2, b.stamp) << std::hex << b.pa << ": allocated memory was overwritten";
        const Status s = b.exact ? m.a().free_pages_exact(b.pa, b.pages) : m.a().free_pages(b.pa, b.order);
        ASSERT_TRUE(s.ok()) << std::hex << b.pa << " order " << std::dec << b.order << ": " << s.reason();
        for (uint64_t p = 0; p < b.pages; ++p) model->set((b.pa >> kPageShift) + p, kFree);
        if (recently_freed.size() < 16) recently_freed.push_back(b);
        else recently_freed[pick(16)] = b;
    }

    // Free a block that is no longer allocated: it must fail and change nothing.
    void op_bad_free() {
        if (recently_freed.empty()) return;
        const Live b = recently_freed[pick(recently_freed.size())];
        const uint64_t p0 = b.pa >> kPageShift;
        for (uint64_t p = 0; p < b.pages; ++p)
            if (model->state[p0 + p] == kAllocated) return; // reused since: not a wrong free
        const PhysTotals t = m.a().totals();
        const Status s = b.exact ? m.a().free_pages_exact(b.pa, b.pages) : m.a().free_pages(b.pa, b.order);
        const Errc want = model->state[p0] == kReserved ? Errc::not_allocated : Errc::double_free;
        // free_pages_exact only knows a head: a freed head merged into a lower
        // block reads as "not the start of an exact allocation".
        if (b.exact && s.code() == Errc::not_allocated) {
            EXPECT_EQ(model->state[p0], kFree);
        } else {
            EXPECT_EQ(s.code(), want) << std::hex << b.pa << ": " << s.reason();
        }
        const PhysTotals u = m.a().totals();
        EXPECT_TRUE(t.free == u.free && t.pcp == u.pcp && t.allocated == u.allocated && t.reserved == u.reserved);
    }

    void op_reserve() {
        drain_all(); // then only allocated pages can make it busy
        const MemoryMap &on = m.a().online_map();
        const MemRange &r = on[pick(on.size())];
        const uint64_t start = r.start + pick(r.end - r.start);
        const uint64_t end = start + 1 + pick(chance(900) ? 64 * kPageSize : 6 * MiB);
        const uint64_t s = start >> kPageShift;
        const uint64_t e = std::min<uint64_t>((end + kPageSize - 1) >> kPageShift, model->state.size());
        bool busy = false;
        uint64_t add = 0;
        for (uint64_t p = s; p < e; ++p) {
            busy |= model->state[p] == kAllocated;
            add += model->state[p] == kFree;
        }
        const PhysTotals t = m.a().totals();
        const Status st = m.a().reserve_range(start, end, "model");
        if (busy) {
            ASSERT_EQ(st.code(), Errc::busy) << st.reason();
            const PhysTotals u = m.a().totals();
            EXPECT_TRUE(t.free == u.free && t.reserved == u.reserved && t.allocated == u.allocated);
            return;
        }
        ASSERT_TRUE(st.ok()) << std::hex << start << "-" << end << ": " << st.reason();
        for (uint64_t p = s; p < e; ++p)
            if (model->state[p] == kFree) model->set(p, kReserved);
        EXPECT_EQ(m.a().totals().reserved, t.reserved + add);
        resv.push_back({s, e});
    }

    void op_unreserve() {
        if (resv.empty()) return;
        const size_t i = pick(resv.size());
        Reservation r = resv[i];
        uint64_t s = r.s, e = r.e;
        if (chance(300) && e - s > 1) { // a piece of it
            s = r.s + pick(e - s);
            e = s + 1 + pick(r.e - s);
        }
        bool ok = true;
        for (uint64_t p = s; p < e; ++p)
            ok &= model->state[p] == kReserved || model->state[p] == kOffline;
        const PhysTotals t = m.a().totals();
        // Bytes rounded inward: start inside the page before, end inside the last page.
        const uint64_t bs = s == 0 ? 0 : (s << kPageShift) - pick(kPageSize);
        const uint64_t be = (e << kPageShift) + pick(kPageSize);
        const Status st = m.a().unreserve_range(bs, be);
        if (!ok) {
            ASSERT_EQ(st.code(), Errc::not_allocated) << st.reason();
            const PhysTotals u = m.a().totals();
            EXPECT_TRUE(t.free == u.free && t.reserved == u.reserved && t.allocated == u.allocated);
            // It holds pages given back since or never reserved (descriptors):
            // keep only its runs of reserved pages.
            resv[i] = resv.back();
            resv.pop_back();
            for (uint64_t p = r.s; p < r.e;) {
                if (model->state[p] != kReserved) {
                    ++p;
                    continue;
                }
                const uint64_t b = p;
                while (p < r.e && model->state[p] == kReserved) ++p;
                resv.push_back({b, p});
            }
            return;
        }
        ASSERT_TRUE(st.ok()) << st.reason();
        uint64_t n = 0;
        for (uint64_t p = s; p < e; ++p)
            if (model->state[p] == kReserved) {
                model->set(p, kFree);
                ++n;
            }
        EXPECT_EQ(m.a().totals().reserved, t.reserved - n);
        resv[i] = resv.back();
        resv.pop_back();
        if (r.s < s) resv.push_back({r.s, s});
        if (e < r.e) resv.push_back({e, r.e});
    }

    void op_hot_add() {
        const uint64_t k = hot_added++;
        const uint64_t s = hot_add_start(k), e = hot_add_end(k);
        const uint16_t node = static_cast<uint16_t>(k % 2);
        const PhysTotals t = m.a().totals();
        ASSERT_TRUE(HostedMachine::map_window(s, e).ok());
        const Status st = m.a().online_range(s, e, node);
        ASSERT_TRUE(st.ok()) << st.reason();
        for (uint64_t p = s >> kPageShift; p < e >> kPageShift; ++p)
            model->online(p, PhysAllocator::zone_index(node, type_of(p)));
        uint64_t meta = 0;
        for (const test::PfnRange &mr : test::in_place_meta(m.a()))
            if (mr.start >= s >> kPageShift && mr.end <= e >> kPageShift)
                for (uint64_t p = mr.start; p < mr.end; ++p, ++meta) model->set(p, kMeta);
        const PhysTotals u = m.a().totals();
        EXPECT_GT(meta, 0u);
        EXPECT_EQ(u.managed, t.managed + ((e - s) >> kPageShift) - meta);
        EXPECT_EQ(u.sections, t.sections + 1);
        EXPECT_GT(u.lazy, t.lazy);
    }

    void compare_counts() {
        const PhysTotals t = m.a().totals();
        ASSERT_EQ(model->count[kFree], t.free + t.pcp);
        ASSERT_EQ(model->count[kAllocated], t.allocated);
        ASSERT_EQ(model->count[kReserved], t.reserved);
    }
};

TEST_F(BuddyModel, MillionRandomOperations) {
    // node 0: DMA + DMA32 [1 MiB + 20 KiB, 16 MiB + 8 KiB) (its descriptor
    //         array straddles 16 MiB until the next range replaces it) and
    //         [18 MiB + 12 KiB, 40 MiB - 12 KiB), Normal [4 GiB, 4 GiB + 40 MiB + 8 KiB);
    // node 1: Normal from there to 4 GiB + 72 MiB (sharing a max-order block
    //         with node 0), a hole, [4 GiB + 80 MiB, 4 GiB + 100 MiB - 4 KiB)
    //         and [5 GiB + 12 KiB, 5 GiB + 24 MiB) in the next section.
    m.add_ram(1 * MiB + 20 * KiB, 16 * MiB + 8 * KiB, 0);
    m.add_ram(18 * MiB + 12 * KiB, 40 * MiB - 12 * KiB, 0);
    m.add_ram(4 * GiB, 4 * GiB + 40 * MiB + 8 * KiB, 0);
    m.add_ram(4 * GiB + 40 * MiB + 8 * KiB, 4 * GiB + 72 * MiB, 1);
    m.add_ram(4 * GiB + 80 * MiB, 4 * GiB + 100 * MiB - 4 * KiB, 1);
    m.add_ram(5 * GiB + 12 * KiB, 5 * GiB + 24 * MiB, 1);
    m.create(hot_add_end(kHotAddCount));
    m.boot_all();
    PhysAllocator &a = m.a();
    const PhysTotals t0 = a.totals();
    ASSERT_EQ(t0.allocated, 0u);
    ASSERT_EQ(t0.reserved, 0u);
    ASSERT_GT(t0.lazy, 0u);

    Model md(hot_add_end(kHotAddCount) >> kPageShift);
    model = &md;
    for (const MemRange &r : a.online_map())
        for (uint64_t p = r.start >> kPageShift; p < r.end >> kPageShift; ++p)
            md.online(p, PhysAllocator::zone_index(r.node, type_of(p)));
    for (const test::PfnRange &mr : test::in_place_meta(a))
        for (uint64_t p = mr.start; p < mr.end; ++p) md.set(p, kMeta);
    compare_counts();
    if (HasFatalFailure()) return;
    uint64_t managed = t0.managed;

    // Three CPUs emulated by this thread (bind_cpu), one preferring node 1.
    home_cpu = hosted::claim_cpu();
    cpus = {home_cpu, kMaxCpus - 2, kMaxCpus - 1};
    a.set_cpu_node(kMaxCpus - 1, 1);

    for (uint64_t i = 1; i <= kOps; ++i) {
        const double used = static_cast<double>(md.count[kAllocated] + md.count[kReserved]) /
                            static_cast<double>(managed);
        if (i % kHotAddEvery == 0 && hot_added < kHotAddCount) {
            op_hot_add();
            managed = a.totals().managed;
        }
        const unsigned r = static_cast<unsigned>(pick(1000));
        if (r < 3) hosted::bind_cpu(cpus[pick(cpus.size())]);
        else if (r < 6) a.drain_cpu_pcp(cpus[pick(cpus.size())]);
        else if (r < 9) op_reserve();
        else if (r < 12 + (md.count[kReserved] * 20 > managed ? 30 : 0)) op_unreserve();
        else if (r < 20) op_bad_free();
        else if (r < 20 + (used < 0.85 ? 520 : 450)) op_alloc();
        else op_free();
        if (HasFatalFailure()) {
            ADD_FAILURE() << "at operation " << i;
            hosted::bind_cpu(home_cpu);
            return;
        }
        if (i % kCheckEvery == 0) {
            const Status s = a.check();
            ASSERT_TRUE(s.ok()) << "at operation " << i << ": " << s.reason();
            compare_counts();
            if (HasFatalFailure()) {
                ADD_FAILURE() << "at operation " << i;
                hosted::bind_cpu(home_cpu);
                return;
            }
        }
    }
    hosted::bind_cpu(home_cpu);

    // Everything back: frees, drains, and every reserved run.
    while (!live.empty()) {
        op_free();
        ASSERT_FALSE(HasFatalFailure());
    }
    drain_all();
    for (uint64_t p = 0; p < md.state.size();) {
        if (md.state[p] != kReserved) {
            ++p;
            continue;
        }
        uint64_t e = p;
        while (e < md.state.size() && md.state[e] == kReserved) ++e;
        const Status s = a.unreserve_range(p << kPageShift, e << kPageShift);
        ASSERT_TRUE(s.ok()) << s.reason();
        for (; p < e; ++p) md.set(p, kFree);
    }
    const PhysTotals t = a.totals();
    EXPECT_EQ(hot_added, kHotAddCount);
    EXPECT_EQ(t.free, t0.free + (t.managed - t0.managed));
    EXPECT_EQ(t.free, t.managed);
    EXPECT_EQ(t.pcp, 0u);
    EXPECT_EQ(t.allocated, 0u);
    EXPECT_EQ(t.reserved, 0u);
    compare_counts();
    ASSERT_TRUE(a.check().ok()) << a.check().reason();
    // The run must have exercised the failure paths, not only the easy ones.
    EXPECT_GT(stats_failed, 1000u);
    EXPECT_GT(stats_allocs, kOps / 3);
    std::printf("[ model    ] %llu allocations, %llu failed (%llu explained by the model, %llu retried after "
                "draining)\n",
                static_cast<unsigned long long>(stats_allocs), static_cast<unsigned long long>(stats_failed),
                static_cast<unsigned long long>(stats_explained), static_cast<unsigned long long>(stats_retried));
}

} // namespace
} // namespace kmem
