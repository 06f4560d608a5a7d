// SPDX-License-Identifier: MIT
//
// DOC: replay of a real Linux boot on kmem (hosted tools only).
//
// The events of a Linux boot log (tools/common/linux_log.h) drive a
// simulated machine booted through MemorySystem: each memblock line becomes
// the matching boot call in the phase it happened (the first allocation by
// the architecture's page-table allocator - x86 init_mem_mapping, arm64
// early_pgtable_alloc, linux_log.h's page_table_arch - is where Linux sets up
// its page tables: kmem builds its direct map there), then every kmalloc / kmem_cache_alloc / kfree /
// kmem_cache_free / mm_page_alloc / mm_page_free in order, on kmem's kmalloc,
// caches (one per call site and object size) and buddy. Frees are paired with
// their allocations by Linux pointer or pfn; frees of objects allocated
// before tracing began are counted, not failures.
#pragma once

#include "linux_log.h"
#include "sim_boot.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace kmem::tools {

// kmalloc bytes by Linux's size class (its bytes_alloc).
struct ReplayClass {
    uint64_t allocs = 0, bytes_requested = 0, bytes_linux = 0, bytes_kmem = 0;
};

struct ReplayResult {
    uint64_t memblock_allocs = 0, memblock_bytes = 0, before_page_tables = 0;
    // What came before Linux's first page-table allocation: bytes and call
    // sites in log order; and that allocation: its architecture
    // (page_table_arch; "" when the log has none), call site and line.
    uint64_t before_page_tables_bytes = 0;
    std::vector<std::string> before_page_tables_callers;
    std::string page_tables_arch, page_tables_caller;
    uint32_t page_tables_line = 0;
    // Allocations memblock made without an allocation line: a reservation by
    // memblock_alloc_range_nid that records no printed allocation
    // (memblock_phys_alloc_try_nid: NODE_DATA; CMA areas), replayed as an
    // allocation of the same size aligned as its Linux address.
    uint64_t unprinted_allocs = 0, unprinted_bytes = 0;
    uint64_t memblock_reserves = 0, memblock_frees = 0;
    uint64_t slab_allocs = 0, slab_frees = 0, page_allocs = 0, page_frees = 0;
    uint64_t unmatched_frees = 0; // frees of what was allocated before tracing began
    uint64_t reused = 0;          // a Linux pointer or pfn allocated again with no traced free
    uint64_t frees_of_failed = 0; // frees of what kmem failed to allocate (skipped)
    uint64_t failed = 0;
    uint64_t bytes_requested = 0, bytes_allocated_linux = 0, bytes_allocated_kmem = 0;
    uint64_t kmalloc_bytes_requested = 0, kmalloc_bytes_linux = 0, kmalloc_bytes_kmem = 0;
    uint64_t peak_live_bytes = 0;  // kmem: slab objects and pages live at once
    uint64_t replay_ns = 0;
    uint64_t caches = 0;           // caches made for kmem_cache_alloc (one per call site and size)
    std::map<uint64_t, ReplayClass> kmalloc_classes;
    std::vector<std::string> failures; // the first few, "line N: what"
};

// Replay `log` on `boot`, which start_machine() has put in FirmwareMap; on
// return it is Running. False (with `error`) only when the machine cannot go
// through its phases; a failed replay step counts in `failed`.
bool replay_linux_boot(const LinuxLog &log, SimBoot &boot, ReplayResult &out, std::string &error);

nlohmann::json replay_json(const ReplayResult &r);
void print_replay_text(std::ostream &os, const ReplayResult &r);

// The early-allocation report: every boot allocation before Running.
nlohmann::json early_json(const MemorySystem &sys);
void print_early_text(std::ostream &os, const MemorySystem &sys);

} // namespace kmem::tools
