// The x86_64 demo kernel under QEMU (TCG), the matrix of issue 6: -m 128M,
// 512M, 1G, 4G (memory above 4 GiB, the PCI hole) and 8G; -smp 1 and 2; the
// pc and q35 machines; and a two-node NUMA layout. Each run must exit
// through isa-debug-exit with 0x10 (QEMU status 33) and its serial output
// must hold the report whose KMEM-JSON line agrees with the memory map the
// kernel printed: the exact usable bytes, every CPU, every node, self-tests
// passed and every layer's check() clean.
#include "kernel_report.h"
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

class QemuX86_64 : public ::testing::TestWithParam<Config> {};

TEST_P(QemuX86_64, BootsToKmallocOnEveryCpuAndReports) {
    const Config &c = GetParam();
    expect_good_report(boot(c.args), c.cpus, c.nodes, c.above_4g, "kmem-x86_64: self-tests passed", "acpi_tables");
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
