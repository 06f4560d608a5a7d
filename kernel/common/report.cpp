// SPDX-License-Identifier: MIT
//
// DOC: the demo kernels' report - the firmware map, /proc/buddyinfo,
// /proc/meminfo, /proc/slabinfo, the allocations made before Running, and
// one KMEM-JSON line the QEMU tests and kmem-sim --from read: the report of
// schema kmem-report/1 (docs/report-schema.md), the structure kmem-sim
// --json prints, with a kernel section of its own (CPUs, page tables,
// self-tests) - the same for every architecture.
#include "report.h"

#include "console.h"
#include "irq.h"
#include "json_out.h"

#include <kmem/report.h>

namespace kx {
namespace {

void sink(void *, const char *text, size_t len) { print_n(text, len); }

// ---- the KMEM-JSON line: the report in the shared schema (docs/report-schema.md)

void json_map(JsonOut &j, const kmem::MemoryMap &map, const char *arch, const ReportExtra &extra) {
    j.begin_object("map").str("name", "kmem-", arch).str("format", extra.map_format).str("source", extra.map_source);
    j.num("entries", map.size()).num("usable_bytes", map.usable_bytes()).num("reserved_bytes", map.reserved_bytes());
    j.num("nodes", map.node_count()).num("highest_address", map.highest_address());
    j.begin_object("bytes_by_type");
    for (int t = 0; t < kmem::kMemTypeCount; ++t)
        j.num(kmem::mem_type_id(static_cast<kmem::MemType>(t)), map.bytes(static_cast<kmem::MemType>(t)));
    j.end_object();
    j.begin_object("node_usable_bytes");
    for (uint16_t n = 0; n < kmem::kMaxNodes; ++n)
        if (const uint64_t b = map.bytes_in_node(n, kmem::MemType::usable)) j.num_at(n, b);
    j.end_object();
    j.begin_array("ranges");
    for (const kmem::MemRange &r : map) {
        j.begin_object().num("start", r.start).num("end", r.end).str("type", kmem::mem_type_id(r.type)).num("node", r.node);
        if (r.why) j.str("why", r.why);
        j.end_object();
    }
    j.end_array().end_object();
}

void json_boot(JsonOut &j, kmem::MemorySystem &sys, const uint64_t phase_ns[4]) {
    j.begin_object("boot").num("window_start", sys.window_start());
    j.num("window_bytes", sys.window_end() - sys.window_start());
    j.begin_array("direct_map");
    for (size_t i = 0; i < sys.direct_map_count(); ++i) {
        const kmem::DirectMapRange &d = sys.direct_map_range(i);
        j.begin_object().num("start", d.start).num("end", d.end).num("ns", d.ns).end_object();
    }
    j.end_array();
    j.begin_array("phases");
    const char *names[] = {"FirmwareMap", "EarlyWindow", "DirectMap"};
    for (unsigned p = 0; p < 3; ++p)
        j.begin_object().str("name", names[p]).num("ns", phase_ns[p + 1] - phase_ns[p]).end_object();
    j.end_array();
    // From the start of bootstrap (the kernel calling early_window()): until
    // early_window() returned with kmalloc working, and until Running began.
    const uint64_t kmalloc_ready = sys.times().start_ns[static_cast<unsigned>(kmem::Phase::early_window)];
    j.num("all_online_ns", phase_ns[3] - phase_ns[1]).num("kmalloc_ready_ns", kmalloc_ready - phase_ns[1]);
    j.end_object();
}

void json_phys(JsonOut &j, const kmem::PhysAllocator &phys) {
    const kmem::PhysTotals t = phys.totals();
    j.begin_object("phys").num("managed_pages", t.managed).num("free_pages", t.free + t.pcp);
    j.num("reserved_pages", t.reserved).num("allocated_pages", t.allocated).num("metadata_bytes", t.metadata_bytes);
    j.ratio("metadata_bytes_per_page", t.metadata_bytes, t.managed, 6).num("sections", t.sections);
    j.num("nodes", phys.node_count());
    j.begin_array("zones");
    for (uint16_t node = 0; node < kmem::kMaxNodes; ++node)
        for (unsigned ty = 0; ty < kmem::kZoneTypes; ++ty) {
            const kmem::Zone &z = phys.zone(node, static_cast<kmem::ZoneType>(ty));
            if (!z.present) continue;
            j.begin_object().num("node", node).str("zone", kmem::zone_type_name(static_cast<kmem::ZoneType>(ty)));
            j.num("managed_pages", z.managed).num("free_pages", z.free).num("lazy_pages", z.lazy);
            j.num("min", z.wmark_min).num("low", z.wmark_low).num("high", z.wmark_high);
            j.begin_array("free_area");
            for (unsigned o = 0; o <= kmem::kMaxOrder; ++o)
                j.num(nullptr, z.area[o].blocks + (o == kmem::kMaxOrder ? z.lazy / kmem::kMaxBlockPages : 0));
            j.end_array().end_object();
        }
    j.end_array().end_object();
}

void json_slab(JsonOut &j, const kmem::SlabAllocator &slab) {
    j.begin_object("slab").begin_array("caches");
    for (const kmem::KmemCache *c = slab.first_cache(); c; c = c->next) {
        const kmem::SlabTotals one = slab.cache_totals(c);
        if (!one.slabs && (c->flags & (kmem::kCacheDma | kmem::kCacheDma32))) continue;
        j.begin_object().str("name", c->name).num("object_size", c->object_size).num("objects", one.objects);
        j.num("active", one.active_objects).num("slabs", one.slabs).num("objects_per_slab", c->objects);
        j.num("pages_per_slab", uint64_t{1} << c->order).end_object();
    }
    j.end_array();
    const kmem::SlabTotals t = slab.totals();
    j.num("slab_pages", t.slab_pages).num("large_allocations", t.large_allocations).num("large_pages", t.large_pages);
    j.end_object();
}

void json_early(JsonOut &j, const kmem::MemorySystem &sys) {
    j.begin_object("early").begin_array("allocations");
    for (size_t i = 0; i < sys.early_count(); ++i) {
        const kmem::EarlyRecord &e = sys.early(i);
        j.begin_object().str("phase", kmem::phase_name(e.phase)).str("api", kmem::boot_api_name(e.api));
        j.str("caller", e.caller ? e.caller : "").num("size", e.size).num("align", e.align).num("min", e.min);
        j.num("max", e.max).inum("nid", e.nid).boolean("exact_nid", e.exact_nid).boolean("raw", e.raw);
        j.str("served_by", e.slab ? "kmalloc" : "pages").num("pa", e.pa).boolean("failed", e.failed).num("ns", e.ns);
        j.end_object();
    }
    j.end_array().num("dropped", sys.early_dropped()).end_object();
}

void json_kernel(JsonOut &j, kmem::MemorySystem &sys, const SelfTestResult &st, unsigned cpus, const char *arch,
                 const ReportExtra &extra) {
    j.begin_object("kernel").str("arch", arch);
    j.begin_object("cpus").num("count", cpus).begin_array("per_cpu");
    for (unsigned c = 0; c < cpus; ++c) {
        j.begin_object().num("cpu", c).num("node", sys.phys().cpu_node(c));
        j.num("timer_interrupts", irq_handled(c)).end_object();
    }
    j.end_array().end_object();
    j.begin_object("firmware").num(extra.key, extra.value).end_object();
    j.begin_object("page_tables").num("pages", sys.tables().table_pages()).num("pages_1g", sys.tables().pages_1g());
    j.num("pages_2m", sys.tables().pages_2m()).num("pages_4k", sys.tables().pages_4k()).end_object();
    j.begin_object("selftest").boolean("ok", st.ok).str("check", st.check).num("free_before", st.free_before);
    j.num("free_after", st.free_after).num("pages_allocated", st.pages_allocated);
    j.num("blocks_allocated", st.blocks_allocated);
    j.num("slab_objects", st.slab_objects).num("cross_cpu_frees", st.cross_cpu_frees).num("errors", st.slab_errors);
    j.num("late_freed_pages", st.late_freed_pages);
    if (const SlabFailure &f = st.first_failure; f.why) {
        j.begin_object("first_failure").str("why", f.why).num("cpu", f.cpu).num("owner", f.owner);
        j.num("index", f.index).num("size", f.size).end_object();
    }
    const IrqCounts &irq = st.interrupts;
    j.begin_object("interrupts").num("hz", st.tick_hz).num("handled", irq.handled);
    j.num("min_per_cpu", st.min_cpu_interrupts);
    j.num("allocations", irq.allocations).num("frees", irq.frees).num("failed", irq.failed).num("errors", irq.errors);
    j.end_object().end_object().end_object();
}

void print_json(kmem::MemorySystem &sys, const kmem::MemoryMap &firmware, const SelfTestResult &st, unsigned cpus,
                const char *arch, const uint64_t phase_ns[4], const ReportExtra &extra) {
    JsonOut j;
    print("KMEM-JSON ");
    j.begin_object().str("schema", "kmem-report/1");
    j.begin_object("producer").str("name", "kmem-", arch).end_object();
    json_map(j, firmware, arch, extra);
    json_boot(j, sys, phase_ns);
    json_phys(j, sys.phys());
    json_slab(j, sys.slab());
    json_early(j, sys);
    json_kernel(j, sys, st, cpus, arch, extra);
    j.end_object();
    print("\n");
}

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
    print_json(sys, firmware, st, cpus, arch, phase_ns, extra);
}

} // namespace kx
