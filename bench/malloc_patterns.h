// SPDX-License-Identifier: MIT
//
// The allocation patterns kmem-bench and the peer benchmarks measure, written
// once for any allocator: an Alloc has `void *alloc(size_t)` and
// `void release(void *)`.
//
// - pair:  allocate one object and free it at once (the fast path: a CPU's
//          freelist pop and push);
// - batch: allocate kBatch objects, then free them in the same order (what
//          SLUB's "kmalloc N then kfree N" test does: walks the slow paths
//          of both sides as freelists empty and fill).
//
// Benchmark names carry the size (`/64`), so a driver can line up the same
// row from every allocator. Time is per iteration; a batch iteration is
// kBatch allocations and kBatch frees.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdlib>

namespace kmem::bench {

inline constexpr size_t kBatch = 1000;

// Sizes for every pattern: 8 ... 8192, each power of two.
inline void malloc_sizes(benchmark::internal::Benchmark *b) {
    for (long s = 8; s <= 8192; s *= 2) b->Arg(s);
}

// The C library's malloc / free, whichever allocator this process links.
struct StdMalloc {
    void *alloc(size_t n) { return std::malloc(n); }
    void release(void *p) { std::free(p); }
};

template <class Alloc> void run_pair(benchmark::State &state, Alloc &a, size_t size) {
    for (auto _ : state) {
        void *p = a.alloc(size);
        benchmark::DoNotOptimize(p);
        a.release(p);
    }
}

template <class Alloc> void run_batch(benchmark::State &state, Alloc &a, size_t size) {
    std::array<void *, kBatch> ptrs;
    for (auto _ : state) {
        for (void *&p : ptrs) {
            p = a.alloc(size);
            benchmark::DoNotOptimize(p);
        }
        for (void *p : ptrs) a.release(p);
        benchmark::ClobberMemory();
    }
}

} // namespace kmem::bench
