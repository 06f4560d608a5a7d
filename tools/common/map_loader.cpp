// SPDX-License-Identifier: MIT
//
// DOC: file and directory input for the memory-map parsers.
#include "map_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

namespace {

// "a character device", ... for a file that is not a regular one.
const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO or pipe";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

std::string not_regular(const std::string &name, mode_t mode) {
    return name + ": not a regular file (" + file_kind(mode) +
           "); kmem-sim reads maps from regular files and /sys/firmware/memmap-style directories";
}

// "268435456 bytes (256 MiB)"
std::string bytes_text(uint64_t n) {
    std::string s = std::to_string(n) + " bytes";
    if (n >= (uint64_t{1} << 20)) s += " (" + std::to_string(n >> 20) + " MiB)";
    return s;
}

std::string too_large(const std::string &name, uint64_t size, uint64_t limit, const char *what) {
    return name + ": the file is " + bytes_text(size) + "; kmem-sim reads at most " + bytes_text(limit) +
           " for " + what;
}

const char *limit_name(uint64_t limit) {
    return limit == kMaxSysfsFileBytes ? "a sysfs attribute file"
           : limit == kMaxBinaryBytes  ? "a binary map"
                                       : "console text";
}

uint64_t format_limit(MapFormat f) {
    return f == MapFormat::linux_text || f == MapFormat::unknown ? kMaxTextBytes : kMaxBinaryBytes;
}

// Numeric order of entry names of any length: fewer significant digits
// first, then digit by digit (no conversion, so no overflow).
bool entry_before(const std::string &a, const std::string &b) {
    const auto digits = [](const std::string &s) {
        const size_t z = s.find_first_not_of('0');
        return std::string_view(s).substr(z == std::string::npos ? s.size() : z);
    };
    const std::string_view da = digits(a), db = digits(b);
    if (da.size() != db.size()) return da.size() < db.size();
    if (da != db) return da < db;
    return a < b; // "01" and "1": any fixed order
}

} // namespace

bool read_file(const fs::path &p, std::string &data, std::string &error, uint64_t limit) {
    const std::string name = p.string();
    // A device, FIFO or socket is refused before it is opened (a FIFO would
    // wait for a writer, /dev/zero never ends); the open itself does not
    // wait (O_NONBLOCK) and what was opened is checked again.
    struct stat st;
    if (::stat(name.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        error = not_regular(name, st.st_mode);
        return false;
    }
    const int fd = ::open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        error = name + ": cannot open: " + std::strerror(errno);
        return false;
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    if (::fstat(fd, &st) != 0) {
        error = name + ": cannot open: " + std::strerror(errno);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        error = not_regular(name, st.st_mode);
        return false;
    }
    if (static_cast<uint64_t>(st.st_size) > limit) {
        error = too_large(name, static_cast<uint64_t>(st.st_size), limit, limit_name(limit));
        return false;
    }
    // st_size is a hint (files in /proc and /sys say 0 or 4096): read to the
    // end, but never past the limit.
    data.clear();
    data.reserve(static_cast<size_t>(st.st_size));
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = name + ": read error: " + std::strerror(errno);
            return false;
        }
        if (n == 0) return true;
        if (data.size() + static_cast<uint64_t>(n) > limit) {
            error = too_large(name, data.size() + static_cast<uint64_t>(n), limit, limit_name(limit)) +
                    " (it grew while being read)";
            return false;
        }
        data.append(buf, static_cast<size_t>(n));
    }
}

bool is_sysfs_entry_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool load_sysfs_entries(std::vector<SysfsEntry> entries, const std::string &dir, MemoryMap &out,
                        LoadedMap &info, std::string &error) {
    out.clear();
    std::erase_if(entries, [](const SysfsEntry &e) { return !is_sysfs_entry_name(e.name); });
    if (entries.empty()) {
        error = dir + ": no memmap entries (expected numbered directories with start, end and type files)";
        return false;
    }
    if (entries.size() > kMaxSysfsEntries) {
        error = dir + ": more than " + std::to_string(kMaxSysfsEntries) +
                " entries; no firmware memory map has so many";
        return false;
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const SysfsEntry &a, const SysfsEntry &b) { return entry_before(a.name, b.name); });
    for (const SysfsEntry &e : entries) {
        SysfsFile bad = SysfsFile::none;
        const Status s = add_sysfs_memmap_entry(out, e.start.data(), e.start.size(), e.end.data(),
                                                e.end.size(), e.type.data(), e.type.size(), &bad);
        if (!s.ok()) {
            fs::path where = fs::path(dir) / e.name;
            if (bad != SysfsFile::none) where /= sysfs_file_name(bad);
            error = format_error(where.string(), s.error());
            out.clear();
            return false;
        }
    }
    out.trim_usable_to_pages();
    info.sysfs_entries = entries.size();
    info.format = MapFormat::sysfs;
    return true;
}

namespace {

// /sys/firmware/memmap: numbered directories, each with start, end, type.
// The names are gathered and ordered first, then the files read in that
// order, so which error is reported does not depend on the directory's order.
bool load_sysfs(const fs::path &dir, MemoryMap &out, LoadedMap &info, std::string &error) {
    std::vector<SysfsEntry> entries;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        std::error_code type_ec;
        if (!is_sysfs_entry_name(name) || !it->is_directory(type_ec)) continue;
        if (entries.size() == kMaxSysfsEntries) {
            error = dir.string() + ": more than " + std::to_string(kMaxSysfsEntries) +
                    " entries; no firmware memory map has so many";
            return false;
        }
        entries.push_back(SysfsEntry{std::move(name), {}, {}, {}});
    }
    if (ec) {
        error = dir.string() + ": cannot read directory: " + ec.message();
        return false;
    }
    std::sort(entries.begin(), entries.end(),
              [](const SysfsEntry &a, const SysfsEntry &b) { return entry_before(a.name, b.name); });
    for (SysfsEntry &e : entries) {
        const fs::path d = dir / e.name;
        if (!read_file(d / "start", e.start, error, kMaxSysfsFileBytes) ||
            !read_file(d / "end", e.end, error, kMaxSysfsFileBytes) ||
            !read_file(d / "type", e.type, error, kMaxSysfsFileBytes)) {
            out.clear();
            return false;
        }
    }
    return load_sysfs_entries(std::move(entries), dir.string(), out, info, error);
}

// The EFI layout comes from the command line, not the file: checked as arguments.
bool check_efi_options(const ParseOptions &o, std::string &error) {
    if (o.efi_desc_size < kEfiDescriptorMinSize || o.efi_desc_size % 8 != 0) {
        error = "--efi-desc-size " + std::to_string(o.efi_desc_size) +
                ": an EFI descriptor is at least 40 bytes (EFI_MEMORY_DESCRIPTOR) and a multiple of 8";
        return false;
    }
    if (o.efi_desc_version != kEfiDescriptorVersion) {
        error = "--efi-desc-version " + std::to_string(o.efi_desc_version) +
                ": kmem reads EFI descriptors of version 1, the only one UEFI defines";
        return false;
    }
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
    if (!read_file(path, data, error, format_limit(opts.format))) return false;
    if (data.empty()) {
        error = path + ": the file is empty: it holds no memory map";
        return false;
    }
    ParseOptions o = opts;
    if (o.format == MapFormat::unknown) o.format = detect_map_format(data.data(), data.size());
    if (data.size() > format_limit(o.format)) {
        error = too_large(path, data.size(), format_limit(o.format),
                          (std::string("a map in format ") + map_format_name(o.format)).c_str());
        return false;
    }
    if (o.format == MapFormat::efi && !check_efi_options(o, error)) return false;
    Status s;
    switch (o.format) {
    case MapFormat::unknown:
        error = path + ": cannot tell the map format from the file's content; name it with --format";
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
