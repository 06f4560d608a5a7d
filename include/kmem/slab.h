// SPDX-License-Identifier: MIT
//
// DOC: the slab allocator and kmalloc - usable the moment the buddy is.
//
// A SlabAllocator sits on a PhysAllocator. Its cache of caches and all
// kmalloc caches live inside the SlabAllocator object itself (static storage
// in a kernel), so init() allocates nothing and kmalloc works from the first
// instant the buddy has memory - in the EarlyWindow phase, before the direct
// map exists.
//
// Caches hand out fixed-size objects from slabs: buddy blocks whose first
// bytes hold a SlabHeader (the page descriptor only points to it, so
// descriptors stay at 16 bytes). Each CPU has an active slab per cache with a
// private freelist, and a list of partial slabs it owns, each with a local
// freelist: the fast paths (cache_alloc, kmalloc, kfree of an object of a slab
// the CPU owns) take no lock and no atomic operation - one branch, slow path
// out of line, as in mimalloc and SLUB. Frees into other slabs, including
// frees from another CPU, push onto the slab's own freelist by
// compare-and-swap; a full slab that gets one goes back to the CPU that
// filled it (docs/slab.md).
//
// kmalloc size classes are four per power of two (8, 16, ..., 64, 80, 96,
// 112, 128, 160, ..., 8192), tighter than SLUB's powers of two; larger
// requests take exactly the pages they need from the buddy.
//
// Hardening, always on: freelist pointers are stored XOR-ed with a per-cache
// secret and their own address; a fast-path double-free check (the object is
// the freelist head); kfree of a pointer into the middle of an object, into
// another cache or into memory the slab never handed out is refused. Options
// (SlabOptions, per-cache flags): randomized freelist order, poisoning of
// free objects, red zones, init-on-alloc, init-on-free. See docs/slab.md.
//
// Calling contexts (docs/porting.md): every call may be made in process
// context, with or without interrupts disabled. In a hard interrupt handler
// (never an NMI): kmalloc, kzalloc, kcalloc, krealloc, kmalloc_node and
// cache_alloc with kAllocAtomic; kfree, ksize, cache_free, last_error and
// totals. cache_create, cache_destroy, check and check_cache fail there with
// Errc::wrong_context; cache_shrink, shrink_all, flush_cpu, flush_all_cpus
// and fail_nth_allocation do nothing. A CPU's per-CPU state is changed only
// with its interrupts off and every lock is taken with them off, so a
// handler never finds either half-changed. Debug builds (KMEM_DEBUG) panic
// on an allocation in a handler without kAllocAtomic; other builds serve it
// as atomic.
#pragma once

#include <kmem/buddy.h>
#include <kmem/report.h>
#include <kmem/result.h>
#include <kmem/spinlock.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem {

inline constexpr size_t kKmallocMaxCacheSize = 8192; // larger requests go to the buddy
inline constexpr unsigned kKmallocClasses = 36;
inline constexpr size_t kCacheNameMax = 32;
inline constexpr unsigned kSlabMaxOrder = 4;
inline constexpr size_t kHwCacheLine = 64;
// kmalloc(0) returns this: not null, never dereferenceable, accepted by kfree.
inline void *const kZeroSizePtr = reinterpret_cast<void *>(16);

enum CacheFlag : uint32_t {
    kCacheHwAlign = 1u << 0,  // objects aligned to the hardware cache line
    kCachePoison = 1u << 1,   // poison free objects; checked on alloc and by check()
    kCacheRedZone = 1u << 2,  // guard bytes around each object; checked on free and check()
    kCacheDma = 1u << 3,      // slabs from ZONE_DMA
    kCacheDma32 = 1u << 4,    // slabs from ZONE_DMA32
};
inline constexpr uint32_t kCacheKnownFlags = (1u << 5) - 1;
inline constexpr uint32_t kCacheDebugFlags = kCachePoison | kCacheRedZone;

struct SlabOptions {
    bool random_freelist = true; // new slabs hand objects out in a shuffled order
    bool init_on_alloc = false;  // zero every object (and page-level kmalloc block) when it is allocated
    bool init_on_free = false;   // zero every object (and page-level kmalloc block) when it is freed
    bool debug_all = false;      // poison + red zones on every cache (kmalloc included)
    // Empty slabs each CPU may keep per cache on its partial list, in bytes
    // (at least 4 slabs): more means fewer trips to the node and the buddy
    // for batches of frees, and more free memory parked on CPUs. The free
    // objects a CPU's partial list holds are bounded by the same number of
    // slabs' worth (SLUB's cpu_partial): past it its oldest slabs, in use or
    // not, go to the node, where every CPU allocates from them.
    uint32_t cpu_partial_bytes = 128 * 1024;
    // Objects a slab should hold at least (SLUB's min_objects): bigger slabs
    // for small objects, so that a CPU changes slabs less often. The order
    // stays at most kSlabMaxOrder.
    uint32_t min_slab_objects = 0;
};

struct SlabHeader;

// A CPU's view of one cache: its active slab and private freelist, and the
// partial slabs it holds in reserve (SLUB's per-CPU partial list), a queue:
// slabs join at the tail and become active from the head, so a slab that
// just got its first free back waits while more frees reach it (mimalloc's
// page queue) - unless the newest is at least half free (a batch of frees
// emptied it; its memory is the one in the cache). One cache line per CPU,
// so CPUs never write to each other's lines.
struct alignas(64) CacheCpu {
    void *freelist;                 // offset 0: next free object of `slab` (encoded links), or null
    SlabHeader *slab;               // offset 8: the active slab, or null
    SlabHeader *partial;            // offset 16: frozen slabs with free objects this CPU owns (linked by next)
    SlabHeader *partial_tail;       // offset 24: the last of them (null with partial)
    uint32_t nr_partial;            // offset 32: slabs on `partial`
    uint32_t trim_at;               // offset 36: nr_partial that makes the CPU give back its extra empty slabs
    uint64_t alloc_slow, free_slow; // offset 40: slow-path counts (the fast paths count nothing)
    uint64_t secret;                // offset 56: the cache's, copied when a slab becomes active: the
                                    // allocation fast path reads no line but this one
};
static_assert(offsetof(CacheCpu, freelist) == 0 && offsetof(CacheCpu, slab) == 8);
static_assert(offsetof(CacheCpu, partial) == 16 && offsetof(CacheCpu, partial_tail) == 24);
static_assert(offsetof(CacheCpu, nr_partial) == 32 && offsetof(CacheCpu, trim_at) == 36);
static_assert(offsetof(CacheCpu, alloc_slow) == 40 && offsetof(CacheCpu, free_slow) == 48);
static_assert(offsetof(CacheCpu, secret) == 56);
static_assert(sizeof(CacheCpu) == 64);

// One node's slabs of one cache. A slab with every object in use is on no
// list (as in SLUB): the first free to it hands it to the freeing CPU's
// partial list without a lock. Debug caches, which take every object under
// the lock, keep their full slabs on `full`.
struct CacheNode {
    platform::SpinLock lock;                // offset 0
    SlabHeader *partial KMEM_GUARDED_BY(lock); // offset 8: slabs with free objects, owned by no CPU
    SlabHeader *full KMEM_GUARDED_BY(lock); // offset 16: debug caches: slabs with none
    uint32_t nr_partial KMEM_GUARDED_BY(lock); // offset 24
    uint32_t nr_empty KMEM_GUARDED_BY(lock); // offset 28: partial slabs with no object in use
    uint64_t nr_slabs;                      // offset 32: all slabs of this node, the CPUs' included (changed atomically)
};
static_assert(offsetof(CacheNode, lock) == 0 && offsetof(CacheNode, partial) == 8 && offsetof(CacheNode, full) == 16);
static_assert(offsetof(CacheNode, nr_partial) == 24 && offsetof(CacheNode, nr_empty) == 28);
static_assert(offsetof(CacheNode, nr_slabs) == 32);

struct KmemCache {
    char name[kCacheNameMax];   // offset 0
    uint32_t object_size;       // offset 32: what ksize() reports: the usable bytes
    uint32_t stride;            // offset 36: distance between objects (red zones included)
    uint32_t payload;           // offset 40: offset of the object inside its stride (after the left red zone)
    uint32_t align;             // offset 44
    uint32_t first;             // offset 48: offset of the first stride from the slab start
    uint32_t objects;           // offset 52: objects per slab
    uint32_t reciprocal;        // offset 56: ceil(2^32 / stride), to turn an offset into an index
    uint32_t flags;             // offset 60: CacheFlag
    uint32_t object0;           // offset 64: first + payload: offset of object 0 from the slab start
    uint16_t cpu_partial;       // offset 68: empty slabs a CPU's partial list keeps; x objects: its free-object bound
    uint16_t min_partial;       // offset 70: empty slabs a node keeps rather than give back to the buddy
    uint8_t order;              // offset 72: slab size: 2^order pages
    bool dynamic;               // offset 73: created by cache_create (not static storage)
    bool fast;                  // offset 74: per-CPU freelists in use (no debug flags)
    bool plain;                 // offset 75: fast, no constructor, no init_on_alloc/free: the inline paths apply
    uint64_t secret;            // offset 80: freelist pointer encoding
    void (*ctor)(void *);       // offset 88
    KmemCache *next;            // offset 96: all caches
    uint64_t rng;               // offset 104: freelist shuffling state
    // Slab colouring: a slab's header sits in one of `colors` 64-byte slots
    // the objects leave free - those before the first object, then those
    // from color_tail to the slab's end - chosen by the slab's place in
    // memory, so the headers of a cache's slabs (whose starts share their
    // low 16 address bits) do not all compete for the same cache sets.
    uint32_t color_tail;        // offset 112
    uint16_t colors;            // offset 116: 1: the header is always at offset 0 (debug caches)
    CacheCpu cpu[kMaxCpus + 1]; // offset 128: [kMaxCpus]: always empty, for callers with no CPU id yet
    // Per CPU: full slabs it filled that then got a free from another CPU,
    // frozen for it - pushed by the freeing CPUs (compare-and-swap), taken
    // all at once by the CPU. Apart from `cpu`, whose lines the fast paths
    // own.
    alignas(64) SlabHeader *adopted[kMaxCpus]; // offset 4288
    CacheNode node[kMaxNodes];  // offset 4800
};
// Offsets after the arrays sized by the configuration (kmem/config.h)
// are those of the default one; the assertions hold for any.
static_assert(offsetof(KmemCache, name) == 0 && offsetof(KmemCache, object_size) == 32);
static_assert(offsetof(KmemCache, stride) == 36 && offsetof(KmemCache, payload) == 40);
static_assert(offsetof(KmemCache, align) == 44 && offsetof(KmemCache, first) == 48);
static_assert(offsetof(KmemCache, objects) == 52 && offsetof(KmemCache, reciprocal) == 56);
static_assert(offsetof(KmemCache, flags) == 60 && offsetof(KmemCache, object0) == 64);
static_assert(offsetof(KmemCache, cpu_partial) == 68 && offsetof(KmemCache, min_partial) == 70);
static_assert(offsetof(KmemCache, order) == 72 && offsetof(KmemCache, dynamic) == 73);
static_assert(offsetof(KmemCache, fast) == 74 && offsetof(KmemCache, plain) == 75);
static_assert(offsetof(KmemCache, secret) == 80 && offsetof(KmemCache, ctor) == 88);
static_assert(offsetof(KmemCache, next) == 96 && offsetof(KmemCache, rng) == 104);
static_assert(offsetof(KmemCache, color_tail) == 112 && offsetof(KmemCache, colors) == 116);
static_assert(offsetof(KmemCache, cpu) == 128);
static_assert(offsetof(KmemCache, adopted) % 64 == 0);
static_assert(offsetof(KmemCache, node) == offsetof(KmemCache, adopted) + sizeof(SlabHeader *) * kMaxCpus);

struct SlabTotals {
    uint64_t caches, slabs, slab_pages, objects, active_objects;
    uint64_t large_allocations, large_pages;
};

class SlabAllocator {
public:
    // All zero until init() (options, caches and error records included), so
    // a static SlabAllocator is zero-initialised and lives in .bss.
    constexpr SlabAllocator() = default;
    SlabAllocator(const SlabAllocator &) = delete;
    SlabAllocator &operator=(const SlabAllocator &) = delete;

    // Bring slab up on a buddy that has memory: sets up the static caches
    // (cache of caches, kmalloc); allocates nothing.
    Status init(PhysAllocator &phys, const SlabOptions &opts = {}, uint64_t seed = 0);
    bool ready() const { return phys_ != nullptr; }
    PhysAllocator &phys() const { return *phys_; }

    // ---- object caches
    Result<KmemCache *> cache_create(const char *name, size_t size, size_t align = 0,
                                     uint32_t flags = 0, void (*ctor)(void *) = nullptr);
    // Fails (Errc::busy) while objects are allocated; the cache stays usable then.
    Status cache_destroy(KmemCache *c);
    // Give empty slabs back to the buddy (this CPU's active slab too); returns pages freed.
    uint64_t cache_shrink(KmemCache *c);
    void *cache_alloc(KmemCache *c, uint32_t flags = 0, uint16_t node = kAnyNode);
    Status cache_free(KmemCache *c, void *obj);

    // ---- kmalloc family (flags: kAllocZero, kAllocZoneDma, kAllocZoneDma32)
    void *kmalloc(size_t size, uint32_t flags = 0);
    [[gnu::noinline]] void *kmalloc_node(size_t size, uint32_t flags, uint16_t node);
    void *kzalloc(size_t size, uint32_t flags = 0) { return kmalloc(size, flags | kAllocZero); }
    void *kcalloc(size_t n, size_t size, uint32_t flags = 0);
    void *krealloc(void *p, size_t new_size, uint32_t flags = 0);
    Status kfree(const void *p);
    // Usable size of an allocation (0 for null and kZeroSizePtr; 0 if not ours).
    size_t ksize(const void *p) const;
    // Why the last failed allocation on this CPU failed.
    Error last_error() const;

    // ---- books
    Status check() const;        // every cache, every slab, every freelist
    Status check_cache(const KmemCache *c) const;
    SlabTotals totals() const;
    SlabTotals cache_totals(const KmemCache *c) const; // slabs, objects, active of one cache
    const KmemCache *first_cache() const { return caches_; }
    const KmemCache *kmalloc_cache(size_t size, uint32_t flags = 0) const;
    // The alignment every object kmalloc(size) returns from a cache has (a
    // power of two: slabs are page-aligned, objects sit at first + i *
    // stride); 0 when no cache serves size.
    size_t kmalloc_alignment(size_t size) const;
    void report_slabinfo(ReportSink sink, void *ctx) const; // /proc/slabinfo format
    // Give CPU cpu's active and partial slabs of cache c back to their nodes
    // (the calling CPU's own, or a quiescent CPU's). True if the active slab
    // was empty and went on to the buddy.
    bool flush_cpu(KmemCache *c, unsigned cpu);
    // Flush every CPU's slabs of every cache (quiescent CPUs only).
    void flush_all_cpus();
    // A CPU that will not run kmem again until it comes back (a thread that
    // exited, a CPU taken offline): a free from another CPU to a full slab it
    // filled makes the slab the freeing CPU's instead of handing it back to
    // it. Mark it before flushing its caches (flush_cpu takes what was
    // handed back already; a hand-back racing with the mark is taken back by
    // the freeing CPU). Every CPU starts online.
    void set_cpu_offline(unsigned cpu, bool offline);
    bool cpu_offline(unsigned cpu) const {
        return cpu < kMaxCpus && (__atomic_load_n(&offline_cpus_, __ATOMIC_SEQ_CST) >> cpu & 1);
    }
    // flush_all_cpus, then every empty slab of every cache back to the
    // buddy (quiescent CPUs only); returns the pages given back.
    uint64_t shrink_all();
    // Fault injection, as Linux's failslab: the n-th object allocation from
    // now (kmalloc up to 8 KiB, cache_alloc; 1 = the next) fails with
    // Errc::no_memory, once; 0 turns it off. Arming flushes every CPU's
    // active slab (quiescent CPUs only), so that until the failure every
    // allocation takes the slow path, where it is counted: the fast paths
    // never look.
    void fail_nth_allocation(uint64_t n);
    uint64_t injected_failures() const { return injected_failures_; }
    // Node-lock acquisitions by allocations and frees so far (every CPU):
    // with the slow-path counts (CacheCpu), how often a CPU leaves its own
    // lists for shared ones - the scalability measure docs/performance.md
    // reports per 1,000 operations.
    uint64_t node_lock_count() const;

    static unsigned size_class(size_t size); // kmalloc class index for size <= 8192
    static size_t class_size(unsigned index);

private:
    friend struct SlabInternals;
    // The slow paths stay out of line, also under link-time optimisation:
    // the fast paths that call them keep a small frame (mimalloc's rule).
    [[gnu::noinline]] void *alloc_slow(KmemCache *c, uint32_t flags, uint16_t node);
    [[gnu::noinline]] Status free_object(KmemCache *c, SlabHeader *s, void *obj);
    Status free_slow(KmemCache *c, SlabHeader *s, void *obj);
    [[gnu::noinline]] Status free_shared(KmemCache *c, SlabHeader *s, void *obj, uint32_t mine);
    Status free_debug(KmemCache *c, SlabHeader *s, void *obj, uint32_t mine, Status result);
    [[gnu::noinline]] Status kfree_slow(const void *p);

    PhysAllocator *phys_ = nullptr;
    SlabOptions opts_{.random_freelist = false, .cpu_partial_bytes = 0}; // set by init()
    bool kmalloc_plain_ = false; // every kmalloc cache is plain (set by init())
    // Zone z's kmalloc caches are set up: Normal's by init(), the DMA32 and
    // DMA ones on their first use, so a machine (or a process) with no such
    // memory never touches their 72 KmemCache structures. Accessed atomically.
    bool kmalloc_ready_[3] = {};
    KmemCache *kmalloc_zone_cache(unsigned z, unsigned cls);
    uint64_t seed_ = 0;
    // Serialises changes to the list of caches (cache_create, cache_destroy,
    // a DMA zone's lazy set-up); walkers read it without the lock (each
    // cache is published whole, with a release store).
    platform::SpinLock caches_lock_{};
    KmemCache *caches_ = nullptr;
    KmemCache cache_cache_{};                    // the cache of KmemCache objects
    KmemCache kmalloc_[3][kKmallocClasses]{};    // Normal, DMA32, DMA
    struct LastError {          // an Error, all zero until the first failure
        const char *reason = nullptr;
        Errc code = Errc::ok;
    } last_error_[kMaxCpus]{};
    uint64_t large_allocations_ = 0, large_pages_ = 0; // __atomic_* only
    uint64_t fail_countdown_ = 0, injected_failures_ = 0;
    uint64_t offline_cpus_ = 0; // set_cpu_offline, a bit per CPU; __atomic_* only
    static_assert(kMaxCpus <= 64, "offline_cpus_ holds a bit per CPU");
    // Per CPU ([kMaxCpus]: callers with no CPU yet), counted on slow paths only.
    struct alignas(64) CpuCounters {
        uint64_t node_locks;
    } cpu_counters_[kMaxCpus + 1]{};
};

} // namespace kmem
