// The x86_64 demo kernel under QEMU (TCG): the pc and q35 machines, 128 MiB
// to 8 GiB (memory above 4 GiB, the PCI hole), 1, 2, 3, 4 and 8 CPUs, two
// NUMA nodes, a NUMA node with memory and no CPU, and the debug kernel
// (kmem's assertion tier) on a few of them. Each run must exit through
// isa-debug-exit with 0x10 (QEMU status 33) and its serial output must hold
// the report whose KMEM-JSON line agrees with the memory map the kernel
// printed: the exact usable bytes, every CPU, every node, self-tests passed
// with timer interrupts allocating on every CPU, and every layer's check()
// clean (kernel_report.h).
#include "kernel_report.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace kmem {
namespace {

struct Config {
    const char *name;
    const char *args;
    unsigned cpus, nodes;
    bool above_4g;
    const char *kernel = KMEM_X86_64_KERNEL;
};

std::ostream &operator<<(std::ostream &os, const Config &c) { return os << c.name; }

test::CommandResult boot(const Config &c) {
    return test::run_command(std::string("timeout 50 qemu-system-x86_64 -accel tcg -kernel ") + c.kernel + " " +
                             c.args +
                             " -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04"
                             " -no-reboot < /dev/null 2>&1");
}

class QemuX86_64 : public ::testing::TestWithParam<Config> {};

TEST_P(QemuX86_64, BootsToKmallocOnEveryCpuAndReports) {
    const Config &c = GetParam();
    expect_good_report(boot(c), c.cpus, c.nodes, c.above_4g, "kmem-x86_64: self-tests passed", "x86_64",
                       "acpi_tables");
}

#define KMEM_TWO_NODES(cpus0, cpus1)                                                                  \
    "-m 2G -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G "        \
    "-numa node,memdev=m0" cpus0 " -numa node,memdev=m1" cpus1

INSTANTIATE_TEST_SUITE_P(
    Matrix, QemuX86_64,
    ::testing::Values(Config{"pc_128M_1cpu", "-M pc -m 128M -smp 1", 1, 1, false},
                      Config{"pc_128M_8cpu", "-M pc -m 128M -smp 8", 8, 1, false},
                      Config{"pc_512M_2cpu", "-M pc -m 512M -smp 2", 2, 1, false},
                      Config{"pc_1G_3cpu", "-M pc -m 1G -smp 3", 3, 1, false},
                      Config{"pc_1G_4cpu", "-M pc -m 1G -smp 4", 4, 1, false},
                      Config{"pc_4G_2cpu", "-M pc -m 4G -smp 2", 2, 1, true},
                      Config{"pc_4G_8cpu", "-M pc -m 4G -smp 8", 8, 1, true},
                      Config{"pc_8G_1cpu", "-M pc -m 8G -smp 1", 1, 1, true},
                      Config{"pc_8G_4cpu", "-M pc -m 8G -smp 4", 4, 1, true},
                      Config{"q35_128M_2cpu", "-M q35 -m 128M -smp 2", 2, 1, false},
                      Config{"q35_512M_8cpu", "-M q35 -m 512M -smp 8", 8, 1, false},
                      Config{"q35_1G_1cpu", "-M q35 -m 1G -smp 1", 1, 1, false},
                      Config{"q35_1G_4cpu", "-M q35 -m 1G -smp 4", 4, 1, false},
                      Config{"q35_4G_3cpu", "-M q35 -m 4G -smp 3", 3, 1, true},
                      Config{"q35_8G_2cpu", "-M q35 -m 8G -smp 2", 2, 1, true},
                      Config{"q35_8G_8cpu", "-M q35 -m 8G -smp 8", 8, 1, true},
                      Config{"pc_2G_2nodes", "-M pc -smp 2 " KMEM_TWO_NODES(",cpus=0", ",cpus=1"), 2, 2, false},
                      Config{"q35_2G_2nodes", "-M q35 -smp 4 " KMEM_TWO_NODES(",cpus=0-1", ",cpus=2-3"), 4, 2,
                             false},
                      // Node 1 has memory and no CPU: every CPU prefers node 0.
                      Config{"q35_2G_cpuless_node", "-M q35 -smp 3 " KMEM_TWO_NODES(",cpus=0-2", ""), 3, 2, false},
                      Config{"pc_2G_cpuless_node", "-M pc -smp 2 " KMEM_TWO_NODES(",cpus=0-1", ""), 2, 2, false},
                      Config{"debug_pc_512M_3cpu", "-M pc -m 512M -smp 3", 3, 1, false, KMEM_X86_64_DEBUG_KERNEL},
                      Config{"debug_q35_4G_4cpu", "-M q35 -m 4G -smp 4", 4, 1, true, KMEM_X86_64_DEBUG_KERNEL},
                      Config{"debug_q35_2G_cpuless_node", "-M q35 -smp 2 " KMEM_TWO_NODES(",cpus=0-1", ""), 2, 2,
                             false, KMEM_X86_64_DEBUG_KERNEL}),
    [](const ::testing::TestParamInfo<Config> &i) { return std::string(i.param.name); });

} // namespace
} // namespace kmem
