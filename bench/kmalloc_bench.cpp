// SPDX-License-Identifier: MIT
//
// kmalloc / kfree and kmem_cache_alloc / free, next to glibc malloc / free in
// the same process, with the patterns of malloc_patterns.h. The other peers
// (jemalloc, mimalloc, tcmalloc) replace malloc for a whole process, so they
// run the same patterns in their own executables (bench/peers/) and
// bench/compare-malloc puts every figure in one table.
//
// kmem runs on a simulated 4 GiB machine (node 0, all mapped) booted once per
// benchmark run, set-up outside the timed loop; slab runs with its default
// options (randomized freelists on, no debug), as a kernel would.
#include <kmem/slab.h>

#include "malloc_patterns.h"
#include "sim_machine.h"

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

namespace {

using namespace kmem;

constexpr uint64_t kMachineBytes = uint64_t{4} << 30;

// The machine with slab and kmalloc up on it (slab's default options).
struct SlabMachine {
    bench::SimMachine machine{kMachineBytes};
    std::unique_ptr<SlabAllocator> slab; // destroyed before the machine
    std::string error = machine.error;

    SlabMachine() {
        if (!machine.ok()) return;
        slab = std::make_unique<SlabAllocator>();
        if (Status s = slab->init(*machine.phys); !s.ok()) error = std::string("slab init: ") + s.reason();
    }
};

struct Kmalloc {
    SlabAllocator &sa;
    void *alloc(size_t n) { return sa.kmalloc(n); }
    void release(void *p) { (void)sa.kfree(p); }
};

struct CacheAlloc {
    SlabAllocator &sa;
    KmemCache *c;
    void *alloc(size_t) { return sa.cache_alloc(c); }
    void release(void *p) { (void)sa.cache_free(c, p); }
};

template <class Body> void with_machine(benchmark::State &state, Body body) {
    SlabMachine m;
    if (!m.error.empty()) {
        state.SkipWithError(m.error.c_str());
        return;
    }
    body(*m.slab);
    if (Status s = m.slab->check(); !s.ok()) state.SkipWithError(s.reason());
}

void BM_Kmalloc_Pair(benchmark::State &state) {
    with_machine(state, [&](SlabAllocator &sa) {
        Kmalloc k{sa};
        bench::run_pair(state, k, static_cast<size_t>(state.range(0)));
    });
}
BENCHMARK(BM_Kmalloc_Pair)->Apply(bench::malloc_sizes);

void BM_Kmalloc_Batch(benchmark::State &state) {
    with_machine(state, [&](SlabAllocator &sa) {
        Kmalloc k{sa};
        bench::run_batch(state, k, static_cast<size_t>(state.range(0)));
    });
}
BENCHMARK(BM_Kmalloc_Batch)->Apply(bench::malloc_sizes);

// The SLUB fast-path test: kmem_cache_alloc / free of a 256-byte object,
// with the pair and the batch pattern.
template <class Pattern> void with_cache_256(benchmark::State &state, Pattern pattern) {
    with_machine(state, [&](SlabAllocator &sa) {
        Result<KmemCache *> c = sa.cache_create("bench-256", 256);
        if (!c.ok()) {
            state.SkipWithError(c.error().reason);
            return;
        }
        CacheAlloc a{sa, c.value()};
        pattern(a);
        sa.flush_all_cpus();
        if (Status s = sa.cache_destroy(c.value()); !s.ok()) state.SkipWithError(s.reason());
    });
}

void BM_KmemCache_Pair(benchmark::State &state) {
    with_cache_256(state, [&](CacheAlloc &a) { bench::run_pair(state, a, 256); });
}
BENCHMARK(BM_KmemCache_Pair)->Arg(256);

void BM_KmemCache_Batch(benchmark::State &state) {
    with_cache_256(state, [&](CacheAlloc &a) { bench::run_batch(state, a, 256); });
}
BENCHMARK(BM_KmemCache_Batch)->Arg(256);

void BM_Glibc_Pair(benchmark::State &state) {
    bench::StdMalloc g;
    bench::run_pair(state, g, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_Glibc_Pair)->Apply(bench::malloc_sizes);

void BM_Glibc_Batch(benchmark::State &state) {
    bench::StdMalloc g;
    bench::run_batch(state, g, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_Glibc_Batch)->Apply(bench::malloc_sizes);

} // namespace
