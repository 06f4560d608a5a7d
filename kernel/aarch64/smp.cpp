// SPDX-License-Identifier: MIT
//
// DOC: the AArch64 demo kernel's secondary CPUs: PSCI CPU_ON for MPIDR 1,
// 2, ... until the firmware says there is no such CPU, each with a stack
// from the buddy; they enter secondary_entry (boot.S) with the MMU off,
// switch it on with the kernel's tables, and join (kernel/common/cpus.h).
#include "arch.h"
#include "cpus.h"

extern "C" char secondary_entry[];
extern "C" uint64_t kx_secondary_ttbr0, kx_secondary_stacks[];

namespace kx {
namespace {

PerCpu g_percpu[kmem::kMaxCpus];

} // namespace

unsigned start_cpus(kmem::MemorySystem &sys) {
    g_percpu[0].index = 0;
    set_this_cpu(&g_percpu[0]);
    kx_secondary_ttbr0 = KX_READ_SYSREG(ttbr0_el1);
    unsigned next = 1;
    for (; next < kmem::kMaxCpus; ++next) {
        kmem::Result<uint64_t> stack = sys.phys().alloc_pages(2); // 16 KiB
        if (!stack.ok()) kmem_platform_panic("no memory for a secondary CPU's stack");
        g_percpu[next].index = next;
        kx_secondary_stacks[next] = kDirectMap + stack.value() + (uint64_t{4096} << 2);
        asm volatile("dsb ish" ::: "memory"); // the stack and tables are visible to the new CPU
        const unsigned before = cpus_running();
        const int64_t r = psci_cpu_on(next, reinterpret_cast<uint64_t>(secondary_entry), next);
        if (r != 0) { // -2: no such CPU - every CPU is running
            (void)sys.phys().free_pages(stack.value(), 2);
            break;
        }
        wait_for_cpu(before, "a secondary CPU did not start");
    }
    return next;
}

} // namespace kx

extern "C" [[noreturn]] void ap_main(unsigned cpu) {
    kx::set_this_cpu(&kx::g_percpu[cpu]);
    kx::cpu_online();
    kx::cpu_work_loop(cpu);
}
