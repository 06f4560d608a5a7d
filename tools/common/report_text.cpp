// SPDX-License-Identifier: MIT
//
// DOC: the text of a report read back (kmem-sim --from): every line from
// the JSON. The map, /proc/buddyinfo and /proc/slabinfo read as kmem-sim
// prints them for a run; the rest is a summary of each section.
#include "report_text.h"

#include "map_report.h"

#include <cinttypes>
#include <cstdio>
#include <map>

namespace kmem::tools {
namespace {

using nlohmann::json;

uint64_t u(const json &j, const char *key) { return j.at(key).get<uint64_t>(); }

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%" PRIx64, v);
    return b;
}

std::string us(uint64_t ns) { return std::to_string(ns / 1000) + " us"; }

// mem_type_id (the JSON's) to mem_type_name (the text's): "acpi_nvs" -> "ACPI NVS".
std::string type_name(const std::string &id) {
    for (int t = 0; t < kMemTypeCount; ++t)
        if (id == mem_type_id(static_cast<MemType>(t)))
            return mem_type_name(static_cast<MemType>(t));
    return id;
}

void print_map(std::ostream &os, const json &m) {
    char line[160];
    os << "kmem: memory map of " << m.at("name").get<std::string>() << " ("
       << m.at("format").get<std::string>() << ", from " << m.at("source").get<std::string>()
       << "):\n";
    const uint64_t nodes = u(m, "nodes");
    for (const json &r : m.at("ranges")) {
        std::snprintf(line, sizeof line, "kmem: [mem 0x%016" PRIx64 "-0x%016" PRIx64 "] %s",
                      u(r, "start"), u(r, "end") - 1,
                      type_name(r.at("type").get<std::string>()).c_str());
        os << line;
        if (nodes > 1 || u(r, "node") != 0) os << " node " << u(r, "node");
        if (r.contains("why")) os << " (" << r["why"].get<std::string>() << ")";
        os << "\n";
    }
    os << "kmem: " << m.at("ranges").size() << " ranges, " << nodes << " NUMA node"
       << (nodes == 1 ? "" : "s") << ", highest address " << hex(u(m, "highest_address")) << "\n";
    for (const auto &[id, bytes] : m.at("bytes_by_type").items()) {
        const uint64_t b = bytes.get<uint64_t>();
        if (b == 0 && id != "usable") continue;
        std::snprintf(line, sizeof line, "kmem: %-16s %20" PRIu64 " bytes (%s)",
                      type_name(id).c_str(), b, human_bytes(b).c_str());
        os << line << "\n";
    }
    if (nodes > 1)
        for (const auto &[n, b] : m.at("node_usable_bytes").items())
            os << "kmem: node " << n << ": " << human_bytes(b.get<uint64_t>()) << " usable\n";
}

void print_boot(std::ostream &os, const json &r) {
    const json &b = r.at("boot"), &p = r.at("phys");
    os << "kmem: boot phases:";
    for (const json &ph : b.at("phases"))
        os << " " << ph.at("name").get<std::string>() << " " << us(u(ph, "ns")) << ";";
    os << " all RAM online after " << us(u(b, "all_online_ns"));
    if (b.contains("map_read_ns"))
        os << " (input read and parsed in " << us(u(b, "map_read_ns")) << ")";
    os << "\n";
    const uint64_t ws = u(b, "window_start"), wb = u(b, "window_bytes");
    os << "kmem: early window [" << hex(ws) << ", " << hex(ws + wb) << ") (" << human_bytes(wb)
       << "); kmalloc ready " << us(u(b, "kmalloc_ready_ns"))
       << " after the buddy began; the direct map reached " << b.at("direct_map").size()
       << " RAM ranges\n";
    const uint64_t managed = u(p, "managed_pages");
    char per_page[32];
    std::snprintf(per_page, sizeof per_page, "%.2f", p.at("metadata_bytes_per_page").get<double>());
    os << "kmem: " << managed << " pages managed (" << human_bytes(managed * kPageSize)
       << "): " << u(p, "free_pages") << " free, " << u(p, "allocated_pages") << " allocated, "
       << u(p, "reserved_pages") << " reserved; page descriptors "
       << human_bytes(u(p, "metadata_bytes")) << " (" << per_page << " bytes per page), "
       << u(p, "sections") << " sections, " << u(p, "nodes") << " node"
       << (u(p, "nodes") == 1 ? "" : "s") << "\n";
    // As report_buddyinfo() writes it.
    os << "/proc/buddyinfo:\n";
    char cell[32];
    for (const json &z : p.at("zones")) {
        std::snprintf(cell, sizeof cell, "Node %" PRIu64 ", zone %8s ", u(z, "node"),
                      z.at("zone").get<std::string>().c_str());
        os << cell;
        for (const json &blocks : z.at("free_area")) {
            std::snprintf(cell, sizeof cell, "%6" PRIu64 " ", blocks.get<uint64_t>());
            os << cell;
        }
        os << "\n";
    }
    os << "kmem: zones (pages):\n";
    for (const json &z : p.at("zones")) {
        std::snprintf(cell, sizeof cell, "  node %" PRIu64 " %-7s", u(z, "node"),
                      z.at("zone").get<std::string>().c_str());
        os << cell << " managed " << u(z, "managed_pages") << ", free " << u(z, "free_pages")
           << ", lazy " << u(z, "lazy_pages") << ", watermarks " << u(z, "min") << "/"
           << u(z, "low") << "/" << u(z, "high") << "\n";
    }
}

void print_slab(std::ostream &os, const json &s) {
    // As SlabAllocator::report_slabinfo() writes it.
    os << "/proc/slabinfo:\nslabinfo - version: 2.1\n"
          "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : "
          "tunables <limit> "
          "<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n";
    char line[256];
    for (const json &c : s.at("caches")) {
        std::snprintf(line, sizeof line,
                      "%-17s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %4" PRIu64 " %4" PRIu64
                      " : tunables %4d %4d %4d : slabdata %6" PRIu64 " %6" PRIu64 " %6d\n",
                      c.at("name").get<std::string>().c_str(), u(c, "active"), u(c, "objects"),
                      u(c, "object_size"), u(c, "objects_per_slab"), u(c, "pages_per_slab"), 0, 0,
                      0, u(c, "slabs"), u(c, "slabs"), 0);
        os << line;
    }
    os << "kmem: " << s.at("caches").size() << " caches in " << u(s, "slab_pages")
       << " slab pages; " << u(s, "large_allocations") << " large kmalloc allocations in "
       << u(s, "large_pages") << " pages\n";
}

void print_early(std::ostream &os, const json &e) {
    os << "kmem: allocations before Running (what is allocated before the page tables exist, and "
          "by whom):\n";
    char line[320];
    std::snprintf(line, sizeof line, "  %-12s %-28s %10s %9s %-7s %-18s %s\n", "phase", "api",
                  "size", "align", "served", "address", "caller");
    os << line;
    std::map<std::string, std::pair<uint64_t, uint64_t>> by_phase; // count, bytes
    std::vector<std::string> order;
    for (const json &a : e.at("allocations")) {
        const bool failed = a.at("failed").get<bool>();
        std::string where = failed ? std::string("FAILED") : hex(u(a, "pa"));
        if (u(a, "min") || u(a, "max"))
            where += " in [" + hex(u(a, "min")) + "," +
                     (u(a, "max") ? hex(u(a, "max")) : std::string("-")) + ")";
        if (const int64_t nid = a.at("nid").get<int64_t>(); nid >= 0)
            where += (a.at("exact_nid").get<bool>() ? " node=" : " node~") + std::to_string(nid);
        const std::string phase = a.at("phase").get<std::string>();
        std::snprintf(line, sizeof line, "  %-12s %-28s %10" PRIu64 " %9" PRIu64 " %-7s %-18s %s\n",
                      phase.c_str(), a.at("api").get<std::string>().c_str(), u(a, "size"),
                      u(a, "align"), a.at("served_by").get<std::string>().c_str(), where.c_str(),
                      a.at("caller").get<std::string>().c_str());
        os << line;
        if (failed) continue;
        if (!by_phase.count(phase)) order.push_back(phase);
        by_phase[phase].first += 1;
        by_phase[phase].second += u(a, "size");
    }
    for (const std::string &phase : order)
        os << "  " << phase << ": " << by_phase[phase].first << " allocations, "
           << human_bytes(by_phase[phase].second) << "\n";
    if (u(e, "dropped"))
        os << "  (" << u(e, "dropped") << " more not recorded: the record is full)\n";
}

void print_replay(std::ostream &os, const json &rp) {
    os << "kmem: replay of a Linux boot: " << u(rp, "memblock_allocs") << " memblock allocations ("
       << human_bytes(u(rp, "memblock_bytes")) << "), " << u(rp, "before_page_tables")
       << " of them before the page tables; then " << u(rp, "slab_allocs")
       << " slab allocations and " << u(rp, "slab_frees") << " frees, " << u(rp, "page_allocs")
       << " page allocations and " << u(rp, "page_frees") << " frees; failed: " << u(rp, "failed")
       << "; " << us(u(rp, "replay_ns")) << "\n";
    for (const json &f : rp.at("failures"))
        os << "kmem: replay failure: " << f.get<std::string>() << "\n";
    char line[160];
    os << "kmem beside Linux SLUB (bytes allocated for the same requests):\n";
    std::snprintf(line, sizeof line, "  %-22s %14s %14s %14s %9s\n", "", "requested", "Linux SLUB",
                  "kmem", "kmem/SLUB");
    os << line;
    auto row = [&](const std::string &name, uint64_t req, uint64_t lin, uint64_t km) {
        std::snprintf(line, sizeof line,
                      "  %-22s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %9.3f\n", name.c_str(),
                      req, lin, km, lin ? static_cast<double>(km) / static_cast<double>(lin) : 0.0);
        os << line;
    };
    row("kmalloc", u(rp, "kmalloc_bytes_requested"), u(rp, "kmalloc_bytes_linux"),
        u(rp, "kmalloc_bytes_kmem"));
    row("all slab (+caches)", u(rp, "bytes_requested"), u(rp, "bytes_allocated_linux"),
        u(rp, "bytes_allocated_kmem"));
    for (const json &c : rp.at("kmalloc_classes"))
        row("    kmalloc-" + std::to_string(u(c, "linux_class")) + " (" +
                std::to_string(u(c, "allocs")) + ")",
            u(c, "bytes_requested"), u(c, "bytes_linux"), u(c, "bytes_kmem"));
    os << "kmem: peak live (slab objects and pages): " << human_bytes(u(rp, "peak_live_bytes"))
       << "\n";
}

void print_kernel(std::ostream &os, const json &k) {
    const json &cpus = k.at("cpus"), &pt = k.at("page_tables"), &st = k.at("selftest"),
               &irq = st.at("interrupts");
    os << "kmem: kernel " << k.at("arch").get<std::string>() << ", " << u(cpus, "count")
       << " CPUs; timer interrupts:";
    for (const json &c : cpus.at("per_cpu"))
        os << " cpu " << u(c, "cpu") << " (node " << u(c, "node") << ") "
           << u(c, "timer_interrupts") << ";";
    os << "\n";
    os << "kmem: firmware:";
    for (const auto &[key, v] : k.at("firmware").items())
        os << " " << key << " " << v.dump() << ";";
    os << " page tables: " << u(pt, "pages") << " pages, mapping with " << u(pt, "pages_1g")
       << " 1 GiB, " << u(pt, "pages_2m") << " 2 MiB and " << u(pt, "pages_4k") << " 4 KiB pages\n";
    os << "kmem: self-tests " << (st.at("ok").get<bool>() ? "passed" : "FAILED")
       << " (check: " << st.at("check").get<std::string>() << "): free pages "
       << u(st, "free_before") << " before, " << u(st, "free_after") << " after; "
       << u(st, "pages_allocated") << " pages in " << u(st, "blocks_allocated")
       << " blocks until memory ran out; " << u(st, "slab_objects") << " slab objects, "
       << u(st, "cross_cpu_frees") << " freed by another CPU, " << u(st, "errors") << " errors; "
       << u(st, "late_freed_pages") << " pages given back by free_bootmem_late\n";
    os << "kmem: timer interrupts at " << u(irq, "hz") << " Hz: " << u(irq, "handled")
       << " handled (at least " << u(irq, "min_per_cpu") << " per CPU), " << u(irq, "allocations")
       << " allocations, " << u(irq, "frees") << " frees, " << u(irq, "failed")
       << " refused for lack of memory, " << u(irq, "errors") << " errors\n";
    if (st.contains("first_failure")) {
        const json &f = st["first_failure"];
        os << "kmem: self-test: CPU " << u(f, "cpu") << " found object " << u(f, "index")
           << " of CPU " << u(f, "owner") << " (" << u(f, "size")
           << " bytes) wrong: " << f.at("why").get<std::string>() << "\n";
    }
}

} // namespace

std::string report_label(const json &r) {
    std::string s = r.at("producer").at("name").get<std::string>();
    if (r["producer"].contains("version")) s += " " + r["producer"]["version"].get<std::string>();
    return s + ", map " + r.at("map").at("name").get<std::string>();
}

void print_report_text(std::ostream &os, const json &r, bool early_only) {
    const bool booted = r.contains("phys");
    if (early_only) {
        if (booted)
            print_early(os, r.at("early"));
        else
            os << "kmem: nothing was booted: no early allocations\n";
        return;
    }
    os << "kmem: report " << r.at("schema").get<std::string>() << " by " << report_label(r) << "\n";
    print_map(os, r.at("map"));
    if (!booted) {
        os << "kmem: nothing was booted: " << r.at("boot").at("skipped").get<std::string>() << "\n";
        return;
    }
    print_boot(os, r);
    print_slab(os, r.at("slab"));
    print_early(os, r.at("early"));
    if (r.contains("replay")) print_replay(os, r["replay"]);
    if (r.contains("kernel")) print_kernel(os, r["kernel"]);
}

} // namespace kmem::tools
