// SPDX-License-Identifier: MIT
//
// DOC: the demo kernel's self-tests, run on every CPU at once: pages until
// memory runs out and all of them back, slab traffic with cross-CPU frees,
// free_bootmem_late of a boot buffer, and every layer's check().
#pragma once

#include <kmem/boot.h>

#include <stdint.h>

namespace kx {

struct SelfTestResult {
    uint64_t free_before = 0, free_after = 0;   // buddy free pages (lists + per-CPU)
    uint64_t pages_allocated = 0, blocks_allocated = 0;
    uint64_t slab_objects = 0, cross_cpu_frees = 0, slab_errors = 0;
    uint64_t late_freed_pages = 0;
    const char *check = "not run";
    bool ok = false;
};

SelfTestResult run_self_tests(kmem::MemorySystem &sys, uint64_t boot_buffer_pa, uint64_t boot_buffer_size);

} // namespace kx
