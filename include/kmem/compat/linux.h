// SPDX-License-Identifier: MIT
//
// DOC: Linux's boot allocators, as thin wrappers over kmem.
//
// Linux 2.6.32's bootmem API and today's memblock API, with the semantics
// Linux documents (size, alignment, [min, max) range, exact or preferred
// node, zeroed or raw memory, panic or return on failure), each one call of
// MemorySystem::alloc / free / reserve on MemorySystem::current(): never a
// second allocator. They work in every phase from EarlyWindow on (reserve
// calls from FirmwareMap on); before that an allocation fails (or panics,
// for the bootmem calls that panic) with Errc::wrong_phase in last_error().
//
// Differences from Linux, by design: a pg_data_t argument is a node id
// (`int nid`); addresses are physical where Linux's are (bootmem's free and
// reserve calls, memblock_phys_*); the call-site tag defaults to the calling
// function's name (__builtin_FUNCTION), so the early-allocation report says
// who asked. Freeing part of an allocation gives back the whole pages inside
// it (page-served memory), or nothing (a kmalloc-served one, freed whole from
// its start) - as a part of a memblock range inside a page never reaches the
// buddy in Linux either.
#pragma once

#include <kmem/boot.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem::compat {

using phys_addr_t = uint64_t;

inline constexpr int NUMA_NO_NODE = -1;
inline constexpr uint64_t SMP_CACHE_BYTES = 64;
inline constexpr uint64_t PAGE_SIZE = kPageSize;
inline constexpr phys_addr_t MEMBLOCK_LOW_LIMIT = 0;
inline constexpr phys_addr_t MEMBLOCK_ALLOC_ANYWHERE = ~phys_addr_t{0};
inline constexpr phys_addr_t MEMBLOCK_ALLOC_ACCESSIBLE = 0;
inline constexpr phys_addr_t ARCH_LOW_ADDRESS_LIMIT = 0xffffffffull; // x86_64: below 4 GiB
inline constexpr phys_addr_t MAX_DMA_ADDRESS = 16ull << 20;          // bootmem's default goal
inline constexpr int BOOTMEM_DEFAULT = 0;
inline constexpr int BOOTMEM_EXCLUSIVE = 1 << 0;

// The implementation under every wrapper (src/boot/compat_linux.cpp).
namespace detail {
void *alloc_virt(const BootRequest &r, bool panic_on_failure);
phys_addr_t alloc_phys(const BootRequest &r);
int reserve(phys_addr_t base, phys_addr_t size, bool exclusive, const char *caller);
int free_phys(phys_addr_t base, phys_addr_t size);
int free_virt(const void *ptr, size_t size);
unsigned long free_all();
// memblock's max_addr: ANYWHERE and ACCESSIBLE both mean "no limit" in kmem
// (only mapped memory is online, which is memblock's accessible limit).
constexpr uint64_t limit(phys_addr_t max) { return max == MEMBLOCK_ALLOC_ANYWHERE ? 0 : max; }
inline BootRequest req(BootApi api, uint64_t size, uint64_t align, uint64_t min, uint64_t max, int nid,
                       bool exact, bool raw, uint64_t goal, const char *caller) {
    BootRequest r;
    r.size = size;
    r.align = align;
    r.min = min;
    r.max = max;
    r.nid = nid;
    r.exact_nid = exact;
    r.raw = raw;
    r.goal = goal;
    r.api = api;
    r.caller = caller;
    return r;
}
} // namespace detail

// ---------------------------------------------------------------- bootmem (2.6.32)
// Zeroed memory; the variants without _nopanic panic when nothing fits.
// Default alignment SMP_CACHE_BYTES, default goal MAX_DMA_ADDRESS (above 16 MiB
// if possible); _low: below 4 GiB; _pages: page-aligned.

inline void *alloc_bootmem(unsigned long size, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::alloc_bootmem, size, SMP_CACHE_BYTES, 0, 0, NUMA_NO_NODE,
                                          false, false, MAX_DMA_ADDRESS, caller), true);
}
inline void *alloc_bootmem_nopanic(unsigned long size, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::alloc_bootmem_nopanic, size, SMP_CACHE_BYTES, 0, 0,
                                          NUMA_NO_NODE, false, false, MAX_DMA_ADDRESS, caller), false);
}
inline void *alloc_bootmem_align(unsigned long size, unsigned long align,
                                 const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::alloc_bootmem_align, size, align, 0, 0, NUMA_NO_NODE, false,
                                          false, MAX_DMA_ADDRESS, caller), true);
}
inline void *alloc_bootmem_pages(unsigned long size, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::alloc_bootmem_pages, size, PAGE_SIZE, 0, 0, NUMA_NO_NODE,
                                          false, false, MAX_DMA_ADDRESS, caller), true);
}
inline void *alloc_bootmem_node(int nid, unsigned long size, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::alloc_bootmem_node, size, SMP_CACHE_BYTES, 0, 0, nid, false,
                                          false, MAX_DMA_ADDRESS, caller), true);
}
inline void *alloc_bootmem_pages_node(int nid, unsigned long size, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::alloc_bootmem_pages_node, size, PAGE_SIZE, 0, 0, nid, false,
                                          false, MAX_DMA_ADDRESS, caller), true);
}
inline void *alloc_bootmem_low(unsigned long size, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::alloc_bootmem_low, size, SMP_CACHE_BYTES, 0,
                                          ARCH_LOW_ADDRESS_LIMIT + 1, NUMA_NO_NODE, false, false, 0, caller),
                              true);
}
inline void *alloc_bootmem_low_pages(unsigned long size, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::alloc_bootmem_low_pages, size, PAGE_SIZE, 0,
                                          ARCH_LOW_ADDRESS_LIMIT + 1, NUMA_NO_NODE, false, false, 0, caller),
                              true);
}
// 0, or -EBUSY (BOOTMEM_EXCLUSIVE and part of it is reserved), -EINVAL.
inline int reserve_bootmem(unsigned long addr, unsigned long size, int flags,
                           const char *caller = __builtin_FUNCTION()) {
    return detail::reserve(addr, size, flags & BOOTMEM_EXCLUSIVE, caller);
}
inline void free_bootmem(unsigned long addr, unsigned long size) { (void)detail::free_phys(addr, size); }
inline void free_bootmem_node(int /*nid*/, unsigned long addr, unsigned long size) {
    (void)detail::free_phys(addr, size);
}
// After the page allocator is up - which in kmem is always: the same call.
inline void free_bootmem_late(unsigned long addr, unsigned long size) { (void)detail::free_phys(addr, size); }
// bootmem handed its free pages to the buddy here; kmem's were never
// anywhere else. Returns the free pages the buddy has.
inline unsigned long free_all_bootmem() { return detail::free_all(); }

// ---------------------------------------------------------------- memblock (6.x)
// memblock_alloc*: zeroed unless _raw; NULL on failure (the caller panics).
// memblock_phys_alloc*: not zeroed; 0 on failure.

inline void *memblock_alloc_try_nid(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr,
                                    phys_addr_t max_addr, int nid, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::memblock_alloc_try_nid, size, align, min_addr,
                                          detail::limit(max_addr), nid, false, false, 0, caller), false);
}
inline void *memblock_alloc_try_nid_raw(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr,
                                        phys_addr_t max_addr, int nid, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::memblock_alloc_try_nid_raw, size, align, min_addr,
                                          detail::limit(max_addr), nid, false, true, 0, caller), false);
}
inline void *memblock_alloc_exact_nid_raw(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr,
                                          phys_addr_t max_addr, int nid,
                                          const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::memblock_alloc_exact_nid_raw, size, align, min_addr,
                                          detail::limit(max_addr), nid, true, true, 0, caller), false);
}
inline void *memblock_alloc(phys_addr_t size, phys_addr_t align, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::memblock_alloc, size, align, MEMBLOCK_LOW_LIMIT, 0,
                                          NUMA_NO_NODE, false, false, 0, caller), false);
}
inline void *memblock_alloc_raw(phys_addr_t size, phys_addr_t align, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::memblock_alloc_raw, size, align, MEMBLOCK_LOW_LIMIT, 0,
                                          NUMA_NO_NODE, false, true, 0, caller), false);
}
inline void *memblock_alloc_from(phys_addr_t size, phys_addr_t align, phys_addr_t min_addr,
                                 const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::memblock_alloc_from, size, align, min_addr, 0, NUMA_NO_NODE,
                                          false, false, 0, caller), false);
}
inline void *memblock_alloc_low(phys_addr_t size, phys_addr_t align, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::memblock_alloc_low, size, align, MEMBLOCK_LOW_LIMIT,
                                          ARCH_LOW_ADDRESS_LIMIT + 1, NUMA_NO_NODE, false, false, 0, caller),
                              false);
}
inline void *memblock_alloc_node(phys_addr_t size, phys_addr_t align, int nid,
                                 const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_virt(detail::req(BootApi::memblock_alloc_node, size, align, MEMBLOCK_LOW_LIMIT, 0, nid,
                                          false, false, 0, caller), false);
}
inline phys_addr_t memblock_phys_alloc_range(phys_addr_t size, phys_addr_t align, phys_addr_t start,
                                             phys_addr_t end, const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_phys(detail::req(BootApi::memblock_phys_alloc_range, size, align, start,
                                          detail::limit(end), NUMA_NO_NODE, false, true, 0, caller));
}
inline phys_addr_t memblock_phys_alloc(phys_addr_t size, phys_addr_t align,
                                       const char *caller = __builtin_FUNCTION()) {
    return detail::alloc_phys(detail::req(BootApi::memblock_phys_alloc, size, align, 0, 0, NUMA_NO_NODE, false,
                                          true, 0, caller));
}
// 0 or -EINVAL (range wraps, wrong phase).
inline int memblock_reserve(phys_addr_t base, phys_addr_t size, const char *caller = __builtin_FUNCTION()) {
    return detail::reserve(base, size, false, caller);
}
inline void memblock_free(void *ptr, size_t size) { (void)detail::free_virt(ptr, size); }
inline int memblock_phys_free(phys_addr_t base, phys_addr_t size) { return detail::free_phys(base, size); }

} // namespace kmem::compat
