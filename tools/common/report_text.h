// SPDX-License-Identifier: MIT
//
// DOC: a kmem report (report.h) as text for people, drawn from the JSON
// alone: what kmem-sim --from prints for a report of any boot (a kernel's
// serial log, a saved --json), and the side-by-side text of --compare.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

namespace kmem::tools {

// The report: the map, the boot phases, the buddy's pages and free blocks,
// slabinfo, the allocations before Running, a replay's summary and a
// kernel's CPUs, page tables and self-tests. early_only: only the
// allocations before Running (kmem-sim --report early). `r` has passed
// check_report().
void print_report_text(std::ostream &os, const nlohmann::json &r, bool early_only);

// Two reports side by side (kmem-sim --compare): the phases, the memory
// totals, the early allocations by caller and the slab caches, each row
// with both values and B's change from A. Both have passed check_report().
void print_compare_text(std::ostream &os, const nlohmann::json &a, const nlohmann::json &b);

// "kmem-sim", "kmem-x86_64 (map of kmem-x86_64)": who wrote a report and of what.
std::string report_label(const nlohmann::json &r);

} // namespace kmem::tools
