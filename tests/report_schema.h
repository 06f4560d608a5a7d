// Reports checked against their JSON Schema (docs/report-schema.json) by
// tests/schema/validate_report.py with python3-jsonschema: kmem-sim's
// (tests/sim) and the demo kernels' (tests/qemu). Needs KMEM_PYTHON and
// KMEM_VALIDATE_REPORT from CMake.
#pragma once

#include "test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace kmem::test {

// Each file: a JSON report, or text with a KMEM-JSON line. One validator run for all.
inline void expect_valid_reports(const std::vector<std::string> &paths) {
    std::string cmd = std::string(KMEM_PYTHON) + " " + KMEM_VALIDATE_REPORT;
    for (const std::string &p : paths)
        cmd += " '" + p + "'";
    const CommandResult r = run_command(cmd + " 2>&1");
    EXPECT_EQ(r.status, 0) << "not valid against docs/report-schema.json:\n" << r.out;
}

// The same for report text in memory, written to `path` first.
inline void expect_valid_report_text(const std::string &text, const std::string &path) {
    std::ofstream(path, std::ios::binary) << text;
    expect_valid_reports({path});
}

} // namespace kmem::test
