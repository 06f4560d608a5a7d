// SPDX-License-Identifier: MIT
//
// The Linux boot-log event parser: every line kind field by field, line
// prefixes, CRLF, malformed lines in strict and lenient mode, and the real
// Linux 6.1 boot log against counts and sums taken from it with grep.
//
// Memblock ranges "[0xA-0xB]" are inclusive: size = B - A + 1.
#include "linux_log.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace kmem::tools {
namespace {

LinuxLog parse_ok(std::string_view text) {
    LinuxLog log;
    std::string error;
    EXPECT_TRUE(parse_linux_log(text, log, error, true)) << error;
    return log;
}

// One line that must give exactly one event.
LogEvent one(std::string_view line) {
    LinuxLog log = parse_ok(line);
    EXPECT_EQ(log.events.size(), 1u) << line;
    return log.events.empty() ? LogEvent{} : log.events[0];
}

// ---------------------------------------------------------------- memblock

TEST(LinuxLogMemblock, Reserve) {
    LogEvent e = one("[    0.035166] memblock_reserve: [0x00000000000f5ba0-0x00000000000f5baf] "
                     "smp_scan_config+0xa7/0xff");
    EXPECT_EQ(e.kind, LogEventKind::memblock_reserve);
    EXPECT_EQ(e.line, 1u);
    EXPECT_EQ(e.api, "memblock_reserve");
    EXPECT_EQ(e.caller, "smp_scan_config+0xa7/0xff");
    EXPECT_EQ(e.base, 0xf5ba0u);
    EXPECT_EQ(e.size, 0x10u);
    EXPECT_EQ(e.ns, 35166000u);
    EXPECT_EQ(e.nid, -1);
    EXPECT_EQ(e.ptr, 0u);
    EXPECT_EQ(e.gfp, "");
}

TEST(LinuxLogMemblock, AddAndAddNode) {
    LogEvent e = one("[    0.036544] memblock_add: [0x0000000000100000-0x000000003ffdffff] "
                     "e820__memblock_setup+0x65/0x7d");
    EXPECT_EQ(e.kind, LogEventKind::memblock_add);
    EXPECT_EQ(e.api, "memblock_add");
    EXPECT_EQ(e.base, 0x100000u);
    EXPECT_EQ(e.size, 0x3fee0000u);
    EXPECT_EQ(e.caller, "e820__memblock_setup+0x65/0x7d");
    EXPECT_EQ(e.ns, 36544000u);

    e = one("[    0.1] memblock_add_node: [0x0000000100000000-0x00000001ffffffff] nid=1 flags=0 "
            "numa_add_memblk+0x1/0x2");
    EXPECT_EQ(e.kind, LogEventKind::memblock_add);
    EXPECT_EQ(e.api, "memblock_add_node");
    EXPECT_EQ(e.base, 0x100000000u);
    EXPECT_EQ(e.size, 0x100000000u);
    EXPECT_EQ(e.nid, 1);
    EXPECT_EQ(e.caller, "numa_add_memblk+0x1/0x2");
    EXPECT_EQ(e.ns, 100000000u);
}

TEST(LinuxLogMemblock, Free) {
    LogEvent e = one("[    0.043189] memblock_phys_free: [0x000000003fc00000-0x000000003fdfffff] "
                     "init_mem_mapping+0x22e/0x31f");
    EXPECT_EQ(e.kind, LogEventKind::memblock_free);
    EXPECT_EQ(e.api, "memblock_phys_free");
    EXPECT_EQ(e.base, 0x3fc00000u);
    EXPECT_EQ(e.size, 0x200000u);
    EXPECT_EQ(e.caller, "init_mem_mapping+0x22e/0x31f");

    e = one("[    1.000000] memblock_free: [0x0000000000001000-0x0000000000001fff] x+0x1/0x2");
    EXPECT_EQ(e.kind, LogEventKind::memblock_free);
    EXPECT_EQ(e.api, "memblock_free");
    EXPECT_EQ(e.size, 0x1000u);
    EXPECT_EQ(e.ns, 1000000000u);

    // A size-0 call prints end = start - 1.
    e = one("[    1.0] memblock_reserve: [0x0000000000002000-0x0000000000001fff] x+0x1/0x2");
    EXPECT_EQ(e.base, 0x2000u);
    EXPECT_EQ(e.size, 0u);
}

TEST(LinuxLogMemblock, AllocTryNid) {
    LogEvent e = one("[    0.056057] memblock_alloc_try_nid: 448 bytes align=0x40 nid=0 "
                     "from=0x0000000038000000 max_addr=0x0000000040000000 sparse_init_nid+0x8d/0x34d");
    EXPECT_EQ(e.kind, LogEventKind::memblock_alloc);
    EXPECT_EQ(e.api, "memblock_alloc_try_nid");
    EXPECT_EQ(e.size, 448u);
    EXPECT_EQ(e.align, 0x40u);
    EXPECT_EQ(e.nid, 0);
    EXPECT_EQ(e.min, 0x38000000u);
    EXPECT_EQ(e.max, 0x40000000u);
    EXPECT_EQ(e.caller, "sparse_init_nid+0x8d/0x34d");
    EXPECT_FALSE(e.raw);
    EXPECT_FALSE(e.exact_nid);
    EXPECT_EQ(e.base, 0u);
    EXPECT_EQ(e.ns, 56057000u);

    e = one("[    0.055387] memblock_alloc_try_nid: 32768 bytes align=0x40 nid=-1 "
            "from=0x0000000000000000 max_addr=0x0000000000000000 sparse_init+0x9f/0x23c");
    EXPECT_EQ(e.nid, -1);
    EXPECT_EQ(e.size, 32768u);
    EXPECT_EQ(e.caller, "sparse_init+0x9f/0x23c");
}

TEST(LinuxLogMemblock, AllocRawAndExactNid) {
    LogEvent e = one("[    0.056491] memblock_alloc_try_nid_raw: 4096 bytes align=0x1000 nid=0 "
                     "from=0x0000000001000000 max_addr=0x0000000000000000 "
                     "vmemmap_alloc_block_zero.constprop.0+0xc/0x28");
    EXPECT_EQ(e.api, "memblock_alloc_try_nid_raw");
    EXPECT_TRUE(e.raw);
    EXPECT_FALSE(e.exact_nid);
    EXPECT_EQ(e.min, 0x1000000u);
    EXPECT_EQ(e.caller, "vmemmap_alloc_block_zero.constprop.0+0xc/0x28");

    e = one("[    0.056182] memblock_alloc_exact_nid_raw: 16777216 bytes align=0x200000 nid=0 "
            "from=0x0000000001000000 max_addr=0x0000000000000000 sparse_init_nid+0x11f/0x34d");
    EXPECT_EQ(e.kind, LogEventKind::memblock_alloc);
    EXPECT_EQ(e.api, "memblock_alloc_exact_nid_raw");
    EXPECT_TRUE(e.raw);
    EXPECT_TRUE(e.exact_nid);
    EXPECT_EQ(e.size, 16777216u);
    EXPECT_EQ(e.align, 0x200000u);
}

TEST(LinuxLogMemblock, PhysAllocRangeHasNoNid) {
    LogEvent e = one("[    0.037110] memblock_phys_alloc_range: 28672 bytes align=0x1000 "
                     "from=0x0000000000000000 max_addr=0x0000000000100000 reserve_real_mode+0x50/0x89");
    EXPECT_EQ(e.kind, LogEventKind::memblock_alloc);
    EXPECT_EQ(e.api, "memblock_phys_alloc_range");
    EXPECT_EQ(e.size, 28672u);
    EXPECT_EQ(e.align, 0x1000u);
    EXPECT_EQ(e.nid, -1);
    EXPECT_EQ(e.min, 0u);
    EXPECT_EQ(e.max, 0x100000u);
    EXPECT_FALSE(e.raw);
    EXPECT_EQ(e.caller, "reserve_real_mode+0x50/0x89");
}

// ---------------------------------------------------------------- kmem

TEST(LinuxLogKmem, Kmalloc) {
    LogEvent e = one("[    0.279519] kmalloc: call_site=tracepoint_add_func+0xf7/0x3f0 ptr=ffff8eac812bbc00 "
                     "bytes_req=64 bytes_alloc=96 gfp_flags=GFP_KERNEL node=-1 accounted=false");
    EXPECT_EQ(e.kind, LogEventKind::kmalloc);
    EXPECT_EQ(e.caller, "tracepoint_add_func+0xf7/0x3f0");
    EXPECT_EQ(e.ptr, 0xffff8eac812bbc00u);
    EXPECT_EQ(e.bytes_req, 64u);
    EXPECT_EQ(e.bytes_alloc, 96u);
    EXPECT_EQ(e.gfp, "GFP_KERNEL");
    EXPECT_EQ(e.node, -1);
    EXPECT_EQ(e.api, "");
    EXPECT_EQ(e.ns, 279519000u);

    e = one("[    2.5] kmalloc: call_site=f+0x1/0x2 ptr=ffff8eac80000000 bytes_req=1 "
            "bytes_alloc=8 gfp_flags=GFP_ATOMIC node=1 accounted=true");
    EXPECT_EQ(e.node, 1);
}

TEST(LinuxLogKmem, KmemCacheAlloc) {
    LogEvent e = one("[    0.281071] kmem_cache_alloc: call_site=__trace_define_field+0x33/0xc0 "
                     "ptr=ffff8eac8131fc08 bytes_req=56 bytes_alloc=56 gfp_flags=GFP_KERNEL|__GFP_ZERO "
                     "node=-1 accounted=false");
    EXPECT_EQ(e.kind, LogEventKind::kmem_cache_alloc);
    EXPECT_EQ(e.caller, "__trace_define_field+0x33/0xc0");
    EXPECT_EQ(e.ptr, 0xffff8eac8131fc08u);
    EXPECT_EQ(e.bytes_req, 56u);
    EXPECT_EQ(e.bytes_alloc, 56u);
    EXPECT_EQ(e.gfp, "GFP_KERNEL|__GFP_ZERO");
    EXPECT_EQ(e.node, -1);
}

TEST(LinuxLogKmem, Frees) {
    LogEvent e = one("[    0.403810] kfree: call_site=do_set_mempolicy+0xd0/0x150 ptr=ffff8eac812d1b00");
    EXPECT_EQ(e.kind, LogEventKind::kfree);
    EXPECT_EQ(e.caller, "do_set_mempolicy+0xd0/0x150");
    EXPECT_EQ(e.ptr, 0xffff8eac812d1b00u);
    EXPECT_EQ(e.ns, 403810000u);

    e = one("[    0.924451] kmem_cache_free: call_site=do_set_mempolicy+0x106/0x150 "
            "ptr=ffff8eac81326aa0 name=numa_policy");
    EXPECT_EQ(e.kind, LogEventKind::kmem_cache_free);
    EXPECT_EQ(e.caller, "do_set_mempolicy+0x106/0x150");
    EXPECT_EQ(e.ptr, 0xffff8eac81326aa0u);

    // kfree(NULL) and a module call site with a space in it.
    e = one("[    5.0] kfree: call_site=ext4_fill_super+0x10/0x20 [ext4] ptr=0000000000000000");
    EXPECT_EQ(e.caller, "ext4_fill_super+0x10/0x20 [ext4]");
    EXPECT_EQ(e.ptr, 0u);
}

TEST(LinuxLogKmem, Pages) {
    LogEvent e = one("[    0.282999] mm_page_alloc: page=fffff4f58004c800 pfn=0x1320 order=1 migratetype=0 "
                     "gfp_flags=__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP");
    EXPECT_EQ(e.kind, LogEventKind::page_alloc);
    EXPECT_EQ(e.pfn, 0x1320u);
    EXPECT_EQ(e.order, 1u);
    EXPECT_EQ(e.gfp, "__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP");
    EXPECT_EQ(e.caller, "");

    e = one("[    0.685033] mm_page_free: page=fffff4f580d94180 pfn=0x36506 order=3");
    EXPECT_EQ(e.kind, LogEventKind::page_free);
    EXPECT_EQ(e.pfn, 0x36506u);
    EXPECT_EQ(e.order, 3u);
    EXPECT_EQ(e.ns, 685033000u);
}

// ---------------------------------------------------------------- lines

TEST(LinuxLogLines, PrefixesAndNonEvents) {
    LinuxLog log = parse_ok(
        "SeaBIOS (version 1.16.2)\n"
        "\x1b[?7l\x1b[0mk[    0.000000] Linux version 6.1.0\n"               // 2: not an event
        "<6>[    1.000001] kfree: call_site=a+0x1/0x2 ptr=ffff000000000010\n" // 3: log level
        "kfree: call_site=b+0x1/0x2 ptr=ffff000000000020\n"                  // 4: no timestamp
        "\x1b[0mk[   51.042820] kfree: call_site=c+0x1/0x2 ptr=30\n"         // 5: junk first
        "[    2.000000][     T1] kfree: call_site=d+0x1/0x2 ptr=40\n"        // 6: caller id
        "[    0.1] rcu: Hierarchical RCU implementation.\n"
        "[    0.1] Kernel command line: memblock=debug trace_event=kmem:kmalloc\n"
        "[    0.1] kmalloc caches: ok\n"                       // name not followed by ':'
        "[    0.1] kfree:call_site=x\n"                        // no space after ':'
        "[    0.1] memblock_remove: [0x0-0xfff] x+0x1/0x2\n"   // not an event we replay
        "[    0.1] MEMBLOCK configuration:\n"
        "[    0.1]  memory[0x0]\t[0x0000000000001000-0x000000000009efff], 0x9e000 bytes flags: 0x0\n"
        "[    0.1] I kfree: call_site=x ptr=0\n");              // name must start the message
    ASSERT_EQ(log.events.size(), 4u);
    EXPECT_EQ(log.lines, 14u);
    EXPECT_EQ(log.skipped_trace_lines, 0u);
    EXPECT_EQ(log.events[0].line, 3u);
    EXPECT_EQ(log.events[0].ns, 1000001000u);
    EXPECT_EQ(log.events[0].ptr, 0xffff000000000010u);
    EXPECT_EQ(log.events[1].line, 4u);
    EXPECT_EQ(log.events[1].ns, 0u);
    EXPECT_EQ(log.events[1].caller, "b+0x1/0x2");
    EXPECT_EQ(log.events[2].line, 5u);
    EXPECT_EQ(log.events[2].ns, 51042820000u);
    EXPECT_EQ(log.events[2].ptr, 0x30u);
    EXPECT_EQ(log.events[3].line, 6u);
    EXPECT_EQ(log.events[3].ns, 2000000000u);
    EXPECT_EQ(log.events[3].caller, "d+0x1/0x2");
}

TEST(LinuxLogLines, Crlf) {
    LinuxLog log = parse_ok(
        "[    0.1] Linux version\r\n"
        "[    0.043189] memblock_phys_free: [0x000000003fc00000-0x000000003fdfffff] init_mem_mapping+0x22e/0x31f\r\n"
        "[    0.5] kfree: call_site=f+0x1/0x2 ptr=ffff8eac812d1b00\r\n"
        "[    0.6] kmem_cache_alloc: call_site=g+0x1/0x2 ptr=ffff8eac8131fc08 bytes_req=56 "
        "bytes_alloc=56 gfp_flags=GFP_KERNEL\r\n"
        "[    0.7] mm_page_free: page=fffff4f580d94180 pfn=0x36506 order=0\r"); // no final \n
    ASSERT_EQ(log.events.size(), 4u);
    EXPECT_EQ(log.lines, 5u);
    EXPECT_EQ(log.events[0].caller, "init_mem_mapping+0x22e/0x31f");
    EXPECT_EQ(log.events[0].size, 0x200000u);
    EXPECT_EQ(log.events[1].ptr, 0xffff8eac812d1b00u);
    EXPECT_EQ(log.events[2].gfp, "GFP_KERNEL");
    EXPECT_EQ(log.events[2].node, -1); // no node= (older kernels)
    EXPECT_EQ(log.events[3].order, 0u);
    EXPECT_EQ(log.events[3].line, 5u);
}

TEST(LinuxLogLines, EmptyText) {
    LinuxLog log = parse_ok("");
    EXPECT_EQ(log.lines, 0u);
    EXPECT_TRUE(log.events.empty());
}

// ---------------------------------------------------------------- malformed

struct Bad {
    const char *line;
    const char *reason; // the expected error, after "line 2: "
};

const Bad kBad[] = {
    {"[ 1.0] kfree: call_site=f+0x1/0x2", "kfree: missing ptr="},
    {"[ 1.0] kfree: call_site=f+0x1/0x2 ptr=zz", "kfree: bad ptr= value 'zz'"},
    {"[ 1.0] kfree: ptr=ffff", "kfree: missing call_site="},
    {"[ 1.0] kfree:", "kfree: missing call_site="},
    {"[ 1.0] kmalloc: call_site=f ptr=1 bytes_req=8 gfp_flags=GFP_KERNEL", "kmalloc: missing bytes_alloc="},
    {"[ 1.0] kmalloc: call_site=f ptr=1 bytes_req=-8 bytes_alloc=8 gfp_flags=GFP_KERNEL",
     "kmalloc: bad bytes_req= value '-8'"},
    {"[ 1.0] kmem_cache_alloc: call_site=f ptr=1 bytes_req=8 bytes_alloc=8 gfp_flags=G node=x",
     "kmem_cache_alloc: bad node= value 'x'"},
    {"[ 1.0] kmem_cache_free: junk call_site=f ptr=1", "kmem_cache_free: expected key=value, got 'junk'"},
    {"[ 1.0] mm_page_alloc: page=f pfn=0x10 migratetype=0", "mm_page_alloc: missing order="},
    {"[ 1.0] mm_page_free: page=f pfn=0x10 order=1x", "mm_page_free: bad order= value '1x'"},
    {"[ 1.0] mm_page_free: page=f pfn=10g order=1", "mm_page_free: bad pfn= value '10g'"},
    {"[ 1.0] memblock_reserve: 0x1000-0x1fff x+0x1/0x2", "memblock_reserve: expected '[0xSTART-0xEND]'"},
    {"[ 1.0] memblock_reserve: [0x1000-0x1fff x+0x1/0x2", "memblock_reserve: expected '[0xSTART-0xEND]'"},
    {"[ 1.0] memblock_add: [0x1000-0xzz] x+0x1/0x2", "memblock_add: expected '[0xSTART-0xEND]'"},
    {"[ 1.0] memblock_phys_free: [0x2000-0x0fff] x+0x1/0x2", "memblock_phys_free: range end below its start"},
    {"[ 1.0] memblock_alloc_try_nid: many bytes align=0x40", "memblock_alloc_try_nid: expected 'N bytes'"},
    {"[ 1.0] memblock_alloc_try_nid: 64 align=0x40 nid=0", "memblock_alloc_try_nid: expected 'N bytes'"},
    {"[ 1.0] memblock_alloc_try_nid: 64 bytes align=0xq nid=0 x", "memblock_alloc_try_nid: bad align= value '0xq'"},
    {"[ 1.0] memblock_alloc_try_nid: 64 bytes align=0x40 nid=zero x", "memblock_alloc_try_nid: bad nid= value 'zero'"},
    {"[ 1.0] memblock_phys_alloc_range: 64 bytes from=0x0 max_addr=0x1g x",
     "memblock_phys_alloc_range: bad max_addr= value '0x1g'"},
};

const char kGood[] = "[ 0.5] kfree: call_site=f+0x1/0x2 ptr=ffff8eac812d1b00\n";

TEST(LinuxLogMalformed, StrictStopsWithLineAndReason) {
    for (const Bad &b : kBad) {
        std::string text = std::string(kGood) + b.line + "\r\n" + kGood;
        LinuxLog log;
        std::string error;
        EXPECT_FALSE(parse_linux_log(text, log, error, true)) << b.line;
        EXPECT_EQ(error, std::string("line 2: ") + b.reason) << b.line;
        EXPECT_EQ(log.events.size(), 1u) << b.line;
    }
}

TEST(LinuxLogMalformed, LenientCountsAndGoesOn) {
    std::string text;
    for (const Bad &b : kBad) text += std::string(kGood) + b.line + "\n";
    text += kGood;
    LinuxLog log;
    std::string error;
    ASSERT_TRUE(parse_linux_log(text, log, error, false));
    EXPECT_EQ(error, "");
    EXPECT_EQ(log.skipped_trace_lines, std::size(kBad));
    EXPECT_EQ(log.events.size(), std::size(kBad) + 1);
    EXPECT_EQ(log.lines, 2 * std::size(kBad) + 1);
    EXPECT_EQ(log.events.back().line, log.lines);
}

// ---------------------------------------------------------------- reading events as Linux meant them

TEST(LinuxLogMeaning, CallerFunction) {
    EXPECT_EQ(caller_function("early_pgtable_alloc+0x2c/0xb0"), "early_pgtable_alloc");
    EXPECT_EQ(caller_function("put_pid.part.0+0x80/0xbc"), "put_pid.part.0");
    EXPECT_EQ(caller_function("foo+0x1/0x2 [virtio_net]"), "foo");
    EXPECT_EQ(caller_function("bare_name"), "bare_name");
    EXPECT_EQ(caller_function(""), "");
}

// memblock_limits(line, ram_top) for a 2 GiB machine whose RAM ends at 3 GiB.
MemblockLimits limits_of(std::string_view line) { return memblock_limits(one(line), uint64_t{3} << 30); }

TEST(LinuxLogMeaning, MemblockSpecialMaxAddrAreNoLimits) {
    // 0: MEMBLOCK_ALLOC_ACCESSIBLE; 1: MEMBLOCK_ALLOC_NOLEAKTRACE; ~0: MEMBLOCK_ALLOC_ANYWHERE.
    for (const char *max : {"0x0000000000000000", "0x0000000000000001", "0xffffffffffffffff"}) {
        const MemblockLimits l = limits_of(std::string("[0.0] memblock_phys_alloc_range: 4096 bytes align=0x1000 "
                                                       "from=0x0000000000000000 max_addr=") +
                                           max + " early_pgtable_alloc+0x2c/0xb0");
        EXPECT_EQ(l.max, 0u) << max;
        EXPECT_EQ(l.min, 0u);
        EXPECT_EQ(l.goal, 0u);
    }
    // A real limit stays one.
    const MemblockLimits real = limits_of("[0.0] memblock_phys_alloc_range: 28672 bytes align=0x1000 "
                                          "from=0x0000000000000000 max_addr=0x0000000000100000 reserve_real_mode+0x50/0x89");
    EXPECT_EQ(real.max, 0x100000u);
}

TEST(LinuxLogMeaning, MemblockFromIsAGoalForAllocAndALimitForPhysAlloc) {
    // memblock_alloc_try_nid retries without its lower limit: a goal.
    MemblockLimits l = limits_of("[0.0] memblock_alloc_try_nid: 896 bytes align=0x40 nid=0 from=0x00000000b8000000 "
                                 "max_addr=0x00000000c0000000 sparse_init_nid+0xb4/0x348");
    EXPECT_EQ(l.goal, 0xb8000000u);
    EXPECT_EQ(l.min, 0u);
    EXPECT_EQ(l.max, 0xc0000000u);
    // memblock_phys_alloc_range does not: a limit.
    l = limits_of("[0.0] memblock_phys_alloc_range: 2097152 bytes align=0x200000 from=0x0000000000100000 "
                  "max_addr=0x000000003ffe0000 init_mem_mapping+0x1ee/0x31f");
    EXPECT_EQ(l.min, 0x100000u);
    EXPECT_EQ(l.goal, 0u);
    EXPECT_EQ(l.max, 0x3ffe0000u);
    // arm64's __pa(MAX_DMA_ADDRESS) under KASLR lies above all memory: memblock
    // finds nothing there and retries from 0, so the goal is dropped.
    l = limits_of("[0.0] memblock_alloc_exact_nid_raw: 33554432 bytes align=0x200000 nid=0 from=0xfffff42100000000 "
                  "max_addr=0x0000000000000000 memmap_alloc+0x28/0x3c");
    EXPECT_EQ(l.goal, 0u);
    EXPECT_EQ(l.min, 0u);
    EXPECT_EQ(l.max, 0u);
    // A goal at or above a real limit: dropped too.
    l = limits_of("[0.0] memblock_alloc_try_nid: 64 bytes align=0x40 nid=-1 from=0x0000000080000000 "
                  "max_addr=0x0000000080000000 x+0x1/0x2");
    EXPECT_EQ(l.goal, 0u);
    EXPECT_EQ(l.max, 0x80000000u);
    // Below the top of memory with no limit: kept.
    l = limits_of("[0.0] memblock_alloc_try_nid: 253952 bytes align=0x1000 nid=0 from=0x0000000001000000 "
                  "max_addr=0x0000000000000000 pcpu_fc_alloc+0x120/0x19c");
    EXPECT_EQ(l.goal, 0x1000000u);
    EXPECT_EQ(l.max, 0u);
}

TEST(LinuxLogMeaning, PageTableAllocatorByArchitecture) {
    EXPECT_STREQ(page_table_arch("init_mem_mapping+0x1ee/0x31f"), "x86_64");
    EXPECT_STREQ(page_table_arch("early_pgtable_alloc+0x2c/0xb0"), "arm64");
    EXPECT_STREQ(page_table_arch("alloc_pte_fixmap+0x1c/0x30"), "riscv64");
    EXPECT_STREQ(page_table_arch("alloc_pmd_fixmap+0x1c/0x30"), "riscv64");
    EXPECT_EQ(page_table_arch("reserve_real_mode+0x50/0x89"), nullptr);
    EXPECT_EQ(page_table_arch("early_pgtable_alloc_not+0x1/0x2"), nullptr) << "the whole function name";
    EXPECT_EQ(page_table_arch(""), nullptr);
}

// ---------------------------------------------------------------- real log

TEST(LinuxLogReal, Linux61Qemu1g2cpu) {
    const std::string text = test::read_file(test::data_path("linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log"));
    auto t0 = std::chrono::steady_clock::now();
    LinuxLog log = parse_ok(text);
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("parsed %zu bytes, %zu events in %.1f ms\n", text.size(), log.events.size(), ms);
    EXPECT_EQ(log.skipped_trace_lines, 0u);
    EXPECT_EQ(log.lines, 97011u); // wc -l $L (the file ends in '\n')

    size_t count[10] = {};
    uint64_t kmalloc_req = 0, kmalloc_alloc = 0, cache_alloc = 0, reserved = 0, memblock_bytes = 0;
    uint64_t pages_alloc = 0, pages_free = 0, raw = 0, exact = 0, any_nid = 0;
    uint32_t last_line = 0;
    for (const LogEvent &e : log.events) {
        ASSERT_GT(e.line, last_line);
        last_line = e.line;
        count[size_t(e.kind)]++;
        switch (e.kind) {
        case LogEventKind::kmalloc: kmalloc_req += e.bytes_req, kmalloc_alloc += e.bytes_alloc; break;
        case LogEventKind::kmem_cache_alloc: cache_alloc += e.bytes_alloc; break;
        case LogEventKind::memblock_reserve: reserved += e.size; break;
        case LogEventKind::memblock_alloc:
            memblock_bytes += e.size, raw += e.raw, exact += e.exact_nid, any_nid += e.nid == -1;
            break;
        case LogEventKind::page_alloc: pages_alloc += uint64_t(1) << e.order; break;
        case LogEventKind::page_free: pages_free += uint64_t(1) << e.order; break;
        default: break;
        }
    }
    // L=data/linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log
    // grep -a -c '\] kmalloc: ' $L   (and so on for each name)
    EXPECT_EQ(count[size_t(LogEventKind::kmalloc)], 15644u);
    EXPECT_EQ(count[size_t(LogEventKind::kmem_cache_alloc)], 53674u);
    EXPECT_EQ(count[size_t(LogEventKind::kfree)], 11502u);
    EXPECT_EQ(count[size_t(LogEventKind::kmem_cache_free)], 10749u);
    EXPECT_EQ(count[size_t(LogEventKind::page_alloc)], 2633u);  // '\] mm_page_alloc: '
    EXPECT_EQ(count[size_t(LogEventKind::page_free)], 2286u);   // '\] mm_page_free: '
    EXPECT_EQ(count[size_t(LogEventKind::memblock_reserve)], 59u);
    EXPECT_EQ(count[size_t(LogEventKind::memblock_free)], 5u);  // '\] memblock_phys_free: '
    EXPECT_EQ(count[size_t(LogEventKind::memblock_add)], 2u);   // '\] memblock_add: '
    // grep -a -c -E '^\[ *[0-9]+\.[0-9]+\] (memblock_alloc[a-z_]*|memblock_phys_alloc[a-z_]*): ' $L
    EXPECT_EQ(count[size_t(LogEventKind::memblock_alloc)], 48u);
    // grep -a -c -E '(kmalloc|kmem_cache_alloc|kfree|kmem_cache_free|mm_page_alloc|mm_page_free|memblock_[a-z_]+):' $L
    EXPECT_EQ(log.events.size(), 96602u);

    // grep -a '\] kmalloc:' $L | grep -a -o 'bytes_req=[0-9]*' | cut -d= -f2 | paste -sd+ | bc
    EXPECT_EQ(kmalloc_req, 8794129u);
    EXPECT_EQ(kmalloc_alloc, 11892640u); // same with bytes_alloc
    EXPECT_EQ(cache_alloc, 12770480u);   // same for '\] kmem_cache_alloc:' bytes_alloc
    // grep -a '\] memblock_reserve: ' $L | sed -E 's/.*\[0x([0-9a-f]+)-0x([0-9a-f]+)\].*/\1 \2/' |
    //   while read a b; do echo $(( 0x$b - 0x$a + 1 )); done | paste -sd+ | bc
    EXPECT_EQ(reserved, 23945759u);
    // grep -a -E '\] memblock_(alloc|phys_alloc)[a-z_]*: ' $L | grep -a -o '[0-9]* bytes' | cut -d' ' -f1 | paste -sd+ | bc
    EXPECT_EQ(memblock_bytes, 22644236u);
    EXPECT_EQ(raw, 3u);       // grep -a -c -E '\] memblock_alloc[a-z_]*_raw: ' $L
    EXPECT_EQ(exact, 1u);     // grep -a -n '\] memblock_alloc_exact_nid_raw' $L   (line 104)
    EXPECT_EQ(any_nid, 42u);  // 40 memblock_alloc* with nid=-1, plus the 2 phys_alloc_range without nid=
    //   grep -a -E '\] memblock_alloc[a-z_]*: ' $L | grep -a -c 'nid=-1'
    // grep -a '\] mm_page_alloc:' $L | grep -a -o 'order=[0-9]*' | cut -d= -f2 | awk '{s+=2^$1} END{print s}'
    EXPECT_EQ(pages_alloc, 5957u);
    EXPECT_EQ(pages_free, 181017u); // same for '\] mm_page_free:'

    // grep -a -n -m1 '\] memblock_' $L   -> 44: memblock_reserve [0xf5ba0-0xf5baf] smp_scan_config+0xa7/0xff
    ASSERT_FALSE(log.events.empty());
    const LogEvent &first = log.events.front();
    EXPECT_EQ(first.line, 44u);
    EXPECT_EQ(first.kind, LogEventKind::memblock_reserve);
    EXPECT_EQ(first.base, 0xf5ba0u);
    EXPECT_EQ(first.size, 0x10u);
    EXPECT_EQ(first.caller, "smp_scan_config+0xa7/0xff");
    // grep -a -n -E '\] (kmalloc|kmem_cache_alloc|kfree|kmem_cache_free|mm_page_alloc|mm_page_free|memblock_[a-z_]+): ' $L | tail -1
    //   -> 96992: mm_page_alloc pfn=0x29c4 order=0 gfp_flags=GFP_KERNEL at 51.040693
    const LogEvent &last = log.events.back();
    EXPECT_EQ(last.line, 96992u);
    EXPECT_EQ(last.kind, LogEventKind::page_alloc);
    EXPECT_EQ(last.pfn, 0x29c4u);
    EXPECT_EQ(last.order, 0u);
    EXPECT_EQ(last.gfp, "GFP_KERNEL");
    EXPECT_EQ(last.ns, 51040693000u);
    // grep -a -n '\] kmem_cache_free:' $L | tail -1   -> 96989
    const LogEvent &cf = log.events[log.events.size() - 4];
    EXPECT_EQ(cf.line, 96989u);
    EXPECT_EQ(cf.kind, LogEventKind::kmem_cache_free);
    EXPECT_EQ(cf.ptr, 0xffff8eacb7619000u);
    EXPECT_EQ(cf.caller, "kern_path_create+0x39/0x50");
    EXPECT_EQ(cf.ns, 51039524000u);
}

} // namespace
} // namespace kmem::tools

namespace kmem::tools {
namespace {

// The arm64 boot: CRLF line ends throughout (grep -a -c $'\r$' $L -> 64205,
// every line), no e820 map, and 1028 page-table pages from memblock.
TEST(LinuxLogReal, Linux61Arm64QemuVirt2g2cpu) {
    const std::string text = test::read_file(test::data_path("linux-boot/linux-6.1-arm64-qemu-virt-2g-2cpu.log"));
    LinuxLog log = parse_ok(text);
    EXPECT_EQ(log.skipped_trace_lines, 0u);
    EXPECT_EQ(log.lines, 64205u); // wc -l $L

    size_t count[10] = {};
    uint64_t kmalloc_req = 0, kmalloc_alloc = 0, cache_alloc = 0, reserved = 0, memblock_bytes = 0;
    uint64_t pages_alloc = 0, pages_free = 0, raw = 0, exact = 0, any_nid = 0, page_tables = 0, max_one = 0;
    for (const LogEvent &e : log.events) {
        count[size_t(e.kind)]++;
        switch (e.kind) {
        case LogEventKind::kmalloc: kmalloc_req += e.bytes_req, kmalloc_alloc += e.bytes_alloc; break;
        case LogEventKind::kmem_cache_alloc: cache_alloc += e.bytes_alloc; break;
        case LogEventKind::memblock_reserve: reserved += e.size; break;
        case LogEventKind::memblock_alloc:
            memblock_bytes += e.size, raw += e.raw, exact += e.exact_nid, any_nid += e.nid == -1;
            page_tables += page_table_arch(e.caller) != nullptr;
            max_one += e.max == 1;
            break;
        case LogEventKind::page_alloc: pages_alloc += uint64_t(1) << e.order; break;
        case LogEventKind::page_free: pages_free += uint64_t(1) << e.order; break;
        default: break;
        }
    }
    // L=data/linux-boot/linux-6.1-arm64-qemu-virt-2g-2cpu.log; grep -a -c '\] kmalloc: ' $L (and so on)
    EXPECT_EQ(count[size_t(LogEventKind::kmalloc)], 9486u);
    EXPECT_EQ(count[size_t(LogEventKind::kmem_cache_alloc)], 40120u);
    EXPECT_EQ(count[size_t(LogEventKind::kfree)], 5255u);
    EXPECT_EQ(count[size_t(LogEventKind::kmem_cache_free)], 1496u);
    EXPECT_EQ(count[size_t(LogEventKind::page_alloc)], 2554u);
    EXPECT_EQ(count[size_t(LogEventKind::page_free)], 2884u);
    EXPECT_EQ(count[size_t(LogEventKind::memblock_reserve)], 1061u);
    EXPECT_EQ(count[size_t(LogEventKind::memblock_free)], 6u); // '\] memblock_phys_free: '
    EXPECT_EQ(count[size_t(LogEventKind::memblock_add)], 0u);  // memblock=debug comes after the DT's memory
    // grep -a -c -E '^\[ *[0-9]+\.[0-9]+\] (memblock_alloc[a-z_]*|memblock_phys_alloc[a-z_]*): ' $L
    EXPECT_EQ(count[size_t(LogEventKind::memblock_alloc)], 1058u);
    // grep -a -c -E '\] memblock_phys_alloc_range: .* early_pgtable_alloc\+' $L, all with max_addr=0x...01
    EXPECT_EQ(page_tables, 1028u);
    EXPECT_EQ(max_one, 1028u);
    // grep -a -c -E '\] (kmalloc|kmem_cache_alloc|kfree|kmem_cache_free|mm_page_alloc|mm_page_free|memblock_[a-z_]+): ' $L
    //   -> 63922, less the 2 memblock_remove lines (not events)
    EXPECT_EQ(log.events.size(), 63920u);
    // grep -a '\] kmalloc:' $L | grep -a -o 'bytes_req=[0-9]*' | cut -d= -f2 | paste -sd+ | bc
    EXPECT_EQ(kmalloc_req, 8913542u);
    EXPECT_EQ(kmalloc_alloc, 12704256u); // same with bytes_alloc
    EXPECT_EQ(cache_alloc, 11014552u);   // same for '\] kmem_cache_alloc:' bytes_alloc
    EXPECT_EQ(reserved, 142037976u);     // memblock_reserve sizes, as for the x86 log
    EXPECT_EQ(memblock_bytes, 41363288u);
    EXPECT_EQ(raw, 3u);      // grep -a -c -E '\] memblock_alloc[a-z_]*_raw: ' $L
    EXPECT_EQ(exact, 1u);    // memmap_alloc's memblock_alloc_exact_nid_raw
    EXPECT_EQ(any_nid, 1028u + 24u); // the phys_alloc_range lines have no nid=; 24 memblock_alloc* say nid=-1
    EXPECT_EQ(pages_alloc, 5785u);   // 2^order summed over mm_page_alloc
    EXPECT_EQ(pages_free, 484121u);  // ... and mm_page_free

    // grep -a -n -m1 '\] memblock_' $L -> 22: memblock_remove (not an event); 24: the kernel image
    ASSERT_FALSE(log.events.empty());
    EXPECT_EQ(log.events.front().line, 24u);
    EXPECT_EQ(log.events.front().kind, LogEventKind::memblock_reserve);
    EXPECT_EQ(log.events.front().base, 0x40210000u);
    EXPECT_EQ(log.events.front().size, 0x2000000u);
    EXPECT_EQ(log.events[1].line, 25u);
    EXPECT_EQ(log.events[1].caller, "early_pgtable_alloc+0x2c/0xb0");
    // ... | tail -1 -> 64182: mm_page_alloc pfn=0x43b2f order=0 gfp_flags=GFP_KERNEL (the CR is not part of it)
    EXPECT_EQ(log.events.back().line, 64182u);
    EXPECT_EQ(log.events.back().pfn, 0x43b2fu);
    EXPECT_EQ(log.events.back().gfp, "GFP_KERNEL");
    EXPECT_EQ(log.events.back().ns, 22966263000u);
}

} // namespace
} // namespace kmem::tools
