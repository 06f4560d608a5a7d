// SPDX-License-Identifier: MIT
//
// DOC: kmem-sim's report object, and reading reports back (report.h).
#include "report.h"

#include <string_view>
#include <vector>

#ifndef KMEM_VERSION
#error "KMEM_VERSION: the project's version (set by tools/CMakeLists.txt)"
#endif

namespace kmem::tools {

const char *sim_version() { return KMEM_VERSION; }

nlohmann::json sim_report(const MemoryMap &map, const LoadedMap &info, const MapLabels *labels,
                          const SimBoot *boot, const ReplayResult *replay, const char *skipped) {
    nlohmann::json out = {{"schema", kReportSchema},
                          {"producer", {{"name", "kmem-sim"}, {"version", sim_version()}}},
                          {"map", map_json(map, info, labels)}};
    if (boot) {
        out["boot"] = boot_json(*boot);
        out["phys"] = phys_json(boot->phys());
        out["slab"] = slab_json(boot->slab());
        out["early"] = early_json(*boot->sys);
        if (replay) out["replay"] = replay_json(*replay);
    } else {
        out["boot"] = {{"skipped", skipped}};
    }
    return out;
}

namespace {

// ---- the shape check: "a.b[].c" paths and the kind of value each must hold

enum class Kind { uint, integer, number, string, boolean, object, array };

struct Field {
    const char *path;
    Kind kind;
};

const char *kind_name(Kind k) {
    switch (k) {
    case Kind::uint: return "an unsigned integer";
    case Kind::integer: return "an integer";
    case Kind::number: return "a number";
    case Kind::string: return "a string";
    case Kind::boolean: return "true or false";
    case Kind::object: return "an object";
    case Kind::array: return "an array";
    }
    return "?";
}

bool is_kind(const nlohmann::json &v, Kind k) {
    switch (k) {
    case Kind::uint:
        return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
    case Kind::integer: return v.is_number_integer();
    case Kind::number: return v.is_number();
    case Kind::string: return v.is_string();
    case Kind::boolean: return v.is_boolean();
    case Kind::object: return v.is_object();
    case Kind::array: return v.is_array();
    }
    return false;
}

// Check `path` (from `at`, named `where`) in `v`; every element of a "[]" part.
bool check_path(const nlohmann::json &v, std::string_view path, const std::string &where, Kind kind,
                std::string &error) {
    if (path.empty()) {
        if (is_kind(v, kind)) return true;
        error = where + ": not " + kind_name(kind);
        return false;
    }
    const size_t dot = path.find('.');
    std::string_view part = path.substr(0, dot);
    const std::string_view rest =
        dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    const bool each = part.size() > 2 && part.substr(part.size() - 2) == "[]";
    if (each) part.remove_suffix(2);
    const std::string key(part);
    const std::string here = where.empty() ? key : where + "." + key;
    if (!v.is_object() || !v.contains(key)) {
        error = here + ": missing";
        return false;
    }
    const nlohmann::json &child = v.at(key);
    if (!each) return check_path(child, rest, here, kind, error);
    if (!child.is_array()) {
        error = here + ": not an array";
        return false;
    }
    for (size_t i = 0; i < child.size(); ++i)
        if (!check_path(child[i], rest, here + "[" + std::to_string(i) + "]", kind, error))
            return false;
    return true;
}

bool check_fields(const nlohmann::json &r, const std::vector<Field> &fields, std::string &error) {
    for (const Field &f : fields)
        if (!check_path(r, f.path, "", f.kind, error)) return false;
    return true;
}

const std::vector<Field> kAlways = {
    {"producer.name", Kind::string},
    {"map.name", Kind::string},
    {"map.format", Kind::string},
    {"map.source", Kind::string},
    {"map.entries", Kind::uint},
    {"map.usable_bytes", Kind::uint},
    {"map.reserved_bytes", Kind::uint},
    {"map.nodes", Kind::uint},
    {"map.highest_address", Kind::uint},
    {"map.bytes_by_type", Kind::object},
    {"map.node_usable_bytes", Kind::object},
    {"map.ranges[].start", Kind::uint},
    {"map.ranges[].end", Kind::uint},
    {"map.ranges[].type", Kind::string},
    {"map.ranges[].node", Kind::uint},
    {"boot", Kind::object},
};

const std::vector<Field> kBooted = {
    {"boot.window_start", Kind::uint},
    {"boot.window_bytes", Kind::uint},
    {"boot.phases[].name", Kind::string},
    {"boot.phases[].ns", Kind::uint},
    {"boot.direct_map[].start", Kind::uint},
    {"boot.direct_map[].end", Kind::uint},
    {"boot.direct_map[].ns", Kind::uint},
    {"boot.all_online_ns", Kind::uint},
    {"boot.kmalloc_ready_ns", Kind::uint},
    {"phys.managed_pages", Kind::uint},
    {"phys.free_pages", Kind::uint},
    {"phys.reserved_pages", Kind::uint},
    {"phys.allocated_pages", Kind::uint},
    {"phys.metadata_bytes", Kind::uint},
    {"phys.metadata_bytes_per_page", Kind::number},
    {"phys.sections", Kind::uint},
    {"phys.nodes", Kind::uint},
    {"phys.zones[].node", Kind::uint},
    {"phys.zones[].zone", Kind::string},
    {"phys.zones[].managed_pages", Kind::uint},
    {"phys.zones[].free_pages", Kind::uint},
    {"phys.zones[].lazy_pages", Kind::uint},
    {"phys.zones[].min", Kind::uint},
    {"phys.zones[].low", Kind::uint},
    {"phys.zones[].high", Kind::uint},
    {"phys.zones[].free_area", Kind::array},
    {"slab.caches[].name", Kind::string},
    {"slab.caches[].object_size", Kind::uint},
    {"slab.caches[].objects", Kind::uint},
    {"slab.caches[].active", Kind::uint},
    {"slab.caches[].slabs", Kind::uint},
    {"slab.caches[].objects_per_slab", Kind::uint},
    {"slab.caches[].pages_per_slab", Kind::uint},
    {"slab.slab_pages", Kind::uint},
    {"slab.large_allocations", Kind::uint},
    {"slab.large_pages", Kind::uint},
    {"early.allocations[].phase", Kind::string},
    {"early.allocations[].api", Kind::string},
    {"early.allocations[].caller", Kind::string},
    {"early.allocations[].size", Kind::uint},
    {"early.allocations[].align", Kind::uint},
    {"early.allocations[].min", Kind::uint},
    {"early.allocations[].max", Kind::uint},
    {"early.allocations[].nid", Kind::integer},
    {"early.allocations[].exact_nid", Kind::boolean},
    {"early.allocations[].raw", Kind::boolean},
    {"early.allocations[].served_by", Kind::string},
    {"early.allocations[].pa", Kind::uint},
    {"early.allocations[].failed", Kind::boolean},
    {"early.allocations[].ns", Kind::uint},
    {"early.dropped", Kind::uint},
};

const std::vector<Field> kReplay = {
    {"replay.memblock_allocs", Kind::uint},
    {"replay.memblock_bytes", Kind::uint},
    {"replay.before_page_tables", Kind::uint},
    {"replay.slab_allocs", Kind::uint},
    {"replay.slab_frees", Kind::uint},
    {"replay.page_allocs", Kind::uint},
    {"replay.page_frees", Kind::uint},
    {"replay.failed", Kind::uint},
    {"replay.failures", Kind::array},
    {"replay.kmalloc_bytes_requested", Kind::uint},
    {"replay.kmalloc_bytes_linux", Kind::uint},
    {"replay.kmalloc_bytes_kmem", Kind::uint},
    {"replay.bytes_requested", Kind::uint},
    {"replay.bytes_allocated_linux", Kind::uint},
    {"replay.bytes_allocated_kmem", Kind::uint},
    {"replay.peak_live_bytes", Kind::uint},
    {"replay.replay_ns", Kind::uint},
    {"replay.kmalloc_classes[].linux_class", Kind::uint},
    {"replay.kmalloc_classes[].allocs", Kind::uint},
    {"replay.kmalloc_classes[].bytes_requested", Kind::uint},
    {"replay.kmalloc_classes[].bytes_linux", Kind::uint},
    {"replay.kmalloc_classes[].bytes_kmem", Kind::uint},
};

const std::vector<Field> kKernel = {
    {"kernel.arch", Kind::string},
    {"kernel.cpus.count", Kind::uint},
    {"kernel.cpus.per_cpu[].cpu", Kind::uint},
    {"kernel.cpus.per_cpu[].node", Kind::uint},
    {"kernel.cpus.per_cpu[].timer_interrupts", Kind::uint},
    {"kernel.firmware", Kind::object},
    {"kernel.page_tables.pages", Kind::uint},
    {"kernel.page_tables.pages_1g", Kind::uint},
    {"kernel.page_tables.pages_2m", Kind::uint},
    {"kernel.page_tables.pages_4k", Kind::uint},
    {"kernel.selftest.ok", Kind::boolean},
    {"kernel.selftest.check", Kind::string},
    {"kernel.selftest.free_before", Kind::uint},
    {"kernel.selftest.free_after", Kind::uint},
    {"kernel.selftest.pages_allocated", Kind::uint},
    {"kernel.selftest.blocks_allocated", Kind::uint},
    {"kernel.selftest.slab_objects", Kind::uint},
    {"kernel.selftest.cross_cpu_frees", Kind::uint},
    {"kernel.selftest.errors", Kind::uint},
    {"kernel.selftest.late_freed_pages", Kind::uint},
    {"kernel.selftest.interrupts.hz", Kind::uint},
    {"kernel.selftest.interrupts.handled", Kind::uint},
    {"kernel.selftest.interrupts.min_per_cpu", Kind::uint},
    {"kernel.selftest.interrupts.allocations", Kind::uint},
    {"kernel.selftest.interrupts.frees", Kind::uint},
    {"kernel.selftest.interrupts.failed", Kind::uint},
    {"kernel.selftest.interrupts.errors", Kind::uint},
};

// 1-based line number of byte `at` in `text`.
size_t line_of(const std::string &text, size_t at) {
    size_t line = 1;
    for (size_t i = 0; i < at && i < text.size(); ++i)
        line += text[i] == '\n';
    return line;
}

} // namespace

bool check_report(const nlohmann::json &r, std::string &error) {
    if (!r.is_object()) {
        error = "not a kmem report: not a JSON object";
        return false;
    }
    if (!r.contains("schema") || !r["schema"].is_string()) {
        error = std::string("not a kmem report: no \"schema\" key (kmem-sim and the kernels write "
                            "\"schema\": \"") +
                kReportSchema + "\")";
        return false;
    }
    if (r["schema"] != kReportSchema) {
        error = "a report of schema " + r["schema"].get<std::string>() + ": this kmem-sim reads " +
                kReportSchema;
        return false;
    }
    std::string why;
    bool ok = check_fields(r, kAlways, why);
    if (ok && report_booted(r))
        ok = check_fields(r, kBooted, why);
    else if (ok && !(r["boot"].contains("skipped") && r["boot"]["skipped"].is_string())) {
        why = "phys: missing (a report of a boot has phys; one of none has boot.skipped)";
        ok = false;
    }
    if (ok && r.contains("replay")) ok = check_fields(r, kReplay, why);
    if (ok && r.contains("kernel")) ok = check_fields(r, kKernel, why);
    if (!ok) error = std::string("not a valid ") + kReportSchema + " report: " + why;
    return ok;
}

bool parse_report(const std::string &text, const std::string &name, nlohmann::json &out,
                  std::string &error) {
    static constexpr std::string_view kTag = "KMEM-JSON ";
    size_t first = text.find_first_not_of(" \t\r\n");
    size_t begin = 0, end = text.size();
    if (first == std::string::npos || text[first] != '{') {
        const size_t tag = text.rfind(kTag);
        if (tag == std::string::npos) {
            error =
                name + ": no kmem report in it (neither a JSON object nor a line with KMEM-JSON)";
            return false;
        }
        begin = tag + kTag.size();
        end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        while (end > begin && (text[end - 1] == '\r' || text[end - 1] == ' '))
            --end;
    }
    const std::string where = begin ? name + ":" + std::to_string(line_of(text, begin)) : name;
    out = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(begin),
                                text.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
    if (out.is_discarded()) {
        // Say where, as the parser would have: parse again for its message.
        try {
            const nlohmann::json again =
                nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(begin),
                                      text.begin() + static_cast<std::ptrdiff_t>(end));
            (void)again;
            error = where + ": not JSON";
        } catch (const nlohmann::json::parse_error &e) {
            std::string what = e.what();
            if (const size_t at = what.find("] "); at != std::string::npos)
                what = what.substr(at + 2);
            error = where + ": not JSON: " + what;
        }
        return false;
    }
    if (!check_report(out, error)) {
        error = where + ": " + error;
        return false;
    }
    return true;
}

bool read_report(const std::string &path, nlohmann::json &out, std::string &error) {
    std::string text;
    return read_file(path, text, error) && parse_report(text, path, out, error);
}

} // namespace kmem::tools
