// SPDX-License-Identifier: MIT
// Pattern workloads: size-sweep, realloc-growth, fragmentation.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "workload.h"

namespace workload {

// Size-class sweep: every thread, for every size 8..8192 in steps of 8,
// allocates a batch of 32 objects, writes their first and last byte, and
// frees them, oldest first.
int size_sweep(const Options &o) {
    constexpr std::size_t kBatch = 32;
    const std::size_t rounds = scaled(o, 20);
    auto t0 = Clock::now();
    std::uint64_t sum = sum_threads(o.threads, [&](int id) {
        std::uint64_t s = 0;
        void *batch[kBatch];
        for (std::size_t r = 0; r < rounds; ++r) {
            for (std::size_t size = 8; size <= 8192; size += 8) {
                for (std::size_t k = 0; k < kBatch; ++k) {
                    auto *p = static_cast<unsigned char *>(std::malloc(size));
                    p[0] = static_cast<unsigned char>(k + static_cast<std::size_t>(id));
                    p[size - 1] = static_cast<unsigned char>(size);
                    batch[k] = p;
                }
                for (std::size_t k = 0; k < kBatch; ++k) {
                    auto *p = static_cast<unsigned char *>(batch[k]);
                    s += p[0] + p[size - 1];
                    std::free(p);
                }
            }
        }
        return s;
    });
    report("size-sweep", ms_since(t0), sum);
    return 0;
}

// Realloc growth: every thread grows 16 buffers, in turn, by random steps of
// 64..2048 bytes (writing the new bytes) until each is 1 MiB, then frees them.
int realloc_growth(const Options &o) {
    constexpr std::size_t kBuffers = 16;
    constexpr std::size_t kTarget = 1 << 20;
    const std::size_t reps = scaled(o, 10);
    auto t0 = Clock::now();
    std::uint64_t sum = sum_threads(o.threads, [&](int id) {
        Rng rng(3000 + static_cast<std::uint64_t>(id));
        std::uint64_t s = 0;
        for (std::size_t r = 0; r < reps; ++r) {
            unsigned char *buf[kBuffers] = {};
            std::size_t len[kBuffers] = {};
            for (bool growing = true; growing;) {
                growing = false;
                for (std::size_t b = 0; b < kBuffers; ++b) {
                    if (len[b] >= kTarget) continue;
                    growing = true;
                    std::size_t n = len[b] + rng.range(64, 2048);
                    auto *p = static_cast<unsigned char *>(std::realloc(buf[b], n));
                    if (!p) std::abort();
                    if (len[b]) s += p[0] + p[len[b] - 1]; // the old contents moved with it
                    std::memset(p + len[b], static_cast<int>(n & 0xff), n - len[b]);
                    buf[b] = p;
                    len[b] = n;
                }
            }
            for (std::size_t b = 0; b < kBuffers; ++b) {
                s += len[b] + buf[b][len[b] / 2];
                std::free(buf[b]);
            }
        }
        return s;
    });
    report("realloc-growth", ms_since(t0), sum);
    return 0;
}

// Fragmentation: phase 1 allocates many small objects (16..128 bytes) and
// frees 90 % of them at random; phase 2 allocates larger objects
// (512..4096 bytes) until as many bytes are live as before the frees. The
// resident set size after phase 2 shows whether the memory freed in phase 1
// could be reused for the larger sizes; it is printed as rss_after_kib
// (rss_phase1_kib: after phase 1's allocations).
int fragmentation(const Options &o) {
    const std::size_t n_small = scaled(o, 1500000);
    Rng rng(4000);
    std::vector<void *> small(n_small);
    std::vector<std::uint32_t> small_size(n_small);
    std::vector<void *> large;
    std::vector<std::uint32_t> large_size;
    std::uint64_t s = 0;
    auto t0 = Clock::now();
    std::size_t live_bytes = 0;
    for (std::size_t i = 0; i < n_small; ++i) {
        std::size_t sz = rng.range(16, 128);
        small[i] = std::malloc(sz);
        std::memset(small[i], static_cast<int>(i & 0xff), sz);
        small_size[i] = static_cast<std::uint32_t>(sz);
        live_bytes += sz;
    }
    std::size_t rss1 = rss_kib();
    std::size_t freed = 0;
    for (std::size_t i = 0; i < n_small; ++i) {
        if (rng.next() % 10 == 0) continue; // keep 10 %
        s += static_cast<unsigned char *>(small[i])[small_size[i] - 1];
        freed += small_size[i];
        std::free(small[i]);
        small[i] = nullptr;
    }
    for (std::size_t got = 0; got < freed;) {
        std::size_t sz = rng.range(512, 4096);
        auto *p = static_cast<unsigned char *>(std::malloc(sz));
        std::memset(p, static_cast<int>(sz & 0xff), sz);
        large.push_back(p);
        large_size.push_back(static_cast<std::uint32_t>(sz));
        got += sz;
    }
    std::size_t rss2 = rss_kib();
    for (std::size_t i = 0; i < large.size(); ++i) {
        s += static_cast<unsigned char *>(large[i])[large_size[i] - 1];
        std::free(large[i]);
    }
    for (std::size_t i = 0; i < n_small; ++i) {
        if (!small[i]) continue;
        s += static_cast<unsigned char *>(small[i])[0];
        std::free(small[i]);
    }
    double ms = ms_since(t0);
    s += live_bytes + large.size();
    report("fragmentation", ms, s,
           "rss_phase1_kib=" + std::to_string(rss1) + " rss_after_kib=" + std::to_string(rss2));
    return 0;
}

} // namespace workload
