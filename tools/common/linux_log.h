// SPDX-License-Identifier: MIT
//
// DOC: Linux boot-log events for replay (hosted tools only).
//
// Reads the console output of a Linux boot made with `memblock=debug
// no_hash_pointers tp_printk` and the kmem:* trace events, and turns the
// memblock debug lines and the kmalloc / kmem_cache_* / kfree / mm_page_*
// trace lines into a list of events in log order. Everything else in the log
// is ignored. A line may carry a "<N>" log level, a "[ s.us]" timestamp
// (anything before it, such as terminal escapes, is dropped) and a
// "[     T1]"/"[    C0]" caller id; the event name must start the message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kmem::tools {

enum class LogEventKind : uint8_t {
    memblock_add, memblock_reserve, memblock_alloc,      // memblock_alloc = any memblock allocation line
    memblock_free,                                        // memblock_free / memblock_phys_free lines
    kmalloc, kmem_cache_alloc, kfree, kmem_cache_free, page_alloc, page_free,
};

// Which memblock API a memblock_alloc / memblock_free event came from, as printed: e.g.
// "memblock_alloc_try_nid", "memblock_alloc_try_nid_raw", "memblock_alloc_exact_nid_raw",
// "memblock_phys_alloc_range", "memblock_phys_free", "memblock_free", "memblock_reserve", "memblock_add".
struct LogEvent {
    LogEventKind kind;
    uint32_t line;          // 1-based line number in the log
    std::string api;        // the memblock function name as printed (memblock events only)
    std::string caller;     // call site, e.g. "sparse_init+0x9f/0x23c" (memblock) or call_site= value (kmem events); "" if none
    uint64_t base = 0, size = 0;   // memblock_add/reserve/free: [base, base+size) from "[0x..-0x..]" (inclusive end!)
                                   // memblock_alloc: size = "N bytes"
    uint64_t align = 0, min = 0, max = 0; // memblock_alloc: align=, from=, max_addr= (0 if absent)
    int32_t nid = -1;       // memblock_alloc: nid= if present, else -1 (also memblock_add_node's nid=)
    bool raw = false;       // memblock_alloc: API name ends in _raw
    bool exact_nid = false; // memblock_alloc: API is memblock_alloc_exact_nid_raw
    uint64_t ptr = 0;       // kmalloc/kmem_cache_alloc/kfree/kmem_cache_free: ptr=
    uint64_t bytes_req = 0, bytes_alloc = 0; // kmalloc/kmem_cache_alloc
    std::string gfp;        // gfp_flags= text
    int32_t node = -1;      // kmalloc/kmem_cache_alloc node=
    uint64_t pfn = 0;       // page_alloc/page_free: pfn= (hex)
    uint32_t order = 0;     // page_alloc/page_free: order=
    uint64_t ns = 0;        // the [seconds.micros] timestamp in ns
};

struct LinuxLog {
    std::vector<LogEvent> events;   // in log order
    uint64_t lines = 0;             // lines read
    uint64_t skipped_trace_lines = 0; // lines that look like kmem/memblock events but could not be parsed
};

// Parse the text of a log (`out` is reset first). Lines that are not events
// are ignored. On a line that names a known event but is malformed: if
// `strict`, return false and set `error` to "line N: reason" (`out` then holds
// what came before); otherwise count it in skipped_trace_lines and go on.
//
// Known names: memblock_add / memblock_add_node, memblock_reserve,
// memblock_phys_free / memblock_free / memblock_free_late, any
// memblock_alloc* / memblock_phys_alloc*, kmalloc(_node),
// kmem_cache_alloc(_node), kfree, kmem_cache_free, mm_page_alloc,
// mm_page_free(_batched). Other memblock_* lines (memblock_remove, ...) are
// not events.
bool parse_linux_log(std::string_view text, LinuxLog &out, std::string &error, bool strict = false);

// ---- reading the events as Linux meant them

// The function of a call site "name+0xoff/0xsize [module]": "name".
std::string_view caller_function(std::string_view caller);

// A memblock allocation's constraints as kmem's BootRequest takes them
// (include/kmem/boot.h): [min, max) with max 0 for no limit, and a goal that
// is tried first and dropped if nothing fits above it.
struct MemblockLimits {
    uint64_t min = 0, max = 0, goal = 0;
};
// Linux 5.x/6.x memblock: max_addr 0 (MEMBLOCK_ALLOC_ACCESSIBLE), 1
// (MEMBLOCK_ALLOC_NOLEAKTRACE; MEMBLOCK_ALLOC_KASAN before 5.17) and ~0
// (MEMBLOCK_ALLOC_ANYWHERE) are not limits: each means whatever memory is
// mapped, which for kmem is whatever is online. The memblock_alloc* calls
// retry without their lower limit when nothing fits above it (from= is a
// goal); memblock_phys_alloc* do not (from= is a limit). A goal at or above
// the limit, or at or above `ram_top` (the end of the machine's memory), is
// dropped: memblock finds nothing there and retries from 0.
MemblockLimits memblock_limits(const LogEvent &e, uint64_t ram_top);

// The architecture whose page-table setup makes a memblock allocation from
// this call site, or nullptr: "x86_64" for init_mem_mapping (where x86 sets
// up the direct map), "arm64" for early_pgtable_alloc (every table page of
// the linear map and the kernel's mapping), "riscv64" for
// alloc_{pte,pmd,pud,p4d}_fixmap (setup_vm_final's table pages). The first
// such allocation in a log is where Linux starts its page tables.
const char *page_table_arch(std::string_view caller);

} // namespace kmem::tools
