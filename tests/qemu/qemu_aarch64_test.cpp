// The AArch64 demo kernel under QEMU virt (TCG, cortex-a57), the matrix of
// issue 8: -m 512M, 2G and 8G, -smp 1 and 2, and a two-node NUMA layout.
// Each run must exit through semihosting with status 33, and its report
// must agree with the memory the device tree gave (kernel_report.h).
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
};

std::ostream &operator<<(std::ostream &os, const A64Config &c) { return os << c.name; }

class QemuAarch64 : public ::testing::TestWithParam<A64Config> {};

TEST_P(QemuAarch64, BootsToKmallocOnEveryCpuAndReports) {
    const A64Config &c = GetParam();
    const test::CommandResult r = test::run_command(
        std::string("timeout 50 qemu-system-aarch64 -M virt -cpu cortex-a57 -semihosting -kernel " KMEM_AARCH64_KERNEL
                    " ") +
        c.args + " -display none -serial stdio < /dev/null 2>&1");
    expect_good_report(r, c.cpus, c.nodes, false, "kmem-aarch64: self-tests passed", "dtb_bytes");
}

#define KMEM_A64_TWO_NODES                                                                           \
    "-m 2G -smp 2 -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G " \
    "-numa node,memdev=m0,cpus=0 -numa node,memdev=m1,cpus=1"

INSTANTIATE_TEST_SUITE_P(Matrix, QemuAarch64,
                         ::testing::Values(A64Config{"virt_512M_1cpu", "-m 512M -smp 1", 1, 1},
                                           A64Config{"virt_512M_2cpu", "-m 512M -smp 2", 2, 1},
                                           A64Config{"virt_2G_1cpu", "-m 2G -smp 1", 1, 1},
                                           A64Config{"virt_2G_2cpu", "-m 2G -smp 2", 2, 1},
                                           A64Config{"virt_8G_1cpu", "-m 8G -smp 1", 1, 1},
                                           A64Config{"virt_8G_2cpu", "-m 8G -smp 2", 2, 1},
                                           A64Config{"virt_2G_2nodes", KMEM_A64_TWO_NODES, 2, 2}),
                         [](const ::testing::TestParamInfo<A64Config> &i) { return std::string(i.param.name); });

} // namespace
} // namespace kmem
