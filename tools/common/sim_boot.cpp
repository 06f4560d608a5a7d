// SPDX-License-Identifier: MIT
//
// DOC: the simulated boot behind kmem-sim: map, bootstrap, online the rest.
#include "sim_boot.h"

#include "map_report.h"
#include "platform/hosted/hosted.h"

#include <kmem/report.h>

namespace kmem::tools {

uint64_t ram_top(const MemoryMap &map) {
    uint64_t top = 0;
    for (const MemRange &r : map)
        if (r.type == MemType::usable || r.type == MemType::kernel_reserved) top = r.end;
    return top;
}

void release_machine(SimBoot &boot) {
    boot.slab.reset();
    boot.phys.reset();
    hosted::destroy_physical_memory();
}

bool boot_machine(const MemoryMap &map, uint64_t window, SimBoot &out, std::string &error) {
    release_machine(out);
    out.phases.clear();
    out.window = window;
    const uint64_t top = ram_top(map);
    if (top == 0) {
        error = "no usable memory in the map: nothing to boot";
        return false;
    }
    if (Status s = hosted::create_physical_memory(top); !s.ok()) {
        error = std::string("cannot simulate the machine: ") + s.reason();
        return false;
    }
    // Both allocators are static, all-zero objects in a kernel: make them first.
    out.phys = std::make_unique<PhysAllocator>();
    out.slab = std::make_unique<SlabAllocator>();
    const uint64_t t0 = hosted::monotonic_ns();

    // EarlyWindow: the boot code maps [0, window); the buddy comes up inside it.
    const uint64_t wend = window < top ? window : top;
    if (Status s = hosted::map_physical_range(0, wend); !s.ok()) {
        error = std::string("cannot map the early window: ") + s.reason();
        return false;
    }
    if (Status s = out.phys->bootstrap(map, 0, wend); !s.ok()) {
        error = std::string("bootstrap failed: ") + s.reason();
        return false;
    }
    // Slab and kmalloc come up at once, still inside the early window.
    if (Status s = out.slab->init(*out.phys); !s.ok()) {
        error = std::string("slab init failed: ") + s.reason();
        return false;
    }
    void *probe = out.slab->kmalloc(64);
    if (!probe || !out.slab->kfree(probe).ok()) {
        error = "kmalloc does not work after slab init";
        return false;
    }
    const uint64_t t1 = hosted::monotonic_ns();
    out.kmalloc_ready_ns = t1 - t0;
    out.phases.push_back({"EarlyWindow", t1 - t0});

    // DirectMap: every other range of RAM is mapped, then onlined.
    for (const MemRange &r : map) {
        if ((r.type != MemType::usable && r.type != MemType::kernel_reserved) || r.end <= wend)
            continue;
        const uint64_t s = r.start > wend ? r.start : wend;
        if (Status st = hosted::map_physical_range(s & ~(kPageSize - 1),
                                                   (r.end + kPageSize - 1) & ~(kPageSize - 1));
            !st.ok()) {
            error = std::string("cannot map RAM: ") + st.reason();
            return false;
        }
    }
    Status st = out.phys->online_map_ranges(map, wend, kMaxPhysMemory);
    if (st.ok()) st = out.phys->reserve_map_ranges(map, wend, kMaxPhysMemory);
    if (!st.ok()) {
        error = std::string("onlining failed: ") + st.reason();
        return false;
    }
    const uint64_t t2 = hosted::monotonic_ns();
    out.phases.push_back({"DirectMap", t2 - t1});
    out.all_online_ns = t2 - t0;
    if (Status c = out.slab->check(); !c.ok()) {
        error = std::string("internal error: slab check failed: ") + c.reason();
        return false;
    }
    if (Status c = out.phys->check(); !c.ok()) {
        error = std::string("internal error: buddy check failed: ") + c.reason();
        return false;
    }
    return true;
}

void print_boot_text(std::ostream &os, const SimBoot &boot) {
    auto sink = [](void *ctx, const char *text, size_t len) {
        static_cast<std::ostream *>(ctx)->write(text, static_cast<std::streamsize>(len));
    };
    os << "kmem: boot phases:";
    for (const BootPhase &p : boot.phases) os << " " << p.name << " " << p.ns / 1000 << " us;";
    os << " all RAM online after " << boot.all_online_ns / 1000 << " us\n";
    const PhysTotals t = boot.phys->totals();
    os << "kmem: " << t.managed << " pages managed (" << human_bytes(t.managed * kPageSize)
       << "), page descriptors " << human_bytes(t.metadata_bytes) << " ("
       << (t.managed ? static_cast<double>(t.metadata_bytes) / static_cast<double>(t.managed) : 0)
       << " bytes per page)\n";
    os << "/proc/buddyinfo:\n";
    report_buddyinfo(*boot.phys, sink, &os);
    os << "/proc/zoneinfo:\n";
    report_zoneinfo(*boot.phys, sink, &os);
    os << "/proc/meminfo:\n";
    report_meminfo(*boot.phys, sink, &os);
    os << "kmem: kmalloc ready " << boot.kmalloc_ready_ns / 1000 << " us after the buddy began\n";
    os << "/proc/slabinfo:\n";
    boot.slab->report_slabinfo(sink, &os);
}

nlohmann::json phys_json(const PhysAllocator &phys) {
    const PhysTotals t = phys.totals();
    nlohmann::json zones = nlohmann::json::array();
    for (uint16_t node = 0; node < kMaxNodes; ++node)
        for (unsigned ty = 0; ty < kZoneTypes; ++ty) {
            const Zone &z = phys.zone(node, static_cast<ZoneType>(ty));
            if (!z.present) continue;
            nlohmann::json free_area = nlohmann::json::array();
            for (unsigned o = 0; o <= kMaxOrder; ++o)
                free_area.push_back(z.area[o].blocks + (o == kMaxOrder ? z.lazy / kMaxBlockPages : 0));
            zones.push_back({{"node", node},
                             {"zone", zone_type_name(static_cast<ZoneType>(ty))},
                             {"managed_pages", z.managed},
                             {"free_pages", z.free},
                             {"lazy_pages", z.lazy},
                             {"min", z.wmark_min},
                             {"low", z.wmark_low},
                             {"high", z.wmark_high},
                             {"free_area", free_area}});
        }
    return {
        {"managed_pages", t.managed},
        {"free_pages", t.free + t.pcp},
        {"reserved_pages", t.reserved},
        {"allocated_pages", t.allocated},
        {"metadata_bytes", t.metadata_bytes},
        {"metadata_bytes_per_page",
         t.managed ? static_cast<double>(t.metadata_bytes) / static_cast<double>(t.managed) : 0.0},
        {"sections", t.sections},
        {"nodes", phys.node_count()},
        {"zones", zones},
    };
}

nlohmann::json boot_json(const SimBoot &boot) {
    nlohmann::json phases = nlohmann::json::array();
    for (const BootPhase &p : boot.phases) phases.push_back({{"name", p.name}, {"ns", p.ns}});
    return {{"window_bytes", boot.window},
            {"phases", phases},
            {"all_online_ns", boot.all_online_ns},
            {"kmalloc_ready_ns", boot.kmalloc_ready_ns}};
}

nlohmann::json slab_json(const SlabAllocator &slab) {
    nlohmann::json caches = nlohmann::json::array();
    for (const KmemCache *c = slab.first_cache(); c; c = c->next) {
        const SlabTotals one = slab.cache_totals(c);
        if (!one.slabs && (c->flags & (kCacheDma | kCacheDma32))) continue;
        caches.push_back({{"name", c->name},
                          {"object_size", c->object_size},
                          {"objects", one.objects},
                          {"active", one.active_objects},
                          {"slabs", one.slabs},
                          {"objects_per_slab", c->objects},
                          {"pages_per_slab", uint64_t{1} << c->order}});
    }
    const SlabTotals t = slab.totals();
    return {{"caches", caches},
            {"slab_pages", t.slab_pages},
            {"large_allocations", t.large_allocations},
            {"large_pages", t.large_pages}};
}

} // namespace kmem::tools
