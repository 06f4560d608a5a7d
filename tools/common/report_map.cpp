// SPDX-License-Identifier: MIT
//
// DOC: the map of a report (report_map.h).
#include "report_map.h"

#include "report.h"

#include <deque>

namespace kmem::tools {

bool looks_like_report(std::string_view data) {
    const size_t first = data.find_first_not_of(" \t\r\n");
    return (first != std::string_view::npos && data[first] == '{') ||
           data.find("KMEM-JSON ") != std::string_view::npos;
}

bool load_report_map(const std::string &data, const std::string &path, MemoryMap &out,
                     LoadedMap &info, MapLabels &labels, std::string &error) {
    nlohmann::json r;
    if (!parse_report(data, path, r, error)) return false;
    // A range's reason is a static string in a MemoryMap: these live as long as kmem-sim.
    static std::deque<std::string> reasons;
    out.clear();
    const nlohmann::json &ranges = r["map"]["ranges"];
    for (size_t i = 0; i < ranges.size(); ++i) {
        const nlohmann::json &x = ranges[i];
        MemType type = MemType::reserved;
        bool known = false;
        for (int t = 0; t < kMemTypeCount && !known; ++t)
            if (x["type"] == mem_type_id(static_cast<MemType>(t))) {
                type = static_cast<MemType>(t);
                known = true;
            }
        const std::string where = path + ": map.ranges[" + std::to_string(i) + "]: ";
        if (!known) {
            error = where + "unknown type " + x["type"].dump();
            return false;
        }
        const uint64_t start = x["start"].get<uint64_t>(), end = x["end"].get<uint64_t>();
        const auto node = x["node"].get<uint64_t>();
        if (node >= kMaxNodes) {
            error = where + "node " + std::to_string(node) + " is beyond kmem's " +
                    std::to_string(kMaxNodes);
            return false;
        }
        // kernel_reserved is RAM someone took: add it as RAM, then reserve it with its reason.
        Status s = out.add(start, end, type == MemType::kernel_reserved ? MemType::usable : type,
                           static_cast<uint16_t>(node));
        if (s.ok() && type == MemType::kernel_reserved)
            s = out.reserve(start, end, reasons.emplace_back(x.value("why", "")).c_str());
        if (!s.ok()) {
            error = where + s.reason();
            return false;
        }
    }
    if (Status s = out.check(); !s.ok()) {
        error = path + ": the report's map is refused: " + s.reason();
        return false;
    }
    info = LoadedMap{};
    info.name = path;
    labels = {"kmem-report", "map.ranges of " + r["map"]["name"].get<std::string>()};
    return true;
}

} // namespace kmem::tools
