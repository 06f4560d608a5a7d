// SPDX-License-Identifier: MIT
// Multi-threaded workloads: larson, xmalloc, cache-scratch.
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "workload.h"

namespace workload {

namespace {

// Stamp an object: a 64-bit value at the front, its low byte at the end.
inline void stamp(void *p, std::size_t size, std::uint64_t v) {
    std::memcpy(p, &v, sizeof v);
    static_cast<unsigned char *>(p)[size - 1] = static_cast<unsigned char>(v);
}
inline std::uint64_t unstamp(const void *p, std::size_t size) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v + static_cast<const unsigned char *>(p)[size - 1];
}

} // namespace

// Larson-style server. Each of T tables holds kSlots objects; in round r
// thread i works on table (i + r) % T, so every round each table moves to
// another thread, which frees the objects the previous one allocated. A step
// frees a random slot and puts a new object of 16..1000 bytes there. The
// table carries its own random stream and checksum, so the work done on it
// does not depend on which thread does it.
int larson(const Options &o) {
    constexpr std::size_t kSlots = 4000;
    const std::size_t rounds = 40;
    const std::size_t steps = scaled(o, 80000);
    const int nt = o.threads;
    struct Table {
        std::vector<void *> ptr;
        std::vector<std::uint32_t> size;
        Rng rng{0};
        std::uint64_t sum = 0;
    };
    std::vector<Table> tables(static_cast<std::size_t>(nt));
    for (int i = 0; i < nt; ++i) {
        Table &t = tables[static_cast<std::size_t>(i)];
        t.rng = Rng(1000 + static_cast<std::uint64_t>(i));
        t.ptr.resize(kSlots);
        t.size.resize(kSlots);
    }
    // Filled by their first owner, as part of the timed work.
    auto t0 = Clock::now();
    std::barrier sync(nt);
    run_threads(nt, [&](int id) {
        Table &first = tables[static_cast<std::size_t>(id)];
        for (std::size_t s = 0; s < kSlots; ++s) {
            std::size_t sz = first.rng.range(16, 1000);
            first.ptr[s] = std::malloc(sz);
            first.size[s] = static_cast<std::uint32_t>(sz);
            stamp(first.ptr[s], sz, first.rng.next());
        }
        sync.arrive_and_wait();
        for (std::size_t r = 0; r < rounds; ++r) {
            Table &t =
                tables[(static_cast<std::size_t>(id) + r + 1) % static_cast<std::size_t>(nt)];
            for (std::size_t k = 0; k < steps; ++k) {
                std::size_t s = t.rng.next() % kSlots;
                t.sum += unstamp(t.ptr[s], t.size[s]);
                std::free(t.ptr[s]);
                std::size_t sz = t.rng.range(16, 1000);
                t.ptr[s] = std::malloc(sz);
                t.size[s] = static_cast<std::uint32_t>(sz);
                stamp(t.ptr[s], sz, t.rng.next());
            }
            sync.arrive_and_wait();
        }
        Table &last =
            tables[(static_cast<std::size_t>(id) + rounds + 1) % static_cast<std::size_t>(nt)];
        for (std::size_t s = 0; s < kSlots; ++s) {
            last.sum += unstamp(last.ptr[s], last.size[s]);
            std::free(last.ptr[s]);
        }
    });
    double ms = ms_since(t0);
    std::uint64_t sum = 0;
    for (auto &t : tables)
        sum += t.sum;
    report("larson", ms, sum);
    return 0;
}

// xmalloc-style: producers allocate objects of 8..512 bytes in batches of
// 256 and pass the batches through a bounded, mutex-protected queue to
// consumers, which free them: every object is freed by another thread.
int xmalloc(const Options &o) {
    constexpr std::size_t kBatch = 256;
    constexpr std::size_t kQueueMax = 64;
    const int producers = o.threads >= 2 ? o.threads / 2 : 1;
    const int consumers = o.threads >= 2 ? o.threads - producers : 1;
    const std::size_t batches = scaled(o, 16000) / static_cast<std::size_t>(producers);
    struct Batch {
        void *ptr[kBatch];
        std::uint32_t size[kBatch];
    };
    std::mutex m;
    std::condition_variable not_empty, not_full;
    std::deque<Batch *> queue;
    int producing = producers;
    std::atomic<std::uint64_t> total{0};

    auto t0 = Clock::now();
    run_threads(producers + consumers, [&](int id) {
        if (id < producers) {
            Rng rng(2000 + static_cast<std::uint64_t>(id));
            for (std::size_t b = 0; b < batches; ++b) {
                auto *batch = static_cast<Batch *>(std::malloc(sizeof(Batch)));
                for (std::size_t k = 0; k < kBatch; ++k) {
                    std::size_t sz = rng.range(8, 512);
                    batch->ptr[k] = std::malloc(sz);
                    batch->size[k] = static_cast<std::uint32_t>(sz);
                    stamp(batch->ptr[k], sz, rng.next());
                }
                std::unique_lock lock(m);
                not_full.wait(lock, [&] { return queue.size() < kQueueMax; });
                queue.push_back(batch);
                lock.unlock();
                not_empty.notify_one();
            }
            std::lock_guard lock(m);
            if (--producing == 0) not_empty.notify_all();
        } else {
            std::uint64_t sum = 0;
            for (;;) {
                std::unique_lock lock(m);
                not_empty.wait(lock, [&] { return !queue.empty() || producing == 0; });
                if (queue.empty()) break;
                Batch *batch = queue.front();
                queue.pop_front();
                lock.unlock();
                not_full.notify_one();
                for (std::size_t k = 0; k < kBatch; ++k) {
                    sum += unstamp(batch->ptr[k], batch->size[k]);
                    std::free(batch->ptr[k]);
                }
                std::free(batch);
            }
            total += sum;
        }
    });
    report("xmalloc", ms_since(t0), total.load());
    return 0;
}

// cache-scratch (Hoard's false-sharing test): the main thread allocates one
// small object per thread, back to back, so they likely share a cache line.
// Each thread frees its object, then repeatedly allocates an object of the
// same size, writes it many times, and frees it. An allocator that hands the
// freed object (or its neighbours) to the threads makes them write to the
// same cache line.
int cache_scratch(const Options &o) {
    constexpr std::size_t kSize = 8;
    const std::size_t iterations = scaled(o, 100000);
    constexpr std::size_t kRepetitions = 400;
    const int nt = o.threads;
    std::vector<void *> initial(static_cast<std::size_t>(nt));
    for (auto &p : initial) {
        p = std::malloc(kSize);
        std::memset(p, 0, kSize);
    }
    std::atomic<std::uint64_t> total{0};
    auto t0 = Clock::now();
    run_threads(nt, [&](int id) {
        std::free(initial[static_cast<std::size_t>(id)]);
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < iterations; ++i) {
            auto *p = static_cast<volatile unsigned char *>(std::malloc(kSize));
            for (std::size_t k = 0; k < kSize; ++k)
                p[k] = static_cast<unsigned char>(id + k);
            for (std::size_t r = 0; r < kRepetitions; ++r)
                for (std::size_t k = 0; k < kSize; ++k)
                    p[k] = static_cast<unsigned char>(p[k] + 1);
            for (std::size_t k = 0; k < kSize; ++k)
                sum += p[k];
            std::free(const_cast<unsigned char *>(p));
        }
        total += sum;
    });
    report("cache-scratch", ms_since(t0), total.load());
    return 0;
}

} // namespace workload
