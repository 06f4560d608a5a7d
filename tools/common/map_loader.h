// SPDX-License-Identifier: MIT
//
// DOC: loading memory maps from files and directories (hosted tools only).
//
// The core parsers read buffers; this reads the file (or the
// /sys/firmware/memmap directory tree), picks the format, calls the parser
// and turns an error into one line "PATH:LINE: reason" (or "PATH:byte N:"
// for binary input) that a person can act on. Reads are bounded: only regular
// files are read (a device, FIFO or socket is refused before it is opened for
// good), and no more than the format can need (the limits below); a file over
// its limit is refused, never truncated.
#pragma once

#include <kmem/memmap.h>
#include <kmem/memmap_parse.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kmem::tools {

// What the tools read at most. Console text may be a whole boot log (the
// shipped Linux 6.1 log with every kmem event is 15 MB); a binary map is one
// firmware table (Linux's arm64 FDT limit is 2 MiB); a sysfs attribute is at
// most one page; no firmware map has more entries than Linux's E820 table.
inline constexpr uint64_t kMaxTextBytes = uint64_t{256} << 20;
inline constexpr uint64_t kMaxBinaryBytes = uint64_t{16} << 20;
inline constexpr uint64_t kMaxSysfsFileBytes = 4096;
inline constexpr size_t kMaxSysfsEntries = 4096;

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

// One /sys/firmware/memmap entry: its directory's name and its files.
struct SysfsEntry {
    std::string name;             // "0", "1", ...: entries are taken in numeric order
    std::string start, end, type; // the files' contents
};
// True for a name the kernel gives an entry (decimal digits, any length).
bool is_sysfs_entry_name(std::string_view name);
// Build the map from a directory's entries (`dir` names them in errors:
// "DIR/N/end:1: reason"); entries whose name is not a number are ignored.
bool load_sysfs_entries(std::vector<SysfsEntry> entries, const std::string &dir, MemoryMap &out,
                        LoadedMap &info, std::string &error);

// Read a whole regular file of at most `limit` bytes into `data`; false with
// "PATH: why" in `error` (cannot open, not a regular file, too large, read error).
bool read_file(const std::filesystem::path &p, std::string &data, std::string &error,
               uint64_t limit = kMaxTextBytes);

// "PATH:LINE: reason", "PATH:byte N: reason" or "PATH: reason".
std::string format_error(const std::string &path, const Error &e);

// The machine kmem-sim runs when given no --map (generated at build time).
const char *default_machine_name();
std::string_view default_machine_text();

} // namespace kmem::tools
