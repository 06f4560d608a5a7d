// SPDX-License-Identifier: MIT
//
// DOC: a report read back as a memory map: kmem-sim --map FILE where FILE is
// a kmem report (kmem-sim --map-only --json, any --json, a kernel's serial
// log with its KMEM-JSON line). The map is the report's map.ranges, each
// with its type, node and reason, exactly as the report gives them.
#pragma once

#include "map_loader.h"
#include "map_report.h"

#include <string>
#include <string_view>

namespace kmem::tools {

// Whether `data` (a --map file's contents) is a kmem report rather than a
// memory map: JSON text beginning with '{', or text with a KMEM-JSON line.
bool looks_like_report(std::string_view data);

// The map of the report in `data` (read from `path`). `labels` says what it
// is in reports: format "kmem-report", source "map.ranges of <the report's
// map name>". False with "PATH: reason" (or "PATH:LINE: reason") in `error`.
bool load_report_map(const std::string &data, const std::string &path, MemoryMap &out,
                     LoadedMap &info, MapLabels &labels, std::string &error);

} // namespace kmem::tools
