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
#include <kmem/buddy.h>
#include <kmem/memmap.h>
#include <kmem/slab.h>

#include "malloc_patterns.h"
#include "platform/hosted/hosted.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace {

using namespace kmem;

constexpr uint64_t kMachineBytes = uint64_t{4} << 30;

struct SlabMachine {
    std::unique_ptr<PhysAllocator> phys;
    std::unique_ptr<SlabAllocator> slab;
    std::string error;

    SlabMachine() {
        StaticMemoryMap<8> map;
        Status s = hosted::create_physical_memory(kMachineBytes);
        if (s.ok()) s = hosted::map_physical_range(0, kMachineBytes);
        if (s.ok()) s = map.add(uint64_t{1} << 20, kMachineBytes, MemType::usable, 0);
        if (s.ok()) {
            phys = std::make_unique<PhysAllocator>();
            s = phys->bootstrap(map, 0, kMachineBytes);
        }
        if (s.ok()) {
            slab = std::make_unique<SlabAllocator>();
            s = slab->init(*phys);
        }
        if (!s.ok()) error = s.reason();
    }
    ~SlabMachine() {
        slab.reset();
        phys.reset();
        hosted::destroy_physical_memory();
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

struct Glibc {
    void *alloc(size_t n) { return std::malloc(n); }
    void release(void *p) { std::free(p); }
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
    Glibc g;
    bench::run_pair(state, g, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_Glibc_Pair)->Apply(bench::malloc_sizes);

void BM_Glibc_Batch(benchmark::State &state) {
    Glibc g;
    bench::run_batch(state, g, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_Glibc_Batch)->Apply(bench::malloc_sizes);

} // namespace
