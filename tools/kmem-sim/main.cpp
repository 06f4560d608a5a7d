// SPDX-License-Identifier: MIT
//
// DOC: kmem-sim - simulate kmem's boot on a real machine's memory map.
//
// With no --map it runs the built-in default machine (a 1 TiB, 8-node EPYC
// server). Bad input exits with status 2 and one line on stderr:
//   kmem-sim: FILE:LINE: reason        (FILE:byte N: for binary input)
#include "map_loader.h"
#include "map_report.h"
#include "sim_boot.h"

#include "platform/hosted/hosted.h"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

constexpr int kExitBadInput = 2;

} // namespace

int main(int argc, char **argv) {
    using namespace kmem;
    CLI::App app{"kmem-sim: boot kmem on a machine's firmware memory map"};
    std::string map_path;
    std::string format_name = "auto";
    bool json = false;
    bool map_only = false;
    uint64_t window = tools::kDefaultEarlyWindow;
    ParseOptions opts;
    app.add_option("--map", map_path,
                   "memory map: console text, EFI/multiboot binary, DTB, or a "
                   "/sys/firmware/memmap directory (default: the built-in machine)");
    app.add_option("--format", format_name,
                   "input format: auto, text, efi, mb1, mb2, mb2-tag, fdt, sysfs")
        ->capture_default_str();
    app.add_option("--efi-desc-size", opts.efi_desc_size,
                   "EFI descriptor size in bytes (raw EFI maps)")
        ->capture_default_str();
    app.add_option("--efi-desc-version", opts.efi_desc_version,
                   "EFI descriptor version (raw EFI maps)")
        ->capture_default_str();
    app.add_flag("--json", json, "print one JSON object instead of text");
    app.add_flag("--map-only", map_only, "read and print the map; do not boot");
    app.add_option("--window", window,
                   "bytes the boot code maps before the buddy exists (the early window)")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{16} << 20, kMaxPhysMemory));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : kExitBadInput;
    }
    if (format_name != "auto") {
        opts.format = map_format_from_name(format_name.c_str());
        if (opts.format == MapFormat::unknown) {
            std::cerr << "kmem-sim: unknown --format '" << format_name << "'\n";
            return kExitBadInput;
        }
    }

    static StaticMemoryMap<> map; // bounded static storage, as in a kernel
    tools::LoadedMap info;
    std::string error;
    const uint64_t t0 = hosted::monotonic_ns();
    const bool ok = map_path.empty()
                        ? tools::load_map_text(tools::default_machine_text(),
                                               tools::default_machine_name(), map, info, error)
                        : tools::load_map_file(map_path, opts, map, info, error);
    const uint64_t map_ns = hosted::monotonic_ns() - t0;
    if (!ok) {
        std::cerr << "kmem-sim: " << error << "\n";
        return kExitBadInput;
    }
    if (Status s = map.check(); !s.ok()) { // a parser bug, not bad input
        std::cerr << "kmem-sim: internal error: map check failed: " << s.reason() << "\n";
        return 1;
    }

    // Boot the buddy on the machine, unless there is nothing to boot.
    tools::SimBoot boot;
    const bool can_boot = !map_only && tools::ram_top(map) != 0;
    if (can_boot && !tools::boot_machine(map, window, boot, error)) {
        std::cerr << "kmem-sim: " << info.name << ": " << error << "\n";
        return 1;
    }
    if (can_boot && !boot.phases.empty()) boot.phases.front().ns += map_ns; // FirmwareMap: reading the map too

    if (json) {
        nlohmann::json out = {{"map", tools::map_json(map, info)}};
        if (can_boot) {
            out["phys"] = tools::phys_json(boot.phys());
            out["slab"] = tools::slab_json(boot.slab());
            out["boot"] = tools::boot_json(boot);
        } else {
            out["boot"] = {{"skipped", map_only ? "--map-only" : "no usable memory in the map"}};
        }
        std::cout << out.dump() << "\n";
    } else {
        tools::print_map_text(std::cout, map, info);
        if (can_boot) tools::print_boot_text(std::cout, boot);
        else if (!map_only) std::cout << "kmem: no usable memory in the map: nothing to boot\n";
    }
    tools::release_machine(boot);
    return 0;
}
