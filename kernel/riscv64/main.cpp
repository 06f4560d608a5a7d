// SPDX-License-Identifier: MIT
//
// DOC: the RISC-V demo kernel - QEMU virt's device tree to kmalloc on every
// hart through kmem's boot front door, S-mode under OpenSBI, with no change
// to the allocator layers: only paging/ has a RISC-V builder and this a
// RISC-V entry.
//
//   FirmwareMap  /memory (numa-node-id), /reserved-memory (OpenSBI's own
//                region) and the reservation block from the device tree in
//                a1; the kernel and the tree reserved; the harts, the UART,
//                the exit device and the timebase found
//   EarlyWindow  the buddy in the first 1 GiB of RAM (mapped by early_mmu.cpp);
//                each hart's node for its CPU number
//   DirectMap    the real tables from the buddy (Riscv64PageTables, Sv48 when
//                the hart has it, else Sv39; the kernel, the UART and the
//                exit device identity-mapped), switched to once they cover
//                the window; the rest of RAM onlined as mapped
//   Running      the timer (irq_setup), the other harts through SBI HSM,
//                self-tests (with every hart's timer interrupt), report,
//                exit (sifive_test)
#include "arch.h"
#include "boot_steps.h"
#include "fdt.h"
#include "harts.h"
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
uint64_t g_dtb_pa = 0;
uint64_t g_ram_top = 0;
bool g_switched = false;
uint64_t g_phase_ns[4];

uint32_t be32(const uint8_t *p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// The first reg entry's address of the first node listing `compatible`, else `fallback`.
uint64_t device_at(const uint8_t *dtb, const char *compatible, uint64_t fallback) {
    FdtNode n;
    uint64_t base, size;
    return fdt_find_compatible(dtb, compatible, n) && fdt_reg(n, 0, base, size) ? base : fallback;
}

void read_devices(const uint8_t *dtb) {
    Devices &d = devices();
    d.uart = device_at(dtb, "ns16550a", d.uart);
    d.test = device_at(dtb, "sifive,test0", d.test);
    FdtNode cpus;
    uint32_t len = 0;
    const uint8_t *tb = fdt_find_node(dtb, "cpus", cpus) ? fdt_prop(dtb, cpus, "timebase-frequency", len) : nullptr;
    if (tb && len == 4 && fdt_cells(tb, 1)) d.timebase_hz = fdt_cells(tb, 1);
}

// The kernel (identity, executable), the UART and the exit device into the
// new tables, then satp.
void switch_tables() {
    kmem::ArchPageTables &t = g_sys.tables();
    const uint64_t start = reinterpret_cast<uint64_t>(kernel_start) & ~uint64_t{(2u << 20) - 1};
    const uint64_t end = (reinterpret_cast<uint64_t>(kernel_end) + (2u << 20) - 1) & ~uint64_t{(2u << 20) - 1};
    kmem::MapAttrs code;
    code.executable = true;
    code.global = true;
    check("map the kernel", t.map(start, start, end - start, code));
    kmem::MapAttrs device;
    device.cache = kmem::CacheMode::uncached;
    device.global = true;
    check("map the UART", t.map(devices().uart & ~uint64_t{0xfff}, devices().uart & ~uint64_t{0xfff}, 4096, device,
                                kmem::kPage4K));
    check("map the exit device", t.map(devices().test & ~uint64_t{0xfff}, devices().test & ~uint64_t{0xfff}, 4096,
                                       device, kmem::kPage4K));
    asm volatile("fence rw, rw" ::: "memory");
    KX_CSR_WRITE(satp, kmem::riscv_satp(t.mode(), t.root()));
    asm volatile("sfence.vma" ::: "memory");
    switched_to_kernel_tables(g_ram_top);
    g_switched = true;
}

kmem::Status on_mapped(void *, uint64_t, uint64_t end) {
    if (g_switched) asm volatile("sfence.vma" ::: "memory"); // the hart may cache the entries as invalid
    else if (end > kRamBase + kEarlyWindow) switch_tables();
    return {};
}

} // namespace

const uint8_t *device_tree() { return reinterpret_cast<const uint8_t *>(kDirectMap + g_dtb_pa); }

} // namespace kx

extern "C" [[noreturn]] void kmain(uint64_t hart, uint64_t dtb_pa) {
    using namespace kx;
    for (auto **f = __init_array_start; f != __init_array_end; ++f) (*f)();
    g_dtb_pa = dtb_pa;
    g_phase_ns[0] = now_ns();

    // FirmwareMap: the device tree OpenSBI passed on.
    if (dtb_pa < kRamBase || dtb_pa >= kRamBase + kEarlyWindow) kmem_platform_panic("the device tree is not in the early map");
    const uint8_t *dtb = device_tree();
    if (be32(dtb) != 0xd00dfeed) kmem_platform_panic("no device tree in a1");
    const uint32_t dtb_size = be32(dtb + 4);
    read_devices(dtb);
    print("kmem-riscv64: MMU on (early Sv39 map), S-mode on hart ");
    print_u64(hart);
    print("\n");
    check("device tree", kmem::parse_fdt(dtb, dtb_size, g_map));
    if (!read_harts(dtb, hart)) kmem_platform_panic("the device tree does not list the boot hart");
    for (const kmem::MemRange &r : g_map)
        if (r.type == kmem::MemType::usable || r.type == kmem::MemType::kernel_reserved) g_ram_top = r.end;
    print_firmware_map("kmem-riscv64: memory map from the device tree:\n", g_map);
    check("firmware_map", g_sys.firmware_map(g_map));
    reserve_kernel_image(g_sys);
    check("reserve the device tree", g_sys.reserve(dtb_pa, dtb_size, false, "device tree"));

    // EarlyWindow: the buddy in the first 1 GiB of RAM; kmalloc at once.
    g_phase_ns[1] = now_ns();
    const uint64_t wend = kRamBase + kEarlyWindow < g_ram_top ? kRamBase + kEarlyWindow : g_ram_top;
    check("early_window", g_sys.early_window(kRamBase, wend));
    // OpenSBI's boot hart is whichever wins its lottery, and it is always
    // CPU 0: the line names each CPU's hart, then its node.
    print("kmem-riscv64: hart:node of each CPU:");
    for (unsigned c = 0; c < harts().count; ++c) {
        g_sys.phys().set_cpu_node(c, harts().hart[c].node);
        print(" ");
        print_u64(harts().hart[c].id);
        print(":");
        print_u64(g_sys.phys().cpu_node(c));
    }
    print("\n");
    const BootAllocations boot_allocs = allocate_as_platform_code();

    // DirectMap: the real tables, switched to once they cover the window.
    g_phase_ns[2] = now_ns();
    check("page-table mode", g_sys.tables().configure(harts().mode, harts().svpbmt));
    check("direct_map", g_sys.direct_map(on_mapped, nullptr));
    if (!g_switched) switch_tables();
    print(harts().mode == kmem::RiscvMode::sv48 ? "kmem-riscv64: Sv48 tables" : "kmem-riscv64: Sv39 tables");
    print(harts().svpbmt ? " with Svpbmt\n" : "\n");
    g_phase_ns[3] = now_ns();
    check("running", g_sys.running());
    free_after_boot(boot_allocs);

    irq_setup(); // before the other harts start
    const unsigned cpus = start_cpus(g_sys);
    print("kmem-riscv64: ");
    print_u64(cpus);
    print(" harts running, kmalloc on all of them\n");
    const SelfTestResult st = run_self_tests(g_sys, boot_allocs.buffer_pa, boot_allocs.buffer_size);
    print_report(g_sys, g_map, st, cpus, "riscv64", g_phase_ns,
                 ReportExtra{"dtb_bytes", dtb_size, kmem::map_format_name(kmem::MapFormat::fdt),
                             "/memory, /reserved-memory, memreserve"});
    print_irq_handled("kmem-riscv64: ", cpus);
    print(st.ok ? "kmem-riscv64: self-tests passed\n" : "kmem-riscv64: SELF-TESTS FAILED\n");
    qemu_exit(st.ok ? 0 : 1);
}
