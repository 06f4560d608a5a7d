// SPDX-License-Identifier: MIT
//
// DOC: kmem-sim - boot kmem on a real machine's memory map, or replay a
// real Linux boot on it; read back the report of any boot.
//
// With no arguments it replays the Linux 6.1 boot shipped in the data
// directory (data_dir.h; its e820 map makes the machine; its memblock, slab
// and page events run on kmem) and prints the report: the map, the phases,
// the early allocations, buddyinfo, slabinfo and kmem beside Linux SLUB.
// --map boots a map with no replay (a report's map too: --map-only --json
// reads back); --builtin the built-in 1 TiB, 8-node server. --from prints a
// report of any boot (a saved --json, a demo kernel's serial log with its
// KMEM-JSON line) as text, --json or --html; --compare puts a second report
// beside the first. Exit statuses and the one line on stderr that comes with
// each but 0: sim_errors.h, e.g.
//   kmem-sim: FILE:LINE: reason        (FILE:byte N: for binary input)
#include "data_dir.h"
#include "html_report.h"
#include "linux_log.h"
#include "map_loader.h"
#include "map_report.h"
#include "replay.h"
#include "report.h"
#include "report_map.h"
#include "report_text.h"
#include "sim_boot.h"
#include "sim_errors.h"
#include "size_arg.h"

#include "platform/hosted/hosted.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

#ifndef KMEM_DEFAULT_REPLAY_LOG
#error "KMEM_DEFAULT_REPLAY_LOG: the shipped Linux boot log in the data directory (set by tools/CMakeLists.txt)"
#endif

namespace {

using namespace kmem;

using tools::kExitBadInput;
using tools::kExitCannotBoot;
using tools::kExitInternalError;
using tools::kExitNothingToBoot;
constexpr uint64_t kMinWindow = uint64_t{16} << 20;

std::string version_text() {
    std::string s = std::string("kmem-sim ") + tools::sim_version() + "\nreport schema: " + tools::kReportSchema +
                    "\ndata directories:";
    for (const auto &d : tools::data_dirs()) s += " " + d.string();
    return s;
}

// The window: a size, whole pages, at least 16 MiB, at most what kmem manages.
bool window_from(const std::string &text, uint64_t &out, std::string &error) {
    if (!tools::parse_size(text, out, error)) return false;
    if (out < kMinWindow || out > kMaxPhysMemory) {
        error = "'" + text + "' is not between " + tools::size_text(kMinWindow) + " and " +
                tools::size_text(kMaxPhysMemory) + " (the early window holds the buddy's first arrays)";
        return false;
    }
    if (out % kPageSize) {
        error = "'" + text + "' is not a whole number of " + std::to_string(kPageSize) + "-byte pages";
        return false;
    }
    return true;
}

// Whether --map PATH is a report to take the map of (--format report, or
// the file holds one); its text in `text`.
bool map_is_report(const std::string &path, bool format_report, MapFormat format, std::string &text) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec) || (!format_report && format != MapFormat::unknown)) return false;
    std::string error; // an unreadable file: load_map_file() says why
    return tools::read_file(path, text, error) && (format_report || tools::looks_like_report(text));
}

// The one stderr line of a run that ends with `status` (sim_errors.h).
int refuse(int status, const std::string &message) {
    std::cerr << "kmem-sim: " << message << "\n";
    return status;
}
int bad_input(const std::string &message) { return refuse(kExitBadInput, message); }

// Print `report` (text, --report early, or --json) and draw it (--html); or,
// with `other`, both side by side. 0, or 2 (kExitBadInput) if the page
// cannot be written or a report read back holds a value of the wrong kind
// where check_report() does not look.
int print_report(const nlohmann::json &report, const nlohmann::json *other, bool json, bool early_only,
                 const std::string &html_path) try {
    std::string error;
    std::ostringstream text; // all or nothing: a report that fails half way prints nothing
    if (other) {
        tools::print_compare_text(text, report, *other);
        std::cout << text.str();
        if (!html_path.empty() && !tools::write_html_compare(html_path, report, *other, error))
            return bad_input(error);
        return 0;
    }
    if (json) text << report.dump() << "\n";
    else tools::print_report_text(text, report, early_only);
    std::cout << text.str();
    if (!html_path.empty() && !tools::write_html_report(html_path, report, error)) return bad_input(error);
    return 0;
} catch (const nlohmann::json::exception &e) {
    return bad_input(std::string("not a valid ") + tools::kReportSchema + " report: " + e.what());
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"kmem-sim: boot kmem on a machine's firmware memory map, or replay a Linux boot on it; read "
                 "the report of any boot"};
    std::string map_path, replay_path, html_path, report = "all", from_path, compare_path;
    std::string format_name = "auto", window_text = "1G", efi_desc_size_text = "48";
    bool json = false, map_only = false, builtin = false;
    uint64_t window = 0, fail_page_alloc = 0, fail_slab = 0;
    ParseOptions opts;
    app.set_version_flag("--version", version_text());
    app.add_option("--replay", replay_path,
                   "replay a Linux boot log (memblock=debug, kmem:* trace events); its e820 and NUMA "
                   "lines make the machine (default with no --map: the log shipped in the data directory, "
                   "linux-boot/)");
    app.add_option("--map", map_path,
                   "boot a memory map, no replay: console text, EFI/multiboot binary, DTB, a "
                   "/sys/firmware/memmap directory, or a kmem report (its map: --map-only --json reads back)");
    app.add_flag("--builtin", builtin, "boot the built-in machine (a 1 TiB, 8-node EPYC server), no replay");
    app.add_option("--from", from_path,
                   "boot nothing: read the report of a boot from FILE (a kmem-sim --json, or any text with a "
                   "KMEM-JSON line such as a demo kernel's serial log) and print it as text, --json or --html")
        ->option_text("FILE");
    app.add_option("--compare", compare_path,
                   "put the report in FILE beside this one (the run's, or --from's): phases, memory totals, "
                   "early allocations, slab caches; as text, and as a page with --html")
        ->option_text("FILE");
    app.add_option("--format", format_name,
                   "input format of --map: auto, text, efi, mb1, mb2, mb2-tag, fdt, sysfs, report")
        ->capture_default_str();
    app.add_option("--efi-desc-size", efi_desc_size_text, "EFI descriptor size (raw EFI maps)")
        ->capture_default_str();
    app.add_option("--efi-desc-version", opts.efi_desc_version, "EFI descriptor version (raw EFI maps)")
        ->capture_default_str();
    app.add_option("--report", report, "text report: all, or early (the allocations made before Running)")
        ->check(CLI::IsMember({"all", "early"}))
        ->capture_default_str();
    app.add_flag("--json", json, "print the report as one JSON object (schema kmem-report/1) instead of text");
    app.add_option("--html", html_path,
                   "also write the report as one self-contained HTML page (pictures and tables of the "
                   "--json object; with --compare, of both) to FILE")
        ->option_text("FILE");
    app.add_flag("--map-only", map_only, "read and print the map; do not boot");
    app.add_option("--window", window_text,
                   "the early window: what the boot code maps before the buddy exists (a size: 1G, 512M, "
                   "bytes; at least 16M)")
        ->capture_default_str();
    app.add_option("--fail-page-alloc", fail_page_alloc,
                   "fault injection: the N-th page allocation of the boot fails (Linux's fail_page_alloc)");
    app.add_option("--fail-slab", fail_slab,
                   "fault injection: the N-th slab object allocation of the boot fails (Linux's failslab)");
    app.footer("Sizes take K, M, G or T (powers of 1024). A report is JSON of schema kmem-report/1 "
               "(docs/report-schema.md).");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        if (e.get_exit_code() == 0) return app.exit(e); // --help, --version
        std::string what = e.what();
        for (char &c : what)
            if (c == '\n') c = ' ';
        return bad_input(what + " (kmem-sim --help lists the options)");
    }
    std::string error;
    if (!window_from(window_text, window, error)) return bad_input("--window: " + error);
    uint64_t efi_desc_size = 0;
    if (!tools::parse_size(efi_desc_size_text, efi_desc_size, error))
        return bad_input("--efi-desc-size: " + error);
    opts.efi_desc_size = static_cast<size_t>(efi_desc_size);
    if ((!map_path.empty()) + (!replay_path.empty()) + builtin + (!from_path.empty()) > 1)
        return bad_input("--map, --replay, --builtin and --from exclude each other");
    if (!compare_path.empty() && json)
        return bad_input("--compare prints two reports side by side as text (and --html), not --json");

    // A report read back: nothing to boot.
    nlohmann::json other;
    if (!compare_path.empty() && !tools::read_report(compare_path, other, error)) return bad_input(error);
    const nlohmann::json *compare = compare_path.empty() ? nullptr : &other;
    if (!from_path.empty()) {
        for (const char *boot_only : {"--map-only", "--window", "--fail-page-alloc", "--fail-slab", "--format",
                                      "--efi-desc-size", "--efi-desc-version"})
            if (app.count(boot_only))
                return bad_input(std::string("--from boots nothing: ") + boot_only + " does not apply");
        nlohmann::json from;
        if (!tools::read_report(from_path, from, error)) return bad_input(error);
        return print_report(from, compare, json, report == "early", html_path);
    }

    if (map_path.empty() && !builtin && replay_path.empty()) {
        std::filesystem::path log;
        if (!tools::find_data_file(KMEM_DEFAULT_REPLAY_LOG, log, error))
            return bad_input(std::string("the default run replays ") + KMEM_DEFAULT_REPLAY_LOG + ", which is " + error +
                             "; set KMEM_DATA_DIR to the directory that holds kmem's data, or give --replay, --map "
                             "or --builtin");
        replay_path = log.string();
    }
    const bool report_format = format_name == "report";
    if (format_name != "auto" && !report_format) {
        opts.format = map_format_from_name(format_name.c_str());
        if (opts.format == MapFormat::unknown) return bad_input("unknown --format '" + format_name + "'");
    }

    static StaticMemoryMap<> map; // bounded static storage, as in a kernel
    tools::LoadedMap info;
    tools::MapLabels labels;
    const tools::MapLabels *from_report = nullptr;
    std::string log_text, map_text;
    const uint64_t t0 = hosted::monotonic_ns();
    bool ok;
    if (!replay_path.empty()) {
        ok = tools::read_file(replay_path, log_text, error) && tools::load_map_text(log_text, replay_path, map, info, error);
    } else if (builtin) {
        ok = tools::load_map_text(tools::default_machine_text(), tools::default_machine_name(), map, info, error);
    } else if (map_is_report(map_path, report_format, opts.format, map_text)) {
        ok = tools::load_report_map(map_text, map_path, map, info, labels, error);
        from_report = &labels;
    } else {
        ok = tools::load_map_file(map_path, opts, map, info, error);
    }
    const uint64_t map_ns = hosted::monotonic_ns() - t0;
    if (!ok) return bad_input(error);
    if (Status s = map.check(); !s.ok()) // a parser bug, not bad input
        return refuse(kExitInternalError, std::string("internal error: map check failed: ") + s.reason());
    tools::LinuxLog log;
    const bool replay = !replay_path.empty() && !map_only;
    if (replay && !tools::parse_linux_log(log_text, log, error, true)) {
        // "line N: reason" -> "FILE:N: reason", as every other input error.
        if (error.rfind("line ", 0) == 0) error.erase(0, 5);
        return bad_input(replay_path + ":" + error);
    }

    // Boot kmem on the machine (replaying the log on the way), unless there is nothing to boot.
    tools::SimBoot boot;
    tools::ReplayResult result;
    const bool can_boot = !map_only && tools::ram_top(map) != 0;
    if (can_boot) {
        if (const std::string why = tools::cannot_boot_reason(map); !why.empty())
            return refuse(kExitCannotBoot, info.name + ": " + why);
        ok = tools::start_machine(map, window, boot, error);
        if (ok && fail_page_alloc) {
            const Status s = boot.phys().fail_nth_allocation(fail_page_alloc);
            if (!s.ok()) error = std::string("--fail-page-alloc: ") + s.reason();
            ok = s.ok();
        }
        if (ok && fail_slab) boot.slab().fail_nth_allocation(fail_slab);
        if (ok) ok = replay ? tools::replay_linux_boot(log, boot, result, error) : tools::run_phases(boot, error);
        if (!ok) {
            const std::string why = tools::boot_failure_reason(map, boot, fail_page_alloc, fail_slab);
            tools::release_machine(boot);
            return refuse(kExitCannotBoot, info.name + ": " + why);
        }
        if (!tools::check_machine(boot, error)) {
            tools::release_machine(boot);
            return refuse(kExitInternalError, "internal error: " + info.name + ": " + error);
        }
        boot.map_read_ns = map_ns; // reading and parsing the input, before FirmwareMap
    }

    // The report: printed with --json, drawn with --html, compared with --compare (one object, one set of numbers).
    nlohmann::json out;
    if (json || !html_path.empty() || compare)
        out = tools::sim_report(map, info, from_report, can_boot ? &boot : nullptr, replay ? &result : nullptr,
                                map_only ? "--map-only" : "no usable memory in the map");
    int rc = 0;
    if (json || compare) {
        rc = print_report(out, compare, json, false, html_path);
    } else {
        if (report == "early") {
            if (can_boot) tools::print_early_text(std::cout, *boot.sys);
            else std::cout << "kmem: nothing was booted: no early allocations\n";
        } else {
            tools::print_map_text(std::cout, map, info, from_report);
            if (can_boot) {
                tools::print_boot_text(std::cout, boot);
                tools::print_early_text(std::cout, *boot.sys);
                if (replay) tools::print_replay_text(std::cout, result);
            } else if (!map_only) {
                std::cout << "kmem: no usable memory in the map: nothing to boot\n";
            }
        }
        if (!html_path.empty() && !tools::write_html_report(html_path, out, error)) rc = bad_input(error);
    }
    // A fault injection that never fired tested nothing: the argument was wrong.
    std::string unfired;
    const auto never_fired = [&](const char *option, uint64_t n, uint64_t fired, const char *what) {
        if (n == 0 || fired != 0 || !unfired.empty()) return;
        unfired = std::string(option) + " " + std::to_string(n) + ": the boot made fewer than " +
                  std::to_string(n) + " " + what + ", so no fault was injected";
    };
    if (can_boot) {
        never_fired("--fail-page-alloc", fail_page_alloc, boot.phys().injected_failures(), "page allocations");
        never_fired("--fail-slab", fail_slab, boot.slab().injected_failures(), "object allocations");
    }
    tools::release_machine(boot);
    if (rc) return rc;
    if (!unfired.empty()) return bad_input(unfired);
    if (!can_boot && !map_only)
        return refuse(kExitNothingToBoot, info.name + ": the map describes no usable RAM: nothing to boot");
    if (result.failed)
        return refuse(kExitCannotBoot, info.name + ": kmem could not serve " + std::to_string(result.failed) +
                                           " of the replayed boot's requests (first: " +
                                           (result.failures.empty() ? std::string("-") : result.failures.front()) +
                                           ")");
    return 0;
}
