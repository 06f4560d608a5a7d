// SPDX-License-Identifier: MIT
//
// DOC: libkmem-malloc.so - the malloc family on kmem (see docs/malloc.md).
//
// LD_PRELOAD=build/lib/libkmem-malloc.so PROGRAM runs PROGRAM with kmem as
// its allocator: requests up to 8 KiB come from the SlabAllocator's kmalloc
// caches, larger ones up to 4 MiB from the PhysAllocator (alloc_pages_exact),
// larger ones and alignments above 4 KiB from mmap (shim_large.cpp). Every
// block is at least 16-byte aligned (sizes are rounded up to 16). C++
// operator new/delete in every form are the shim's own (shim_new.cpp) and
// reach the same fast paths.
//
// free() trusts nothing: a pointer inside the heap goes to kfree, which
// validates it (an invalid or doubly freed one aborts, as glibc does); one in
// the large table is unmapped; any other pointer is foreign (allocated before
// the shim was loaded, or by another allocator) and goes to the next free()
// in the lookup order - glibc's - found with dlsym(RTLD_NEXT).
#include "shim.h"
#include "slab/fast_path.h"

#include <atomic>
#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KMEM_EXPORT extern "C" __attribute__((visibility("default")))

namespace kmem::shim {
namespace {

// glibc's own functions, for foreign pointers (looked up on first use).
template <class F> F next_fn(const char *name, F self) {
    F f = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
    return f == self ? nullptr : f;
}

// Looked up once (a race only repeats the lookup); no function-local statics,
// whose guards would need libstdc++.
std::atomic<void (*)(void *)> g_glibc_free{nullptr};
std::atomic<size_t (*)(void *)> g_glibc_size{nullptr};

void free_foreign(void *p) {
    count(kForeign);
    auto f = g_glibc_free.load(std::memory_order_acquire);
    if (!f) g_glibc_free.store(f = next_fn<void (*)(void *)>("free", &::free));
    if (f) f(p);
}

size_t foreign_size(void *p) {
    auto f = g_glibc_size.load(std::memory_order_acquire);
    if (!f) g_glibc_size.store(f = next_fn<size_t (*)(void *)>("malloc_usable_size", &::malloc_usable_size));
    return f ? f(p) : 0;
}

[[noreturn]] void invalid_free(const void *p, const char *why) {
    char line[200];
    const int n = snprintf(line, sizeof line, "kmem-malloc: free(%p): %s\n", p, why);
    if (n > 0) (void)!write(2, line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
    abort();
}

void *fail() {
    errno = ENOMEM;
    return nullptr;
}

// kmalloc failed with the heap at generation `seen`: grow it (unless another
// thread did meanwhile, so one exhaustion grows it once) and try again, twice.
[[gnu::noinline]] void *heap_alloc_slow(size_t size, uint64_t seen) {
    for (int tries = 0; tries < 2; ++tries) {
        if (!grow(seen)) return slab().kmalloc(size); // no address space left: what others freed
        seen = generation();
        if (void *p = slab().kmalloc(size)) return p;
    }
    return nullptr;
}

// kmem memory (slab or buddy pages), 16-byte aligned; grows the heap as needed.
inline void *heap_alloc(size_t n) {
    const size_t size = n ? (n + 15) & ~size_t{15} : 16;
    CpuScope scope;
    const uint64_t seen = generation();
    void *p = slab().kmalloc(size);
    if (!p) [[unlikely]] p = heap_alloc_slow(size, seen);
    if (!p) [[unlikely]] return fail();
    ++g_slot_stats[Plat::cpu_slot()].mallocs;
    return p;
}

// Everything malloc's fast path (below) does not serve.
[[gnu::noinline]] void *do_malloc(size_t n) {
    if (!ensure_init()) [[unlikely]] {
        void *p = arena_alloc(n);
        return p ? p : fail();
    }
    if (n > kMaxKmalloc) {
        void *p = large_alloc(n, 0);
        return p ? p : fail();
    }
    return heap_alloc(n);
}

// For alignments 32 .. 4096 (index log2(align) - 5) and each kmalloc class:
// the size to ask kmalloc for so the object comes back aligned - the
// smallest class at least as big whose objects all are (a class's objects
// are aligned to the largest power of two dividing both its stride and its
// first object's offset in the page-aligned slab, up to a page:
// SlabAllocator::kmalloc_alignment) - or 0: whole pages.
// Filled once on first use; racing fillers write the same values.
constexpr unsigned kAlignedRows = 8;
uint16_t g_aligned_size[kAlignedRows][kmem::kKmallocClasses];
std::atomic<bool> g_aligned_ready{false};

[[gnu::noinline]] void fill_aligned_sizes() {
    size_t natural[kmem::kKmallocClasses];
    for (unsigned cls = 0; cls < kmem::kKmallocClasses; ++cls)
        natural[cls] = slab().kmalloc_alignment(kmem::SlabAllocator::class_size(cls));
    for (unsigned row = 0; row < kAlignedRows; ++row)
        for (unsigned cls = 0; cls < kmem::kKmallocClasses; ++cls) {
            unsigned k = cls;
            while (k < kmem::kKmallocClasses && natural[k] < (32u << row)) ++k;
            g_aligned_size[row][cls] =
                k < kmem::kKmallocClasses ? static_cast<uint16_t>(kmem::SlabAllocator::class_size(k)) : 0;
        }
    g_aligned_ready.store(true, std::memory_order_release);
}

// align: a power of two. One allocation whatever the alignment: a kmalloc
// class whose objects are aligned, whole pages, or a mapping.
void *do_memalign(size_t align, size_t n) {
    if (align <= 16) return do_malloc(n);
    if (!ensure_init()) return fail(); // the bootstrap arena does not align
    size_t size = n ? n : 1;
    if (size > SIZE_MAX - align) return fail();
    size = (size + align - 1) & ~(align - 1);
    if (align > kPageSize || size > kMaxKmalloc) {
        void *p = large_alloc(size, align > kPageSize ? align : 0);
        return p ? p : fail();
    }
    if (size <= kmem::kKmallocMaxCacheSize) {
        if (!g_aligned_ready.load(std::memory_order_acquire)) [[unlikely]] fill_aligned_sizes();
        const unsigned row = static_cast<unsigned>(__builtin_ctzll(align)) - 5;
        const size_t k = g_aligned_size[row][kmem::SlabAllocator::size_class(size)];
        size = k ? k : kmem::kKmallocMaxCacheSize + 1; // 0: whole pages, page-aligned
    }
    void *p = heap_alloc(size);
    if (p && (reinterpret_cast<uintptr_t>(p) & (align - 1)))
        kmem::Plat::panic("malloc shim: an aligned request came back unaligned");
    return p;
}

size_t usable_size(void *p) {
    if (!p) return 0;
    if (heap_contains(p)) return slab().ksize(p);
    if (arena_contains(p)) return arena_size(p);
    if (size_t n = large_usable(p)) return n;
    return foreign_size(p);
}

bool is_pow2(size_t a) { return a && !(a & (a - 1)); }

} // namespace
} // namespace kmem::shim

using namespace kmem::shim;

// The fast paths, mimalloc's way: a small function that serves the common
// case - a thread with its own CPU slot, a size kmalloc serves, a slab
// object - and calls the full path out of line for everything else. kmalloc and kfree bring their own slow
// paths, so a miss of their per-CPU lists repeats no lookup. A thread has a
// slot only once the shim is initialised and it has registered. The fast
// paths call nothing - every other case leaves by a tail call - so malloc's
// saves no registers (free's saves four with gcc 12: the page lookup and the
// object's index need more values than the scratch registers hold).
namespace {
// malloc's rest, inside the thread's own slot: kmalloc's slow path, then
// (out of memory) the full path, which grows the heap.
[[gnu::noinline]] void *malloc_own(size_t n, size_t size, unsigned cpu) {
    void *p = slab().kmalloc_node(size, 0, kmem::kAnyNode);
    if (p) ++g_slot_stats[cpu].mallocs;
    leave_own(cpu);
    return p ? p : do_malloc(n);
}
} // namespace

void *kmem::shim::malloc_entry(size_t n) {
    const unsigned cpu = kmem::Plat::cpu_slot();
    if (cpu < kSharedCpu && n - 1 < kmem::kKmallocMaxCacheSize && enter_own(cpu)) [[likely]] {
        const size_t size = (n + 15) & ~size_t{15};
        if (void *p = kmem::fast_path::kmalloc_fast(slab(), size, cpu)) [[likely]] {
            ++g_slot_stats[cpu].mallocs;
            leave_own(cpu);
            return p;
        }
        return malloc_own(n, size, cpu);
    }
    return do_malloc(n);
}

namespace {
[[gnu::noinline]] void free_full(void *p);
[[gnu::noinline]] void free_own(void *p, unsigned cpu, kmem::SlabHeader *s, uint32_t r);
}

// The fast path calls nothing (every other case leaves by a tail call): an
// object the CPU owns goes on its list, and one
// free in kReturnCheckFrees leaves for the return check. It needs no test
// that p is in the heap, nor that it is no page block: the descriptor lookup
// reads nothing for an address outside online memory, and free_own sends
// whatever is not a slab object to free_full.
void kmem::shim::free_entry(void *p) {
    const unsigned cpu = kmem::Plat::cpu_slot();
    if (cpu < kSharedCpu && p && enter_own(cpu)) [[likely]] { // free_local takes no null
        kmem::SlabHeader *s;
        const uint32_t r = kmem::fast_path::free_local(slab(), p, cpu, s);
        if (r == 0 && !count_free(cpu)) [[likely]] {
            leave_own(cpu);
            return;
        }
        return free_own(p, cpu, s, r);
    }
    free_full(p);
}

namespace {
// The rest of a free the fast path began (inside the thread's own slot): r
// is free_local's answer; 0 - done, and counted - means this free is the
// one that checks the return policy.
void free_own(void *p, unsigned cpu, kmem::SlabHeader *s, uint32_t r) {
    if (!s) { // not a slab object: a page block (counted for the return
        leave_own(cpu); // policy) or not kmem's (bootstrap, large, foreign)
        return free_full(p);
    }
    if (r) {
        const kmem::Status st = kmem::fast_path::free_rest(slab(), p, s, r);
        if (!st.ok()) [[unlikely]] invalid_free(p, st.reason());
        note_free(cpu, 0);
    } else {
        (void)return_memory(ReturnWhen::periodic);
    }
    leave_own(cpu);
}

// Everything free's fast path does not serve.
void free_full(void *p) {
    if (!p) return;
    if (heap_contains(p)) [[likely]] {
        CpuScope scope;
        // Page blocks count towards the next check of how much free memory
        // the heap keeps (shim_return.cpp); slab objects count as frees.
        size_t page_bytes = 0;
        if (!(reinterpret_cast<uintptr_t>(p) & (kmem::kPageSize - 1))) [[unlikely]]
            if (const size_t n = slab().ksize(p); n > kmem::kKmallocMaxCacheSize) page_bytes = n;
        const kmem::Status s = slab().kfree(p);
        if (!s.ok()) [[unlikely]] invalid_free(p, s.reason());
        note_free(kmem::Plat::cpu_slot(), page_bytes);
        return;
    }
    if (arena_contains(p)) return; // bootstrap memory is never reused
    if (large_free(p)) return;
    free_foreign(p);
}
} // namespace

KMEM_EXPORT void *malloc(size_t n) noexcept { return malloc_entry(n); }
KMEM_EXPORT void free(void *p) noexcept { free_entry(p); }

void *kmem::shim::memalign_entry(size_t align, size_t n) { return do_memalign(align, n); }

KMEM_EXPORT void *calloc(size_t n, size_t size) noexcept {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) return fail();
    void *p = do_malloc(bytes);
    // mmap()ed and bootstrap memory is zero already.
    if (p && heap_contains(p)) memset(p, 0, bytes);
    return p;
}

KMEM_EXPORT void *realloc(void *p, size_t n) noexcept {
    if (!p) return do_malloc(n);
    if (n == 0) { // glibc: free and return null
        free(p);
        return nullptr;
    }
    size_t old, want = n;
    if (heap_contains(p)) {
        old = slab().ksize(p);
        if (!old) invalid_free(p, "realloc of a pointer kmem did not hand out");
        if (n <= old && (old <= 8192 || n > old / 2)) return p;
        // A page-level block that grows is given the next power of two: growth
        // by small steps copies O(n) bytes in all, not O(n^2), and the blocks
        // it leaves behind are whole buddy blocks another growing buffer can
        // take (with exact sizes they fragment the buddy and pile up). Pages
        // of the slack that were never touched cost no memory.
        if (n > old && old > kmem::kKmallocMaxCacheSize) {
            want = 2 * kmem::kKmallocMaxCacheSize;
            while (want < n && want <= SIZE_MAX / 2) want <<= 1; // no wrap to 0 past 2^63
        }
    } else if (arena_contains(p)) {
        old = arena_size(p);
    } else if ((old = large_usable(p)) != 0) {
        if (n > kMaxKmalloc) {
            void *q = large_realloc(p, n);
            return q ? q : fail();
        }
    } else {
        old = foreign_size(p);
    }
    void *q = want > n ? do_malloc(want) : nullptr;
    if (!q) q = do_malloc(n);
    if (!q) return nullptr;
    memcpy(q, p, old < n ? old : n);
    free(p);
    return q;
}

KMEM_EXPORT void *reallocarray(void *p, size_t n, size_t size) noexcept {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) return fail();
    return realloc(p, bytes);
}

KMEM_EXPORT int posix_memalign(void **out, size_t align, size_t n) noexcept {
    if (!is_pow2(align) || align % sizeof(void *)) return EINVAL;
    const int saved = errno;
    void *p = do_memalign(align, n);
    errno = saved;
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

// C17 / glibc 2.38: an alignment that is not a power of two is EINVAL.
KMEM_EXPORT void *aligned_alloc(size_t align, size_t n) noexcept {
    if (!is_pow2(align)) {
        errno = EINVAL;
        return nullptr;
    }
    return do_memalign(align, n);
}

// glibc: an alignment that is not a power of two is rounded up to one.
KMEM_EXPORT void *memalign(size_t align, size_t n) noexcept {
    if (align > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return nullptr;
    }
    size_t a = 1;
    while (a < align) a <<= 1;
    return do_memalign(a, n);
}

KMEM_EXPORT void *valloc(size_t n) noexcept { return do_memalign(kmem::kPageSize, n); }

KMEM_EXPORT void *pvalloc(size_t n) noexcept {
    if (n > SIZE_MAX - kmem::kPageSize) return fail();
    const size_t size = n ? (n + kmem::kPageSize - 1) & ~(kmem::kPageSize - 1) : kmem::kPageSize;
    return do_memalign(kmem::kPageSize, size);
}

KMEM_EXPORT size_t malloc_usable_size(void *p) noexcept { return usable_size(p); }

// glibc: give free memory back to the OS; 1 if some was. `pad` (memory to
// keep) is ignored: kmem keeps each free block's first page anyway. The
// calling thread's cached slabs and pages go back to the buddy first.
KMEM_EXPORT int malloc_trim(size_t pad) noexcept {
    (void)pad;
    if (!ensure_init()) return 0;
    CpuScope scope;
    for (const kmem::KmemCache *c = slab().first_cache(); c; c = c->next)
        slab().cache_shrink(const_cast<kmem::KmemCache *>(c));
    g_phys.drain_local_pcp();
    return return_memory(ReturnWhen::trim) ? 1 : 0;
}

KMEM_EXPORT void kmem_malloc_get_info(kmem_malloc_info *out) { read_info(*out); }

// glibc's statistics, filled from kmem's books (docs/malloc.md): arena =
// the onlined heap; uordblks = memory handed out by the buddy (slabs,
// their free objects included, and page blocks) plus mmap()ed blocks;
// fordblks = free memory in the buddy that was touched (resident unless
// given back); keepcost = the part of it given back to the OS; hblks /
// hblkhd = the mmap()ed blocks. The others are 0 (no bins, no fastbins).
KMEM_EXPORT struct mallinfo2 mallinfo2() noexcept {
    struct mallinfo2 m = {};
    kmem_malloc_info i;
    read_info(i);
    size_t count = 0, bytes = 0;
    large_totals(count, bytes);
    m.arena = i.online_bytes;
    m.hblks = count;
    m.hblkhd = bytes;
    if (ensure_init()) {
        const kmem::PhysTotals t = g_phys.totals();
        m.uordblks = t.allocated * kmem::kPageSize + bytes;
        m.fordblks = (t.free - t.lazy + t.pcp) * kmem::kPageSize;
        m.keepcost = t.reported * kmem::kPageSize;
    }
    return m;
}

// The old interface: the same figures, truncated to int as glibc does.
KMEM_EXPORT struct mallinfo mallinfo() noexcept {
    const struct mallinfo2 m = mallinfo2();
    struct mallinfo o = {};
    o.arena = static_cast<int>(m.arena);
    o.hblks = static_cast<int>(m.hblks);
    o.hblkhd = static_cast<int>(m.hblkhd);
    o.uordblks = static_cast<int>(m.uordblks);
    o.fordblks = static_cast<int>(m.fordblks);
    o.keepcost = static_cast<int>(m.keepcost);
    return o;
}

// kmem's statistics line and buddyinfo on stderr (KMEM_MALLOC_STATS's format).
KMEM_EXPORT void malloc_stats() noexcept { print_stats(2); }

// No tunable of glibc's applies to kmem: 0, "not done", for every parameter.
KMEM_EXPORT int mallopt(int param, int value) noexcept {
    (void)param;
    (void)value;
    return 0;
}

// KMEM_MALLOC_STATS=1: one line of counters on stderr at exit;
// KMEM_MALLOC_STATS=/path: the line is appended to that file instead.
__attribute__((destructor)) static void kmem_malloc_report() {
    const char *v = getenv("KMEM_MALLOC_STATS");
    if (!v || !*v || (v[0] == '0' && !v[1])) return;
    if (v[0] != '/') return print_stats(2);
    const int fd = open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    print_stats(fd);
    close(fd);
}
