// SPDX-License-Identifier: MIT
//
// DOC: where kmem-sim finds the data it ships (the default replay's Linux
// boot log): the first of
//   1. $KMEM_DATA_DIR, when it is set;
//   2. the data directory relative to the running binary: <bin>/../share/kmem
//      (KMEM_DATA_FROM_BIN, from CMake's GNUInstallDirs), which is
//      <prefix>/share/kmem for an installed kmem-sim and build/share/kmem -
//      a link to the source tree's data/ that the build makes - in a build
//      tree;
// that holds the file asked for. No absolute path is compiled in, so a
// moved build tree or an installed prefix keeps its main job.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kmem::tools {

// The data directories to try, in order.
std::vector<std::filesystem::path> data_dirs();

// `rel` (e.g. "linux-boot/x.log") in the first data directory that has it.
// False with "in no data directory (looked for PATHS)" in `error` if none has it.
bool find_data_file(const std::string &rel, std::filesystem::path &out, std::string &error);

} // namespace kmem::tools
