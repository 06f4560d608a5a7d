// SPDX-License-Identifier: MIT
//
// DOC: kmem-sim - boot kmem on a real machine's memory map, or replay a
// real Linux boot on it.
//
// With no arguments it replays the Linux 6.1 boot shipped in data/linux-boot
// (its e820 map makes the machine; its memblock, slab and page events run on
// kmem) and prints the report: the map, the phases, the early allocations,
// buddyinfo, slabinfo and kmem beside Linux SLUB. --map boots a map with no
// replay; --builtin the built-in 1 TiB, 8-node server. Exit statuses and
// the one line on stderr that comes with each but 0: sim_errors.h, e.g.
//   kmem-sim: FILE:LINE: reason        (FILE:byte N: for binary input)
#include "html_report.h"
#include "linux_log.h"
#include "map_loader.h"
#include "map_report.h"
#include "replay.h"
#include "sim_boot.h"
#include "sim_errors.h"

#include "platform/hosted/hosted.h"

#include <CLI/CLI.hpp>

#include <iostream>

#ifndef KMEM_DEFAULT_REPLAY_LOG
#error "KMEM_DEFAULT_REPLAY_LOG: the shipped Linux boot log (set by tools/CMakeLists.txt)"
#endif

using kmem::tools::kExitBadInput;
using kmem::tools::kExitCannotBoot;
using kmem::tools::kExitInternalError;
using kmem::tools::kExitNothingToBoot;

int main(int argc, char **argv) {
    using namespace kmem;
    CLI::App app{"kmem-sim: boot kmem on a machine's firmware memory map, or replay a Linux boot on it"};
    std::string map_path, replay_path, html_path, report = "all";
    std::string format_name = "auto";
    bool json = false, map_only = false, builtin = false;
    uint64_t window = tools::kDefaultEarlyWindow;
    uint64_t fail_page_alloc = 0, fail_slab = 0;
    ParseOptions opts;
    app.add_option("--replay", replay_path,
                   "replay a Linux boot log (memblock=debug, kmem:* trace events); its e820 and NUMA "
                   "lines make the machine (default with no --map: the log shipped in data/linux-boot)");
    app.add_option("--map", map_path,
                   "boot a memory map, no replay: console text, EFI/multiboot binary, DTB, or a "
                   "/sys/firmware/memmap directory");
    app.add_flag("--builtin", builtin, "boot the built-in machine (a 1 TiB, 8-node EPYC server), no replay");
    app.add_option("--format", format_name, "input format of --map: auto, text, efi, mb1, mb2, mb2-tag, fdt, sysfs")
        ->capture_default_str();
    app.add_option("--efi-desc-size", opts.efi_desc_size, "EFI descriptor size in bytes (raw EFI maps)")
        ->capture_default_str();
    app.add_option("--efi-desc-version", opts.efi_desc_version, "EFI descriptor version (raw EFI maps)")
        ->capture_default_str();
    app.add_option("--report", report, "text report: all, or early (the allocations made before Running)")
        ->check(CLI::IsMember({"all", "early"}))
        ->capture_default_str();
    app.add_flag("--json", json, "print one JSON object instead of text");
    app.add_option("--html", html_path,
                   "also write the report as one self-contained HTML page (pictures and tables of the "
                   "--json object) to FILE")
        ->option_text("FILE");
    app.add_flag("--map-only", map_only, "read and print the map; do not boot");
    app.add_option("--window", window, "bytes the boot code maps before the buddy exists (the early window)")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{16} << 20, kMaxPhysMemory));
    app.add_option("--fail-page-alloc", fail_page_alloc,
                   "fault injection: the N-th page allocation of the boot fails (Linux's fail_page_alloc)");
    app.add_option("--fail-slab", fail_slab,
                   "fault injection: the N-th slab object allocation of the boot fails (Linux's failslab)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        if (e.get_exit_code() == 0) return app.exit(e); // --help
        std::string what = e.what();
        for (char &c : what)
            if (c == '\n') c = ' ';
        std::cerr << "kmem-sim: " << what << " (kmem-sim --help lists the options)\n";
        return kExitBadInput;
    }
    if ((!map_path.empty()) + (!replay_path.empty()) + builtin > 1) {
        std::cerr << "kmem-sim: --map, --replay and --builtin exclude each other\n";
        return kExitBadInput;
    }
    if (map_path.empty() && !builtin && replay_path.empty()) replay_path = KMEM_DEFAULT_REPLAY_LOG;
    if (format_name != "auto") {
        opts.format = map_format_from_name(format_name.c_str());
        if (opts.format == MapFormat::unknown) {
            std::cerr << "kmem-sim: unknown --format '" << format_name << "'\n";
            return kExitBadInput;
        }
    }

    static StaticMemoryMap<> map; // bounded static storage, as in a kernel
    tools::LoadedMap info;
    std::string error, log_text;
    const uint64_t t0 = hosted::monotonic_ns();
    bool ok;
    if (!replay_path.empty()) {
        ok = tools::read_file(replay_path, log_text, error) && tools::load_map_text(log_text, replay_path, map, info, error);
    } else if (builtin) {
        ok = tools::load_map_text(tools::default_machine_text(), tools::default_machine_name(), map, info, error);
    } else {
        ok = tools::load_map_file(map_path, opts, map, info, error);
    }
    const uint64_t map_ns = hosted::monotonic_ns() - t0;
    if (!ok) {
        std::cerr << "kmem-sim: " << error << "\n";
        return kExitBadInput;
    }
    if (Status s = map.check(); !s.ok()) { // a parser bug, not bad input
        std::cerr << "kmem-sim: internal error: map check failed: " << s.reason() << "\n";
        return kExitInternalError;
    }
    tools::LinuxLog log;
    const bool replay = !replay_path.empty() && !map_only;
    if (replay && !tools::parse_linux_log(log_text, log, error, true)) {
        // "line N: reason" -> "FILE:N: reason", as every other input error.
        if (error.rfind("line ", 0) == 0) error.erase(0, 5);
        std::cerr << "kmem-sim: " << replay_path << ":" << error << "\n";
        return kExitBadInput;
    }

    // Boot kmem on the machine (replaying the log on the way), unless there is nothing to boot.
    tools::SimBoot boot;
    tools::ReplayResult result;
    const bool can_boot = !map_only && tools::ram_top(map) != 0;
    if (can_boot) {
        if (const std::string why = tools::cannot_boot_reason(map); !why.empty()) {
            std::cerr << "kmem-sim: " << info.name << ": " << why << "\n";
            return kExitCannotBoot;
        }
        ok = tools::start_machine(map, window, boot, error);
        if (ok && fail_page_alloc) {
            const Status s = boot.phys().fail_nth_allocation(fail_page_alloc);
            if (!s.ok()) error = std::string("--fail-page-alloc: ") + s.reason();
            ok = s.ok();
        }
        if (ok && fail_slab) boot.slab().fail_nth_allocation(fail_slab);
        if (ok) ok = replay ? tools::replay_linux_boot(log, boot, result, error) : tools::run_phases(boot, error);
        if (!ok) {
            std::cerr << "kmem-sim: " << info.name << ": "
                      << tools::boot_failure_reason(map, boot, fail_page_alloc, fail_slab) << "\n";
            tools::release_machine(boot);
            return kExitCannotBoot;
        }
        if (!tools::check_machine(boot, error)) {
            std::cerr << "kmem-sim: internal error: " << info.name << ": " << error << "\n";
            tools::release_machine(boot);
            return kExitInternalError;
        }
        boot.map_read_ns = map_ns; // reading and parsing the input, before FirmwareMap
    }

    // The JSON report: printed with --json, drawn with --html (one object, one set of numbers).
    const auto report_json = [&] {
        nlohmann::json out = {{"map", tools::map_json(map, info)}};
        if (can_boot) {
            out["phys"] = tools::phys_json(boot.phys());
            out["slab"] = tools::slab_json(boot.slab());
            out["boot"] = tools::boot_json(boot);
            out["early"] = tools::early_json(*boot.sys);
            if (replay) out["replay"] = tools::replay_json(result);
        } else {
            out["boot"] = {{"skipped", map_only ? "--map-only" : "no usable memory in the map"}};
        }
        return out;
    };
    nlohmann::json out;
    if (json || !html_path.empty()) out = report_json();
    if (json) {
        std::cout << out.dump() << "\n";
    } else if (report == "early") {
        if (can_boot) tools::print_early_text(std::cout, *boot.sys);
        else std::cout << "kmem: nothing was booted: no early allocations\n";
    } else {
        tools::print_map_text(std::cout, map, info);
        if (can_boot) {
            tools::print_boot_text(std::cout, boot);
            tools::print_early_text(std::cout, *boot.sys);
            if (replay) tools::print_replay_text(std::cout, result);
        } else if (!map_only) {
            std::cout << "kmem: no usable memory in the map: nothing to boot\n";
        }
    }
    if (!html_path.empty() && !tools::write_html_report(html_path, out, error)) {
        std::cerr << "kmem-sim: " << error << "\n";
        tools::release_machine(boot);
        return kExitBadInput;
    }
    // A fault injection that never fired tested nothing: the argument was wrong.
    const auto never_fired = [&](const char *option, uint64_t n, uint64_t fired, const char *what) {
        if (!can_boot || n == 0 || fired != 0) return false;
        std::cerr << "kmem-sim: " << option << " " << n << ": the boot made fewer than " << n << " " << what
                  << ", so no fault was injected\n";
        return true;
    };
    const bool unfired =
        never_fired("--fail-page-alloc", fail_page_alloc, can_boot ? boot.phys().injected_failures() : 0,
                    "page allocations") ||
        never_fired("--fail-slab", fail_slab, can_boot ? boot.slab().injected_failures() : 0,
                    "object allocations");
    tools::release_machine(boot);
    if (unfired) return kExitBadInput;
    if (!can_boot && !map_only) {
        std::cerr << "kmem-sim: " << info.name << ": the map describes no usable RAM: nothing to boot\n";
        return kExitNothingToBoot;
    }
    if (result.failed) {
        std::cerr << "kmem-sim: " << info.name << ": kmem could not serve " << result.failed << " of the "
                  << "replayed boot's requests (first: "
                  << (result.failures.empty() ? std::string("-") : result.failures.front()) << ")\n";
        return kExitCannotBoot;
    }
    return 0;
}
