// SPDX-License-Identifier: MIT
//
// DOC: libFuzzer target: the tools' /sys/firmware/memmap loader
// (tools/common/map_loader.cpp) and the core's entry parser under it.
//
// The input is a directory of up to 12 entries, each a name (decimal digits
// of any length - far beyond 64 bits too - or now and then not a number)
// and the contents of its start, end and type files. Every input is loaded
// from memory (load_sysfs_entries); one in four is also written out as a
// real directory and loaded from disk (load_map_file), and the two must
// agree. A load either gives a map that passes check(), or fails with one
// line naming the directory ("DIR: "), an entry ("DIR/N: ") or an entry's
// file and line ("DIR/N/end:L: ").
#include "map_loader.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using kmem::tools::SysfsEntry;

// Where a refusal points: the directory, an entry, or an entry's file and line.
bool located(const std::string &error, const std::string &dir) {
    if (error.rfind(dir, 0) != 0) return false;
    std::string rest = error.substr(dir.size());
    if (rest.rfind(": ", 0) == 0) return true;
    if (rest.empty() || rest[0] != '/') return false;
    const size_t name_end = rest.find_first_not_of("0123456789", 1);
    if (name_end == 1 || name_end == std::string::npos) return false;
    rest = rest.substr(name_end);
    if (rest.rfind(": ", 0) == 0) return true; // the entry as a whole (capacity)
    for (const char *file : {"/start:", "/end:", "/type:"}) {
        if (rest.rfind(file, 0) != 0) continue;
        rest = rest.substr(std::string(file).size());
        const size_t digits = rest.find_first_not_of("0123456789");
        return digits != 0 && digits != std::string::npos && rest.compare(digits, 2, ": ") == 0;
    }
    return false;
}

std::string entry_name(FuzzedDataProvider &in, unsigned index) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0: return in.ConsumeRandomLengthString(8); // anything: skipped unless all digits
    case 1: return std::string(in.ConsumeIntegralInRange(20, 40), '9'); // beyond 64 bits
    case 2: return "0" + std::to_string(index);                          // leading zero
    default: return std::to_string(index + in.ConsumeIntegralInRange(0, 3));
    }
}

std::string hex_or_text(FuzzedDataProvider &in) {
    if (in.ConsumeBool()) return in.ConsumeRandomLengthString(40);
    char buf[32];
    std::snprintf(buf, sizeof buf, in.ConsumeBool() ? "0x%llx\n" : "%llx",
                  static_cast<unsigned long long>(in.ConsumeIntegral<uint64_t>() >> in.ConsumeIntegralInRange(0, 63)));
    return buf;
}

std::string type_text(FuzzedDataProvider &in) {
    static const char *kTypes[] = {"System RAM\n", "Reserved\n", "ACPI Tables\n", "ACPI Non-volatile Storage\n",
                                   "Unusable memory\n", "Persistent Memory (legacy)\n", "Soft Reserved\n",
                                   "system ram"};
    if (in.ConsumeIntegralInRange(0, 5) == 0) return in.ConsumeRandomLengthString(40);
    return kTypes[in.ConsumeIntegralInRange<size_t>(0, std::size(kTypes) - 1)];
}

// The directory on disk: one per process, emptied before each use.
fs::path scratch() {
    static const fs::path dir = [] {
        const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        return base / ("kmem-fuzz-sysfs-" + std::to_string(::getpid()));
    }();
    return dir;
}

void write(const fs::path &p, const std::string &s) { std::ofstream(p, std::ios::binary) << s; }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    const bool on_disk = in.ConsumeIntegralInRange(0, 3) == 0;
    const unsigned count = in.ConsumeIntegralInRange(0, 12);
    std::vector<SysfsEntry> entries;
    std::set<std::string> names;
    for (unsigned i = 0; i < count && in.remaining_bytes(); ++i) {
        SysfsEntry e{entry_name(in, i), hex_or_text(in), hex_or_text(in), type_text(in)};
        if (!names.insert(e.name).second) continue; // a directory holds a name once
        entries.push_back(std::move(e));
    }
    const std::string dir = scratch().string();

    static kmem::StaticMemoryMap<> map;
    kmem::tools::LoadedMap info;
    std::string error;
    const bool ok = kmem::tools::load_sysfs_entries(entries, dir, map, info, error);
    if (ok ? !map.check().ok() : !map.empty()) __builtin_trap();
    if (!ok && !located(error, dir)) __builtin_trap();

    if (on_disk) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        for (const SysfsEntry &e : entries) {
            if (!kmem::tools::is_sysfs_entry_name(e.name)) continue; // not a name a file system need take
            fs::create_directories(fs::path(dir) / e.name);
            write(fs::path(dir) / e.name / "start", e.start);
            write(fs::path(dir) / e.name / "end", e.end);
            write(fs::path(dir) / e.name / "type", e.type);
        }
        static kmem::StaticMemoryMap<> from_disk;
        kmem::tools::LoadedMap disk_info;
        std::string disk_error;
        kmem::ParseOptions opts;
        opts.format = kmem::MapFormat::sysfs;
        const bool disk_ok = kmem::tools::load_map_file(dir, opts, from_disk, disk_info, disk_error);
        if (disk_ok != ok || disk_error != error) __builtin_trap();
        if (ok && (from_disk.size() != map.size() || from_disk.usable_bytes() != map.usable_bytes()))
            __builtin_trap();
        fs::remove_all(dir);
    }
    return 0;
}
