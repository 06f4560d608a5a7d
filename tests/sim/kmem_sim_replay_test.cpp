// kmem-sim's main job: the replay of the real Linux 6.1 boot shipped in
// data/linux-boot, checked against counts taken from the log by hand (the
// grep behind each number is next to it), the early-allocation report, and
// replays that must fail cleanly.
#include "sim_run.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace kmem {
namespace {

TEST(KmemSimReplay, TheShippedBootWithNoArguments) {
    SimRun r = run_sim("--json");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const auto &rp = j["replay"];
    EXPECT_EQ(rp["failed"], 0) << rp["failures"].dump();
    // grep -cE '\] memblock_(alloc[a-z_]*|phys_alloc[a-z_]*): [0-9]+ bytes' LOG  -> 48
    // ... | awk '{s += $4} END {print s}'                                       -> 22644236
    EXPECT_EQ(rp["memblock_allocs"], 48);
    EXPECT_EQ(rp["memblock_bytes"], 22644236);
    // grep -nE '\] memblock_(alloc|phys_alloc)' LOG | head -2: line 58 (reserve_real_mode)
    // comes before line 61, the first by init_mem_mapping.
    EXPECT_EQ(rp["before_page_tables"], 1);
    EXPECT_EQ(rp["before_page_tables_bytes"], 28672);
    EXPECT_EQ(rp["before_page_tables_callers"], nlohmann::json::array({"reserve_real_mode+0x50/0x89"}));
    EXPECT_EQ(rp["page_tables_arch"], "x86_64");
    EXPECT_EQ(rp["page_tables_line"], 61);
    EXPECT_EQ(rp["page_tables_caller"], "init_mem_mapping+0x1ee/0x31f");
    // memblock_reserve lines: 59, of which 49 by memblock_alloc_range_nid: 48
    // record the allocation printed before them, and line 87 follows none
    // (NODE_DATA: [0x3ffb5000-0x3ffdffff], 176128 bytes).
    EXPECT_EQ(rp["memblock_reserves"], 10);
    EXPECT_EQ(rp["unprinted_allocs"], 1);
    EXPECT_EQ(rp["unprinted_bytes"], 176128);
    // grep -c '\] memblock_phys_free: ' LOG -> 5
    EXPECT_EQ(rp["memblock_frees"], 5);
    // grep -c '\] kmalloc: ' -> 15644; grep -c '\] kmem_cache_alloc: ' -> 53674
    EXPECT_EQ(rp["slab_allocs"], 15644 + 53674);
    // grep -c '\] mm_page_alloc: ' -> 2633
    EXPECT_EQ(rp["page_allocs"], 2633);
    // Every free is matched, or of something allocated before tracing, or of
    // NULL (grep -E '\] (kfree|kmem_cache_free): ' | grep -c 'ptr=0000000000000000' -> 1924):
    // kfree 11502 + kmem_cache_free 10749 + mm_page_free 2286.
    EXPECT_EQ(rp["slab_frees"].get<uint64_t>() + rp["page_frees"].get<uint64_t>() +
                  rp["unmatched_frees"].get<uint64_t>() + 1924,
              11502u + 10749u + 2286u);
    // Sums of bytes_req= and bytes_alloc= over the kmalloc lines.
    EXPECT_EQ(rp["kmalloc_bytes_requested"], 8794129);
    EXPECT_EQ(rp["kmalloc_bytes_linux"], 11892640);
    const double ratio = rp["kmalloc_bytes_kmem"].get<double>() / rp["kmalloc_bytes_linux"].get<double>();
    EXPECT_LE(ratio, 0.85);
    EXPECT_GE(rp["kmalloc_bytes_kmem"].get<uint64_t>(), 8794129u) << "never less than asked for";
    EXPECT_GT(rp["peak_live_bytes"].get<uint64_t>(), 0u);
    EXPECT_GT(rp["replay_ns"].get<uint64_t>(), 0u);
    // The machine is the log's own: 1 GiB QEMU, one node.
    EXPECT_EQ(j["map"]["usable_bytes"], 1073213440u);
    // The early report: the 48 memblock allocations, NODE_DATA and the direct map's tables.
    const auto &early = j["early"]["allocations"];
    ASSERT_EQ(early.size(), 50u);
    EXPECT_EQ(early[0]["phase"], "EarlyWindow");
    EXPECT_EQ(early[0]["caller"], "reserve_real_mode+0x50/0x89");
    EXPECT_EQ(early[0]["size"], 28672);
    EXPECT_LT(early[0]["pa"].get<uint64_t>() + 28672, 0x100000u) << "below 1 MiB, as asked";
    EXPECT_EQ(early[1]["api"], "page_tables");
    EXPECT_EQ(early[2]["caller"], "init_mem_mapping+0x1ee/0x31f");
    for (const auto &e : early) EXPECT_FALSE(e["failed"].get<bool>()) << e.dump();
    const auto &phases = j["boot"]["phases"];
    ASSERT_EQ(phases.size(), 3u);
}

// The arm64 boot (Debian's Linux 6.1 under qemu-system-aarch64 -M virt -cpu
// cortex-a57 -m 2G -smp 2): a device-tree machine with no e820 map, memblock's
// special max_addr values, and a page-table allocator that is the first
// memblock user of all. L=data/linux-boot/linux-6.1-arm64-qemu-virt-2g-2cpu.log
TEST(KmemSimReplay, Arm64Boot) {
    SimRun r = run_sim("--json --replay " + test::data_path("linux-boot/linux-6.1-arm64-qemu-virt-2g-2cpu.log"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const auto &rp = j["replay"];
    EXPECT_EQ(rp["failed"], 0) << rp["failures"].dump();
    // grep -a -c -E '\] memblock_(alloc[a-z_]*|phys_alloc[a-z_]*): [0-9]+ bytes' $L    -> 1058
    // ... | grep -a -o '[0-9]* bytes' | cut -d' ' -f1 | paste -sd+ | bc              -> 41363288
    EXPECT_EQ(rp["memblock_allocs"], 1058);
    EXPECT_EQ(rp["memblock_bytes"], 41363288);
    // grep -a -n -m1 -E '\] memblock_(alloc|phys_alloc)' $L -> 25: early_pgtable_alloc,
    // the first of 1028 (grep -a -c 'early_pgtable_alloc+' $L); nothing came before it.
    EXPECT_EQ(rp["page_tables_arch"], "arm64");
    EXPECT_EQ(rp["page_tables_line"], 25);
    EXPECT_EQ(rp["page_tables_caller"], "early_pgtable_alloc+0x2c/0xb0");
    EXPECT_EQ(rp["before_page_tables"], 0);
    EXPECT_EQ(rp["before_page_tables_bytes"], 0);
    EXPECT_TRUE(rp["before_page_tables_callers"].empty());
    // grep -a -c '\] memblock_reserve: ' $L -> 1061: line 24 (the kernel image), 1058
    // recording the allocation printed before them, and two that follow none:
    // line 2091 NODE_DATA [0xbfbee380-0xbfbf0fff] (11392 bytes) and line 2113
    // the CMA area [0xb9a00000-0xbd9fffff] (64 MiB).
    EXPECT_EQ(rp["memblock_reserves"], 1);
    EXPECT_EQ(rp["unprinted_allocs"], 2);
    EXPECT_EQ(rp["unprinted_bytes"], 11392 + (64 << 20));
    EXPECT_EQ(rp["memblock_frees"], 6); // grep -a -c '\] memblock_phys_free: ' $L
    // grep -a -c '\] kmalloc: ' -> 9486; '\] kmem_cache_alloc: ' -> 40120; '\] mm_page_alloc: ' -> 2554
    EXPECT_EQ(rp["slab_allocs"], 9486 + 40120);
    EXPECT_EQ(rp["page_allocs"], 2554);
    // kfree 5255 + kmem_cache_free 1496 + mm_page_free 2884, of which 2087 free NULL
    // (grep -a -E '\] (kfree|kmem_cache_free): ' $L | grep -a -c 'ptr=0000000000000000').
    EXPECT_EQ(rp["slab_frees"].get<uint64_t>() + rp["page_frees"].get<uint64_t>() +
                  rp["unmatched_frees"].get<uint64_t>() + 2087,
              5255u + 1496u + 2884u);
    EXPECT_EQ(rp["kmalloc_bytes_requested"], 8913542); // bytes_req= summed over the kmalloc lines
    EXPECT_EQ(rp["kmalloc_bytes_linux"], 12704256);     // bytes_alloc= likewise
    EXPECT_GE(rp["kmalloc_bytes_kmem"].get<uint64_t>(), 8913542u) << "never less than asked for";
    EXPECT_LT(rp["kmalloc_bytes_kmem"].get<uint64_t>(), 12704256u);
    // The machine: "node 0: [mem 0x0000000040000000-0x00000000bfffffff]", RAM from 1 GiB,
    // and the early window where RAM starts.
    EXPECT_EQ(j["map"]["usable_bytes"], uint64_t{2} << 30);
    EXPECT_EQ(j["boot"]["window_start"], uint64_t{1} << 30);
    // kmem's tables came first, then Linux's 1028 table pages (more than the
    // record holds: 1024 rows, the rest counted as dropped).
    const auto &early = j["early"]["allocations"];
    ASSERT_EQ(early.size(), 1024u);
    EXPECT_EQ(early[0]["api"], "page_tables");
    EXPECT_EQ(early[0]["phase"], "DirectMap");
    EXPECT_EQ(early[1]["caller"], "early_pgtable_alloc+0x2c/0xb0");
    EXPECT_EQ(early[1]["max"], 0) << "max_addr=1 is MEMBLOCK_ALLOC_NOLEAKTRACE, not a limit";
    EXPECT_EQ(j["early"]["dropped"], 1058 + 2 + 1 - 1024);
    for (const auto &e : early) EXPECT_FALSE(e["failed"].get<bool>()) << e.dump();

    SimRun text = run_sim("--replay " + test::data_path("linux-boot/linux-6.1-arm64-qemu-virt-2g-2cpu.log"));
    ASSERT_EQ(text.status, 0) << text.err;
    EXPECT_NE(text.out.find("kmem: arm64: the first page-table allocation is line 25 (early_pgtable_alloc+0x2c/0xb0); "
                            "before it 0 allocations (0 B)"),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("early_pgtable_alloc+0x2c/0xb0 (1023 in a row)"), std::string::npos);
}

TEST(KmemSimReplay, TextReportPutsKmemBesideLinux) {
    SimRun r = run_sim("");
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char *part : {"kmem: boot phases: FirmwareMap", "kmem: allocations before Running",
                             "reserve_real_mode+0x50/0x89", "/proc/buddyinfo:", "/proc/slabinfo:",
                             "kmem beside Linux SLUB", "  kmalloc                       8794129       11892640",
                             "failed: 0",
                             "kmem: x86_64: the first page-table allocation is line 61 (init_mem_mapping+0x1ee/0x31f); "
                             "before it 1 allocations (28.00 KiB): reserve_real_mode+0x50/0x89"})
        EXPECT_NE(r.out.find(part), std::string::npos) << part;
    SimRun e = run_sim("--report early");
    ASSERT_EQ(e.status, 0) << e.err;
    EXPECT_EQ(e.out.rfind("kmem: allocations before Running", 0), 0u) << "only the early table";
    EXPECT_EQ(e.out.find("/proc/slabinfo"), std::string::npos);
    EXPECT_NE(e.out.find("EarlyWindow: 1 allocations, 28.00 KiB"), std::string::npos) << e.out;
}

std::string write_log(const std::string &name, const std::string &text) {
    fs::create_directories(KMEM_SIM_WORK_DIR);
    const std::string path = std::string(KMEM_SIM_WORK_DIR) + "/" + name;
    std::ofstream(path) << text;
    return path;
}

constexpr const char *kSmallMachine =
    "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
    "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x0000000007ffffff] usable\n";

TEST(KmemSimReplay, MalformedEventLineIsBadInput) {
    const std::string path = write_log("bad.log", std::string(kSmallMachine) +
                                                      "[    0.100000] kmalloc: call_site=foo+0x1/0x2 bytes_req=8\n");
    SimRun r = run_sim("--replay " + path);
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find(path + ":3: "), std::string::npos) << r.err;
}

TEST(KmemSimReplay, WhatKmemCannotServeIsReportedAsFailed) {
    // 128 MiB of RAM and a 512 MiB memblock allocation; a free of memory
    // never allocated; then ordinary traffic that must still work.
    const std::string path = write_log(
        "toobig.log",
        std::string(kSmallMachine) +
            "[    0.010000] memblock_alloc_try_nid: 536870912 bytes align=0x1000 nid=-1 from=0x0000000000000000 "
            "max_addr=0x0000000000000000 too_big+0x1/0x2\n"
            "[    0.020000] memblock_phys_free: [0x0000000001000000-0x0000000001000fff] stray+0x1/0x2\n"
            "[    0.300000] kmalloc: call_site=foo+0x1/0x2 ptr=ffff888001000000 bytes_req=100 bytes_alloc=128 "
            "gfp_flags=GFP_KERNEL node=-1 accounted=false\n"
            "[    0.300001] kfree: call_site=foo+0x5/0x9 ptr=ffff888001000000\n");
    SimRun r = run_sim("--json --replay " + path);
    EXPECT_EQ(r.status, 1) << "a failed replay step is a failed run";
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["replay"]["failed"], 2);
    EXPECT_EQ(j["replay"]["slab_allocs"], 1);
    EXPECT_EQ(j["replay"]["slab_frees"], 1);
    const std::string failures = j["replay"]["failures"].dump();
    EXPECT_NE(failures.find("line 3: memblock_alloc_try_nid"), std::string::npos) << failures;
    EXPECT_NE(failures.find("line 4: memblock_phys_free"), std::string::npos) << failures;
    EXPECT_EQ(j["early"]["allocations"][0]["failed"], true);
}

TEST(KmemSimReplay, OptionsThatExcludeEachOther) {
    EXPECT_EQ(run_sim("--builtin --replay x.log").status, 2);
    EXPECT_EQ(run_sim("--report nonsense").status, 2);
    EXPECT_EQ(run_sim("--replay /nonexistent.log").status, 2);
}

} // namespace
} // namespace kmem
