// SPDX-License-Identifier: MIT
// Random-lifetime workloads: churn, churn-swap, malloc-thread, prodcons,
// mixed-realloc, aligned, cross-free. Each ends with a phase change - everything freed, the
// resident size read (rss_after_kib) - so a run shows both the time of
// steady churn and how much memory the allocator keeps once the work is gone.
#include <atomic>
#include <barrier>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "workload.h"

namespace workload {

namespace {

// A live object: where, how big, the value stamped into it.
struct Live {
    void *p = nullptr;
    std::uint32_t size = 0;
    std::uint64_t stamp = 0;
};

void put(Live &l, std::size_t size, std::uint64_t v, std::size_t align = 0) {
    l.p = align ? std::aligned_alloc(align, (size + align - 1) & ~(align - 1)) : std::malloc(size);
    l.size = static_cast<std::uint32_t>(size);
    l.stamp = v;
    std::memcpy(l.p, &v, sizeof v < size ? sizeof v : size);
    static_cast<unsigned char *>(l.p)[size - 1] = static_cast<unsigned char>(v);
}

// The object's stamp back (its checksum share), and the object freed.
std::uint64_t take(Live &l) {
    std::uint64_t v = 0;
    std::memcpy(&v, l.p, sizeof v < l.size ? sizeof v : l.size);
    v += static_cast<const unsigned char *>(l.p)[l.size - 1];
    std::free(l.p);
    l.p = nullptr;
    return v;
}

// The mix of the random-lifetime churn: 70 % of 8-128 bytes, 25 % up to
// 1 KiB, 5 % up to 8 KiB.
std::size_t churn_size(Rng &rng) {
    const std::uint64_t r = rng.next() % 100;
    if (r < 70) return rng.range(8, 128);
    if (r < 95) return rng.range(129, 1024);
    return rng.range(1025, 8192);
}

// glibc's multi-thread malloc benchmark draws sizes from a distribution
// that favours small blocks; this one: a size class [2^(k+1), 2^(k+2))
// (k = 1..13, so 4 bytes to 32 KiB) with weight 1/k^2, then a uniform size
// inside it.
std::size_t weighted_size(Rng &rng) {
    for (;;) {
        const std::uint64_t k = 1 + rng.next() % 13;
        if (rng.next() % (k * k) == 0) {
            const std::size_t lo = std::size_t{2} << k;
            return rng.range(lo, 2 * lo - 1);
        }
    }
}

void report_with_rss_after(const char *name, double ms, std::uint64_t sum) {
    report(name, ms, sum, "rss_after_kib=" + std::to_string(rss_kib()));
}

// Every thread keeps `live` objects; a step frees a random one and puts a
// new one in its place; swap: every round, each thread hands half its
// objects to the next thread (which frees them as it goes).
int churn_common(const Options &o, const char *name, bool swap, std::size_t (*size_of)(Rng &),
                 std::size_t live, std::size_t steps_per_thread) {
    const int nt = o.threads;
    const std::size_t rounds = swap ? 20 : 1;
    const std::size_t steps = scaled(o, steps_per_thread) / rounds;
    std::vector<std::vector<Live>> tables(static_cast<std::size_t>(nt), std::vector<Live>(live));
    std::barrier sync(nt);
    auto t0 = Clock::now();
    const std::uint64_t sum = sum_threads(nt, [&](int id) {
        Rng rng(5000 + static_cast<std::uint64_t>(id));
        std::uint64_t s = 0;
        std::vector<Live> &mine = tables[static_cast<std::size_t>(id)];
        for (Live &l : mine) put(l, size_of(rng), rng.next());
        for (std::size_t r = 0; r < rounds; ++r) {
            for (std::size_t k = 0; k < steps; ++k) {
                Live &l = mine[rng.next() % live];
                s += take(l);
                put(l, size_of(rng), rng.next());
            }
            if (swap) { // the upper half moves on to the next thread's table
                sync.arrive_and_wait();
                if (id == 0) { // one thread rotates every table's upper half
                    std::vector<Live> first(tables[0].begin() + static_cast<std::ptrdiff_t>(live / 2),
                                            tables[0].end());
                    for (int t = 0; t + 1 < nt; ++t)
                        std::copy(tables[static_cast<std::size_t>(t + 1)].begin() +
                                      static_cast<std::ptrdiff_t>(live / 2),
                                  tables[static_cast<std::size_t>(t + 1)].end(),
                                  tables[static_cast<std::size_t>(t)].begin() + static_cast<std::ptrdiff_t>(live / 2));
                    std::copy(first.begin(), first.end(),
                              tables[static_cast<std::size_t>(nt - 1)].begin() +
                                  static_cast<std::ptrdiff_t>(live / 2));
                }
                sync.arrive_and_wait();
            }
        }
        sync.arrive_and_wait(); // every table final
        for (Live &l : mine) s += take(l);
        return s;
    });
    report_with_rss_after(name, ms_since(t0), sum);
    return 0;
}

} // namespace

// Random sizes, random lifetimes: 4096 live objects per thread, each step
// frees a random one and allocates a new one (2 M steps per thread).
int churn(const Options &o) { return churn_common(o, "churn", false, churn_size, 4096, 2000000); }

// The same, with every thread handing half its objects to the next one 20
// times: a share of the frees is of other threads' objects.
int churn_swap(const Options &o) { return churn_common(o, "churn-swap", true, churn_size, 4096, 2000000); }

// glibc-style multi-thread malloc benchmark: 8192 live blocks per thread of
// 4 bytes to 32 KiB weighted towards the small, random replacement.
int malloc_thread(const Options &o) {
    return churn_common(o, "malloc-thread", false, weighted_size, 8192, 1000000);
}

// Producer/consumer pairs joined by a lock-free single-producer ring: the
// producer allocates objects of 16..512 bytes and stamps them; the consumer
// checks and frees them - every object freed by another thread.
int prodcons(const Options &o) {
    constexpr std::size_t kRing = 1024;
    const int pairs = o.threads >= 2 ? o.threads / 2 : 1;
    const std::size_t items = scaled(o, 4000000) / static_cast<std::size_t>(pairs);
    struct alignas(64) Ring {
        Live slot[kRing];
        alignas(64) std::atomic<std::size_t> head{0}; // written by the producer
        alignas(64) std::atomic<std::size_t> tail{0}; // written by the consumer
    };
    std::vector<Ring> rings(static_cast<std::size_t>(pairs));
    auto t0 = Clock::now();
    const std::uint64_t sum = sum_threads(2 * pairs, [&](int id) -> std::uint64_t {
        Ring &ring = rings[static_cast<std::size_t>(id / 2)];
        if (id % 2 == 0) { // producer
            Rng rng(6000 + static_cast<std::uint64_t>(id));
            for (std::size_t i = 0; i < items; ++i) {
                const std::size_t h = ring.head.load(std::memory_order_relaxed);
                while (h - ring.tail.load(std::memory_order_acquire) == kRing) std::this_thread::yield();
                put(ring.slot[h % kRing], rng.range(16, 512), rng.next());
                ring.head.store(h + 1, std::memory_order_release);
            }
            return 0;
        }
        std::uint64_t s = 0; // consumer
        for (std::size_t i = 0; i < items; ++i) {
            const std::size_t t = ring.tail.load(std::memory_order_relaxed);
            while (ring.head.load(std::memory_order_acquire) == t) std::this_thread::yield();
            s += take(ring.slot[t % kRing]);
            ring.tail.store(t + 1, std::memory_order_release);
        }
        return s;
    });
    report_with_rss_after("prodcons", ms_since(t0), sum);
    return 0;
}

// Mixed sizes with realloc: 2048 slots per thread; a step frees, allocates
// or reallocates (grow or shrink, 8 bytes to 64 KiB) a random slot, and the
// stamp travels with the block.
int mixed_realloc(const Options &o) {
    constexpr std::size_t kSlots = 2048;
    const std::size_t steps = scaled(o, 1500000);
    auto t0 = Clock::now();
    const std::uint64_t sum = sum_threads(o.threads, [&](int id) {
        Rng rng(7000 + static_cast<std::uint64_t>(id));
        std::vector<Live> slots(kSlots);
        std::uint64_t s = 0;
        for (std::size_t k = 0; k < steps; ++k) {
            Live &l = slots[rng.next() % kSlots];
            const std::uint64_t r = rng.next() % 10;
            const std::size_t size = r < 8 ? rng.range(8, 1024) : rng.range(1025, 65536);
            if (!l.p) {
                put(l, size, rng.next());
            } else if (r < 4) {
                s += take(l);
            } else { // realloc keeps the first bytes: restamp the last one
                std::uint64_t v = 0; // sizes here are 8 bytes at least: the stamp survives
                std::memcpy(&v, l.p, sizeof v);
                l.p = std::realloc(l.p, size);
                l.size = static_cast<std::uint32_t>(size);
                static_cast<unsigned char *>(l.p)[size - 1] = static_cast<unsigned char>(v);
                s += v & 0xff;
            }
        }
        for (Live &l : slots)
            if (l.p) s += take(l);
        return s;
    });
    report_with_rss_after("mixed-realloc", ms_since(t0), sum);
    return 0;
}

// Memory that must come back: every thread allocates 2 M objects of 16 to
// 1716 bytes (3.4 GB for two threads), then frees the next thread's; the
// threads exit and the resident size is read (rss_after_kib) - what the
// allocator keeps once a large cross-thread working set is gone.
int cross_free(const Options &o) {
    const std::size_t n = scaled(o, 2000000);
    const int nt = o.threads;
    std::vector<std::vector<Live>> objs(static_cast<std::size_t>(nt), std::vector<Live>(n));
    std::barrier sync(nt);
    auto t0 = Clock::now();
    const std::uint64_t sum = sum_threads(nt, [&](int id) {
        Rng rng(9000 + static_cast<std::uint64_t>(id));
        for (Live &l : objs[static_cast<std::size_t>(id)]) put(l, rng.range(16, 1716), rng.next());
        sync.arrive_and_wait();
        std::uint64_t s = 0;
        for (Live &l : objs[static_cast<std::size_t>((id + 1) % nt)]) s += take(l);
        return s;
    });
    const double ms = ms_since(t0);
    objs.clear();
    objs.shrink_to_fit(); // the workload's own tables: what remains is the allocator's
    report_with_rss_after("cross-free", ms, sum);
    return 0;
}

// Aligned requests: 2048 slots per thread; a step replaces a random slot with
// an aligned_alloc of 16..4096 bytes at 16 to 4096-byte alignment (most at
// 32 and 64, as SIMD code asks), or grows it with realloc. Blocks that come
// back misaligned are counted (misaligned=N; Debian's mimalloc 2.0.9 returns
// some 256-byte requests 128-aligned), not fatal.
int aligned(const Options &o) {
    constexpr std::size_t kSlots = 2048;
    static const std::size_t kAligns[] = {16, 32, 32, 64, 64, 64, 128, 256, 4096};
    const std::size_t steps = scaled(o, 2000000);
    std::atomic<std::uint64_t> misaligned{0};
    auto t0 = Clock::now();
    const std::uint64_t sum = sum_threads(o.threads, [&](int id) {
        Rng rng(8000 + static_cast<std::uint64_t>(id));
        std::vector<Live> slots(kSlots);
        std::uint64_t s = 0;
        for (std::size_t k = 0; k < steps; ++k) {
            Live &l = slots[rng.next() % kSlots];
            const std::size_t align = kAligns[rng.next() % (sizeof kAligns / sizeof kAligns[0])];
            const std::size_t size = rng.range(16, 4096);
            if (l.p && rng.next() % 8 == 0) { // realloc: the stamp's bytes travel along
                l.p = std::realloc(l.p, l.size + size);
                l.size += static_cast<std::uint32_t>(size);
                static_cast<unsigned char *>(l.p)[l.size - 1] = static_cast<unsigned char>(l.stamp);
                continue;
            }
            if (l.p) s += take(l);
            put(l, size, rng.next(), align);
            if (reinterpret_cast<std::uintptr_t>(l.p) & (align - 1)) misaligned.fetch_add(1, std::memory_order_relaxed);
        }
        for (Live &l : slots)
            if (l.p) s += take(l);
        return s;
    });
    report("aligned", ms_since(t0), sum,
           "misaligned=" + std::to_string(misaligned.load()) + " rss_after_kib=" + std::to_string(rss_kib()));
    return 0;
}

} // namespace workload
