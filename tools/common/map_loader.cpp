// SPDX-License-Identifier: MIT
//
// DOC: file and directory input for the memory-map parsers.
#include "map_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace kmem::tools {
namespace fs = std::filesystem;

std::string format_error(const std::string &path, const Error &e) {
    std::string s = path;
    switch (e.where) {
    case Where::line: s += ":" + std::to_string(e.at); break;
    case Where::byte: s += ":byte " + std::to_string(e.at); break;
    case Where::none: break;
    }
    return s + ": " + e.reason;
}

bool read_file(const fs::path &p, std::string &data, std::string &error) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        error = p.string() + ": cannot open: " + std::strerror(errno);
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        error = p.string() + ": read error";
        return false;
    }
    data = ss.str();
    return true;
}

namespace {

// /sys/firmware/memmap: numbered directories, each with start, end, type.
bool load_sysfs(const fs::path &dir, MemoryMap &out, LoadedMap &info, std::string &error) {
    std::vector<std::pair<unsigned long long, fs::path>> entries;
    std::error_code ec;
    for (const auto &d : fs::directory_iterator(dir, ec)) {
        const std::string name = d.path().filename().string();
        if (!d.is_directory() || name.empty() ||
            !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
            continue;
        entries.emplace_back(std::stoull(name), d.path());
    }
    if (ec) {
        error = dir.string() + ": cannot read directory: " + ec.message();
        return false;
    }
    if (entries.empty()) {
        error = dir.string() + ": no memmap entries (expected numbered directories)";
        return false;
    }
    std::sort(entries.begin(), entries.end());
    out.clear();
    for (const auto &[n, path] : entries) {
        std::string start, end, type;
        if (!read_file(path / "start", start, error) || !read_file(path / "end", end, error) ||
            !read_file(path / "type", type, error)) {
            out.clear();
            return false;
        }
        Status s = add_sysfs_memmap_entry(out, start.data(), start.size(), end.data(),
                                          end.size(), type.data(), type.size());
        if (!s.ok()) {
            error = format_error(path.string(), s.error());
            out.clear();
            return false;
        }
    }
    out.trim_usable_to_pages();
    info.sysfs_entries = entries.size();
    info.format = MapFormat::sysfs;
    return true;
}

} // namespace

bool load_map_text(std::string_view text, const std::string &name, MemoryMap &out,
                   LoadedMap &info, std::string &error) {
    info = LoadedMap{};
    info.name = name;
    info.format = MapFormat::linux_text;
    Status s = parse_linux_text(text.data(), text.size(), out, &info.text);
    if (!s.ok()) error = format_error(name, s.error());
    return s.ok();
}

bool load_map_file(const std::string &path, const ParseOptions &opts, MemoryMap &out,
                   LoadedMap &info, std::string &error) {
    info = LoadedMap{};
    info.name = path;
    std::error_code ec;
    const bool is_dir = fs::is_directory(path, ec);
    if (opts.format == MapFormat::sysfs || is_dir) {
        if (!is_dir) {
            error = path + ": --format sysfs needs a directory like /sys/firmware/memmap";
            return false;
        }
        return load_sysfs(path, out, info, error);
    }
    std::string data;
    if (!read_file(path, data, error)) return false;
    ParseOptions o = opts;
    if (o.format == MapFormat::unknown) o.format = detect_map_format(data.data(), data.size());
    Status s;
    switch (o.format) {
    case MapFormat::unknown:
        error = path + ": cannot tell the map format; name it with --format";
        return false;
    case MapFormat::linux_text:
        s = parse_linux_text(data.data(), data.size(), out, &info.text);
        break;
    case MapFormat::fdt: s = parse_fdt(data.data(), data.size(), out, &info.fdt); break;
    default: s = parse_memory_map(data.data(), data.size(), o, out, &o.format); break;
    }
    info.format = o.format;
    if (!s.ok()) {
        error = format_error(path, s.error());
        return false;
    }
    return true;
}

} // namespace kmem::tools
