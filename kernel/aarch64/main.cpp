// SPDX-License-Identifier: MIT
//
// DOC: the AArch64 demo kernel - QEMU virt's device tree to kmalloc on every
// CPU through kmem's boot front door, with no change to the allocator layers:
// only paging/ has an AArch64 builder and this an AArch64 entry.
//
//   FirmwareMap  /memory, /reserved-memory and numa-node-id from the device
//                tree QEMU put at the start of RAM; the kernel and the tree
//                reserved; the GIC found (gic.h)
//   EarlyWindow  the buddy in the first 1 GiB of RAM (mapped by early_mmu.cpp)
//   DirectMap    the real tables from the buddy (Aarch64PageTables; the kernel,
//                the UART and the GIC identity-mapped), switched to once they
//                cover the window; the rest of RAM onlined as mapped
//   Running      the GIC's distributor (irq_setup), secondary CPUs through
//                PSCI, self-tests (with every CPU's timer interrupt), report,
//                exit (semihosting)
#include "arch.h"
#include "boot_steps.h"
#include "cpus.h"
#include "gic.h"
#include "irq.h"
#include "report.h"
#include "selftest.h"

#include <kmem/boot.h>
#include <kmem/memmap_parse.h>

extern "C" {
extern char kernel_start[], kernel_end[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
}

namespace kx {
unsigned start_cpus(kmem::MemorySystem &sys);
namespace {

kmem::MemorySystem g_sys;
kmem::StaticMemoryMap<> g_map;
uint64_t g_ram_top = 0;
bool g_switched = false;
uint64_t g_phase_ns[4];

uint32_t be32(const uint8_t *p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// The kernel (identity, executable), the UART and the GIC (device memory)
// into the new tables, then TTBR0.
void switch_tables() {
    kmem::ArchPageTables &t = g_sys.tables();
    const uint64_t start = reinterpret_cast<uint64_t>(kernel_start) & ~uint64_t{(2u << 20) - 1};
    const uint64_t end = (reinterpret_cast<uint64_t>(kernel_end) + (2u << 20) - 1) & ~uint64_t{(2u << 20) - 1};
    kmem::MapAttrs code;
    code.executable = true;
    check("map the kernel", t.map(start, start, end - start, code));
    kmem::MapAttrs device;
    device.cache = kmem::CacheMode::uncached;
    check("map the UART", t.map(kUart, kUart, 4096, device, kmem::kPage4K));
    for (unsigned i = 0; i < kGicMmioRanges; ++i) {
        const MmioRange r = gic_mmio(i);
        check("map the GIC", t.map(r.base, r.base, r.size, device, kmem::kPage4K | kmem::kPage2M));
    }
    asm volatile("dsb ishst" ::: "memory");
    KX_WRITE_SYSREG(ttbr0_el1, t.root());
    asm volatile("isb; tlbi vmalle1; dsb nsh; isb" ::: "memory");
    switched_to_kernel_tables(g_ram_top);
    g_switched = true;
}

kmem::Status on_mapped(void *, uint64_t, uint64_t end) {
    if (!g_switched && end > kRamBase + kEarlyWindow) switch_tables();
    return {};
}

} // namespace
} // namespace kx

extern "C" [[noreturn]] void kmain() {
    using namespace kx;
    for (auto **f = __init_array_start; f != __init_array_end; ++f) (*f)();
    print("kmem-aarch64: MMU on, booted at EL1\n");
    g_phase_ns[0] = now_ns();

    // FirmwareMap: the device tree at the start of RAM.
    const uint8_t *dtb = device_tree();
    if (be32(dtb) != 0xd00dfeed) kmem_platform_panic("no device tree at the start of RAM");
    const uint32_t dtb_size = be32(dtb + 4);
    check("device tree", kmem::parse_fdt(dtb, dtb_size, g_map));
    check("interrupt controller", gic_probe(dtb));
    for (const kmem::MemRange &r : g_map)
        if (r.type == kmem::MemType::usable || r.type == kmem::MemType::kernel_reserved) g_ram_top = r.end;
    print_firmware_map("kmem-aarch64: memory map from the device tree:\n", g_map);
    check("firmware_map", g_sys.firmware_map(g_map));
    reserve_kernel_image(g_sys);
    check("reserve the device tree", g_sys.reserve(kRamBase, dtb_size, false, "device tree"));

    // EarlyWindow: the buddy in the first 1 GiB of RAM; kmalloc at once.
    g_phase_ns[1] = now_ns();
    const uint64_t wend = kRamBase + kEarlyWindow < g_ram_top ? kRamBase + kEarlyWindow : g_ram_top;
    check("early_window", g_sys.early_window(kRamBase, wend));
    const BootAllocations boot_allocs = allocate_as_platform_code();

    // DirectMap: the real tables, switched to once they cover the window.
    g_phase_ns[2] = now_ns();
    check("direct_map", g_sys.direct_map(on_mapped, nullptr));
    if (!g_switched) switch_tables();
    g_phase_ns[3] = now_ns();
    check("running", g_sys.running());
    free_after_boot(boot_allocs);

    irq_setup(); // before the other CPUs start
    const unsigned cpus = start_cpus(g_sys);
    print("kmem-aarch64: ");
    print_u64(cpus);
    print(" CPUs running, kmalloc on all of them\n");
    const SelfTestResult st = run_self_tests(g_sys, boot_allocs.buffer_pa, boot_allocs.buffer_size);
    print_report(g_sys, g_map, st, cpus, "aarch64", g_phase_ns,
                 ReportExtra{"dtb_bytes", dtb_size, kmem::map_format_name(kmem::MapFormat::fdt),
                             "/memory, /reserved-memory, memreserve"});
    print_irq_handled("kmem-aarch64: ", cpus);
    print(st.ok ? "kmem-aarch64: self-tests passed\n" : "kmem-aarch64: SELF-TESTS FAILED\n");
    qemu_exit(st.ok ? 33 : 1);
}
