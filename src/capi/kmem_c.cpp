// SPDX-License-Identifier: MIT
//
// DOC: the C API (include/kmem/kmem.h) over the C++ one: the program's one
// MemorySystem and its staged firmware map (static storage, all zero until
// used), errors turned into kmem_error, and the bootmem/memblock calls of
// include/kmem/compat/linux.h under C-callable names. Freestanding: it is
// compiled into every build of the core (kmem_core_freestanding included).
#include <kmem/kmem.h>

#include <kmem/boot.h>
#include <kmem/compat/linux.h>
#include <kmem/memmap_parse.h>
#include <kmem/report.h>

#include "platform/current.h"

namespace kmem {
namespace {

// The C enums mirror the C++ ones value for value.
static_assert(KMEM_OK == static_cast<int>(Errc::ok) && KMEM_INVALID_ARGUMENT == static_cast<int>(Errc::invalid_argument) &&
              KMEM_INVALID_RANGE == static_cast<int>(Errc::invalid_range) && KMEM_CAPACITY == static_cast<int>(Errc::capacity) &&
              KMEM_TRUNCATED == static_cast<int>(Errc::truncated) && KMEM_BAD_MAGIC == static_cast<int>(Errc::bad_magic) &&
              KMEM_UNSUPPORTED_VERSION == static_cast<int>(Errc::unsupported_version) &&
              KMEM_MALFORMED == static_cast<int>(Errc::malformed) && KMEM_UNKNOWN_TYPE == static_cast<int>(Errc::unknown_type) &&
              KMEM_NO_ENTRIES == static_cast<int>(Errc::no_entries) && KMEM_NO_MEMORY == static_cast<int>(Errc::no_memory) &&
              KMEM_DOUBLE_FREE == static_cast<int>(Errc::double_free) &&
              KMEM_NOT_ALLOCATED == static_cast<int>(Errc::not_allocated) && KMEM_BUSY == static_cast<int>(Errc::busy) &&
              KMEM_WRONG_PHASE == static_cast<int>(Errc::wrong_phase) &&
              KMEM_WRONG_CONTEXT == static_cast<int>(Errc::wrong_context),
              "kmem_errc mirrors kmem::Errc");
static_assert(KMEM_WHERE_NONE == static_cast<int>(Where::none) && KMEM_WHERE_LINE == static_cast<int>(Where::line) &&
              KMEM_WHERE_BYTE == static_cast<int>(Where::byte));
static_assert(KMEM_MEM_USABLE == static_cast<int>(MemType::usable) &&
              KMEM_MEM_KERNEL_RESERVED == static_cast<int>(MemType::kernel_reserved) &&
              KMEM_MEM_ACPI_RECLAIMABLE == static_cast<int>(MemType::acpi_reclaimable) &&
              KMEM_MEM_ACPI_NVS == static_cast<int>(MemType::acpi_nvs) &&
              KMEM_MEM_PERSISTENT == static_cast<int>(MemType::persistent) &&
              KMEM_MEM_UNUSABLE == static_cast<int>(MemType::unusable) &&
              KMEM_MEM_RESERVED == static_cast<int>(MemType::reserved) && kMemTypeCount == 7);
static_assert(KMEM_MAP_DETECT == static_cast<int>(MapFormat::unknown) &&
              KMEM_MAP_LINUX_TEXT == static_cast<int>(MapFormat::linux_text) &&
              KMEM_MAP_EFI == static_cast<int>(MapFormat::efi) &&
              KMEM_MAP_MULTIBOOT1 == static_cast<int>(MapFormat::multiboot1) &&
              KMEM_MAP_MULTIBOOT2_TAG == static_cast<int>(MapFormat::multiboot2_tag) &&
              KMEM_MAP_MULTIBOOT2_INFO == static_cast<int>(MapFormat::multiboot2_info) &&
              KMEM_MAP_FDT == static_cast<int>(MapFormat::fdt));
static_assert(KMEM_PHASE_OFF == static_cast<int>(Phase::off) && KMEM_PHASE_RUNNING == static_cast<int>(Phase::running) &&
              KMEM_PHASE_RUNNING + 1 == kPhaseCount);
static_assert(KMEM_ALLOC_ZONE_DMA == kAllocZoneDma && KMEM_ALLOC_ZONE_DMA32 == kAllocZoneDma32 &&
              KMEM_ALLOC_EXACT_NODE == kAllocExactNode && KMEM_ALLOC_NO_PCP == kAllocNoPcp &&
              KMEM_ALLOC_ZERO == kAllocZero && KMEM_ALLOC_RESERVES == kAllocReserves &&
              KMEM_ALLOC_TAILS == kAllocTails && KMEM_ALLOC_ATOMIC == kAllocAtomic && KMEM_ANY_NODE == kAnyNode);
static_assert(KMEM_CACHE_HWALIGN == kCacheHwAlign && KMEM_CACHE_POISON == kCachePoison &&
              KMEM_CACHE_RED_ZONE == kCacheRedZone && KMEM_CACHE_DMA == kCacheDma && KMEM_CACHE_DMA32 == kCacheDma32);
static_assert(KMEM_NO_NODE == kNoNode && KMEM_MAX_ORDER == kMaxOrder);

// The program's memory system and the map staged for it. Both are all
// zero until used, so they cost .bss, not a copy in the program file.
constinit MemorySystem g_system;
constinit LazyMemoryMap<> g_staged;

MemoryMap &staged() {
    g_staged.bind();
    return g_staged;
}

kmem_errc report(kmem_error *err, const Error &e) {
    if (err) {
        err->code = static_cast<kmem_errc>(e.code);
        err->where = static_cast<kmem_where>(e.where);
        err->at = e.at;
        err->reason = e.reason ? e.reason : "";
    }
    return static_cast<kmem_errc>(e.code);
}
kmem_errc report(kmem_error *err, const Status &s) { return report(err, s.error()); }

// The layers exist from EarlyWindow on.
bool layers_up() { return g_system.phase() >= Phase::early_window; }
constexpr Error kNoLayers = make_error(Errc::wrong_phase, "kmem is not up yet: valid from EarlyWindow on");

KmemCache *native(kmem_cache *c) { return reinterpret_cast<KmemCache *>(c); }
const KmemCache *native(const kmem_cache *c) { return reinterpret_cast<const KmemCache *>(c); }

MemType e820_type(uint32_t t) {
    switch (t) {
    case 1: return MemType::usable;
    case 3: return MemType::acpi_reclaimable;
    case 4: return MemType::acpi_nvs;
    case 5: return MemType::unusable;
    case 7: // persistent memory (ACPI 6)
    case 12: return MemType::persistent; // the legacy PRAM type
    default: return MemType::reserved;
    }
}

uint64_t le(const unsigned char *p, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = bytes; i-- > 0;) v = v << 8 | p[i];
    return v;
}

Status parse_e820(const void *table, size_t count, size_t entry_size, MemoryMap &out) {
    if (!table && count) return make_error(Errc::invalid_argument, "null e820 table");
    if (entry_size < 20) return make_error(Errc::invalid_argument, "e820 entries are 20 bytes at least");
    const auto *p = static_cast<const unsigned char *>(table);
    for (size_t i = 0; i < count; ++i, p += entry_size) {
        const uint64_t base = le(p, 8), length = le(p + 8, 8);
        const uint32_t type = static_cast<uint32_t>(le(p + 16, 4));
        if (entry_size >= 24 && !(le(p + 20, 4) & 1)) continue; // ACPI 3: "ignore this entry"
        if (length == 0) continue;
        if (base > UINT64_MAX - length)
            return make_error(Errc::invalid_range, "e820 range wraps past the top of the 64-bit space", Where::byte,
                              i * entry_size);
        const Status s = out.add_untrimmed(base, base + length, e820_type(type));
        if (!s.ok()) return make_error(s.code(), s.reason(), Where::byte, i * entry_size);
    }
    out.trim_usable_to_pages();
    if (out.empty()) return make_error(Errc::no_entries, "the e820 table describes no memory");
    return {};
}

struct MappedCall {
    kmem_mapped_fn fn;
    void *ctx;
};
Status call_mapped(void *ctx, uint64_t start, uint64_t end) {
    const auto *m = static_cast<const MappedCall *>(ctx);
    const kmem_errc c = m->fn(m->ctx, start, end);
    if (c == KMEM_OK) return {};
    if (c < KMEM_OK || c > KMEM_WRONG_CONTEXT)
        return make_error(Errc::invalid_argument, "direct_map: the mapped callback returned no kmem_errc");
    return make_error(static_cast<Errc>(c), "direct_map: the mapped callback failed");
}

} // namespace
} // namespace kmem

using namespace kmem;

extern "C" {

// ---- errors

const char *kmem_errc_name(kmem_errc code) {
    if (code < KMEM_OK || code > KMEM_WRONG_CONTEXT) return "?";
    return errc_name(static_cast<Errc>(code));
}

// ---- the staged firmware map

void kmem_map_clear(void) { staged().clear(); }

kmem_errc kmem_map_parse(const void *buf, size_t len, kmem_map_format format, kmem_error *err) {
    if (format < KMEM_MAP_DETECT || format > KMEM_MAP_FDT) {
        staged().clear();
        return report(err, make_error(Errc::invalid_argument, "not a kmem_map_format"));
    }
    ParseOptions opts;
    opts.format = static_cast<MapFormat>(format);
    return report(err, parse_memory_map(buf, len, opts, staged()));
}

kmem_errc kmem_map_parse_efi(const void *buf, size_t map_size, size_t desc_size, uint32_t desc_version,
                             kmem_error *err) {
    MemoryMap &m = staged();
    m.clear();
    const Status s = parse_efi_memory_map(buf, map_size, desc_size, desc_version, m);
    if (!s.ok()) m.clear();
    return report(err, s);
}

kmem_errc kmem_map_parse_e820(const void *table, size_t count, size_t entry_size, kmem_error *err) {
    MemoryMap &m = staged();
    m.clear();
    const Status s = parse_e820(table, count, entry_size, m);
    if (!s.ok()) m.clear();
    return report(err, s);
}

kmem_errc kmem_map_add(uint64_t start, uint64_t end, kmem_mem_type type, unsigned node, kmem_error *err) {
    if (type < KMEM_MEM_USABLE || type > KMEM_MEM_RESERVED)
        return report(err, make_error(Errc::unknown_type, "not a kmem_mem_type"));
    if (node >= kMaxNodes) return report(err, make_error(Errc::invalid_argument, "node id beyond kmem's 64 nodes"));
    return report(err, staged().add(start, end, static_cast<MemType>(type), static_cast<uint16_t>(node)));
}

kmem_errc kmem_map_set_node(uint64_t start, uint64_t end, unsigned node, kmem_error *err) {
    if (node >= kMaxNodes) return report(err, make_error(Errc::invalid_argument, "node id beyond kmem's 64 nodes"));
    return report(err, staged().set_node(start, end, static_cast<uint16_t>(node)));
}

size_t kmem_map_count(void) { return staged().size(); }

kmem_errc kmem_map_range(size_t i, kmem_mem_range *out) {
    const MemoryMap &m = staged();
    if (i >= m.size() || !out) return KMEM_INVALID_ARGUMENT;
    out->start = m[i].start;
    out->end = m[i].end;
    out->type = static_cast<kmem_mem_type>(m[i].type);
    out->node = m[i].node;
    return KMEM_OK;
}

uint64_t kmem_map_bytes(kmem_mem_type type) {
    if (type < KMEM_MEM_USABLE || type > KMEM_MEM_RESERVED) return 0;
    return staged().bytes(static_cast<MemType>(type));
}

const char *kmem_mem_type_name(kmem_mem_type type) {
    if (type < KMEM_MEM_USABLE || type > KMEM_MEM_RESERVED) return "?";
    return mem_type_name(static_cast<MemType>(type));
}

// ---- boot phases

void kmem_slab_defaults(kmem_slab_options *opts) {
    if (!opts) return;
    const SlabOptions d{};
    opts->random_freelist = d.random_freelist;
    opts->init_on_alloc = d.init_on_alloc;
    opts->init_on_free = d.init_on_free;
    opts->debug_all = d.debug_all;
    opts->cpu_partial_bytes = d.cpu_partial_bytes;
    opts->min_slab_objects = d.min_slab_objects;
    opts->seed = 0;
}

kmem_errc kmem_boot_firmware_map(kmem_error *err) { return report(err, g_system.firmware_map(staged())); }

kmem_errc kmem_boot_reserve(uint64_t pa, uint64_t size, int exclusive, const char *why, kmem_error *err) {
    return report(err, g_system.reserve(pa, size, exclusive != 0, why ? why : "kmem_boot_reserve"));
}

kmem_errc kmem_boot_early_window(uint64_t start, uint64_t end, const kmem_slab_options *opts, kmem_error *err) {
    SlabOptions o{};
    uint64_t seed = 0;
    if (opts) {
        o.random_freelist = opts->random_freelist != 0;
        o.init_on_alloc = opts->init_on_alloc != 0;
        o.init_on_free = opts->init_on_free != 0;
        o.debug_all = opts->debug_all != 0;
        o.cpu_partial_bytes = opts->cpu_partial_bytes;
        o.min_slab_objects = opts->min_slab_objects;
        seed = opts->seed;
    }
    return report(err, g_system.early_window(start, end, o, seed));
}

kmem_errc kmem_boot_direct_map(kmem_mapped_fn mapped, void *ctx, uint64_t va_base, kmem_error *err) {
    if (va_base == KMEM_DIRECT_MAP_DEFAULT) va_base = kArchDirectMapBase;
    MappedCall call{mapped, ctx};
    return report(err, g_system.direct_map(mapped ? call_mapped : nullptr, &call, va_base));
}

kmem_errc kmem_boot_running(kmem_error *err) { return report(err, g_system.running()); }

kmem_phase kmem_boot_phase(void) { return static_cast<kmem_phase>(g_system.phase()); }

const char *kmem_phase_name(kmem_phase phase) {
    if (phase < KMEM_PHASE_OFF || phase > KMEM_PHASE_RUNNING) return "?";
    return phase_name(static_cast<Phase>(phase));
}

uint64_t kmem_boot_phase_start_ns(kmem_phase phase) {
    if (phase < KMEM_PHASE_OFF || phase > KMEM_PHASE_RUNNING) return 0;
    return g_system.times().start_ns[phase];
}

// ---- boot allocations

kmem_errc kmem_boot_alloc(const kmem_boot_request *req, uint64_t *pa, kmem_error *err) {
    if (!req || !pa) return report(err, make_error(Errc::invalid_argument, "kmem_boot_alloc: null request or result"));
    BootRequest r;
    r.size = req->size;
    r.align = req->align;
    r.min = req->min;
    r.max = req->max;
    r.goal = req->goal;
    r.nid = req->nid;
    r.exact_nid = req->exact_nid != 0;
    r.raw = req->raw != 0;
    r.caller = req->caller;
    const Result<uint64_t> got = g_system.alloc(r);
    if (got.ok()) *pa = got.value();
    return report(err, got.error());
}

kmem_errc kmem_boot_free(uint64_t pa, uint64_t size, kmem_error *err) { return report(err, g_system.free(pa, size)); }

size_t kmem_early_count(void) { return g_system.early_count(); }

kmem_errc kmem_early_record(size_t i, kmem_early_alloc *out) {
    if (i >= g_system.early_count() || !out) return KMEM_INVALID_ARGUMENT;
    const EarlyRecord &e = g_system.early(i);
    out->pa = e.pa;
    out->size = e.size;
    out->align = e.align;
    out->min = e.min;
    out->max = e.max;
    out->nid = e.nid;
    out->phase = static_cast<kmem_phase>(e.phase);
    out->api = boot_api_name(e.api);
    out->caller = e.caller;
    out->failed = e.failed;
    out->raw = e.raw;
    out->exact_nid = e.exact_nid;
    out->slab = e.slab;
    out->ns = e.ns;
    return KMEM_OK;
}

// ---- bootmem and memblock (include/kmem/compat/linux.h, with the caller's tag)

void *kmem_alloc_bootmem_caller(unsigned long size, const char *caller) { return compat::alloc_bootmem(size, caller); }
void *kmem_alloc_bootmem_nopanic_caller(unsigned long size, const char *caller) {
    return compat::alloc_bootmem_nopanic(size, caller);
}
void *kmem_alloc_bootmem_align_caller(unsigned long size, unsigned long align, const char *caller) {
    return compat::alloc_bootmem_align(size, align, caller);
}
void *kmem_alloc_bootmem_pages_caller(unsigned long size, const char *caller) {
    return compat::alloc_bootmem_pages(size, caller);
}
void *kmem_alloc_bootmem_node_caller(int nid, unsigned long size, const char *caller) {
    return compat::alloc_bootmem_node(nid, size, caller);
}
void *kmem_alloc_bootmem_pages_node_caller(int nid, unsigned long size, const char *caller) {
    return compat::alloc_bootmem_pages_node(nid, size, caller);
}
void *kmem_alloc_bootmem_low_caller(unsigned long size, const char *caller) {
    return compat::alloc_bootmem_low(size, caller);
}
void *kmem_alloc_bootmem_low_pages_caller(unsigned long size, const char *caller) {
    return compat::alloc_bootmem_low_pages(size, caller);
}
int kmem_reserve_bootmem_caller(unsigned long addr, unsigned long size, int flags, const char *caller) {
    return compat::reserve_bootmem(addr, size, flags, caller);
}
void kmem_free_bootmem(unsigned long addr, unsigned long size) { compat::free_bootmem(addr, size); }
void kmem_free_bootmem_node(int nid, unsigned long addr, unsigned long size) {
    compat::free_bootmem_node(nid, addr, size);
}
void kmem_free_bootmem_late(unsigned long addr, unsigned long size) { compat::free_bootmem_late(addr, size); }
unsigned long kmem_free_all_bootmem(void) { return compat::free_all_bootmem(); }

void *kmem_memblock_alloc_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, const char *caller) {
    return compat::memblock_alloc(size, align, caller);
}
void *kmem_memblock_alloc_raw_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, const char *caller) {
    return compat::memblock_alloc_raw(size, align, caller);
}
void *kmem_memblock_alloc_from_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, kmem_phys_addr_t min_addr,
                                      const char *caller) {
    return compat::memblock_alloc_from(size, align, min_addr, caller);
}
void *kmem_memblock_alloc_low_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, const char *caller) {
    return compat::memblock_alloc_low(size, align, caller);
}
void *kmem_memblock_alloc_node_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, int nid, const char *caller) {
    return compat::memblock_alloc_node(size, align, nid, caller);
}
void *kmem_memblock_alloc_try_nid_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, kmem_phys_addr_t min_addr,
                                         kmem_phys_addr_t max_addr, int nid, const char *caller) {
    return compat::memblock_alloc_try_nid(size, align, min_addr, max_addr, nid, caller);
}
void *kmem_memblock_alloc_try_nid_raw_caller(kmem_phys_addr_t size, kmem_phys_addr_t align,
                                             kmem_phys_addr_t min_addr, kmem_phys_addr_t max_addr, int nid,
                                             const char *caller) {
    return compat::memblock_alloc_try_nid_raw(size, align, min_addr, max_addr, nid, caller);
}
void *kmem_memblock_alloc_exact_nid_raw_caller(kmem_phys_addr_t size, kmem_phys_addr_t align,
                                               kmem_phys_addr_t min_addr, kmem_phys_addr_t max_addr, int nid,
                                               const char *caller) {
    return compat::memblock_alloc_exact_nid_raw(size, align, min_addr, max_addr, nid, caller);
}
kmem_phys_addr_t kmem_memblock_phys_alloc_caller(kmem_phys_addr_t size, kmem_phys_addr_t align, const char *caller) {
    return compat::memblock_phys_alloc(size, align, caller);
}
kmem_phys_addr_t kmem_memblock_phys_alloc_range_caller(kmem_phys_addr_t size, kmem_phys_addr_t align,
                                                       kmem_phys_addr_t start, kmem_phys_addr_t end,
                                                       const char *caller) {
    return compat::memblock_phys_alloc_range(size, align, start, end, caller);
}
int kmem_memblock_reserve_caller(kmem_phys_addr_t base, kmem_phys_addr_t size, const char *caller) {
    return compat::memblock_reserve(base, size, caller);
}
void kmem_memblock_free(void *ptr, size_t size) { compat::memblock_free(ptr, size); }
int kmem_memblock_phys_free(kmem_phys_addr_t base, kmem_phys_addr_t size) {
    return compat::memblock_phys_free(base, size);
}

// ---- kmalloc family

void *kmalloc(size_t size, uint32_t flags) { return layers_up() ? g_system.slab().kmalloc(size, flags) : nullptr; }
void *kzalloc(size_t size, uint32_t flags) { return layers_up() ? g_system.slab().kzalloc(size, flags) : nullptr; }
void *kcalloc(size_t n, size_t size, uint32_t flags) {
    return layers_up() ? g_system.slab().kcalloc(n, size, flags) : nullptr;
}
void *krealloc(void *p, size_t new_size, uint32_t flags) {
    return layers_up() ? g_system.slab().krealloc(p, new_size, flags) : nullptr;
}
void *kmalloc_node(size_t size, uint32_t flags, unsigned node) {
    if (!layers_up() || node > kAnyNode) return nullptr;
    return g_system.slab().kmalloc_node(size, flags, static_cast<uint16_t>(node));
}
kmem_errc kfree(const void *p) {
    if (!p) return KMEM_OK;
    if (!layers_up()) return KMEM_WRONG_PHASE;
    return static_cast<kmem_errc>(g_system.slab().kfree(p).code());
}
size_t ksize(const void *p) { return layers_up() ? g_system.slab().ksize(p) : 0; }

kmem_errc kmem_last_alloc_error(kmem_error *err) {
    if (!layers_up()) return report(err, kNoLayers);
    return report(err, g_system.slab().last_error());
}

// ---- kmem_cache

kmem_errc kmem_cache_new(const char *name, size_t size, size_t align, uint32_t flags, void (*ctor)(void *),
                         kmem_cache **out, kmem_error *err) {
    if (!out) return report(err, make_error(Errc::invalid_argument, "kmem_cache_new: null result"));
    *out = nullptr;
    if (!layers_up()) return report(err, kNoLayers);
    const Result<KmemCache *> c = g_system.slab().cache_create(name ? name : "", size, align, flags, ctor);
    if (c.ok()) *out = reinterpret_cast<kmem_cache *>(c.value());
    return report(err, c.error());
}

kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align, uint32_t flags, void (*ctor)(void *)) {
    kmem_cache *c = nullptr;
    (void)kmem_cache_new(name, size, align, flags, ctor, &c, nullptr);
    return c;
}

kmem_errc kmem_cache_destroy(kmem_cache *c) {
    if (!c) return KMEM_OK;
    if (!layers_up()) return KMEM_WRONG_PHASE;
    return static_cast<kmem_errc>(g_system.slab().cache_destroy(native(c)).code());
}

void *kmem_cache_alloc(kmem_cache *c, uint32_t flags) {
    return c && layers_up() ? g_system.slab().cache_alloc(native(c), flags) : nullptr;
}

void *kmem_cache_alloc_node(kmem_cache *c, uint32_t flags, unsigned node) {
    if (!c || !layers_up() || node > kAnyNode) return nullptr;
    return g_system.slab().cache_alloc(native(c), flags, static_cast<uint16_t>(node));
}

kmem_errc kmem_cache_free(kmem_cache *c, void *obj) {
    if (!c) return KMEM_INVALID_ARGUMENT;
    if (!layers_up()) return KMEM_WRONG_PHASE;
    return static_cast<kmem_errc>(g_system.slab().cache_free(native(c), obj).code());
}

uint64_t kmem_cache_shrink(kmem_cache *c) { return c && layers_up() ? g_system.slab().cache_shrink(native(c)) : 0; }

size_t kmem_cache_size(const kmem_cache *c) { return c ? native(c)->object_size : 0; }

const char *kmem_cache_name(const kmem_cache *c) { return c ? native(c)->name : ""; }

// ---- pages

kmem_errc kmem_alloc_pages(unsigned order, uint32_t flags, unsigned node, uint64_t *pa, kmem_error *err) {
    if (!pa) return report(err, make_error(Errc::invalid_argument, "kmem_alloc_pages: null result"));
    if (!layers_up()) return report(err, kNoLayers);
    if (node > kAnyNode) return report(err, make_error(Errc::invalid_argument, "kmem_alloc_pages: no such node"));
    const Result<uint64_t> r = g_system.phys().alloc_pages(order, flags, static_cast<uint16_t>(node));
    if (r.ok()) *pa = r.value();
    return report(err, r.error());
}

kmem_errc kmem_free_pages(uint64_t pa, unsigned order, kmem_error *err) {
    if (!layers_up()) return report(err, kNoLayers);
    return report(err, g_system.phys().free_pages(pa, order));
}

kmem_errc kmem_alloc_pages_exact(uint64_t count, uint32_t flags, uint64_t *pa, kmem_error *err) {
    if (!pa) return report(err, make_error(Errc::invalid_argument, "kmem_alloc_pages_exact: null result"));
    if (!layers_up()) return report(err, kNoLayers);
    const Result<uint64_t> r = g_system.phys().alloc_pages_exact(count, flags);
    if (r.ok()) *pa = r.value();
    return report(err, r.error());
}

kmem_errc kmem_free_pages_exact(uint64_t pa, uint64_t count, kmem_error *err) {
    if (!layers_up()) return report(err, kNoLayers);
    return report(err, g_system.phys().free_pages_exact(pa, count));
}

void *kmem_phys_to_virt(uint64_t pa) { return Plat::phys_to_virt(pa); }
uint64_t kmem_virt_to_phys(const void *va) { return Plat::virt_to_phys(va); }

// ---- books and reports

kmem_errc kmem_check(kmem_error *err) {
    if (!layers_up()) return report(err, kNoLayers);
    const Status phys = g_system.phys().check();
    if (!phys.ok()) return report(err, phys);
    return report(err, g_system.slab().check());
}

kmem_errc kmem_get_totals(kmem_totals *out, kmem_error *err) {
    if (!out) return report(err, make_error(Errc::invalid_argument, "kmem_get_totals: null result"));
    if (!layers_up()) return report(err, kNoLayers);
    const PhysTotals p = g_system.phys().totals();
    const SlabTotals s = g_system.slab().totals();
    out->managed = p.managed;
    out->free = p.free;
    out->pcp = p.pcp;
    out->reserved = p.reserved;
    out->allocated = p.allocated;
    out->metadata_bytes = p.metadata_bytes;
    out->caches = s.caches;
    out->slabs = s.slabs;
    out->slab_pages = s.slab_pages;
    out->objects = s.objects;
    out->active_objects = s.active_objects;
    out->large_allocations = s.large_allocations;
    out->large_pages = s.large_pages;
    return KMEM_OK;
}

kmem_errc kmem_report(kmem_report_kind kind, kmem_sink_fn sink, void *ctx, kmem_error *err) {
    if (!sink) return report(err, make_error(Errc::invalid_argument, "kmem_report: null sink"));
    if (!layers_up()) return report(err, kNoLayers);
    switch (kind) {
    case KMEM_REPORT_BUDDYINFO: report_buddyinfo(g_system.phys(), sink, ctx); return KMEM_OK;
    case KMEM_REPORT_ZONEINFO: report_zoneinfo(g_system.phys(), sink, ctx); return KMEM_OK;
    case KMEM_REPORT_MEMINFO: report_meminfo(g_system.phys(), sink, ctx); return KMEM_OK;
    case KMEM_REPORT_SLABINFO: g_system.slab().report_slabinfo(sink, ctx); return KMEM_OK;
    }
    return report(err, make_error(Errc::invalid_argument, "kmem_report: not a kmem_report_kind"));
}

} // extern "C"
