// kmem-sim as a user runs it: exit codes, the one-line errors, the JSON.
#include "sim_run.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace kmem {
namespace {


std::string write_temp(const std::string &name, const std::string &content) {
    fs::create_directories(KMEM_SIM_WORK_DIR);
    const std::string path = std::string(KMEM_SIM_WORK_DIR) + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

// The JSON's own arithmetic must hold for any map.
void check_json_consistent(const nlohmann::json &map) {
    uint64_t usable = 0, prev_end = 0;
    ASSERT_EQ(map["entries"].get<size_t>(), map["ranges"].size());
    for (const auto &r : map["ranges"]) {
        const auto start = r["start"].get<uint64_t>(), end = r["end"].get<uint64_t>();
        EXPECT_LT(start, end);
        EXPECT_LE(prev_end, start);
        prev_end = end;
        if (r["type"] == "usable") {
            usable += end - start;
            EXPECT_EQ(start % 4096, 0u);
            EXPECT_EQ(end % 4096, 0u);
        }
    }
    EXPECT_EQ(map["usable_bytes"].get<uint64_t>(), usable);
}

TEST(KmemSim, BuiltinMachineRuns) {
    SimRun r = run_sim("--builtin");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("kmem: [mem 0x0000000000000000-0x0000000000098fff] usable node 0"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("63 ranges, 8 NUMA nodes"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(KmemSim, JsonForEveryRealMap) {
    // usable bytes, entries and nodes as worked out in linux_text_test.cpp.
    const struct {
        const char *file;
        uint64_t usable;
        size_t entries;
        unsigned nodes;
    } maps[] = {
        {"memmaps/asrock-b250m-hdv-desktop-i5-7400-8g.txt", 8551952384u, 20, 1},
        {"memmaps/aws-ec2-xen-hvm-1g.txt", 1073340416u, 5, 1},
        {"memmaps/dell-inspiron-5000e-2000-320m-sizeat.txt", 335081472u, 7, 1},
        {"memmaps/dell-poweredge-6400-4g-no-remap-2003.txt", 3757637632u, 7, 1},
        {"memmaps/hp-pavilion-dm1-laptop-amd-e450.txt", 3868626944u, 16, 1},
        {"memmaps/hyperv-wsl2-12g.txt", 13653114880u, 5, 1},
        {"memmaps/intel-440bx-p2-2001-128m-unsorted.txt", 133754880u, 7, 1},
        {"memmaps/lenovo-g50-amd-laptop-uefi-insyde.efi.txt", 5327044608u, 19, 1},
        {"memmaps/lenovo-g50-amd-laptop-uefi-insyde.txt", 5327044608u, 19, 1},
        {"memmaps/qemu-i440fx-256m-newfmt-gaps.txt", 267907072u, 7, 1},
        {"memmaps/qemu-q35-seabios-8g.txt", 8589398016u, 10, 1},
        {"memmaps/rpi4-8g-arm64-dt-layout.txt", 8443133952u, 3, 1},
        {"memmaps/supermicro-h11dsu-epyc-naples-1tib-8numa.txt", 1099409465344u, 63, 8},
        {"linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log", 1073213440u, 7, 1},
    };
    for (const auto &m : maps) {
        SCOPED_TRACE(m.file);
        SimRun r = run_sim("--json --map " + test::data_path(m.file));
        ASSERT_EQ(r.status, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        const auto &map = j["map"];
        EXPECT_EQ(map["usable_bytes"].get<uint64_t>(), m.usable);
        EXPECT_EQ(map["entries"].get<size_t>(), m.entries);
        EXPECT_EQ(map["nodes"].get<unsigned>(), m.nodes);
        EXPECT_TRUE(map.contains("reserved_bytes"));
        check_json_consistent(map);
    }
}

// The buddy's books as kmem-sim reports them must add up for every map.
TEST(KmemSim, BootJsonForEveryRealMap) {
    for (const char *file : {"memmaps/qemu-q35-seabios-8g.txt", "memmaps/rpi4-8g-arm64-dt-layout.txt",
                             "memmaps/supermicro-h11dsu-epyc-naples-1tib-8numa.txt",
                             "memmaps/intel-440bx-p2-2001-128m-unsorted.txt",
                             "linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log"}) {
        SCOPED_TRACE(file);
        SimRun r = run_sim("--json --map " + test::data_path(file));
        ASSERT_EQ(r.status, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        const auto &phys = j["phys"];
        const auto usable_pages = j["map"]["usable_bytes"].get<uint64_t>() / 4096;
        const auto managed = phys["managed_pages"].get<uint64_t>();
        const auto meta = phys["metadata_bytes"].get<uint64_t>();
        // Every usable page is managed except those holding page descriptors
        // inside the memory they describe; arrays borrowed from the buddy are
        // managed pages (allocated), so the difference is at most the arrays.
        EXPECT_LE(managed, usable_pages);
        EXPECT_LE((usable_pages - managed) * 4096, meta);
        EXPECT_EQ(managed, phys["free_pages"].get<uint64_t>() + phys["allocated_pages"].get<uint64_t>() +
                               phys["reserved_pages"].get<uint64_t>());
        EXPECT_GT(meta, 0u);
        EXPECT_NEAR(phys["metadata_bytes_per_page"].get<double>(),
                    static_cast<double>(meta) / static_cast<double>(managed), 1e-9);
        EXPECT_LE(phys["metadata_bytes_per_page"].get<double>(), 8.1); // issue 18's budget
        EXPECT_EQ(phys["nodes"], j["map"]["nodes"]);
        const auto &phases = j["boot"]["phases"];
        ASSERT_EQ(phases.size(), 3u);
        EXPECT_EQ(phases[0]["name"], "FirmwareMap");
        EXPECT_EQ(phases[1]["name"], "EarlyWindow");
        EXPECT_EQ(phases[2]["name"], "DirectMap");
        EXPECT_GE(j["boot"]["all_online_ns"].get<uint64_t>(),
                  phases[1]["ns"].get<uint64_t>() + phases[2]["ns"].get<uint64_t>());
    }
}

// Slab comes up in the EarlyWindow phase and reports its caches.
TEST(KmemSim, SlabIsReadyInTheEarlyWindow) {
    SimRun r = run_sim("--json --map " + test::data_path("memmaps/qemu-q35-seabios-8g.txt"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const auto ready = j["boot"]["kmalloc_ready_ns"].get<uint64_t>();
    EXPECT_GT(ready, 0u);
    EXPECT_LE(ready, j["boot"]["phases"][1]["ns"].get<uint64_t>()); // within EarlyWindow
    bool kmalloc64 = false, cache_cache = false;
    for (const auto &c : j["slab"]["caches"]) {
        for (const char *key : {"name", "object_size", "objects", "active", "slabs"})
            EXPECT_TRUE(c.contains(key)) << key;
        EXPECT_LE(c["active"].get<uint64_t>(), c["objects"].get<uint64_t>());
        if (c["name"] == "kmalloc-64") {
            kmalloc64 = true;
            EXPECT_EQ(c["object_size"], 64);
            EXPECT_GE(c["slabs"].get<uint64_t>(), 1u); // the boot probe allocated one
        }
        if (c["name"] == "kmem_cache") cache_cache = true;
    }
    EXPECT_TRUE(kmalloc64);
    EXPECT_TRUE(cache_cache);
    EXPECT_NE(run_sim("--map " + test::data_path("memmaps/qemu-q35-seabios-8g.txt"))
                  .out.find("/proc/slabinfo:\nslabinfo - version: 2.1\n"),
              std::string::npos);
}

TEST(KmemSim, BuiltinMachineBootsEightNodes) {
    SimRun r = run_sim("--json --builtin");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["phys"]["nodes"].get<unsigned>(), 8u);
    unsigned normal_zones = 0;
    for (const auto &z : j["phys"]["zones"])
        if (z["zone"] == "Normal" && z["managed_pages"].get<uint64_t>() > 0) ++normal_zones;
    EXPECT_EQ(normal_zones, 8u);
}

TEST(KmemSim, TextReportHasLinuxProcFiles) {
    SimRun r = run_sim("--map " + test::data_path("memmaps/qemu-q35-seabios-8g.txt"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("/proc/buddyinfo:\nNode 0, zone      DMA "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Node 0, zone   Normal\n  pages free "), std::string::npos);
    EXPECT_NE(r.out.find("MemTotal:       "), std::string::npos);
}

TEST(KmemSim, MapOnlyAndNoMemory) {
    SimRun r = run_sim("--json --map-only --map " + test::data_path("memmaps/aws-ec2-xen-hvm-1g.txt"));
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_FALSE(j.contains("phys"));
    EXPECT_EQ(j["boot"]["skipped"], "--map-only");
    // A device tree with no /memory (the boot loader fills it in): the map
    // is printed, and status 3 says there was nothing to boot.
    r = run_sim("--json --map " + test::data_path("dtbs/allwinner__sun50i-h5-libretech-all-h3-it.dtb"));
    ASSERT_EQ(r.status, 3) << r.err;
    j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["boot"]["skipped"], "no usable memory in the map");
}

// A 4 TiB, 4-node machine (synthetic e820 + SRAT lines): boots in the
// simulator like the real maps; onlining costs O(sections), so this is quick.
TEST(KmemSim, FourTiBMachine) {
    std::string text = "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                       "BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable\n"
                       "BIOS-e820: [mem 0x0000000100000000-0x000003ffffffffff] usable\n";
    for (int n = 0; n < 4; ++n) {
        char line[128];
        std::snprintf(line, sizeof line, "ACPI: SRAT: Node %d PXM %d [mem 0x%llx-0x%llx]\n", n, n,
                      static_cast<unsigned long long>(n) << 40,
                      ((static_cast<unsigned long long>(n) + 1) << 40) - 1);
        text += line;
    }
    const std::string path = write_temp("4tib.txt", text);
    SimRun r = run_sim("--json --map " + path);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    // usable: 0x9f000 + (2 GiB - 1 MiB) + (4 TiB - 4 GiB)
    const uint64_t usable = 0x9f000ull + (2ull << 30) - (1ull << 20) + (4ull << 40) - (4ull << 30);
    EXPECT_EQ(j["map"]["usable_bytes"].get<uint64_t>(), usable);
    EXPECT_EQ(j["phys"]["nodes"].get<unsigned>(), 4u);
    EXPECT_LE(j["phys"]["managed_pages"].get<uint64_t>() * 4096, usable);
    EXPECT_GE(j["phys"]["managed_pages"].get<uint64_t>() * 4096,
              usable - j["phys"]["metadata_bytes"].get<uint64_t>());
    EXPECT_LE(j["phys"]["metadata_bytes_per_page"].get<double>(), 8.1); // issue 18's budget
}

// The 8-byte descriptor's budget (issue 18): at most 8.1 bytes of metadata
// per managed page on every map and board that ships, the built-in machine
// included - holes in a section and RAM from the middle of one cost no
// descriptors. A board with no usable RAM is "nothing to boot" (status 3).
TEST(KmemSim, AtMostEightPointOneBytesOfMetadataPerPageOnEveryShippedMap) {
    std::vector<std::string> args = {"--builtin"};
    for (const char *dir : {"memmaps", "dtbs"})
        for (const auto &e : std::filesystem::directory_iterator(test::data_path(dir)))
            if (e.is_regular_file()) args.push_back("--map " + e.path().string());
    ASSERT_GT(args.size(), 20u);
    unsigned booted = 0;
    for (const std::string &a : args) {
        SCOPED_TRACE(a);
        SimRun r = run_sim("--json " + a);
        if (r.status == 3) continue; // no usable RAM in the map
        ASSERT_EQ(r.status, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        EXPECT_LE(j["phys"]["metadata_bytes_per_page"].get<double>(), 8.1);
        EXPECT_GE(j["phys"]["metadata_bytes_per_page"].get<double>(), 8.0);
        ++booted;
    }
    EXPECT_EQ(booted, 26u); // 13 maps, 12 boards, the built-in machine
}

TEST(KmemSim, SysfsDirectory) {
    SimRun r = run_sim("--json --map " + std::string(KMEM_TEST_DATA_DIR) + "/sysfs/dev-vm-24g");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto map = nlohmann::json::parse(r.out)["map"];
    EXPECT_EQ(map["format"], "sysfs");
    EXPECT_EQ(map["usable_bytes"].get<uint64_t>(), 25769406464u);
    check_json_consistent(map);
}

TEST(KmemSim, DeviceTreeBlob) {
    // No /memory node (the boot loader fills it in): nothing to boot, status 3.
    SimRun r = run_sim("--json --map " + test::data_path("dtbs/rockchip__rk3568-evb1-v10.dtb"));
    ASSERT_EQ(r.status, 3) << r.err;
    const auto map = nlohmann::json::parse(r.out)["map"];
    EXPECT_EQ(map["format"], "fdt");
    check_json_consistent(map);
}

TEST(KmemSim, BadTextGivesFileLineReasonAndStatus2) {
    const std::string path = write_temp("bad.txt",
                                        "BIOS-provided physical RAM map:\n"
                                        "BIOS-e820: [mem 0x0-0x9fbff] usable\n"
                                        "BIOS-e820: [mem 0x200000-0x1ffeff] usable\n");
    SimRun r = run_sim("--map " + path);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err, "kmem-sim: " + path + ":3: range ends before it starts\n");
    EXPECT_TRUE(r.out.empty());
}

TEST(KmemSim, BadBinaryGivesByteOffset) {
    // An FDT header cut after 20 bytes.
    std::string blob = test::read_file(test::data_path("dtbs/rockchip__rk3568-evb1-v10.dtb"));
    const std::string path = write_temp("cut.dtb", blob.substr(0, 20));
    SimRun r = run_sim("--format fdt --map " + path);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err.rfind("kmem-sim: " + path + ":byte ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(KmemSim, MissingFileAndBadOptions) {
    SimRun r = run_sim("--map /nonexistent/map.txt");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("kmem-sim: /nonexistent/map.txt: cannot open"), std::string::npos)
        << r.err;
    r = run_sim("--format banana --map " + test::data_path("memmaps/aws-ec2-xen-hvm-1g.txt"));
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("unknown --format 'banana'"), std::string::npos) << r.err;
    r = run_sim("--no-such-option");
    EXPECT_EQ(r.status, 2);
}

TEST(KmemSim, NoMapInText) {
    const std::string path = write_temp("empty.txt", "hello\nworld\n");
    SimRun r = run_sim("--map " + path);
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("no memory map in the text"), std::string::npos) << r.err;
}

} // namespace
} // namespace kmem
