// SPDX-License-Identifier: MIT
//
// DOC: the x86_64 demo kernel - from the Multiboot memory map to kmalloc on
// every CPU, through kmem's boot front door (include/kmem/boot.h), with the
// very same library code the hosted tests use.
//
//   FirmwareMap  the multiboot map; ACPI (SRAT: nodes, MADT: CPUs); the kernel
//                image, the multiboot structures and the low 1 MiB reserved
//   EarlyWindow  the buddy inside the 1 GiB the boot code mapped; slab and
//                kmalloc at once; boot code uses the memblock and bootmem calls
//   DirectMap    page tables of all RAM from the buddy; CR3 switched once the
//                window is covered; every range beyond it onlined as mapped
//   Running      interrupts set up (irq.cpp); the other CPUs started;
//                self-tests on all of them, a timer interrupt on each; the
//                report (and its KMEM-JSON line); exit through isa-debug-exit
#include "acpi.h"
#include "apic.h"
#include "arch.h"
#include "boot_steps.h"
#include "irq.h"
#include "report.h"
#include "selftest.h"
#include "smp.h"

#include <kmem/boot.h>
#include <kmem/memmap_parse.h>

extern "C" {
extern char kernel_start[], kernel_end[];
void kx_run_constructors();
}

namespace kx {
namespace {

constexpr uint32_t kMultibootMagic = 0x2BADB002;

struct [[gnu::packed]] MultibootInfo {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};

kmem::MemorySystem g_sys; // static storage: all-zero until firmware_map()
kmem::StaticMemoryMap<> g_map;
AcpiInfo g_acpi;
uint16_t g_cpu_node[kmem::kMaxCpus];
uint64_t g_ram_top = 0;
bool g_switched = false;
uint64_t g_early_ns[4];

// Map the kernel (identity, executable) and the local APIC into the new
// tables and switch to them: from here the direct map covers all RAM mapped.
void switch_tables() {
    kmem::PageTables &t = g_sys.tables();
    const uint64_t end = (reinterpret_cast<uint64_t>(kernel_end) + (2u << 20) - 1) & ~uint64_t{(2u << 20) - 1};
    kmem::MapAttrs code;
    code.executable = true;
    check("map the kernel", t.map(0, 0, end, code));
    kmem::MapAttrs mmio;
    mmio.cache = kmem::CacheMode::uncached;
    check("map the local APIC", t.map(kDirectMap + g_acpi.lapic, g_acpi.lapic, 4096, mmio, kmem::kPage4K));
    load_cr3(t.root());
    switched_to_kernel_tables(g_ram_top);
    g_switched = true;
}

// direct_map()'s hook: a range is in the new tables. Once they cover the
// early window, they become live (the buddy's own data is in the window).
kmem::Status on_mapped(void *, uint64_t, uint64_t end) {
    if (!g_switched && end > kEarlyWindow) switch_tables();
    return {};
}

void read_firmware(uint32_t magic, uint32_t info_pa) {
    if (magic != kMultibootMagic) kmem_platform_panic("not loaded by a Multiboot 1 loader");
    const auto *mbi = reinterpret_cast<const MultibootInfo *>(static_cast<uint64_t>(info_pa));
    if (!(mbi->flags & (1u << 6))) kmem_platform_panic("the loader gave no memory map");
    check("multiboot memory map",
          kmem::parse_multiboot1_mmap(reinterpret_cast<const void *>(static_cast<uint64_t>(mbi->mmap_addr)),
                                      mbi->mmap_length, g_map));
    acpi_read(g_acpi);
    // NUMA: SRAT memory affinity, domains numbered densely in order of appearance.
    uint32_t domains[kmem::kMaxNodes];
    unsigned nodes = 0;
    auto node_of = [&](uint32_t domain) -> uint16_t {
        for (unsigned i = 0; i < nodes; ++i)
            if (domains[i] == domain) return static_cast<uint16_t>(i);
        if (nodes == kmem::kMaxNodes) return 0;
        domains[nodes] = domain;
        return static_cast<uint16_t>(nodes++);
    };
    for (unsigned i = 0; i < g_acpi.memory_count; ++i) {
        const AcpiInfo::Memory &m = g_acpi.memory[i];
        check("SRAT memory affinity", g_map.set_node(m.base, m.base + m.length, node_of(m.domain)));
    }
    for (unsigned c = 0; c < g_acpi.cpus; ++c)
        g_cpu_node[c] = g_acpi.cpu_domain[c] >= 0 ? node_of(static_cast<uint32_t>(g_acpi.cpu_domain[c])) : 0;
    for (const kmem::MemRange &r : g_map)
        if (r.type == kmem::MemType::usable || r.type == kmem::MemType::kernel_reserved) g_ram_top = r.end;
    print_firmware_map("kmem-x86_64: memory map from multiboot:\n", g_map);

    check("firmware_map", g_sys.firmware_map(g_map));
    reserve_kernel_image(g_sys);
    check("reserve the low 1 MiB", g_sys.reserve(0, 1u << 20, false, "low 1 MiB (BIOS, trampoline)"));
    check("reserve the multiboot information", g_sys.reserve(info_pa, sizeof(MultibootInfo), false, "multiboot info"));
    check("reserve the multiboot map", g_sys.reserve(mbi->mmap_addr, mbi->mmap_length, false, "multiboot map"));
    for (unsigned i = 0; i < g_acpi.table_count; ++i)
        check("reserve an ACPI table", g_sys.reserve(g_acpi.tables[i].pa, g_acpi.tables[i].length, false, "ACPI table"));
}

} // namespace
} // namespace kx

extern "C" [[noreturn]] void kmain(uint32_t magic, uint32_t info) {
    using namespace kx;
    serial_init();
    install_exception_handlers();
    kx_run_constructors();
    calibrate_tsc();
    print("kmem-x86_64: booted by multiboot\n");
    g_early_ns[0] = now_ns();
    read_firmware(magic, info);

    // EarlyWindow: the buddy in the 1 GiB the boot code mapped; kmalloc at once.
    g_early_ns[1] = now_ns();
    check("early_window", g_sys.early_window(kEarlyWindow < g_ram_top ? kEarlyWindow : (g_ram_top + 0xfff) & ~0xfffull));
    print("kmem-x86_64: EarlyWindow: buddy and kmalloc up\n");
    for (unsigned c = 0; c < g_acpi.cpus; ++c) g_sys.phys().set_cpu_node(c, g_cpu_node[c]);
    // Boot code allocates as platform code always has - through the old names.
    const BootAllocations boot_allocs = allocate_as_platform_code();

    print("kmem-x86_64: boot allocations through memblock and bootmem done\n");
    // DirectMap: page tables from the buddy, switched to once the window is covered.
    g_early_ns[2] = now_ns();
    check("direct_map", g_sys.direct_map(on_mapped, nullptr));
    if (!g_switched) switch_tables();
    g_early_ns[3] = now_ns();
    check("running", g_sys.running());
    free_after_boot(boot_allocs);

    lapic_init(g_acpi.lapic); // mapped by switch_tables()
    irq_setup();              // the IDT's interrupt vectors are in place before the APs load it
    const unsigned cpus = start_cpus(g_sys, g_acpi);
    print("kmem-x86_64: ");
    print_u64(cpus);
    print(" CPUs running, kmalloc on all of them\n");
    const SelfTestResult st = run_self_tests(g_sys, boot_allocs.buffer_pa, boot_allocs.buffer_size);
    ReportExtra extra{"acpi_tables", g_acpi.table_count, kmem::map_format_name(kmem::MapFormat::multiboot1),
                      "the multiboot memory map, ACPI SRAT"};
    print_irq_handled("kmem-x86_64: ", cpus);
    print_report(g_sys, g_map, st, cpus, "x86_64", g_early_ns, extra);
    print(st.ok ? "kmem-x86_64: self-tests passed\n" : "kmem-x86_64: SELF-TESTS FAILED\n");
    qemu_exit(st.ok ? 0x10 : 0x11); // 0x10: QEMU exit status 33
}
