// SPDX-License-Identifier: MIT
//
// The malloc patterns of malloc_patterns.h against whatever malloc this
// process links: one executable per peer allocator (glibc, jemalloc,
// mimalloc, tcmalloc - see bench/CMakeLists.txt), because each of them
// replaces malloc for the whole process and two cannot share one. Before
// measuring, the program checks that malloc really is the allocator it was
// built for (the shared object that defines the malloc symbol), and refuses to
// run otherwise.
#include "../malloc_patterns.h"

#include <benchmark/benchmark.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef KMEM_PEER_NAME
#error "KMEM_PEER_NAME (glibc, jemalloc, mimalloc, tcmalloc) must be defined"
#endif
#ifndef KMEM_PEER_LIBRARY
#error "KMEM_PEER_LIBRARY: a substring of the file name of the library that must define malloc"
#endif

namespace {

void BM_Malloc_Pair(benchmark::State &state) {
    kmem::bench::StdMalloc m;
    kmem::bench::run_pair(state, m, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_Malloc_Pair)->Apply(kmem::bench::malloc_sizes);

void BM_Malloc_Batch(benchmark::State &state) {
    kmem::bench::StdMalloc m;
    kmem::bench::run_batch(state, m, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_Malloc_Batch)->Apply(kmem::bench::malloc_sizes);

} // namespace

int main(int argc, char **argv) {
    Dl_info info{};
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    if (!sym || !dladdr(sym, &info) || !info.dli_fname || !std::strstr(info.dli_fname, KMEM_PEER_LIBRARY)) {
        std::fprintf(stderr, "kmem-bench-%s: malloc comes from %s, not %s\n", KMEM_PEER_NAME,
                     info.dli_fname ? info.dli_fname : "(unknown)", KMEM_PEER_LIBRARY);
        return 2;
    }
    benchmark::AddCustomContext("allocator", KMEM_PEER_NAME);
    benchmark::AddCustomContext("malloc_from", info.dli_fname);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
