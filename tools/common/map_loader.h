// SPDX-License-Identifier: MIT
//
// DOC: loading memory maps from files and directories (hosted tools only).
//
// The core parsers read buffers; this reads the file (or the
// /sys/firmware/memmap directory tree), picks the format, calls the parser
// and turns an error into one line "PATH:LINE: reason" (or "PATH:byte N:"
// for binary input) that a person can act on.
#pragma once

#include <kmem/memmap.h>
#include <kmem/memmap_parse.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace kmem::tools {

struct LoadedMap {
    std::string name;                   // file path, or the built-in machine's name
    MapFormat format = MapFormat::unknown;
    TextMapInfo text;                   // for linux_text
    FdtInfo fdt;                        // for fdt
    size_t sysfs_entries = 0;           // for sysfs
};

// Load a map from `path` (a file, or a sysfs memmap directory). On failure
// returns false and sets `error` to "PATH:WHERE: reason" (no program prefix).
bool load_map_file(const std::string &path, const ParseOptions &opts, MemoryMap &out,
                   LoadedMap &info, std::string &error);

// Parse text already in memory (the built-in machine, tests).
bool load_map_text(std::string_view text, const std::string &name, MemoryMap &out,
                   LoadedMap &info, std::string &error);

// Read a whole file into `data`; false with "PATH: cannot open: why" or
// "PATH: read error" in `error`.
bool read_file(const std::filesystem::path &p, std::string &data, std::string &error);

// "PATH:LINE: reason", "PATH:byte N: reason" or "PATH: reason".
std::string format_error(const std::string &path, const Error &e);

// The machine kmem-sim runs when given no --map (generated at build time).
const char *default_machine_name();
std::string_view default_machine_text();

} // namespace kmem::tools
