// SPDX-License-Identifier: MIT
//
// DOC: what a replay and the early-allocation record look like: JSON
// sections and the human report (kmem beside Linux SLUB).
#include "map_report.h"
#include "replay.h"

#include <cinttypes>
#include <cstdio>
#include <string_view>

namespace kmem::tools {
namespace {

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%" PRIx64, v);
    return b;
}

double ratio(uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

} // namespace

nlohmann::json replay_json(const ReplayResult &r) {
    nlohmann::json classes = nlohmann::json::array();
    for (const auto &[size, c] : r.kmalloc_classes)
        classes.push_back({{"linux_class", size},
                           {"allocs", c.allocs},
                           {"bytes_requested", c.bytes_requested},
                           {"bytes_linux", c.bytes_linux},
                           {"bytes_kmem", c.bytes_kmem}});
    return {{"memblock_allocs", r.memblock_allocs},
            {"memblock_bytes", r.memblock_bytes},
            {"memblock_reserves", r.memblock_reserves},
            {"memblock_frees", r.memblock_frees},
            {"before_page_tables", r.before_page_tables},
            {"before_page_tables_bytes", r.before_page_tables_bytes},
            {"before_page_tables_callers", r.before_page_tables_callers},
            {"page_tables_arch", r.page_tables_arch},
            {"page_tables_caller", r.page_tables_caller},
            {"page_tables_line", r.page_tables_line},
            {"unprinted_allocs", r.unprinted_allocs},
            {"unprinted_bytes", r.unprinted_bytes},
            {"slab_allocs", r.slab_allocs},
            {"slab_frees", r.slab_frees},
            {"page_allocs", r.page_allocs},
            {"page_frees", r.page_frees},
            {"unmatched_frees", r.unmatched_frees},
            {"reused_without_free", r.reused},
            {"frees_of_failed", r.frees_of_failed},
            {"failed", r.failed},
            {"failures", r.failures},
            {"bytes_requested", r.bytes_requested},
            {"bytes_allocated_linux", r.bytes_allocated_linux},
            {"bytes_allocated_kmem", r.bytes_allocated_kmem},
            {"kmalloc_bytes_requested", r.kmalloc_bytes_requested},
            {"kmalloc_bytes_linux", r.kmalloc_bytes_linux},
            {"kmalloc_bytes_kmem", r.kmalloc_bytes_kmem},
            {"kmalloc_ratio", ratio(r.kmalloc_bytes_kmem, r.kmalloc_bytes_linux)},
            {"peak_live_bytes", r.peak_live_bytes},
            {"caches", r.caches},
            {"replay_ns", r.replay_ns},
            {"kmalloc_classes", classes}};
}

void print_replay_text(std::ostream &os, const ReplayResult &r) {
    char line[256];
    os << "kmem: replay of the Linux boot: " << r.memblock_allocs << " memblock allocations ("
       << human_bytes(r.memblock_bytes) << ") and " << r.unprinted_allocs << " without an allocation line ("
       << human_bytes(r.unprinted_bytes) << "); " << r.memblock_reserves << " reservations, " << r.memblock_frees
       << " frees\n";
    if (r.page_tables_arch.empty()) {
        os << "kmem: no page-table allocation in the log: all " << r.before_page_tables
           << " allocations came before Running\n";
    } else {
        os << "kmem: " << r.page_tables_arch << ": the first page-table allocation is line " << r.page_tables_line
           << " (" << r.page_tables_caller << "); before it " << r.before_page_tables << " allocations ("
           << human_bytes(r.before_page_tables_bytes) << ")";
        for (size_t i = 0; i < r.before_page_tables_callers.size(); ++i)
            os << (i ? ", " : ": ") << r.before_page_tables_callers[i];
        os << "\n";
    }
    os << "kmem: then " << r.slab_allocs << " slab allocations and " << r.slab_frees << " frees, " << r.page_allocs
       << " page allocations and " << r.page_frees << " frees; " << r.unmatched_frees
       << " frees of memory allocated before tracing began, " << r.reused
       << " addresses reused with no traced free; failed: " << r.failed << "; "
       << r.replay_ns / 1000 << " us\n";
    for (const std::string &f : r.failures) os << "kmem: replay failure: " << f << "\n";
    os << "kmem beside Linux SLUB (bytes allocated for the same requests):\n";
    std::snprintf(line, sizeof line, "  %-22s %14s %14s %14s %8s\n", "", "requested", "Linux SLUB", "kmem", "kmem/SLUB");
    os << line;
    auto row = [&](const char *name, uint64_t req, uint64_t lin, uint64_t km) {
        std::snprintf(line, sizeof line, "  %-22s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %8.3f\n", name, req, lin, km,
                      ratio(km, lin));
        os << line;
    };
    row("kmalloc", r.kmalloc_bytes_requested, r.kmalloc_bytes_linux, r.kmalloc_bytes_kmem);
    row("all slab (+caches)", r.bytes_requested, r.bytes_allocated_linux, r.bytes_allocated_kmem);
    os << "  kmalloc by Linux size class:\n";
    for (const auto &[size, c] : r.kmalloc_classes) {
        const std::string name = "    kmalloc-" + std::to_string(size) + " (" + std::to_string(c.allocs) + ")";
        row(name.c_str(), c.bytes_requested, c.bytes_linux, c.bytes_kmem);
    }
    os << "kmem: peak live (slab objects and pages): " << human_bytes(r.peak_live_bytes) << "\n";
}

nlohmann::json early_json(const MemorySystem &sys) {
    nlohmann::json rows = nlohmann::json::array();
    for (size_t i = 0; i < sys.early_count(); ++i) {
        const EarlyRecord &e = sys.early(i);
        rows.push_back({{"phase", phase_name(e.phase)},
                        {"api", boot_api_name(e.api)},
                        {"caller", e.caller},
                        {"size", e.size},
                        {"align", e.align},
                        {"min", e.min},
                        {"max", e.max},
                        {"nid", e.nid},
                        {"exact_nid", e.exact_nid},
                        {"raw", e.raw},
                        {"served_by", e.slab ? "kmalloc" : "pages"},
                        {"pa", e.pa},
                        {"failed", e.failed},
                        {"ns", e.ns}});
    }
    return {{"allocations", rows}, {"dropped", sys.early_dropped()}};
}

void print_early_text(std::ostream &os, const MemorySystem &sys) {
    os << "kmem: allocations before Running (what is allocated before the page tables exist, and by whom):\n";
    char line[320];
    std::snprintf(line, sizeof line, "  %-12s %-28s %10s %9s %-7s %-18s %s\n", "phase", "api", "size", "align",
                  "served", "address", "caller");
    os << line;
    // The same request again and again (arm64's 1,028 page-table pages) is
    // one row: the first one's address, and how many in a row.
    auto same = [](const EarlyRecord &a, const EarlyRecord &b) {
        return a.phase == b.phase && a.api == b.api && a.size == b.size && a.align == b.align && a.min == b.min &&
               a.max == b.max && a.nid == b.nid && a.exact_nid == b.exact_nid && a.slab == b.slab &&
               a.failed == b.failed && std::string_view(a.caller ? a.caller : "") == (b.caller ? b.caller : "");
    };
    uint64_t bytes[kPhaseCount] = {}, count[kPhaseCount] = {};
    for (size_t i = 0, run; i < sys.early_count(); i += run) {
        const EarlyRecord &e = sys.early(i);
        for (run = 1; i + run < sys.early_count() && same(e, sys.early(i + run));) ++run;
        std::string where = e.failed ? std::string("FAILED") : hex(e.pa);
        if (e.min || e.max) where += " in [" + hex(e.min) + "," + (e.max ? hex(e.max) : std::string("-")) + ")";
        if (e.nid >= 0) where += (e.exact_nid ? " node=" : " node~") + std::to_string(e.nid);
        const std::string times = run > 1 ? " (" + std::to_string(run) + " in a row)" : std::string();
        std::snprintf(line, sizeof line, "  %-12s %-28s %10" PRIu64 " %9" PRIu64 " %-7s %-18s %s%s\n",
                      phase_name(e.phase), boot_api_name(e.api), e.size, e.align, e.slab ? "kmalloc" : "pages",
                      where.c_str(), e.caller, times.c_str());
        os << line;
        if (!e.failed) {
            bytes[static_cast<unsigned>(e.phase)] += e.size * run;
            count[static_cast<unsigned>(e.phase)] += run;
        }
    }
    for (unsigned p = 0; p < kPhaseCount; ++p)
        if (count[p])
            os << "  " << phase_name(static_cast<Phase>(p)) << ": " << count[p] << " allocations, "
               << human_bytes(bytes[p]) << "\n";
    if (sys.early_dropped()) os << "  (" << sys.early_dropped() << " more not recorded: the record is full)\n";
}

} // namespace kmem::tools
