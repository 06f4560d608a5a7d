// kmem-pair-loop KIND N: N allocate+free pairs of one fast path, nothing
// else - for counting instructions per pair under valgrind, where timing a
// few nanoseconds on a shared VM is noise. KIND: kmalloc (kmalloc(64) +
// kfree), cache (a 256-byte kmem_cache), pages (order-0 alloc_pages +
// free_pages). The difference of two runs' instruction counts divided by
// the difference of their N is the cost of one pair (docs/performance.md):
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null build/bin/kmem-pair-loop kmalloc 100000
// The machine is one whole 1 GiB section (so kfree's readability test takes
// its one-compare path), onlined and warmed up before the loop.
#include <kmem/slab.h>

#include "platform/hosted/hosted.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

kmem::PhysAllocator g_phys;
kmem::SlabAllocator g_slab;

template <class F> void pairs(long n, F &&f) {
    for (long i = 0; i < n; ++i) f();
}

} // namespace

int main(int argc, char **argv) {
    using namespace kmem;
    if (argc != 3 || (strcmp(argv[1], "kmalloc") && strcmp(argv[1], "cache") && strcmp(argv[1], "pages"))) {
        std::fprintf(stderr, "usage: kmem-pair-loop kmalloc|cache|pages N\n");
        return 2;
    }
    const long n = std::atol(argv[2]);
    constexpr uint64_t kStart = uint64_t{1} << 30, kEnd = uint64_t{2} << 30;
    StaticMemoryMap<> map;
    if (!hosted::create_physical_memory(kEnd).ok() || !hosted::map_physical_range(kStart, kEnd).ok() ||
        !map.add(kStart, kEnd, MemType::usable, 0).ok() || !g_phys.bootstrap(map, 0, kEnd).ok() ||
        !g_slab.init(g_phys).ok()) {
        std::fprintf(stderr, "kmem-pair-loop: the machine did not boot\n");
        return 1;
    }
    Result<KmemCache *> c = g_slab.cache_create("pair-loop", 256);
    if (!c.ok()) return 1;
    auto kmalloc_pair = [] {
        void *p = g_slab.kmalloc(64);
        asm volatile("" ::"r"(p));
        (void)g_slab.kfree(p);
    };
    auto cache_pair = [&] {
        void *p = g_slab.cache_alloc(c.value());
        asm volatile("" ::"r"(p));
        (void)g_slab.cache_free(c.value(), p);
    };
    auto page_pair = [] {
        const Result<uint64_t> r = g_phys.alloc_pages(0);
        asm volatile("" ::"r"(r.value()));
        (void)g_phys.free_pages(r.value(), 0);
    };
    pairs(1000, kmalloc_pair); // warm: every path has its slab and its page list
    pairs(1000, cache_pair);
    pairs(1000, page_pair);
    if (!strcmp(argv[1], "kmalloc")) pairs(n, kmalloc_pair);
    else if (!strcmp(argv[1], "cache")) pairs(n, cache_pair);
    else pairs(n, page_pair);
    return 0;
}
