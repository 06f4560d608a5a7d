// The AArch64 demo kernel under QEMU virt (TCG, cortex-a57): GICv2 and
// GICv3, 512 MiB to 8 GiB, 1, 3 and 4 CPUs, two NUMA nodes, a NUMA node
// with memory and no CPU, and the debug kernel (kmem's assertion tier) on a
// few of them. Each run must exit through semihosting with status 33, and
// its report must agree with the memory the device tree gave, with timer
// interrupts allocating on every CPU (kernel_report.h).
#include "kernel_report.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <string>

namespace kmem {
namespace {

struct A64Config {
    const char *name;
    const char *args;
    unsigned cpus, nodes;
    const char *kernel = KMEM_AARCH64_KERNEL;
};

std::ostream &operator<<(std::ostream &os, const A64Config &c) { return os << c.name; }

class QemuAarch64 : public ::testing::TestWithParam<A64Config> {};

TEST_P(QemuAarch64, BootsToKmallocOnEveryCpuAndReports) {
    const A64Config &c = GetParam();
    const test::CommandResult r = test::run_command(
        std::string("timeout 50 qemu-system-aarch64 -cpu cortex-a57 -semihosting -kernel ") + c.kernel + " " +
        c.args + " -display none -serial stdio < /dev/null 2>&1");
    expect_good_report(r, c.cpus, c.nodes, false, "kmem-aarch64: self-tests passed", "aarch64", "dtb_bytes");
}

#define KMEM_A64_TWO_NODES(cpus0, cpus1)                                                              \
    "-m 2G -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G "        \
    "-numa node,memdev=m0" cpus0 " -numa node,memdev=m1" cpus1

INSTANTIATE_TEST_SUITE_P(
    Matrix, QemuAarch64,
    ::testing::Values(A64Config{"gic2_512M_1cpu", "-M virt,gic-version=2 -m 512M -smp 1", 1, 1},
                      A64Config{"gic2_2G_3cpu", "-M virt,gic-version=2 -m 2G -smp 3", 3, 1},
                      A64Config{"gic2_8G_4cpu", "-M virt,gic-version=2 -m 8G -smp 4", 4, 1},
                      A64Config{"gic3_512M_4cpu", "-M virt,gic-version=3 -m 512M -smp 4", 4, 1},
                      A64Config{"gic3_2G_1cpu", "-M virt,gic-version=3 -m 2G -smp 1", 1, 1},
                      A64Config{"gic3_8G_3cpu", "-M virt,gic-version=3 -m 8G -smp 3", 3, 1},
                      A64Config{"gic3_2G_2nodes",
                                "-M virt,gic-version=3 -smp 2 " KMEM_A64_TWO_NODES(",cpus=0", ",cpus=1"), 2, 2},
                      // Node 1 has memory and no CPU.
                      A64Config{"gic2_2G_cpuless_node",
                                "-M virt,gic-version=2 -smp 3 " KMEM_A64_TWO_NODES(",cpus=0-2", ""), 3, 2},
                      A64Config{"debug_gic2_512M_3cpu", "-M virt,gic-version=2 -m 512M -smp 3", 3, 1,
                                KMEM_AARCH64_DEBUG_KERNEL},
                      A64Config{"debug_gic3_2G_4cpu", "-M virt,gic-version=3 -m 2G -smp 4", 4, 1,
                                KMEM_AARCH64_DEBUG_KERNEL}),
    [](const ::testing::TestParamInfo<A64Config> &i) { return std::string(i.param.name); });

} // namespace
} // namespace kmem
