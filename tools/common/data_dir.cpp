// SPDX-License-Identifier: MIT
//
// DOC: the data-directory lookup of data_dir.h.
#include "data_dir.h"

#include <cstdlib>
#include <system_error>

#ifndef KMEM_DATA_FROM_BIN
#error                                                                                             \
    "KMEM_DATA_FROM_BIN: the data directory relative to the binary's (set by tools/CMakeLists.txt)"
#endif

namespace kmem::tools {
namespace fs = std::filesystem;

std::vector<fs::path> data_dirs() {
    std::vector<fs::path> dirs;
    if (const char *env = std::getenv("KMEM_DATA_DIR"); env && *env) dirs.emplace_back(env);
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) dirs.push_back((self.parent_path() / KMEM_DATA_FROM_BIN).lexically_normal());
    return dirs;
}

bool find_data_file(const std::string &rel, fs::path &out, std::string &error) {
    std::string looked;
    for (const fs::path &dir : data_dirs()) {
        std::error_code ec;
        if (fs::is_regular_file(dir / rel, ec)) {
            out = dir / rel;
            return true;
        }
        looked += (looked.empty() ? "" : ", ") + (dir / rel).string();
    }
    error = "in no data directory (looked for " +
            (looked.empty() ? std::string("nothing") : looked) + ")";
    return false;
}

} // namespace kmem::tools
