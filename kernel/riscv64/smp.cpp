// SPDX-License-Identifier: MIT
//
// DOC: the RISC-V demo kernel's other harts: SBI HSM hart_start for each hart
// the device tree lists (harts.h), each with a stack from the buddy; they
// enter secondary_entry (boot.S) with the MMU off, load the kernel's tables,
// and join (kernel/common/cpus.h).
#include "arch.h"
#include "cpus.h"
#include "harts.h"
#include "sbi.h"

extern "C" char secondary_entry[];
extern "C" uint64_t kx_secondary_satp, kx_secondary_stacks[];

namespace kx {
namespace {

PerCpu g_percpu[kmem::kMaxCpus];

} // namespace

unsigned start_cpus(kmem::MemorySystem &sys) {
    const Harts &h = harts();
    g_percpu[0].index = 0;
    g_percpu[0].hart = h.hart[0].id;
    set_this_cpu(&g_percpu[0]);
    kx_secondary_satp = KX_CSR_READ(satp);
    unsigned next = 1;
    for (; next < h.count; ++next) {
        kmem::Result<uint64_t> stack = sys.phys().alloc_pages(2); // 16 KiB
        if (!stack.ok()) kmem_platform_panic("no memory for a hart's stack");
        g_percpu[next].index = next;
        g_percpu[next].hart = h.hart[next].id;
        kx_secondary_stacks[next] = kDirectMap + stack.value() + (uint64_t{4096} << 2);
        asm volatile("fence rw, rw" ::: "memory"); // the stack and tables are visible to the new hart
        const unsigned before = cpus_running();
        const int64_t r = sbi_hart_start(h.hart[next].id, reinterpret_cast<uint64_t>(secondary_entry), next);
        if (r != 0) {
            print("kmem-riscv64: hart_start of hart ");
            print_u64(h.hart[next].id);
            print(" failed\n");
            kmem_platform_panic("SBI HSM could not start a hart");
        }
        wait_for_cpu(before, "a hart did not start");
    }
    return next;
}

} // namespace kx

extern "C" [[noreturn]] void ap_main(unsigned cpu) {
    kx::set_this_cpu(&kx::g_percpu[cpu]);
    kx::cpu_online();
    kx::cpu_work_loop(cpu);
}
