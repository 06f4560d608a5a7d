// The x86_64 demo kernel under QEMU (TCG), the matrix of issue 6: -m 128M,
// 512M, 1G, 4G (memory above 4 GiB, the PCI hole) and 8G; -smp 1 and 2; the
// pc and q35 machines; and a two-node NUMA layout. Each run must exit
// through isa-debug-exit with 0x10 (QEMU status 33) and its serial output
// must hold the report whose KMEM-JSON line agrees with the memory map the
// kernel printed: the exact usable bytes, every CPU, every node, self-tests
// passed and every layer's check() clean.
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace kmem {
namespace {

struct Config {
    const char *name;
    const char *args;
    unsigned cpus, nodes;
    bool above_4g;
};

std::ostream &operator<<(std::ostream &os, const Config &c) { return os << c.name; }

test::CommandResult boot(const std::string &args) {
    return test::run_command("timeout 30 qemu-system-x86_64 -accel tcg -kernel " KMEM_X86_64_KERNEL " " + args +
                             " -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04"
                             " -no-reboot < /dev/null 2>&1");
}

// Usable bytes of the map lines the kernel printed: "kmem: [mem A-B] usable node N".
uint64_t printed_usable(const std::string &out, unsigned &lines) {
    std::istringstream in(out);
    std::string line;
    uint64_t sum = 0;
    lines = 0;
    while (std::getline(in, line)) {
        unsigned long long a, b;
        char type[32];
        unsigned node;
        if (std::sscanf(line.c_str(), "kmem: [mem %llx-%llx] %31s node %u", &a, &b, type, &node) != 4) continue;
        ++lines;
        if (std::string(type) == "usable") sum += b - a + 1;
    }
    return sum;
}

class QemuX86_64 : public ::testing::TestWithParam<Config> {};

TEST_P(QemuX86_64, BootsToKmallocOnEveryCpuAndReports) {
    const Config &c = GetParam();
    const test::CommandResult r = boot(c.args);
    ASSERT_EQ(r.status, 33) << "QEMU exit status (33 = the kernel's success code)\n" << r.out;
    for (const char *part : {"/proc/buddyinfo:", "/proc/meminfo:", "/proc/slabinfo:", "kmem: allocations before Running:",
                             "kmem-x86_64: self-tests passed"})
        EXPECT_NE(r.out.find(part), std::string::npos) << part;
    const size_t at = r.out.find("KMEM-JSON ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string line = r.out.substr(at + 10, r.out.find('\n', at) - at - 10);
    const auto j = nlohmann::json::parse(line);

    unsigned lines = 0;
    const uint64_t usable = printed_usable(r.out, lines);
    EXPECT_EQ(j["usable_bytes"].get<uint64_t>(), usable) << "the report and the map it printed agree";
    EXPECT_EQ(j["map"].size(), lines);
    EXPECT_EQ(j["cpus"].get<unsigned>(), c.cpus);
    EXPECT_EQ(j["nodes"].get<unsigned>(), c.nodes);
    bool high = false;
    for (const auto &m : j["map"]) high |= m["type"] == "usable" && m["start"].get<uint64_t>() >= (uint64_t{4} << 30);
    EXPECT_EQ(high, c.above_4g);
    // Every usable page is managed (free, allocated or reserved) except
    // those holding page descriptors inside the memory they describe.
    const uint64_t managed = j["managed_pages"], meta = j["metadata_bytes"];
    EXPECT_LE(managed, usable / 4096);
    EXPECT_LE((usable / 4096 - managed) * 4096, meta);
    EXPECT_GT(j["acpi_tables"].get<unsigned>(), 0u);
    // The early report: the boot's memblock/bootmem calls and the direct map's tables.
    EXPECT_GE(j["early"].size(), 5u);
    const auto &st = j["selftest"];
    EXPECT_TRUE(st["ok"].get<bool>()) << st.dump();
    EXPECT_EQ(st["check"], "ok");
    EXPECT_EQ(st["free_before"], st["free_after"]) << "every page came back";
    EXPECT_GT(st["pages_allocated"].get<uint64_t>(), managed * 9 / 10) << "ran out of memory for real";
    EXPECT_EQ(st["late_freed_pages"], 16);
    EXPECT_EQ(st["errors"], 0);
    if (c.cpus > 1) {
        EXPECT_GT(st["cross_cpu_frees"].get<uint64_t>(), 0u);
    }
    EXPECT_GT(j["page_tables"]["pages"].get<uint64_t>(), 0u);
}

#define KMEM_TWO_NODES                                                                                \
    "-m 2G -smp 2 -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G " \
    "-numa node,memdev=m0,cpus=0 -numa node,memdev=m1,cpus=1"

INSTANTIATE_TEST_SUITE_P(
    Matrix, QemuX86_64,
    ::testing::Values(Config{"pc_128M_1cpu", "-M pc -m 128M -smp 1", 1, 1, false},
                      Config{"pc_128M_2cpu", "-M pc -m 128M -smp 2", 2, 1, false},
                      Config{"pc_512M_1cpu", "-M pc -m 512M -smp 1", 1, 1, false},
                      Config{"pc_512M_2cpu", "-M pc -m 512M -smp 2", 2, 1, false},
                      Config{"pc_1G_1cpu", "-M pc -m 1G -smp 1", 1, 1, false},
                      Config{"pc_1G_2cpu", "-M pc -m 1G -smp 2", 2, 1, false},
                      Config{"pc_4G_1cpu", "-M pc -m 4G -smp 1", 1, 1, true},
                      Config{"pc_4G_2cpu", "-M pc -m 4G -smp 2", 2, 1, true},
                      Config{"pc_8G_1cpu", "-M pc -m 8G -smp 1", 1, 1, true},
                      Config{"pc_8G_2cpu", "-M pc -m 8G -smp 2", 2, 1, true},
                      Config{"q35_128M_1cpu", "-M q35 -m 128M -smp 1", 1, 1, false},
                      Config{"q35_128M_2cpu", "-M q35 -m 128M -smp 2", 2, 1, false},
                      Config{"q35_512M_1cpu", "-M q35 -m 512M -smp 1", 1, 1, false},
                      Config{"q35_512M_2cpu", "-M q35 -m 512M -smp 2", 2, 1, false},
                      Config{"q35_1G_1cpu", "-M q35 -m 1G -smp 1", 1, 1, false},
                      Config{"q35_1G_2cpu", "-M q35 -m 1G -smp 2", 2, 1, false},
                      Config{"q35_4G_1cpu", "-M q35 -m 4G -smp 1", 1, 1, true},
                      Config{"q35_4G_2cpu", "-M q35 -m 4G -smp 2", 2, 1, true},
                      Config{"q35_8G_1cpu", "-M q35 -m 8G -smp 1", 1, 1, true},
                      Config{"q35_8G_2cpu", "-M q35 -m 8G -smp 2", 2, 1, true},
                      Config{"pc_2G_2nodes", "-M pc " KMEM_TWO_NODES, 2, 2, false},
                      Config{"q35_2G_2nodes", "-M q35 " KMEM_TWO_NODES, 2, 2, false}),
    [](const ::testing::TestParamInfo<Config> &i) { return std::string(i.param.name); });

} // namespace
} // namespace kmem
