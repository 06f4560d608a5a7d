// SPDX-License-Identifier: MIT
//
// DOC: console and JSON reports of a MemoryMap (hosted tools only).
#include "map_report.h"

#include <cinttypes>
#include <cstdio>

namespace kmem::tools {
namespace {

std::string input_source(const LoadedMap &info) {
    switch (info.format) {
    case MapFormat::linux_text: return text_source_name(info.text.source);
    case MapFormat::fdt: return "/memory, /reserved-memory, memreserve";
    default: return map_format_name(info.format);
    }
}

} // namespace

MapLabels map_labels(const LoadedMap &info) { return {map_format_name(info.format), input_source(info)}; }

std::string human_bytes(uint64_t bytes) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", v, units[u]);
    return buf;
}

void print_map_text(std::ostream &os, const MemoryMap &map, const LoadedMap &info, const MapLabels *labels) {
    char line[160];
    const MapLabels l = labels ? *labels : map_labels(info);
    os << "kmem: memory map of " << info.name << " (" << l.format << ", from " << l.source << "):\n";
    for (const MemRange &r : map) {
        std::snprintf(line, sizeof line, "kmem: [mem 0x%016" PRIx64 "-0x%016" PRIx64 "] %s",
                      r.start, r.end - 1, mem_type_name(r.type));
        os << line;
        if (map.node_count() > 1 || r.node != 0) os << " node " << r.node;
        if (r.why) os << " (" << r.why << ")";
        os << "\n";
    }
    os << "kmem: " << map.size() << " ranges, " << map.node_count() << " NUMA node"
       << (map.node_count() == 1 ? "" : "s") << ", highest address 0x" << std::hex
       << map.highest_address() << std::dec << "\n";
    for (int t = 0; t < kMemTypeCount; ++t) {
        const auto type = static_cast<MemType>(t);
        const uint64_t b = map.bytes(type);
        if (b == 0 && type != MemType::usable) continue;
        std::snprintf(line, sizeof line, "kmem: %-16s %20" PRIu64 " bytes (%s)",
                      mem_type_name(type), b, human_bytes(b).c_str());
        os << line << "\n";
    }
    if (map.node_count() > 1)
        for (uint16_t n = 0; n < kMaxNodes; ++n)
            if (uint64_t b = map.bytes_in_node(n, MemType::usable))
                os << "kmem: node " << n << ": " << human_bytes(b) << " usable\n";
}

nlohmann::json map_json(const MemoryMap &map, const LoadedMap &info, const MapLabels *labels) {
    using nlohmann::json;
    json ranges = json::array();
    for (const MemRange &r : map) {
        json j = {{"start", r.start}, {"end", r.end}, {"type", mem_type_id(r.type)},
                  {"node", r.node}};
        if (r.why) j["why"] = r.why;
        ranges.push_back(std::move(j));
    }
    json by_type = json::object();
    for (int t = 0; t < kMemTypeCount; ++t)
        by_type[mem_type_id(static_cast<MemType>(t))] = map.bytes(static_cast<MemType>(t));
    json per_node = json::object();
    for (uint16_t n = 0; n < kMaxNodes; ++n)
        if (uint64_t b = map.bytes_in_node(n, MemType::usable)) per_node[std::to_string(n)] = b;
    return {
        {"name", info.name},
        {"format", labels ? labels->format : map_format_name(info.format)},
        {"source", labels ? labels->source : input_source(info)},
        {"entries", map.size()},
        {"usable_bytes", map.usable_bytes()},
        {"reserved_bytes", map.reserved_bytes()},
        {"nodes", map.node_count()},
        {"highest_address", map.highest_address()},
        {"bytes_by_type", by_type},
        {"node_usable_bytes", per_node},
        {"ranges", ranges},
    };
}

} // namespace kmem::tools
