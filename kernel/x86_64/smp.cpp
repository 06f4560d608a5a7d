// SPDX-License-Identifier: MIT
//
// DOC: the application processors (see smp.h). The boot CPU copies the
// trampoline to 0x8000 (reserved: inside the low 1 MiB), gives each AP a
// stack from the buddy and its CPU number, and starts them one at a time;
// an AP sets up its per-CPU block and loads the IDT (the exception vectors
// and irq.cpp's interrupts), says it is up, and waits for work. kmem needs
// nothing else: each CPU's per-CPU page lists and slab freelists are found
// through its CPU number.
#include "smp.h"

#include "apic.h"

#include <kmem/buddy.h>


extern "C" {
extern const char ap_trampoline[], ap_trampoline_end[];
extern uint64_t ap_boot_cr3, ap_cr3, ap_stack, ap_cpu, ap_entry;
extern uint32_t ap_gdt_base;
extern char boot_pml4[];
extern char gdt64[];
}

namespace kx {
namespace {

constexpr uint64_t kTrampoline = 0x8000;
PerCpu g_percpu[kmem::kMaxCpus];

void send_ipi(uint32_t apic_id, uint32_t command) {
    lapic_write(lapic::kIcrHigh, apic_id << 24);
    lapic_write(lapic::kIcrLow, command);
    for (int i = 0; i < 100000 && (lapic_read(lapic::kIcrLow) & (1u << 12)); ++i) // delivery status
        pause();
}

// The trampoline's variables, in the copy at 0x8000.
template <class T> T *in_copy(T *var) {
    return reinterpret_cast<T *>(kTrampoline + (reinterpret_cast<const char *>(var) - ap_trampoline));
}

} // namespace

extern "C" [[noreturn]] void ap_main(unsigned cpu) {
    set_this_cpu(&g_percpu[cpu]);
    install_exception_handlers();
    cpu_online();
    cpu_work_loop(cpu);
}

unsigned bsp_apic_id(const AcpiInfo &) {
    return lapic_read(lapic::kId) >> 24;
}

unsigned start_cpus(kmem::MemorySystem &sys, const AcpiInfo &acpi) {
    const uint32_t bsp = lapic_read(lapic::kId) >> 24; // irq_setup() enabled this local APIC
    g_percpu[0] = {0, bsp, 0};
    set_this_cpu(&g_percpu[0]);
    __builtin_memcpy(reinterpret_cast<void *>(kTrampoline), ap_trampoline,
                     static_cast<size_t>(ap_trampoline_end - ap_trampoline));
    // The real-mode lgdt reads a 32-bit base: the kernel (and its GDT) is below 4 GiB.
    *in_copy(&ap_gdt_base) = static_cast<uint32_t>(reinterpret_cast<uint64_t>(gdt64));
    *in_copy(&ap_boot_cr3) = reinterpret_cast<uint64_t>(boot_pml4);
    *in_copy(&ap_cr3) = read_cr3();
    *in_copy(&ap_entry) = reinterpret_cast<uint64_t>(&ap_main);
    unsigned next = 1;
    for (unsigned i = 0; i < acpi.cpus && next < kmem::kMaxCpus; ++i) {
        if (acpi.apic_id[i] == bsp) continue;
        kmem::Result<uint64_t> stack = sys.phys().alloc_pages(2); // 16 KiB
        if (!stack.ok()) kmem_platform_panic("no memory for an AP stack");
        g_percpu[next] = {next, acpi.apic_id[i], 0};
        *in_copy(&ap_stack) = kDirectMap + stack.value() + (uint64_t{4096} << 2);
        *in_copy(&ap_cpu) = next;
        const unsigned before = cpus_running();
        send_ipi(acpi.apic_id[i], 0x4500); // INIT
        delay_us(10000);
        for (int k = 0; k < 2 && cpus_running() == before; ++k) {
            send_ipi(acpi.apic_id[i], 0x4600 | (kTrampoline >> 12)); // STARTUP
            delay_us(200);
        }
        wait_for_cpu(before, "an application processor did not start");
        ++next;
    }
    return next;
}

} // namespace kx
