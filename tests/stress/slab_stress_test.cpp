// Slab and kmalloc under real threads (each thread is a CPU of the hosted
// platform): threads allocate from kmalloc (small and large, two NUMA nodes)
// and from a shared cache, fill every object with a pattern, and hand a
// large share of them to other threads, which check the pattern and free
// them (remote frees onto slabs active on other CPUs). Meanwhile threads
// create, use and destroy caches of their own. After the join:
// flush_all_cpus, check() of slab and buddy, and every page back.
//
// Run under ThreadSanitizer (tsan preset) and ASan (asan preset): a data
// race or a memory error inside src/slab is a failure of this test.
#include <kmem/buddy.h>
#include <kmem/slab.h>

#include "slab_machine.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kmem {
namespace {

using test::Rng;

bool all_bytes(const uint8_t *p, size_t n, uint8_t v) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != v) return false;
    return true;
}

// An object in flight: where, how many bytes carry the pattern, which byte,
// and which cache it came from (null: kmalloc).
struct Obj {
    uint8_t *p;
    size_t size;
    uint8_t fill;
    KmemCache *cache;
};

struct Inbox {
    std::mutex lock;
    std::vector<Obj> objs;
};

// Both slab layouts: shuffled freelists chained when a slab is made (the
// default), and objects in address order carved by the owning CPU while
// other CPUs free into the same slab, in slabs of at least 64 objects (the
// malloc shim's options).
class SlabStress : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        // Two nodes: [1 MiB, 160 MiB) on node 0, [160 MiB, 320 MiB) on node 1.
        const std::initializer_list<Ram> ram{{1 * MiB, 160 * MiB, 0}, {160 * MiB, 320 * MiB, 1}};
        SlabOptions opts;
        opts.random_freelist = GetParam();
        if (!GetParam()) opts.min_slab_objects = 64;
        m_ = std::make_unique<Machine>(ram, opts, 0x57e55);
        ASSERT_FALSE(HasFailure());
        slab_ = &m_->slab();
        phys_ = &m_->phys();
    }
    void TearDown() override { m_.reset(); }

    // Everything after the join: nothing live, books consistent, and every
    // page back in the buddy.
    void expect_all_returned(const PhysTotals &start, std::vector<KmemCache *> destroy) {
        SlabAllocator &sa = *slab_;
        PhysAllocator &a = *phys_;
        sa.flush_all_cpus();
        Status s = sa.check();
        ASSERT_TRUE(s.ok()) << "slab check: " << s.reason();
        s = a.check();
        ASSERT_TRUE(s.ok()) << "buddy check: " << s.reason();
        for (KmemCache *c : destroy) ASSERT_TRUE(sa.cache_destroy(c).ok());
        sa.flush_all_cpus();
        EXPECT_EQ(sa.totals().active_objects, 0u);
        EXPECT_EQ(sa.totals().large_allocations, 0u);
        EXPECT_EQ(sa.totals().large_pages, 0u);
        for (const KmemCache *c = sa.first_cache(); c; c = c->next) sa.cache_shrink(const_cast<KmemCache *>(c));
        EXPECT_EQ(sa.totals().slabs, 0u);
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) a.drain_cpu_pcp(cpu);
        EXPECT_EQ(a.totals().free, start.free);
        EXPECT_EQ(a.totals().allocated, start.allocated);
        s = sa.check();
        EXPECT_TRUE(s.ok()) << s.reason();
        s = a.check();
        EXPECT_TRUE(s.ok()) << s.reason();
    }

    std::unique_ptr<Machine> m_;
    PhysAllocator *phys_ = nullptr;
    SlabAllocator *slab_ = nullptr;
};

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kOpsPerThread = 150'000;
#else
constexpr int kOpsPerThread = 500'000;
#endif
constexpr unsigned kThreads = 4;

TEST_P(SlabStress, RemoteFreesAcrossThreads) {
    SlabAllocator &sa = *slab_;
    PhysAllocator &a = *phys_;
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) a.drain_cpu_pcp(cpu);
    const PhysTotals start = a.totals();
    Result<KmemCache *> shared = sa.cache_create("shared", 200, 0, 0);
    ASSERT_TRUE(shared.ok());
    Result<KmemCache *> shared_dbg = sa.cache_create("shared-debug", 72, 0, kCacheDebugFlags);
    ASSERT_TRUE(shared_dbg.ok());

    Inbox inbox[kThreads];
    std::barrier done_producing(kThreads);
    std::atomic<uint64_t> bad_contents{0}, failures{0}, remote_frees{0}, local_frees{0}, allocs{0};

    auto check_and_free = [&](const Obj &o) {
        if (!all_bytes(o.p, o.size, o.fill)) bad_contents.fetch_add(1);
        const Status s = o.cache && (o.fill & 1) ? sa.cache_free(o.cache, o.p) : sa.kfree(o.p);
        if (!s.ok()) failures.fetch_add(1);
    };

    auto worker = [&](unsigned id) {
        Rng rng{0x1000 + id};
        std::vector<Obj> mine;
        KmemCache *own = nullptr;
        std::vector<Obj> own_objs;
        for (int op = 0; op < kOpsPerThread; ++op) {
            const uint64_t r = rng.below(100);
            if (r < 45 || mine.size() < 8) {
                Obj o{};
                const uint64_t k = rng.below(100);
                if (k < 30) {
                    o.cache = shared.value();
                    o.p = static_cast<uint8_t *>(sa.cache_alloc(o.cache));
                    o.size = 1 + rng.below(200);
                } else if (k < 35) {
                    o.cache = shared_dbg.value();
                    o.p = static_cast<uint8_t *>(sa.cache_alloc(o.cache));
                    o.size = 1 + rng.below(72);
                } else {
                    const uint64_t z = rng.below(100);
                    o.size = z < 60 ? 1 + rng.below(128) : z < 95 ? 1 + rng.below(4096) : 1 + rng.below(24000);
                    if (rng.below(10) == 0)
                        o.p = static_cast<uint8_t *>(sa.kmalloc_node(o.size, 0, static_cast<uint16_t>(rng.below(2))));
                    else
                        o.p = static_cast<uint8_t *>(rng.below(8) ? sa.kmalloc(o.size) : sa.kzalloc(o.size));
                }
                if (!o.p) {
                    failures.fetch_add(1);
                    continue;
                }
                if (sa.ksize(o.p) < o.size) failures.fetch_add(1);
                o.fill = static_cast<uint8_t>(rng.next());
                std::memset(o.p, o.fill, o.size);
                allocs.fetch_add(1, std::memory_order_relaxed);
                mine.push_back(o);
            } else if (r < 75) {
                // Hand a random object to another thread: it checks and frees it.
                const size_t i = rng.below(mine.size());
                const Obj o = mine[i];
                mine[i] = mine.back();
                mine.pop_back();
                const unsigned to = (id + 1 + static_cast<unsigned>(rng.below(kThreads - 1))) % kThreads;
                std::lock_guard<std::mutex> g(inbox[to].lock);
                inbox[to].objs.push_back(o);
            } else if (r < 90) {
                const size_t i = rng.below(mine.size());
                check_and_free(mine[i]);
                mine[i] = mine.back();
                mine.pop_back();
                local_frees.fetch_add(1, std::memory_order_relaxed);
            } else if (r < 98) {
                // Free what others sent.
                std::vector<Obj> got;
                {
                    std::lock_guard<std::mutex> g(inbox[id].lock);
                    got.swap(inbox[id].objs);
                }
                for (const Obj &o : got) check_and_free(o);
                remote_frees.fetch_add(got.size(), std::memory_order_relaxed);
            } else {
                // A cache of this thread's own: create, use, destroy.
                if (!own) {
                    Result<KmemCache *> c = sa.cache_create("own", 16 + rng.below(1000), 0, 0);
                    if (!c.ok()) {
                        failures.fetch_add(1);
                        continue;
                    }
                    own = c.value();
                    for (int i = 0; i < 50; ++i) {
                        Obj o{static_cast<uint8_t *>(sa.cache_alloc(own)), 16, static_cast<uint8_t>(i), own};
                        if (!o.p) {
                            failures.fetch_add(1);
                            continue;
                        }
                        std::memset(o.p, o.fill, o.size);
                        own_objs.push_back(o);
                    }
                } else {
                    for (const Obj &o : own_objs) {
                        if (!all_bytes(o.p, o.size, o.fill)) bad_contents.fetch_add(1);
                        if (!sa.cache_free(own, o.p).ok()) failures.fetch_add(1);
                    }
                    own_objs.clear();
                    if (!sa.cache_destroy(own).ok()) failures.fetch_add(1);
                    own = nullptr;
                }
            }
        }
        for (const Obj &o : own_objs) {
            if (!all_bytes(o.p, o.size, o.fill)) bad_contents.fetch_add(1);
            if (!sa.cache_free(own, o.p).ok()) failures.fetch_add(1);
        }
        if (own && !sa.cache_destroy(own).ok()) failures.fetch_add(1);
        // Give half of what is left to others, free the rest here.
        for (size_t i = 0; i < mine.size(); ++i) {
            if (i % 2) {
                check_and_free(mine[i]);
                continue;
            }
            const unsigned to = (id + 1) % kThreads;
            std::lock_guard<std::mutex> g(inbox[to].lock);
            inbox[to].objs.push_back(mine[i]);
        }
        done_producing.arrive_and_wait();
        std::vector<Obj> got;
        {
            std::lock_guard<std::mutex> g(inbox[id].lock);
            got.swap(inbox[id].objs);
        }
        for (const Obj &o : got) check_and_free(o);
        remote_frees.fetch_add(got.size(), std::memory_order_relaxed);
    };

    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
    for (std::thread &t : threads) t.join();

    EXPECT_EQ(bad_contents.load(), 0u) << "objects changed while another thread owned them";
    EXPECT_EQ(failures.load(), 0u);
    EXPECT_GT(remote_frees.load(), static_cast<uint64_t>(kOpsPerThread) / 2);
    EXPECT_GT(local_frees.load(), static_cast<uint64_t>(kOpsPerThread) / 2);
    for (const Inbox &in : inbox) EXPECT_TRUE(in.objs.empty());
    std::printf("stress: %u threads, %llu allocations, %llu remote frees, %llu local frees\n", kThreads,
                (unsigned long long)allocs.load(), (unsigned long long)remote_frees.load(),
                (unsigned long long)local_frees.load());
    expect_all_returned(start, {shared.value(), shared_dbg.value()});
}

// Ping-pong: two threads each allocate a batch and free the other's batch,
// over and over, so every free is remote and every slab the owner picks up
// again was refilled by the other CPU.
TEST_P(SlabStress, PingPongRemoteFrees) {
    SlabAllocator &sa = *slab_;
    PhysAllocator &a = *phys_;
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) a.drain_cpu_pcp(cpu);
    const PhysTotals start = a.totals();
    constexpr int kRounds = 400, kBatch = 256;
    std::vector<void *> slot[2];
    std::mutex m;
    std::atomic<uint64_t> failures{0};
    std::barrier sync(2);
    auto worker = [&](int id) {
        for (int round = 0; round < kRounds; ++round) {
            std::vector<void *> batch;
            for (int i = 0; i < kBatch; ++i) {
                auto *p = static_cast<uint8_t *>(sa.kmalloc(64));
                if (!p) {
                    failures.fetch_add(1);
                    continue;
                }
                std::memset(p, id + 1, 64);
                batch.push_back(p);
            }
            {
                std::lock_guard<std::mutex> g(m);
                slot[id] = std::move(batch);
            }
            sync.arrive_and_wait();
            std::vector<void *> theirs;
            {
                std::lock_guard<std::mutex> g(m);
                theirs.swap(slot[1 - id]);
            }
            for (void *p : theirs) {
                if (!all_bytes(static_cast<uint8_t *>(p), 64, static_cast<uint8_t>(2 - id))) failures.fetch_add(1);
                if (!sa.kfree(p).ok()) failures.fetch_add(1);
            }
            sync.arrive_and_wait();
        }
    };
    std::thread t0(worker, 0), t1(worker, 1);
    t0.join();
    t1.join();
    EXPECT_EQ(failures.load(), 0u);
    expect_all_returned(start, {});
}

INSTANTIATE_TEST_SUITE_P(Layouts, SlabStress, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool> &i) { return i.param ? "Shuffled" : "Carved"; });

} // namespace
} // namespace kmem
