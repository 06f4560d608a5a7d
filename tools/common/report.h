// SPDX-License-Identifier: MIT
//
// DOC: the kmem report (schema "kmem-report/1", docs/report-schema.md): one
// JSON object that kmem-sim prints with --json and every demo kernel prints
// on its KMEM-JSON line. This file builds kmem-sim's, and reads any report
// back: a JSON file, or any text with a KMEM-JSON line in it (a serial log).
//
// Its sections: schema, producer, map, boot, and once something was booted
// phys, slab and early; replay for a replayed Linux boot (kmem-sim), kernel
// for a demo kernel (CPUs, page tables, self-tests). The JSON Schema is
// docs/report-schema.json.
#pragma once

#include "map_loader.h"
#include "map_report.h"
#include "replay.h"
#include "sim_boot.h"

#include <nlohmann/json.hpp>

#include <string>

namespace kmem::tools {

inline constexpr char kReportSchema[] = "kmem-report/1";

// kmem-sim's own version (the project's), as --version and producer.version say it.
const char *sim_version();

// kmem-sim's report of a run. `labels` as for map_json(); `boot` and
// `replay` may be null (nothing booted: `skipped` says why; no replay).
nlohmann::json sim_report(const MemoryMap &map, const LoadedMap &info, const MapLabels *labels,
                          const SimBoot *boot, const ReplayResult *replay, const char *skipped);

// A report from `text`, the contents of `name`: the whole text as one JSON
// object, or else the JSON after "KMEM-JSON " on the last line holding it
// (a kernel's serial log). False with "NAME:LINE: reason" or "NAME: reason"
// in `error` when there is none, it is not JSON, or check_report() refuses it.
bool parse_report(const std::string &text, const std::string &name, nlohmann::json &out,
                  std::string &error);
// The same for a file.
bool read_report(const std::string &path, nlohmann::json &out, std::string &error);

// What the readers of a report rely on (the JSON Schema says it all; this
// checks the parts kmem-sim reads): "schema" is kmem-report/1, map and boot
// are there, and a booted report has phys, slab and early. False with the
// reason.
bool check_report(const nlohmann::json &r, std::string &error);

// Whether the report says something was booted (it has a phys section).
inline bool report_booted(const nlohmann::json &r) { return r.contains("phys"); }

} // namespace kmem::tools
