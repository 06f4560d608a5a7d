// SPDX-License-Identifier: MIT
//
// DOC: what libkmem-malloc.so exports besides the malloc family.
//
// kmem_malloc_get_info() fills the shim's counters (a program linked against the
// shim, or one that finds the symbol with dlsym, can tell the shim is in use);
// with KMEM_MALLOC_STATS=1 in the environment the shim prints the same line
// to stderr when the process exits (KMEM_MALLOC_STATS=/path: appends it to
// that file).
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmem_malloc_info {
    uint64_t mallocs;      // allocations served by kmem (slab or pages)
    uint64_t frees;        // frees of kmem memory
    uint64_t large;        // mmap()ed allocations (over 4 MiB or aligned over 4 KiB)
    uint64_t foreign;      // frees of pointers the shim never allocated
    uint64_t online_bytes; // simulated physical memory onlined
    uint64_t grows;        // sections onlined (bootstrap included)
    uint64_t threads;      // threads that called the shim
    uint64_t shared_calls; // calls served on the shared, locked CPU slot
    uint64_t returned_bytes; // freed page blocks given back to the OS (madvise)
    uint64_t slab_bytes;   // memory in slabs now (CPU-cached objects included)
    uint64_t free_bytes;   // free in the buddy (per-CPU page lists included), ever touched
    uint64_t untouched_bytes; // free in the buddy and never handed out (lazy runs)
    uint64_t slow_mallocs; // slab allocations that took the slow path (per-CPU freelist empty)
    uint64_t slow_frees;   // slab frees that took the slow path (a slab the CPU does not own)
    uint64_t node_locks;   // slab node-lock acquisitions by allocations and frees
};

void kmem_malloc_get_info(struct kmem_malloc_info *out);

#ifdef __cplusplus
}
#endif
