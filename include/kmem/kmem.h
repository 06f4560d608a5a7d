/* SPDX-License-Identifier: MIT
 *
 * DOC: kmem's C API - the whole allocator from C11 (and from C++).
 *
 * One memory system per program (kmem keeps it in static storage), brought
 * up one phase at a time as in the C++ API (include/kmem/boot.h):
 *
 *   kmem_map_parse*, kmem_map_add   stage the firmware's memory map
 *   kmem_boot_firmware_map()        Off         -> FirmwareMap  (then kmem_boot_reserve)
 *   kmem_boot_early_window(s, e)    FirmwareMap -> EarlyWindow  kmalloc works from here
 *   kmem_boot_direct_map(fn, ctx)   EarlyWindow -> DirectMap    fn makes each RAM range reachable
 *   kmem_boot_running()             DirectMap   -> Running
 *
 * then kmalloc and friends, kmem_cache_*, whole pages (kmem_alloc_pages),
 * Linux's bootmem and memblock calls, kmem_check, and /proc-style reports
 * written to a sink callback.
 *
 * Errors: every call that can fail returns a kmem_errc (KMEM_OK is 0) and,
 * when given a kmem_error, fills it with the code, a readable reason (a
 * static string) and, for map parsers, the line or byte it points at. Calls
 * that return a pointer return NULL on failure; kmem_last_alloc_error()
 * says why the calling CPU's last allocation failed.
 *
 * Calling contexts (docs/porting.md, "Calling contexts"): everything may be
 * called in process context, with interrupts enabled or disabled. In a hard
 * interrupt handler (never an NMI) only kmalloc, kzalloc, kcalloc, krealloc,
 * kmalloc_node, kmem_cache_alloc and kmem_alloc_pages(_exact) with
 * KMEM_ALLOC_ATOMIC, and kfree, ksize, kmem_cache_free, kmem_free_pages(_exact)
 * and the totals; the boot phases, the boot allocations (bootmem,
 * memblock), cache creation and destruction and kmem_check fail there with
 * KMEM_WRONG_CONTEXT.
 *
 * The freestanding archives (kmem::freestanding_<arch>) hold this API too:
 * the kernel supplies the hooks of <kmem/platform_hooks.h>. The hosted
 * library (kmem::core) simulates the machine: see <kmem/hosted.h>.
 */
#ifndef KMEM_KMEM_H
#define KMEM_KMEM_H

#include <kmem/config.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ errors */

/* The same codes, in the same order, as kmem::Errc (include/kmem/result.h). */
typedef enum kmem_errc {
    KMEM_OK = 0,
    KMEM_INVALID_ARGUMENT,    /* a parameter the caller controls is wrong */
    KMEM_INVALID_RANGE,       /* end before start, wrap past 2^64, beyond the address limit */
    KMEM_CAPACITY,            /* bounded static storage is full */
    KMEM_TRUNCATED,           /* a binary buffer ends inside a structure */
    KMEM_BAD_MAGIC,           /* a binary blob is not what it claims to be */
    KMEM_UNSUPPORTED_VERSION, /* a version field kmem does not understand */
    KMEM_MALFORMED,           /* the structure is inconsistent */
    KMEM_UNKNOWN_TYPE,        /* a memory type name or number kmem does not know */
    KMEM_NO_ENTRIES,          /* the input holds no memory map at all */
    KMEM_NO_MEMORY,           /* nothing free that satisfies the request */
    KMEM_DOUBLE_FREE,         /* the block is already free */
    KMEM_NOT_ALLOCATED,       /* the address is not an allocated block head */
    KMEM_BUSY,                /* the pages are held where kmem cannot take them now */
    KMEM_WRONG_PHASE,         /* the call is not valid in the current boot phase */
    KMEM_WRONG_CONTEXT        /* not allowed where it was made (an interrupt handler) */
} kmem_errc;

typedef enum kmem_where { KMEM_WHERE_NONE = 0, KMEM_WHERE_LINE, KMEM_WHERE_BYTE } kmem_where;

typedef struct kmem_error {
    kmem_errc code;
    kmem_where where;   /* what `at` is: a 1-based line of text, a byte offset */
    uint64_t at;
    const char *reason; /* static, never NULL ("" when code is KMEM_OK) */
} kmem_error;

/* "ok", "invalid argument", "double free", ... ("?" for a value that is no code). */
const char *kmem_errc_name(kmem_errc code);

/* ------------------------------------------------------- the firmware map */

/* The same types, in the same order, as kmem::MemType (include/kmem/memmap.h). */
typedef enum kmem_mem_type {
    KMEM_MEM_USABLE = 0,
    KMEM_MEM_KERNEL_RESERVED,
    KMEM_MEM_ACPI_RECLAIMABLE,
    KMEM_MEM_ACPI_NVS,
    KMEM_MEM_PERSISTENT,
    KMEM_MEM_UNUSABLE,
    KMEM_MEM_RESERVED
} kmem_mem_type;

/* Input formats, as kmem::MapFormat (include/kmem/memmap_parse.h). */
typedef enum kmem_map_format {
    KMEM_MAP_DETECT = 0,      /* guess from the content */
    KMEM_MAP_LINUX_TEXT,      /* Linux console text: BIOS-e820, efi: memNN, NUMA lines */
    KMEM_MAP_EFI,             /* GetMemoryMap()'s array with 48-byte descriptors (else kmem_map_parse_efi) */
    KMEM_MAP_MULTIBOOT1,      /* the buffer at mmap_addr, mmap_length bytes */
    KMEM_MAP_MULTIBOOT2_TAG,  /* a Multiboot 2 memory-map tag (type 6) */
    KMEM_MAP_MULTIBOOT2_INFO, /* the whole Multiboot 2 boot information */
    KMEM_MAP_FDT              /* a flattened device tree blob */
} kmem_map_format;

typedef struct kmem_mem_range {
    uint64_t start, end; /* [start, end) */
    kmem_mem_type type;
    unsigned node;
} kmem_mem_range;

/* The staged map: what kmem_boot_firmware_map() will take. The parsers
 * replace it (a failed parse leaves it empty); kmem_map_add and
 * kmem_map_set_node change it. */
void kmem_map_clear(void);
kmem_errc kmem_map_parse(const void *buf, size_t len, kmem_map_format format, kmem_error *err);
kmem_errc kmem_map_parse_efi(const void *buf, size_t map_size, size_t desc_size, uint32_t desc_version,
                             kmem_error *err);
/* A raw e820 table (BIOS INT 15h AX=E820h, Linux's boot_params.e820_table):
 * `count` entries of entry_size bytes (20: base, length, type; 24: and the
 * ACPI 3 attributes, whose entries without bit 0 set are skipped). */
kmem_errc kmem_map_parse_e820(const void *table, size_t count, size_t entry_size, kmem_error *err);
kmem_errc kmem_map_add(uint64_t start, uint64_t end, kmem_mem_type type, unsigned node, kmem_error *err);
kmem_errc kmem_map_set_node(uint64_t start, uint64_t end, unsigned node, kmem_error *err);
size_t kmem_map_count(void);
/* Range i of the staged map; KMEM_INVALID_ARGUMENT past the end. */
kmem_errc kmem_map_range(size_t i, kmem_mem_range *out);
uint64_t kmem_map_bytes(kmem_mem_type type);
/* "usable", "reserved", "ACPI data", ... (Linux's names). */
const char *kmem_mem_type_name(kmem_mem_type type);

/* ---------------------------------------------------------- boot phases */

typedef enum kmem_phase {
    KMEM_PHASE_OFF = 0,
    KMEM_PHASE_FIRMWARE_MAP,
    KMEM_PHASE_EARLY_WINDOW,
    KMEM_PHASE_DIRECT_MAP,
    KMEM_PHASE_RUNNING
} kmem_phase;

/* Slab options (kmem::SlabOptions); kmem_slab_defaults() fills the defaults. */
typedef struct kmem_slab_options {
    int random_freelist;        /* new slabs hand objects out in a shuffled order */
    int init_on_alloc;          /* zero every object when it is allocated */
    int init_on_free;           /* zero every object when it is freed */
    int debug_all;              /* poison and red zones on every cache */
    uint32_t cpu_partial_bytes; /* empty slabs a CPU keeps per cache, in bytes */
    uint32_t min_slab_objects;  /* objects a slab should hold at least */
    uint64_t seed;              /* freelist secrets and shuffling */
} kmem_slab_options;
void kmem_slab_defaults(kmem_slab_options *opts);

/* Called by kmem_boot_direct_map after [start, end) is in the page tables:
 * make it reachable (switch to the new tables once they cover what kmem
 * uses, or map it), then return KMEM_OK; kmem onlines the range next. */
typedef kmem_errc (*kmem_mapped_fn)(void *ctx, uint64_t start, uint64_t end);

/* kmem_boot_direct_map's va_base: the architecture's (x86_64
 * 0xffff888000000000; AArch64 0x0000400000000000). */
#define KMEM_DIRECT_MAP_DEFAULT UINT64_MAX

kmem_errc kmem_boot_firmware_map(kmem_error *err);
/* Mark [pa, pa + size) as taken (FirmwareMap on): the kernel image, the
 * loader's data. exclusive: KMEM_BUSY if any of it is reserved already. */
kmem_errc kmem_boot_reserve(uint64_t pa, uint64_t size, int exclusive, const char *why, kmem_error *err);
/* The boot code has mapped physical [start, end) (page boundaries): the
 * buddy comes up inside it, slab and kmalloc at once. opts: NULL for the
 * defaults. */
kmem_errc kmem_boot_early_window(uint64_t start, uint64_t end, const kmem_slab_options *opts,
                                 kmem_error *err);
kmem_errc kmem_boot_direct_map(kmem_mapped_fn mapped, void *ctx, uint64_t va_base, kmem_error *err);
kmem_errc kmem_boot_running(kmem_error *err);
kmem_phase kmem_boot_phase(void);
/* "Off", "FirmwareMap", "EarlyWindow", "DirectMap", "Running". */
const char *kmem_phase_name(kmem_phase phase);
/* Nanoseconds (the platform's clock) when the phase began; 0: not reached. */
uint64_t kmem_boot_phase_start_ns(kmem_phase phase);

/* ----------------------------------------------------- boot allocations */

#define KMEM_NO_NODE (-1)

/* One boot-time request (kmem::BootRequest): physical [min, max) (max 0: no
 * limit), goal a preferred lowest address, nid a preferred node. */
typedef struct kmem_boot_request {
    uint64_t size;
    uint64_t align;     /* power of two; 0: 8 */
    uint64_t min, max;
    uint64_t goal;
    int nid;            /* KMEM_NO_NODE: any */
    int exact_nid;      /* the node or nothing */
    int raw;            /* not zeroed */
    const char *caller; /* call-site tag for the early-allocation report (static string) */
} kmem_boot_request;

/* EarlyWindow on: a physical address, or an error. */
kmem_errc kmem_boot_alloc(const kmem_boot_request *req, uint64_t *pa, kmem_error *err);
kmem_errc kmem_boot_free(uint64_t pa, uint64_t size, kmem_error *err);

/* One record of the early-allocation report (every boot allocation before
 * Running). */
typedef struct kmem_early_alloc {
    uint64_t pa; /* 0 if it failed */
    uint64_t size, align, min, max;
    int nid;
    kmem_phase phase;
    const char *api;    /* "kmem", "memblock_alloc", ... */
    const char *caller; /* the call-site tag, or NULL */
    int failed, raw, exact_nid;
    int slab;           /* served by kmalloc (else whole pages) */
    uint64_t ns;        /* after kmem_boot_firmware_map */
} kmem_early_alloc;
size_t kmem_early_count(void);
kmem_errc kmem_early_record(size_t i, kmem_early_alloc *out);

/* Linux's bootmem (2.6.32) and memblock (6.x) calls, over kmem_boot_alloc,
 * free and reserve (the same semantics as include/kmem/compat/linux.h):
 * each _caller function takes the call-site tag; in C the macros below give
 * them Linux's names and pass __func__. bootmem allocations are zeroed and
 * panic (kmem_platform_panic) when nothing fits, except _nopanic;
 * memblock_alloc* return NULL, memblock_phys_alloc* 0. The int results are
 * 0 or a negative errno (-EBUSY, -EINVAL). */
typedef uint64_t kmem_phys_addr_t;
#define KMEM_MEMBLOCK_ALLOC_ANYWHERE (~(kmem_phys_addr_t)0)
#define KMEM_MEMBLOCK_ALLOC_ACCESSIBLE ((kmem_phys_addr_t)0)
#define KMEM_BOOTMEM_EXCLUSIVE 1

void *kmem_alloc_bootmem_caller(unsigned long size, const char *caller);
void *kmem_alloc_bootmem_nopanic_caller(unsigned long size, const char *caller);
void *kmem_alloc_bootmem_align_caller(unsigned long size, unsigned long align, const char *caller);
void *kmem_alloc_bootmem_pages_caller(unsigned long size, const char *caller);
void *kmem_alloc_bootmem_node_caller(int nid, unsigned long size, const char *caller);
void *kmem_alloc_bootmem_pages_node_caller(int nid, unsigned long size, const char *caller);
void *kmem_alloc_bootmem_low_caller(unsigned long size, const char *caller);
void *kmem_alloc_bootmem_low_pages_caller(unsigned long size, const char *caller);
int kmem_reserve_bootmem_caller(unsigned long addr, unsigned long size, int flags, const char *caller);
void kmem_free_bootmem(unsigned long addr, unsigned long size);
void kmem_free_bootmem_node(int nid, unsigned long addr, unsigned long size);
void kmem_free_bootmem_late(unsigned long addr, unsigned long size);
unsigned long kmem_free_all_bootmem(void);

void *kmem_memblock_alloc_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, const char *caller);
void *kmem_memblock_alloc_raw_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, const char *caller);
void *kmem_memblock_alloc_from_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, kmem_phys_addr_t min_addr,
                                      const char *caller);
void *kmem_memblock_alloc_low_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, const char *caller);
void *kmem_memblock_alloc_node_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, int nid, const char *caller);
void *kmem_memblock_alloc_try_nid_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, kmem_phys_addr_t min_addr,
                                         kmem_phys_addr_t max_addr, int nid, const char *caller);
void *kmem_memblock_alloc_try_nid_raw_caller(kmem_phys_addr_t size, kmem_phys_addr_t align,
                                             kmem_phys_addr_t min_addr, kmem_phys_addr_t max_addr, int nid,
                                             const char *caller);
void *kmem_memblock_alloc_exact_nid_raw_caller(kmem_phys_addr_t size, kmem_phys_addr_t align,
                                               kmem_phys_addr_t min_addr, kmem_phys_addr_t max_addr, int nid,
                                               const char *caller);
kmem_phys_addr_t kmem_memblock_phys_alloc_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, const char *caller);
kmem_phys_addr_t kmem_memblock_phys_alloc_range_caller(kmem_phys_addr_t size, kmem_phys_addr_t align,
                                                       kmem_phys_addr_t start, kmem_phys_addr_t end,
                                                       const char *caller);
int kmem_memblock_reserve_caller(kmem_phys_addr_t base, kmem_phys_addr_t size, const char *caller);
void kmem_memblock_free(void *ptr, size_t size);
int kmem_memblock_phys_free(kmem_phys_addr_t base, kmem_phys_addr_t size);

#if !defined(__cplusplus) && !defined(KMEM_NO_LINUX_NAMES)
/* C only (C++ has include/kmem/compat/linux.h); KMEM_NO_LINUX_NAMES turns them off. */
#define alloc_bootmem(size) kmem_alloc_bootmem_caller((size), __func__)
#define alloc_bootmem_nopanic(size) kmem_alloc_bootmem_nopanic_caller((size), __func__)
#define alloc_bootmem_align(size, align) kmem_alloc_bootmem_align_caller((size), (align), __func__)
#define alloc_bootmem_pages(size) kmem_alloc_bootmem_pages_caller((size), __func__)
#define alloc_bootmem_node(nid, size) kmem_alloc_bootmem_node_caller((nid), (size), __func__)
#define alloc_bootmem_pages_node(nid, size) kmem_alloc_bootmem_pages_node_caller((nid), (size), __func__)
#define alloc_bootmem_low(size) kmem_alloc_bootmem_low_caller((size), __func__)
#define alloc_bootmem_low_pages(size) kmem_alloc_bootmem_low_pages_caller((size), __func__)
#define reserve_bootmem(addr, size, flags) kmem_reserve_bootmem_caller((addr), (size), (flags), __func__)
#define free_bootmem(addr, size) kmem_free_bootmem((addr), (size))
#define free_bootmem_node(nid, addr, size) kmem_free_bootmem_node((nid), (addr), (size))
#define free_bootmem_late(addr, size) kmem_free_bootmem_late((addr), (size))
#define free_all_bootmem() kmem_free_all_bootmem()
#define memblock_alloc(size, align) kmem_memblock_alloc_caller((size), (align), __func__)
#define memblock_alloc_raw(size, align) kmem_memblock_alloc_raw_caller((size), (align), __func__)
#define memblock_alloc_from(size, align, min) kmem_memblock_alloc_from_caller((size), (align), (min), __func__)
#define memblock_alloc_low(size, align) kmem_memblock_alloc_low_caller((size), (align), __func__)
#define memblock_alloc_node(size, align, nid) kmem_memblock_alloc_node_caller((size), (align), (nid), __func__)
#define memblock_alloc_try_nid(size, align, min, max, nid)                                                        \
    kmem_memblock_alloc_try_nid_caller((size), (align), (min), (max), (nid), __func__)
#define memblock_alloc_try_nid_raw(size, align, min, max, nid)                                                    \
    kmem_memblock_alloc_try_nid_raw_caller((size), (align), (min), (max), (nid), __func__)
#define memblock_alloc_exact_nid_raw(size, align, min, max, nid)                                                  \
    kmem_memblock_alloc_exact_nid_raw_caller((size), (align), (min), (max), (nid), __func__)
#define memblock_phys_alloc(size, align) kmem_memblock_phys_alloc_caller((size), (align), __func__)
#define memblock_phys_alloc_range(size, align, start, end)                                                        \
    kmem_memblock_phys_alloc_range_caller((size), (align), (start), (end), __func__)
#define memblock_reserve(base, size) kmem_memblock_reserve_caller((base), (size), __func__)
#define memblock_free(ptr, size) kmem_memblock_free((ptr), (size))
#define memblock_phys_free(base, size) kmem_memblock_phys_free((base), (size))
#endif

/* ------------------------------------------------ allocation flags (GFP) */

/* kmem::AllocFlag. kmalloc and the page calls take them. */
#define KMEM_ALLOC_ZONE_DMA 0x01u   /* only ZONE_DMA (< 16 MiB) */
#define KMEM_ALLOC_ZONE_DMA32 0x02u /* ZONE_DMA32 and below (< 4 GiB) */
#define KMEM_ALLOC_EXACT_NODE 0x04u /* only the node asked for */
#define KMEM_ALLOC_NO_PCP 0x08u     /* bypass the per-CPU page lists */
#define KMEM_ALLOC_ZERO 0x10u       /* zeroed memory */
#define KMEM_ALLOC_RESERVES 0x20u   /* may use the whole min-watermark reserve */
#define KMEM_ALLOC_TAILS 0x40u      /* pages: tail descriptors (head lookups inside) */
#define KMEM_ALLOC_ATOMIC 0x80u     /* the caller cannot wait: required in interrupt handlers */
#define KMEM_GFP_KERNEL 0u
#define KMEM_GFP_ATOMIC KMEM_ALLOC_ATOMIC
#define KMEM_ANY_NODE 0xffffu

/* --------------------------------------------------------- kmalloc family */

/* EarlyWindow on. kmalloc(0) returns a pointer that is not NULL and must
 * not be dereferenced (kfree takes it). kfree and kmem_cache_free return
 * KMEM_OK, or why they refused the pointer (a double free, a pointer into
 * the middle of an object or into memory kmem never handed out) and
 * changed nothing. */
void *kmalloc(size_t size, uint32_t flags);
void *kzalloc(size_t size, uint32_t flags);
void *kcalloc(size_t n, size_t size, uint32_t flags);
void *krealloc(void *p, size_t new_size, uint32_t flags);
void *kmalloc_node(size_t size, uint32_t flags, unsigned node);
kmem_errc kfree(const void *p);
/* Usable size of an allocation (0 for NULL and memory kmem did not hand out). */
size_t ksize(const void *p);
/* Why the calling CPU's last failed allocation (kmalloc family, caches) failed. */
kmem_errc kmem_last_alloc_error(kmem_error *err);

/* ------------------------------------------------------------ kmem_cache */

typedef struct kmem_cache kmem_cache;

#define KMEM_CACHE_HWALIGN 0x01u  /* objects aligned to the cache line (Linux's SLAB_HWCACHE_ALIGN) */
#define KMEM_CACHE_POISON 0x02u   /* poison free objects, checked on alloc and by kmem_check */
#define KMEM_CACHE_RED_ZONE 0x04u /* guard bytes around objects, checked on free and by kmem_check */
#define KMEM_CACHE_DMA 0x08u      /* slabs from ZONE_DMA */
#define KMEM_CACHE_DMA32 0x10u    /* slabs from ZONE_DMA32 */

/* Linux's call: NULL on failure. kmem_cache_new says why. The name is
 * copied (at most 31 bytes). */
kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align, uint32_t flags, void (*ctor)(void *));
kmem_errc kmem_cache_new(const char *name, size_t size, size_t align, uint32_t flags, void (*ctor)(void *),
                         kmem_cache **out, kmem_error *err);
/* KMEM_BUSY while objects are allocated (the cache stays usable). */
kmem_errc kmem_cache_destroy(kmem_cache *c);
void *kmem_cache_alloc(kmem_cache *c, uint32_t flags);
void *kmem_cache_alloc_node(kmem_cache *c, uint32_t flags, unsigned node);
kmem_errc kmem_cache_free(kmem_cache *c, void *obj);
/* Empty slabs back to the buddy; returns the pages freed. */
uint64_t kmem_cache_shrink(kmem_cache *c);
/* The size ksize() reports for the cache's objects. */
size_t kmem_cache_size(const kmem_cache *c);
const char *kmem_cache_name(const kmem_cache *c);

/* ----------------------------------------------------------------- pages */

/* 2^order pages (order up to KMEM_MAX_ORDER) as a physical address;
 * node: KMEM_ANY_NODE or a preferred node. */
kmem_errc kmem_alloc_pages(unsigned order, uint32_t flags, unsigned node, uint64_t *pa, kmem_error *err);
kmem_errc kmem_free_pages(uint64_t pa, unsigned order, kmem_error *err);
/* Exactly `count` pages (1 .. 2^KMEM_MAX_ORDER), not rounded up. */
kmem_errc kmem_alloc_pages_exact(uint64_t count, uint32_t flags, uint64_t *pa, kmem_error *err);
kmem_errc kmem_free_pages_exact(uint64_t pa, uint64_t count, kmem_error *err);
/* Physical <-> virtual through the platform (the direct map). */
void *kmem_phys_to_virt(uint64_t pa);
uint64_t kmem_virt_to_phys(const void *va);

/* ------------------------------------------------------ books and reports */

/* Every layer's books: the buddy's free lists and counters, every slab
 * cache's slabs and freelists. */
kmem_errc kmem_check(kmem_error *err);

typedef struct kmem_totals {
    /* pages (buddy) */
    uint64_t managed, free, pcp, reserved, allocated;
    uint64_t metadata_bytes; /* page descriptors and section entries */
    /* slab */
    uint64_t caches, slabs, slab_pages, objects, active_objects;
    uint64_t large_allocations, large_pages; /* kmalloc above 8 KiB: whole pages */
} kmem_totals;
/* KMEM_WRONG_PHASE before EarlyWindow. */
kmem_errc kmem_get_totals(kmem_totals *out, kmem_error *err);

typedef void (*kmem_sink_fn)(void *ctx, const char *text, size_t len);
typedef enum kmem_report_kind {
    KMEM_REPORT_BUDDYINFO = 0, /* /proc/buddyinfo */
    KMEM_REPORT_ZONEINFO,      /* /proc/zoneinfo (the parts that apply) */
    KMEM_REPORT_MEMINFO,       /* /proc/meminfo (the memory lines) */
    KMEM_REPORT_SLABINFO       /* /proc/slabinfo */
} kmem_report_kind;
/* The report as text, in pieces, to sink (EarlyWindow on). */
kmem_errc kmem_report(kmem_report_kind kind, kmem_sink_fn sink, void *ctx, kmem_error *err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KMEM_KMEM_H */
