// SPDX-License-Identifier: MIT
//
// DOC: the HTML report of kmem-sim (--html FILE): one self-contained page.
//
// The page is built around the very object kmem-sim prints with --json (a
// kmem report of any boot, report.h; with --compare, two of them): it
// is embedded verbatim (as JSON, in a <script type="application/json"
// id="kmem-data"> block) and a small inline script draws the pictures and
// tables from it, so the page can never show other numbers than the JSON
// report. Only kmem's compile-time constants (page size, zone limits, the
// highest buddy order) travel beside it, in the "kmem-constants" block. No
// network, no external assets. docs/report.md describes what is drawn.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace kmem::tools {

// The whole page for `report` (the object of kmem-sim --json).
std::string html_report(const nlohmann::json &report);

// Write html_report(report) to `path`. False (with "PATH: reason" in
// `error`) if the file cannot be written.
bool write_html_report(const std::string &path, const nlohmann::json &report, std::string &error);

// Two reports side by side (kmem-sim --compare --html): `a` in the
// kmem-data block, `b` in kmem-data-b; the script draws the comparison.
std::string html_compare_report(const nlohmann::json &a, const nlohmann::json &b);
bool write_html_compare(const std::string &path, const nlohmann::json &a, const nlohmann::json &b,
                        std::string &error);

// The page's style sheet and script, in the order the page holds them:
// the common part (html_assets.cpp), drawReport() (html_report_script.cpp),
// drawCompare() (html_compare_script.cpp) and the end (html_assets.cpp).
extern const char kHtmlReportStyle[];
extern const char kHtmlScriptCommon[];
extern const char kHtmlScriptReport[];
extern const char kHtmlScriptCompare[];
extern const char kHtmlScriptEnd[];

} // namespace kmem::tools
