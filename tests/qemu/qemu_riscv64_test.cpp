// The RISC-V demo kernel under QEMU virt (TCG) with OpenSBI (fw_dynamic from
// Debian's opensbi package, or QEMU's own with -bios default): 512 MiB, 2 GiB
// and 8 GiB with 1, 2 and 4 harts, two NUMA nodes (one or two harts on each,
// each hart's allocations preferring its node), the timer through SBI instead of Sstc, Sv39 instead of Sv48
// tables, Svpbmt, and the debug kernel (kmem's assertion tier) on a few. Each
// run must exit through the sifive_test device with FINISHER_PASS (QEMU status
// 0), and its report must agree with the memory the device tree gave, with
// timer interrupts allocating on every hart (kernel_report.h). A kernel that
// panics must exit with a nonzero status.
#include "kernel_report.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <unistd.h>

namespace kmem {
namespace {

namespace fs = std::filesystem;

struct RvConfig {
    const char *name;
    const char *args;
    unsigned cpus, nodes;
    const char *expect;  // a line the configuration must print (its tables, its timer)
    const char *kernel = KMEM_RISCV64_KERNEL;
    const char *expect_nodes = nullptr; // the node of hart 0, 1, ... as digits
};

std::ostream &operator<<(std::ostream &os, const RvConfig &c) { return os << c.name; }

class QemuRiscv64 : public ::testing::TestWithParam<RvConfig> {};

TEST_P(QemuRiscv64, BootsToKmallocOnEveryHartAndReports) {
    const RvConfig &c = GetParam();
    const test::CommandResult r = test::run_command(
        std::string("timeout 50 qemu-system-riscv64 -M virt -bios " KMEM_RISCV64_BIOS " -kernel ") + c.kernel + " " +
        c.args + " -display none -serial stdio < /dev/null 2>&1");
    expect_good_report(r, c.cpus, c.nodes, false, "kmem-riscv64: self-tests passed", "riscv64", "dtb_bytes", 0);
    if (c.expect_nodes) {
        // The boot hart (CPU 0) is whichever hart OpenSBI's lottery picked;
        // every hart must be on the node the command line gave it.
        const std::string head = "kmem-riscv64: hart:node of each CPU:";
        const std::size_t at = r.out.find(head);
        ASSERT_NE(at, std::string::npos) << r.out;
        const std::size_t from = at + head.size();
        std::istringstream line(r.out.substr(from, r.out.find('\n', from) - from));
        std::string pair;
        unsigned seen = 0;
        while (line >> pair) {
            const unsigned hart = std::stoul(pair), node = std::stoul(pair.substr(pair.find(':') + 1));
            ASSERT_LT(hart, std::strlen(c.expect_nodes)) << pair;
            EXPECT_EQ(node, unsigned(c.expect_nodes[hart] - '0')) << "hart " << hart;
            ++seen;
        }
        EXPECT_EQ(seen, c.cpus);
    }
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.expect;
    EXPECT_NE(r.out.find("OpenSBI v"), std::string::npos) << "booted through OpenSBI";
}

#define KMEM_RV_TWO_NODES(cpus0, cpus1)                                                              \
    "-m 2G -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G "        \
    "-numa node,memdev=m0" cpus0 " -numa node,memdev=m1" cpus1

constexpr const char *kSstcTimer = "kmem-riscv64: timer through Sstc";

INSTANTIATE_TEST_SUITE_P(
    Matrix, QemuRiscv64,
    ::testing::Values(RvConfig{"virt_512M_1hart", "-m 512M -smp 1", 1, 1, "kmem-riscv64: Sv48 tables\n"},
                      RvConfig{"virt_512M_2hart", "-m 512M -smp 2", 2, 1, kSstcTimer},
                      RvConfig{"virt_512M_4hart", "-m 512M -smp 4", 4, 1, kSstcTimer},
                      RvConfig{"virt_2G_1hart", "-m 2G -smp 1", 1, 1, kSstcTimer},
                      RvConfig{"virt_2G_2hart", "-m 2G -smp 2", 2, 1, kSstcTimer},
                      RvConfig{"virt_2G_4hart", "-m 2G -smp 4", 4, 1, kSstcTimer},
                      RvConfig{"virt_8G_1hart", "-m 8G -smp 1", 1, 1, kSstcTimer},
                      RvConfig{"virt_8G_2hart", "-m 8G -smp 2", 2, 1, kSstcTimer},
                      RvConfig{"virt_8G_4hart", "-m 8G -smp 4", 4, 1, kSstcTimer},
                      RvConfig{"virt_2G_2nodes", "-smp 2 " KMEM_RV_TWO_NODES(",cpus=0", ",cpus=1"), 2, 2,
                               kSstcTimer, KMEM_RISCV64_KERNEL, "01"},
                      // QEMU 7.2's RISC-V virt refuses a node without harts ("discontinuous
                      // hartids") and aborts on nodes with unequal hart counts.
                      RvConfig{"virt_2G_2nodes_4hart", "-smp 4 " KMEM_RV_TWO_NODES(",cpus=0-1", ",cpus=2-3"), 4, 2,
                               kSstcTimer, KMEM_RISCV64_KERNEL, "0011"},
                      // The timer through OpenSBI when the harts have no Sstc.
                      RvConfig{"sbi_timer_2G_4hart", "-cpu rv64,sstc=false -m 2G -smp 4", 4, 1,
                               "kmem-riscv64: timer through SBI TIME"},
                      // Sv39 tables (the command line asks), RAM above 4 GiB.
                      RvConfig{"sv39_8G_2hart", "-m 8G -smp 2 -append sv39", 2, 1, "kmem-riscv64: Sv39 tables\n"},
                      // PBMT bits in the tables (IO for the UART and the exit device).
                      RvConfig{"svpbmt_512M_2hart", "-cpu rv64,svpbmt=true -m 512M -smp 2", 2, 1,
                               "kmem-riscv64: Sv48 tables with Svpbmt\n"},
                      RvConfig{"debug_512M_2hart", "-m 512M -smp 2", 2, 1, kSstcTimer, KMEM_RISCV64_DEBUG_KERNEL},
                      RvConfig{"debug_sv39_2G_4hart", "-m 2G -smp 4 -append sv39", 4, 1,
                               "kmem-riscv64: Sv39 tables\n", KMEM_RISCV64_DEBUG_KERNEL}),
    [](const ::testing::TestParamInfo<RvConfig> &i) { return std::string(i.param.name); });

// Failure is a nonzero status: QEMU's own device tree with the harts'
// compatible string changed (dtc), so the kernel cannot find the hart it runs
// on and panics - FINISHER_FAIL with code 1.
TEST(QemuRiscv64Failure, APanicExitsWithANonzeroStatus) {
    const std::string dir = fs::temp_directory_path() / ("kmem-rv-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string dtb = dir + "/virt.dtb", bad = dir + "/no-harts.dtb";
    ASSERT_EQ(test::run_command("qemu-system-riscv64 -M virt,dumpdtb=" + dtb + " -m 512M -smp 1 -display none 2>&1").status,
              0);
    ASSERT_EQ(test::run_command("dtc -q -I dtb -O dts " + dtb + " | sed 's/compatible = \"riscv\";/compatible = "
                                "\"riscv-none\";/' | dtc -q -I dts -O dtb -o " + bad + " 2>&1")
                  .status,
              0);
    const test::CommandResult r = test::run_command(
        std::string("timeout 50 qemu-system-riscv64 -M virt -bios " KMEM_RISCV64_BIOS " -kernel " KMEM_RISCV64_KERNEL
                    " -m 512M -smp 1 -dtb ") + bad + " -display none -serial stdio < /dev/null 2>&1");
    fs::remove_all(dir);
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("kmem: PANIC: the device tree does not list the boot hart"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("KMEM-JSON"), std::string::npos);
}

} // namespace
} // namespace kmem
