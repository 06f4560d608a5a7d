// SPDX-License-Identifier: MIT
//
// DOC: reports of a memory map: Linux-style console lines and JSON.
#pragma once

#include "map_loader.h"

#include <nlohmann/json.hpp>

#include <ostream>

namespace kmem::tools {

// What a report says the map is: its input format and what in the input it
// was built from ("text", "e820"). map_labels() derives them from how the
// map was loaded; a map read back from a report says "kmem-report".
struct MapLabels {
    std::string format, source;
};
MapLabels map_labels(const LoadedMap &info);

// The map as Linux prints its e820 table, then a summary.
void print_map_text(std::ostream &os, const MemoryMap &map, const LoadedMap &info,
                    const MapLabels *labels = nullptr);

// {"name", "format", "source", "entries", "usable_bytes", "reserved_bytes",
//  "nodes", "bytes_by_type", "node_usable_bytes", "highest_address", "ranges"}
nlohmann::json map_json(const MemoryMap &map, const LoadedMap &info, const MapLabels *labels = nullptr);

// "1023.98 GiB" style sizes for people.
std::string human_bytes(uint64_t bytes);

} // namespace kmem::tools
