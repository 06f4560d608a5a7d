// SPDX-License-Identifier: MIT
//
// DOC: the demo kernel's self-tests, run on every CPU at once with a timer
// interrupt on every CPU whose handler allocates and frees (irq.h): pages
// until memory runs out and all of them back, slab traffic with cross-CPU
// frees, allocation batches until every CPU's handler has run a few hundred
// times, free_bootmem_late of a boot buffer, and every layer's check().
// Before and after, every CPU's slabs go back to their nodes and every empty
// slab to the buddy, so the free page count must come back exactly.
#pragma once

#include "irq.h"

#include <kmem/boot.h>

#include <stdint.h>

namespace kx {

// The first object of the slab traffic that came back wrong, and why.
struct SlabFailure {
    const char *why = nullptr; // null: none
    unsigned cpu = 0;          // the CPU that found it
    unsigned owner = 0;        // the CPU that allocated it
    unsigned index = 0;        // its index among the owner's objects
    uint64_t size = 0;         // bytes asked for
};

struct SelfTestResult {
    uint64_t free_before = 0, free_after = 0;   // buddy free pages (lists + per-CPU), slabs shrunk
    uint64_t pages_allocated = 0, blocks_allocated = 0;
    uint64_t slab_objects = 0, cross_cpu_frees = 0, slab_errors = 0;
    SlabFailure first_failure;
    uint64_t late_freed_pages = 0;
    unsigned tick_hz = 0;                       // the timer interrupt's rate on every CPU
    IrqCounts interrupts{};
    uint64_t min_cpu_interrupts = 0;            // the fewest any one CPU took (every CPU must take some)
    const char *check = "not run";
    bool ok = false;
};

SelfTestResult run_self_tests(kmem::MemorySystem &sys, uint64_t boot_buffer_pa, uint64_t boot_buffer_size);

} // namespace kx
