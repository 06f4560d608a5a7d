// SPDX-License-Identifier: MIT
//
// DOC: the demo kernels' report - the firmware map, /proc/buddyinfo,
// /proc/meminfo, /proc/slabinfo, the allocations made before Running, and
// one KMEM-JSON line the QEMU tests read - the same for every architecture.
#include "report.h"

#include "console.h"
#include "json_out.h"

#include <kmem/report.h>

namespace kx {
namespace {

void sink(void *, const char *text, size_t len) { print_n(text, len); }

} // namespace

void print_firmware_map(const char *title, const kmem::MemoryMap &map) {
    print(title);
    for (const kmem::MemRange &r : map) {
        print("kmem: [mem ");
        print_hex(r.start);
        print("-");
        print_hex(r.end - 1);
        print("] ");
        print(kmem::mem_type_id(r.type));
        print(" node ");
        print_u64(r.node);
        print("\n");
    }
}

void print_report(kmem::MemorySystem &sys, const kmem::MemoryMap &firmware, const SelfTestResult &st,
                  unsigned cpus, const char *arch, const uint64_t phase_ns[4], const ReportExtra &extra) {
    print("/proc/buddyinfo:\n");
    kmem::report_buddyinfo(sys.phys(), sink, nullptr);
    print("/proc/meminfo:\n");
    kmem::report_meminfo(sys.phys(), sink, nullptr);
    print("/proc/slabinfo:\n");
    sys.slab().report_slabinfo(sink, nullptr);
    if (const SlabFailure &f = st.first_failure; f.why) {
        print("kmem: self-test: CPU ");
        print_u64(f.cpu);
        print(" found object ");
        print_u64(f.index);
        print(" of CPU ");
        print_u64(f.owner);
        print(" (");
        print_u64(f.size);
        print(" bytes) wrong: ");
        print(f.why);
        print("\n");
    }
    print("kmem: timer interrupts: ");
    print_u64(st.interrupts.handled);
    print(" handled, ");
    print_u64(st.interrupts.allocations);
    print(" allocations, ");
    print_u64(st.interrupts.frees);
    print(" frees, ");
    print_u64(st.interrupts.failed);
    print(" refused for lack of memory, ");
    print_u64(st.interrupts.errors);
    print(" errors\n");
    print("kmem: allocations before Running:\n");
    for (size_t i = 0; i < sys.early_count(); ++i) {
        const kmem::EarlyRecord &e = sys.early(i);
        print("  ");
        print(kmem::phase_name(e.phase));
        print(" ");
        print(kmem::boot_api_name(e.api));
        print(" ");
        print_u64(e.size);
        print(" bytes at ");
        print_hex(e.pa);
        print(" by ");
        print(e.caller);
        print("\n");
    }
    const kmem::PhysTotals t = sys.phys().totals();
    JsonOut j;
    print("KMEM-JSON ");
    j.begin_object();
    j.str("arch", arch).num("cpus", cpus).num("nodes", sys.phys().node_count());
    j.num("usable_bytes", firmware.usable_bytes()).num("managed_pages", t.managed).num("free_pages", t.free + t.pcp);
    j.num("reserved_pages", t.reserved).num("allocated_pages", t.allocated).num("metadata_bytes", t.metadata_bytes);
    j.num(extra.key, extra.value);
    j.begin_array("map");
    for (const kmem::MemRange &r : firmware)
        j.begin_object().num("start", r.start).num("end", r.end).str("type", kmem::mem_type_id(r.type)).num("node", r.node).end_object();
    j.end_array();
    j.begin_array("phases");
    const char *names[] = {"FirmwareMap", "EarlyWindow", "DirectMap"};
    for (unsigned p = 0; p < 3; ++p) j.begin_object().str("name", names[p]).num("ns", phase_ns[p + 1] - phase_ns[p]).end_object();
    j.end_array();
    j.begin_array("early");
    for (size_t i = 0; i < sys.early_count(); ++i) {
        const kmem::EarlyRecord &e = sys.early(i);
        j.begin_object().str("phase", kmem::phase_name(e.phase)).str("api", kmem::boot_api_name(e.api));
        j.str("caller", e.caller).num("size", e.size).num("pa", e.pa).boolean("failed", e.failed).end_object();
    }
    j.end_array();
    j.begin_object("page_tables").num("pages", sys.tables().table_pages()).num("pages_1g", sys.tables().pages_1g());
    j.num("pages_2m", sys.tables().pages_2m()).num("pages_4k", sys.tables().pages_4k()).end_object();
    j.begin_object("selftest").boolean("ok", st.ok).num("free_before", st.free_before).num("free_after", st.free_after);
    j.num("pages_allocated", st.pages_allocated).num("blocks_allocated", st.blocks_allocated);
    j.num("slab_objects", st.slab_objects).num("cross_cpu_frees", st.cross_cpu_frees).num("errors", st.slab_errors);
    j.num("late_freed_pages", st.late_freed_pages).str("check", st.check);
    if (const SlabFailure &f = st.first_failure; f.why) {
        j.begin_object("first_failure").str("why", f.why).num("cpu", f.cpu).num("owner", f.owner);
        j.num("index", f.index).num("size", f.size).end_object();
    }
    const IrqCounts &irq = st.interrupts;
    j.begin_object("interrupts").num("hz", st.tick_hz).num("handled", irq.handled).num("min_per_cpu", st.min_cpu_interrupts);
    j.num("allocations", irq.allocations);
    j.num("frees", irq.frees).num("failed", irq.failed).num("errors", irq.errors).end_object();
    j.end_object();
    j.end_object();
    print("\n");
}

} // namespace kx
