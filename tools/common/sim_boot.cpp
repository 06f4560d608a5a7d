// SPDX-License-Identifier: MIT
//
// DOC: the simulated boot behind kmem-sim: map, bootstrap, online the rest.
#include "sim_boot.h"

#include "map_report.h"
#include "platform/hosted/hosted.h"

#include <kmem/report.h>

namespace kmem::tools {

uint64_t ram_bottom(const MemoryMap &map) {
    for (const MemRange &r : map)
        if (r.type == MemType::usable || r.type == MemType::kernel_reserved) return r.start;
    return 0;
}

uint64_t ram_top(const MemoryMap &map) {
    uint64_t top = 0;
    for (const MemRange &r : map)
        if (r.type == MemType::usable || r.type == MemType::kernel_reserved) top = r.end;
    return top;
}

void release_machine(SimBoot &boot) {
    boot.sys.reset();
    boot.phases.clear();
    hosted::destroy_physical_memory();
}

namespace {

Status map_simulated(void *, uint64_t start, uint64_t end) { return hosted::map_physical_range(start, end); }

} // namespace

bool start_machine(const MemoryMap &map, uint64_t window, SimBoot &out, std::string &error) {
    release_machine(out);
    out.window = window;
    const uint64_t top = ram_top(map);
    if (top == 0) {
        error = "no usable memory in the map: nothing to boot";
        return false;
    }
    if (Status s = hosted::create_physical_memory(top); !s.ok()) {
        error = std::string("cannot simulate the machine: ") + s.reason();
        out.failed_in = Phase::off;
        out.failure = s.error();
        return false;
    }
    // A kernel keeps the MemorySystem in static storage (all-zero); so does this.
    out.sys = std::make_unique<MemorySystem>();
    if (Status s = out.sys->firmware_map(map); !s.ok()) {
        error = std::string("the firmware map is refused: ") + s.reason();
        out.failed_in = Phase::firmware_map;
        out.failure = s.error();
        return false;
    }
    out.last_ns = hosted::monotonic_ns();
    return true;
}

bool enter_phase(SimBoot &boot, Phase next, std::string &error) {
    MemorySystem &sys = *boot.sys;
    const Phase was = sys.phase();
    // A phase's work (bootstrap for EarlyWindow, the tables for DirectMap)
    // counts in the phase it leads into.
    const uint64_t begin = hosted::monotonic_ns();
    Status s;
    if (next == Phase::early_window) {
        // The boot code maps the window - from the lowest RAM (2 MiB-aligned:
        // 0 on a PC, the board's RAM base elsewhere); the buddy comes up
        // inside it, slab at once.
        const uint64_t top = ram_top(sys.map());
        const uint64_t wstart = ram_bottom(sys.map()) & ~((uint64_t{2} << 20) - 1);
        const uint64_t wend = top - wstart > boot.window ? wstart + boot.window : top;
        boot.window_start = wstart;
        boot.bootstrap_ns = begin;
        s = hosted::map_physical_range(wstart, wend);
        if (s.ok()) s = sys.early_window(wstart, wend);
        if (s.ok()) {
            void *probe = sys.slab().kmalloc(64);
            if (!probe || !sys.slab().kfree(probe).ok()) {
                error = "kmalloc does not work after slab init";
                boot.failed_in = next;
                boot.failure = make_error(Errc::no_memory, "kmalloc failed right after slab came up");
                return false;
            }
            boot.kmalloc_ready_ns = hosted::monotonic_ns() - boot.bootstrap_ns;
        }
    } else if (next == Phase::direct_map) {
        s = sys.direct_map(map_simulated, nullptr);
    } else if (next == Phase::running) {
        boot.all_online_ns = begin - boot.bootstrap_ns;
        s = sys.running();
    } else {
        s = make_error(Errc::wrong_phase, "no such phase transition");
    }
    if (!s.ok()) {
        error = std::string(phase_name(next)) + " failed: " + s.reason();
        boot.failed_in = next;
        boot.failure = s.error();
        return false;
    }
    boot.phases.push_back({phase_name(was), begin - boot.last_ns});
    boot.last_ns = begin;
    return true;
}

bool run_phases(SimBoot &boot, std::string &error) {
    for (Phase p : {Phase::early_window, Phase::direct_map, Phase::running})
        if (!enter_phase(boot, p, error)) return false;
    return true;
}

bool check_machine(const SimBoot &boot, std::string &error) {
    if (Status c = boot.slab().check(); !c.ok()) error = std::string("slab check failed: ") + c.reason();
    else if (Status b = boot.phys().check(); !b.ok()) error = std::string("buddy check failed: ") + b.reason();
    else return true;
    return false;
}

void print_boot_text(std::ostream &os, const SimBoot &boot) {
    auto sink = [](void *ctx, const char *text, size_t len) {
        static_cast<std::ostream *>(ctx)->write(text, static_cast<std::streamsize>(len));
    };
    os << "kmem: boot phases:";
    for (const BootPhase &p : boot.phases) os << " " << p.name << " " << p.ns / 1000 << " us;";
    os << " all RAM online after " << boot.all_online_ns / 1000 << " us (input read and parsed in "
       << boot.map_read_ns / 1000 << " us)\n";
    const PhysTotals t = boot.phys().totals();
    os << "kmem: " << t.managed << " pages managed (" << human_bytes(t.managed * kPageSize)
       << "), page descriptors " << human_bytes(t.metadata_bytes) << " ("
       << (t.managed ? static_cast<double>(t.metadata_bytes) / static_cast<double>(t.managed) : 0)
       << " bytes per page)\n";
    os << "/proc/buddyinfo:\n";
    report_buddyinfo(boot.phys(), sink, &os);
    os << "/proc/zoneinfo:\n";
    report_zoneinfo(boot.phys(), sink, &os);
    os << "/proc/meminfo:\n";
    report_meminfo(boot.phys(), sink, &os);
    os << "kmem: kmalloc ready " << boot.kmalloc_ready_ns / 1000 << " us after the buddy began\n";
    os << "/proc/slabinfo:\n";
    boot.slab().report_slabinfo(sink, &os);
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
    nlohmann::json reached = nlohmann::json::array();
    for (size_t i = 0; boot.sys && i < boot.sys->direct_map_count(); ++i) {
        const DirectMapRange &d = boot.sys->direct_map_range(i);
        reached.push_back({{"start", d.start}, {"end", d.end}, {"ns", d.ns}});
    }
    // The window as the boot code mapped it: --window bytes, or all RAM if there is less.
    const uint64_t wstart = boot.sys ? boot.sys->window_start() : boot.window_start;
    const uint64_t wend = boot.sys ? boot.sys->window_end() : wstart;
    return {{"window_start", wstart},
            {"window_bytes", wend - wstart},
            {"direct_map", reached},
            {"phases", phases},
            {"all_online_ns", boot.all_online_ns},
            {"kmalloc_ready_ns", boot.kmalloc_ready_ns},
            {"map_read_ns", boot.map_read_ns}};
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
