// SPDX-License-Identifier: MIT
//
// DOC: the buddy page allocator - the first allocator that exists.
//
// PhysAllocator is built from nothing but a MemoryMap and the memory the boot
// code has mapped: online_range() hands a mapped physical range to it, and
// the page descriptors for that memory are placed inside the memory itself.
// Onlining costs O(sections), not O(pages): the whole-max-order-block middle
// of each 1 GiB section stays one "lazy run" that is carved into 4 MiB blocks
// only when the free lists run dry, so a descriptor or free-list link is
// written only when something needs it.
//
// Zones DMA (< 16 MiB), DMA32 (< 4 GiB) and Normal exist for every NUMA node;
// blocks of 2^0 .. 2^kMaxOrder pages live on per-order free lists whose links
// are stored in the free memory; orders 0..kPcpMaxOrder are also cached on
// per-CPU lists that the owning CPU uses without a lock.
//
// Every call returns an error value for bad input (double free, wrong order,
// a page that is not an allocated block head, a pfn that is not online,
// reserving allocated pages, unsupported flags) and leaves the books
// unchanged; check() verifies them.
//
// Calling contexts (docs/porting.md): in a hard interrupt handler (never an
// NMI) alloc_pages, alloc_pages_exact and alloc_pages_range with
// kAllocAtomic, free_pages, free_pages_exact, drain_local_pcp, desc, head_of
// and totals may be called; onlining, reserving, alloc_reserved,
// fail_nth_allocation and check fail with Errc::wrong_context, report_free
// does nothing. Everything may be called with interrupts disabled.
//
// Thread safety: zones have a spinlock each, always taken with interrupts
// off; per-CPU lists belong to their CPU, which changes them only with its
// interrupts off. alloc/free may run on every CPU at once. online_range, bootstrap,
// reserve_range, unreserve_range and check() are for boot and for hot-add
// with the other CPUs quiescent: growing a section's descriptor array copies
// descriptors other CPUs could be writing. A PhysAllocator object is large (the section
// table covers 64 TiB); a kernel keeps one in static storage (all-zero is its
// valid empty state).
#pragma once

#include <kmem/config.h>
#include <kmem/memmap.h>
#include <kmem/page_map.h>
#include <kmem/platform.h>
#include <kmem/result.h>
#include <kmem/spinlock.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem {

inline constexpr unsigned kPcpMaxOrder = 3; // per-CPU lists for orders 0..3
static_assert(kMaxOrder >= kPcpMaxOrder, "MAX_ORDER out of range");

enum class ZoneType : uint8_t { dma = 0, dma32 = 1, normal = 2 };
inline constexpr unsigned kZoneTypes = 3;
inline constexpr unsigned kMaxZones = kMaxNodes * kZoneTypes;
static_assert(kMaxZones <= 256, "zone indices fit a byte");
inline constexpr uint64_t kZoneDmaEnd = uint64_t{16} << 20;
inline constexpr uint64_t kZoneDma32End = uint64_t{4} << 30;
const char *zone_type_name(ZoneType t); // "DMA", "DMA32", "Normal"

// Allocation flags (GFP-like).
enum AllocFlag : uint32_t {
    kAllocZoneDma = 1u << 0,   // only ZONE_DMA (< 16 MiB)
    kAllocZoneDma32 = 1u << 1, // only ZONE_DMA32 and below (< 4 GiB)
    kAllocExactNode = 1u << 2, // only the node asked for, no fallback
    kAllocNoPcp = 1u << 3,     // bypass the per-CPU lists
    kAllocZero = 1u << 4,      // zero the pages
    kAllocReserves = 1u << 5,  // may dip below the zone's min watermark
    kAllocTails = 1u << 6,     // write tail descriptors (head_of(pfn) works inside)
    // The caller cannot wait: an interrupt handler, or code that holds a lock
    // a handler takes (Linux's GFP_ATOMIC). kmem never sleeps, so what it
    // changes is the memory it may use: down to half the zone's min
    // watermark (kAllocReserves: all of it), and no work that scales with
    // memory size on the way (docs/porting.md, "Calling contexts").
    kAllocAtomic = 1u << 7,
};
inline constexpr uint32_t kAllocKnownFlags = (1u << 8) - 1;
inline constexpr uint16_t kAnyNode = 0xffff;

// A free block's first bytes: the free-list link (never in the descriptor).
struct FreeLink {
    FreeLink *next;    // offset 0
    FreeLink *prev;    // offset 8: buddy lists only (per-CPU lists are singly linked)
    uint32_t reported; // offset 16: buddy lists: 1 if the block's pages after this one were
                       // handed to report_free's sink since it became free
    uint32_t epoch;    // offset 20: buddy lists: report_free's epoch when it went on the list
};
static_assert(offsetof(FreeLink, next) == 0 && offsetof(FreeLink, prev) == 8 && offsetof(FreeLink, reported) == 16);
static_assert(offsetof(FreeLink, epoch) == 20);

// One order's free list: unreported blocks first, newest at the head (frees
// push at the head, allocation pops the head: memory that is still resident
// goes out first, the longest free is last), then the reported ones.
struct FreeArea {
    FreeLink *head;           // offset 0
    FreeLink *tail;           // offset 8
    FreeLink *first_reported; // offset 16: the reported suffix starts here (null: none)
    uint64_t blocks;          // offset 24
    uint64_t reported;        // offset 32: blocks on the reported suffix
};
static_assert(offsetof(FreeArea, head) == 0 && offsetof(FreeArea, tail) == 8);
static_assert(offsetof(FreeArea, first_reported) == 16 && offsetof(FreeArea, blocks) == 24);
static_assert(offsetof(FreeArea, reported) == 32);

struct ZoneStats {
    uint64_t allocs;    // offset 0: blocks handed out by the zone (not counting per-CPU hits)
    uint64_t frees;     // offset 8: blocks returned to the zone
    uint64_t fallbacks; // offset 16: allocations served here for another preferred zone
    uint64_t carved;    // offset 24: max-order blocks carved from lazy runs
    uint64_t failed;    // offset 32: allocations this zone could not serve
};
static_assert(offsetof(ZoneStats, allocs) == 0 && offsetof(ZoneStats, frees) == 8);
static_assert(offsetof(ZoneStats, fallbacks) == 16 && offsetof(ZoneStats, carved) == 24);
static_assert(offsetof(ZoneStats, failed) == 32);

struct Zone {
    uint16_t node;                // offset 0
    ZoneType type;                // offset 2
    bool present;                 // offset 3: has ever had memory onlined
    uint64_t start_pfn;           // offset 8: span (lowest online pfn)
    uint64_t end_pfn;             // offset 16: span (one past the highest)
    uint64_t managed;             // offset 24: online pages (descriptor arrays excluded)
    uint64_t free;                // offset 32: pages on buddy lists + in lazy runs
    uint64_t lazy;                // offset 40: pages in lazy runs (subset of free)
    uint64_t reserved;            // offset 48: pages in reserved blocks
    uint64_t out;                 // offset 56: pages given out to per-CPU lists or callers
    uint64_t wmark_min, wmark_low, wmark_high; // offset 64
    uint32_t lazy_head;           // offset 88: section index + 1 of the first section with a lazy run
    FreeArea area[kMaxOrder + 1]; // offset 96
    ZoneStats stats;              // offset 536
};
// Offsets after the arrays sized by the configuration (kmem/config.h)
// are those of the default one; the assertions hold for any.
static_assert(offsetof(Zone, node) == 0 && offsetof(Zone, type) == 2 && offsetof(Zone, present) == 3);
static_assert(offsetof(Zone, start_pfn) == 8 && offsetof(Zone, end_pfn) == 16 && offsetof(Zone, managed) == 24);
static_assert(offsetof(Zone, free) == 32 && offsetof(Zone, lazy) == 40 && offsetof(Zone, reserved) == 48);
static_assert(offsetof(Zone, out) == 56 && offsetof(Zone, wmark_min) == 64 && offsetof(Zone, wmark_low) == 72);
static_assert(offsetof(Zone, wmark_high) == 80 && offsetof(Zone, lazy_head) == 88 && offsetof(Zone, area) == 96);
static_assert(offsetof(Zone, stats) == offsetof(Zone, area) + sizeof(FreeArea) * (kMaxOrder + 1));

// Per-CPU, per-zone cache of small blocks: one cache line.
struct alignas(64) PcpList {
    FreeLink *head[kPcpMaxOrder + 1]; // offset 0
    uint32_t count[kPcpMaxOrder + 1]; // offset 32: blocks per order
    uint64_t refills, drains;         // offset 48: batches in and out (the fast path counts nothing)
};
// Offsets after the arrays sized by the configuration (kmem/config.h)
// are those of the default one; the assertions hold for any.
static_assert(offsetof(PcpList, head) == 0 && offsetof(PcpList, count) == 32);
static_assert(offsetof(PcpList, refills) == offsetof(PcpList, count) + 4 * (kPcpMaxOrder + 1));

struct PhysTotals {
    uint64_t managed, free, pcp, reserved, allocated, lazy;
    uint64_t reported; // free pages handed to report_free's sink (free, not lazy)
    uint64_t metadata_bytes; // descriptor arrays + the section entries in use
    uint64_t sections;       // sections with online memory
};

class PhysAllocator {
public:
    constexpr PhysAllocator() = default;
    PhysAllocator(const PhysAllocator &) = delete;
    PhysAllocator &operator=(const PhysAllocator &) = delete;

    // Build the allocator from a map, onlining the usable (and
    // kernel_reserved, which stay reserved) RAM inside [window_start,
    // window_end): the memory the boot code has mapped.
    Status bootstrap(const MemoryMap &map, uint64_t window_start, uint64_t window_end);
    // Online every usable range of `map` in [start, end) not online yet
    // (what the direct-map builder calls as it maps memory; also hot-add).
    Status online_map_ranges(const MemoryMap &map, uint64_t start, uint64_t end);
    // Reserve the map's kernel_reserved ranges inside [start, end).
    Status reserve_map_ranges(const MemoryMap &map, uint64_t start, uint64_t end);
    // Hand a mapped physical range of RAM to the allocator (page-aligned).
    Status online_range(uint64_t start, uint64_t end, uint16_t node);
    // Online RAM that is taken already (the kernel image, what the firmware
    // map marks kernel_reserved): its pages read as reserved with owner `why`
    // and are never written - their descriptors come from memory that is free
    // (online that first). unreserve_range gives them to the buddy later.
    Status online_taken_range(uint64_t start, uint64_t end, uint16_t node, const char *why);

    Result<uint64_t> alloc_pages(unsigned order, uint32_t flags = 0, uint16_t node = kAnyNode);
    // Allocate inside [min, max) physical addresses (memblock/bootmem needs).
    Result<uint64_t> alloc_pages_range(unsigned order, uint64_t min, uint64_t max,
                                       uint32_t flags = 0, uint16_t node = kAnyNode);
    Status free_pages(uint64_t pa, unsigned order);
    // Fault injection, as Linux's fail_page_alloc: the n-th page allocation
    // from now (alloc_pages, _range, _exact, alloc_reserved; 1 = the next)
    // fails with Errc::no_memory, once. 0 turns it off.
    // Armed, it points every CPU's home zone at a zone with no memory (whose
    // per-CPU lists stay empty), so the fast path - which never looks -
    // misses and the slow path counts. (A machine whose every zone slot has
    // memory, 64 nodes each with DMA memory, cannot be armed: invalid_argument.)
    Status fail_nth_allocation(uint64_t n);
    // What a layer above gives back when memory runs out (Linux's shrinkers):
    // an allocation that finds no block first drains the calling CPU's page
    // lists, then calls the reclaimer (the slab layer registers one: its
    // empty slabs and this CPU's partial slabs), and tries once more if
    // either gave pages back. Not for atomic requests (kAllocAtomic, or in an
    // interrupt handler): they report no_memory at once. The reclaimer runs
    // on the allocating CPU with interrupts off and must not allocate.
    using Reclaimer = uint64_t (*)(void *ctx); // returns the pages it freed
    void set_reclaimer(Reclaimer fn, void *ctx);
    uint64_t reclaims() const { return reclaims_; } // times an allocation ran it
    uint64_t injected_failures() const { return injected_failures_; }
    // Exactly `count` pages (1..2^kMaxOrder), not a power of two: the block
    // is split and the unused tail goes straight back (alloc_pages_exact).
    Result<uint64_t> alloc_pages_exact(uint64_t count, uint32_t flags = 0,
                                       uint16_t node = kAnyNode);
    Status free_pages_exact(uint64_t pa, uint64_t count);
    // Take [start, end) out of the free memory (page-rounded outward).
    Status reserve_range(uint64_t start, uint64_t end, const char *why);
    // The same, but Errc::busy (and nothing reserved) when any page of the
    // range is reserved already: checked and reserved under the same locks.
    Status reserve_range_exclusive(uint64_t start, uint64_t end, const char *why);
    // memblock-style allocation: the highest free range of `bytes` (whole
    // pages) aligned to `align` inside physical [min, max) (max 0: no limit)
    // on `node` (kAnyNode: any), reserved with `why` as its owner. Returns
    // its physical address; unreserve_range gives any whole pages of it back.
    Result<uint64_t> alloc_reserved(uint64_t bytes, uint64_t align, uint64_t min, uint64_t max,
                                    uint16_t node, const char *why);
    // Give a reserved range back (free_bootmem_late).
    Status unreserve_range(uint64_t start, uint64_t end);

    // Per-CPU lists: the calling CPU's, or a quiescent CPU's (offline, exited).
    // Both return the pages they gave back to the zones.
    uint64_t drain_local_pcp();
    uint64_t drain_cpu_pcp(unsigned cpu);
    // Free page reporting (Linux's page_reporting; madvise for a process):
    // hands each free block of order >= min_order (1 at least) that was not
    // reported since it became free to `sink` - its pages after the first,
    // which holds the free-list link - until max_pages pages are reported,
    // largest orders first, the longest free first within an order.
    // idle_only: only blocks that were free before the previous idle_only
    // call already (each such call starts a new epoch), so a caller that
    // makes one every T gives back memory that stayed free for T to 2T.
    // The zone lock is held across each sink call, so the memory cannot be
    // handed out meanwhile; the sink must not call the allocator. A reported
    // block is handed out after the unreported ones of its order, and its
    // pages may read as anything (zero after madvise). Returns the pages
    // reported.
    using FreeSink = void (*)(void *ctx, uint64_t pa, uint64_t bytes);
    uint64_t report_free(unsigned min_order, uint64_t max_pages, FreeSink sink, void *ctx,
                         bool idle_only = false);
    // Free pages on the zones' lists that were not reported (per-CPU lists
    // and lazy runs not counted): memory a process would still hold. *out,
    // if given: pages handed out (to callers and per-CPU lists).
    uint64_t unreported_free_pages(uint64_t *out = nullptr);

    // Which node a CPU's allocations prefer (default 0).
    void set_cpu_node(unsigned cpu, uint16_t node);
    uint16_t cpu_node(unsigned cpu) const { return cpu < kMaxCpus ? cpu_node_[cpu] : 0; }

    Status check() const;
    PhysTotals totals() const;
    const Zone &zone(uint16_t node, ZoneType t) const { return zones_[zone_index(node, t)]; }
    const MemoryMap &online_map() const { return online_; }
    unsigned node_count() const { return online_.node_count(); }

    // Descriptor of a pfn that is online (null otherwise).
    PageDesc *desc(uint64_t pfn) const;
    // Head pfn of the allocated block containing pfn, if it was allocated
    // with kAllocTails or pfn is itself a head; error otherwise.
    Result<uint64_t> head_of(uint64_t pfn) const;

    // ---- what the layers above (slab, boot) read and change of the page
    // map: never descriptors directly.
    const PageMap &page_map() const { return pages_; }
    // Why pfn has no readable descriptor (null: it has one).
    const char *unreadable(uint64_t pfn) const;
    // The state of the block holding physical address pa (its head's state;
    // PageState::offline when pa has no readable descriptor or no block).
    PageState block_state(uint64_t pa) const;
    // Pages of the exact allocation (alloc_pages_exact) that starts at pa;
    // 0 when none starts there.
    uint64_t exact_pages_at(uint64_t pa) const;
    // The allocated block of `order` at pa becomes a slab whose header sits
    // header_offset bytes into it (a multiple of 64): its pages' descriptors
    // name the header (src/page/page_map.h: page::slab_header_named). Returns
    // the block's NUMA node. unmark_slab: back to an allocated block that
    // names no slab (free it with free_pages).
    Result<uint16_t> mark_slab(uint64_t pa, unsigned order, uint32_t header_offset);
    Status unmark_slab(uint64_t pa, unsigned order);
    // Calls visit(ctx, pa, order) for every slab block, in address order;
    // stops at the first error visit returns. With the allocator quiescent.
    using BlockVisitor = Status (*)(void *ctx, uint64_t pa, unsigned order);
    Status for_each_slab_block(BlockVisitor visit, void *ctx) const;

    static constexpr unsigned zone_index(uint16_t node, ZoneType t) {
        return node * kZoneTypes + static_cast<unsigned>(t);
    }

private:
    Status online_range_as(uint64_t start, uint64_t end, uint16_t node, const char *taken);
    // One attempt of alloc_pages_range (validated arguments): a block of
    // `order` inside [min, max) along the fallback zones; false if none.
    bool take_any(unsigned order, uint64_t min, uint64_t max, uint32_t flags, uint16_t node, uint64_t &got,
                  unsigned &got_zone);
    // The fast paths' ways out, as tail calls (their callers keep no frame):
    // interrupts back to irq (the caller's irq_save), then alloc_pages_range
    // over all memory; every check of free_pages and the zone's path; a
    // drain of the calling CPU's list that grew too long, then irq back.
    [[gnu::noinline]] Result<uint64_t> alloc_pages_slow(unsigned order, uint32_t flags, uint16_t node,
                                                        unsigned long irq);
    [[gnu::noinline]] Status free_pages_slow(uint64_t pa, unsigned order);
    [[gnu::noinline]] Status pcp_drain_restoring(unsigned cpu, unsigned zi, unsigned order, unsigned long irq);
    // The buddy's implementer struct (src/buddy/internal.h); the steps of
    // onlining, checking and reporting are its nested structs.
    friend struct BuddyInternals;

    Zone zones_[kMaxZones]{};
    PcpList pcp_[kMaxZones][kMaxCpus]{}; // by zone: a zone's lists of all CPUs are contiguous (totals, drains)
    platform::SpinLock zone_locks_[kMaxZones]{};
    platform::SpinLock online_lock_{};
    uint16_t cpu_node_[kMaxCpus]{};
    uint64_t fail_countdown_ = 0;    // fault injection (fail_nth_allocation)
    Reclaimer reclaimer_ = nullptr;  // set_reclaimer
    void *reclaimer_ctx_ = nullptr;
    uint64_t reclaims_ = 0;          // __atomic_* only
    uint32_t report_epoch_ = 0;      // report_free's idle epochs (FreeLink::epoch)
    uint64_t injected_failures_ = 0;
    uint8_t home_zone_[kMaxCpus]{}; // zone a CPU's unrestricted allocations start from
    LazyMemoryMap<kDefaultMapCapacity> online_{}; // bound by the first online_range
    PageMap pages_{}; // sections, descriptor arrays, owner reasons (the page layer)
};

} // namespace kmem
