// kmem-sim's reports (schema kmem-report/1): every kind of run validates
// against docs/report-schema.json; --from reads a report back (a JSON file,
// a serial log with a KMEM-JSON line) and refuses what is not one with one
// line; --compare puts two side by side; --map reads a report's map; the
// replay names its caches by call site.
#include "report_schema.h"
#include "sim_run.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace kmem {
namespace {

std::string work_file(const std::string &name, const std::string &content) {
    fs::create_directories(std::string(KMEM_SIM_WORK_DIR) + "/report");
    const std::string path = std::string(KMEM_SIM_WORK_DIR) + "/report/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

// `kmem-sim ARGS --json`, saved as NAME; its JSON.
nlohmann::json saved_report(const std::string &args, const std::string &name, int status = 0) {
    SimRun r = run_sim(args + " --json");
    EXPECT_EQ(r.status, status) << args << ": " << r.err;
    work_file(name, r.out);
    return nlohmann::json::parse(r.out);
}

std::string path_of(const std::string &name) {
    return std::string(KMEM_SIM_WORK_DIR) + "/report/" + name;
}

// Lines of `text` from the first one starting with `from` up to (not
// including) the first after it that does not start with `prefix`.
std::vector<std::string> block(const std::string &text, const std::string &from,
                               const std::string &prefix) {
    std::istringstream in(text.substr(std::min(text.find(from), text.size())));
    std::vector<std::string> out;
    std::string line;
    std::getline(in, line); // the heading
    while (std::getline(in, line) && line.rfind(prefix, 0) == 0)
        out.push_back(line);
    return out;
}

// Lines of `text` after the first one starting with `from`, up to the first starting with `stop`.
std::vector<std::string> lines_until(const std::string &text, const std::string &from,
                                     const std::string &stop) {
    std::istringstream in(text.substr(std::min(text.find(from), text.size())));
    std::vector<std::string> out;
    std::string line;
    std::getline(in, line); // the heading
    while (std::getline(in, line) && line.rfind(stop, 0) != 0)
        out.push_back(line);
    return out;
}

std::vector<std::string> lines_starting(const std::string &text, const std::string &prefix) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (line.rfind(prefix, 0) == 0) out.push_back(line);
    return out;
}

TEST(KmemSimReport, EveryKindOfRunIsAValidReport) {
    const struct {
        std::string args;
        int status;
    } runs[] = {
        {"", 0}, // the default replay
        {"--builtin", 0},
        {"--map " + test::data_path("memmaps/qemu-q35-seabios-8g.txt"), 0},
        {"--map " + test::data_path("memmaps/rpi4-8g-arm64-dt-layout.txt"), 0},
        {"--map " + std::string(KMEM_TEST_DATA_DIR) + "/binary/lenovo-g50.efi", 0},
        {"--map " + std::string(KMEM_TEST_DATA_DIR) + "/sysfs/dev-vm-24g", 0},
        {"--map " + test::data_path("dtbs/allwinner__sun50i-h5-libretech-all-h3-it.dtb"),
         3}, // no /memory: nothing to boot, and still a report
        {"--map-only", 0},
        {"--builtin --window 4G", 0},
    };
    std::vector<std::string> paths;
    for (size_t i = 0; i < std::size(runs); ++i) {
        SCOPED_TRACE(runs[i].args);
        const std::string name = "kind-" + std::to_string(i) + ".json";
        const nlohmann::json j = saved_report(runs[i].args, name, runs[i].status);
        EXPECT_EQ(j["schema"], "kmem-report/1");
        EXPECT_EQ(j["producer"]["name"], "kmem-sim");
        EXPECT_EQ(j["producer"]["version"], KMEM_PROJECT_VERSION);
        paths.push_back(path_of(name));
        // --from gives back the same object.
        SimRun back = run_sim("--from " + paths.back() + " --json");
        ASSERT_EQ(back.status, 0) << back.err;
        EXPECT_EQ(nlohmann::json::parse(back.out), j);
    }
    test::expect_valid_reports(paths);
}

TEST(KmemSimReport, AFailedReplayIsStillAValidReport) {
    const std::string log =
        work_file("toobig.log",
                  "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                  "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x0000000007ffffff] usable\n"
                  "[    0.010000] memblock_alloc_try_nid: 536870912 bytes align=0x1000 nid=-1 "
                  "from=0x0000000000000000 max_addr=0x0000000000000000 too_big+0x1/0x2\n");
    const nlohmann::json j = saved_report("--replay " + log, "failed-replay.json", 1);
    EXPECT_EQ(j["replay"]["failed"], 1);
    test::expect_valid_reports({path_of("failed-replay.json")});
}

// The text of a report read back: the map, buddyinfo, slabinfo and the
// early table read as kmem-sim prints them for the run itself.
TEST(KmemSimReport, FromPrintsTheTextOfTheRun) {
    const std::string map = "--map " + test::data_path("memmaps/qemu-q35-seabios-8g.txt");
    saved_report(map, "q35.json");
    SimRun live = run_sim(map), back = run_sim("--from " + path_of("q35.json"));
    ASSERT_EQ(live.status, 0) << live.err;
    ASSERT_EQ(back.status, 0) << back.err;
    EXPECT_EQ(back.out.rfind("kmem: report kmem-report/1 by kmem-sim " KMEM_PROJECT_VERSION, 0), 0u)
        << back.out;
    EXPECT_EQ(lines_starting(back.out, "kmem: memory map of"),
              lines_starting(live.out, "kmem: memory map of"));
    EXPECT_EQ(lines_starting(back.out, "kmem: [mem "), lines_starting(live.out, "kmem: [mem "));
    EXPECT_EQ(lines_starting(back.out, "kmem: 10 ranges"),
              lines_starting(live.out, "kmem: 10 ranges"));
    const auto buddy = block(back.out, "/proc/buddyinfo:", "Node ");
    EXPECT_EQ(buddy.size(), 3u) << back.out; // DMA, DMA32, Normal
    EXPECT_EQ(buddy, block(live.out, "/proc/buddyinfo:", "Node "));
    const auto slab = lines_until(back.out, "/proc/slabinfo:", "kmem:");
    EXPECT_GT(slab.size(), 3u);
    EXPECT_EQ(slab, lines_until(live.out, "/proc/slabinfo:", "kmem:"));
    EXPECT_EQ(lines_starting(back.out, "  EarlyWindow  "),
              lines_starting(live.out, "  EarlyWindow  "));
    EXPECT_EQ(lines_starting(back.out, "  DirectMap    "),
              lines_starting(live.out, "  DirectMap    "));
    // --report early: the early table alone, as for the run.
    SimRun early = run_sim("--report early --from " + path_of("q35.json"));
    EXPECT_EQ(early.out.rfind("kmem: allocations before Running", 0), 0u) << early.out;
    EXPECT_EQ(early.out.find("/proc/"), std::string::npos);
}

// A kernel's serial log: noise, CR LF line ends, the report on a KMEM-JSON
// line; of two such lines, the last.
TEST(KmemSimReport, FromReadsTheKmemJsonLineOfASerialLog) {
    const nlohmann::json map_only = saved_report("--map-only", "map-only.json");
    const nlohmann::json booted = saved_report("--builtin", "builtin.json");
    const std::string log =
        work_file("serial.log", "SeaBIOS (version 1.16.2)\r\nBooting from ROM..\r\n"
                                "kmem-x86_64: booted by multiboot\r\nKMEM-JSON " +
                                    map_only.dump() + "\r\nkmem: some other line\r\nKMEM-JSON " +
                                    booted.dump() + "\r\nkmem-x86_64: self-tests passed\r\n");
    SimRun r = run_sim("--from " + log + " --json");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out), booted);
    test::expect_valid_reports({log});
    r = run_sim("--from " + log);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("63 ranges, 8 NUMA nodes"), std::string::npos) << r.out;
}

TEST(KmemSimReport, FromRefusesWhatIsNotAReportInOneLine) {
    nlohmann::json good =
        saved_report("--map " + test::data_path("memmaps/aws-ec2-xen-hvm-1g.txt"), "aws.json");
    auto refused = [](const std::string &path, const std::string &reason) {
        SCOPED_TRACE(path);
        SimRun r = run_sim("--from " + path);
        EXPECT_EQ(r.status, 2);
        EXPECT_EQ(r.err, "kmem-sim: " + path + reason + "\n");
        EXPECT_TRUE(r.out.empty()) << r.out;
    };
    refused(work_file("no-report.log", "hello\nworld\n"),
            ": no kmem report in it (neither a JSON object nor a line with KMEM-JSON)");
    nlohmann::json other = good;
    other["schema"] = "kmem-report/2";
    refused(work_file("other-schema.json", other.dump()),
            ": a report of schema kmem-report/2: this kmem-sim reads kmem-report/1");
    // The kernels' line before the schema: flat keys, no version.
    refused(
        work_file("flat.log", "x\nKMEM-JSON {\"arch\":\"x86_64\",\"cpus\":2,\"usable_bytes\":1}\n"),
        ":2: not a kmem report: no \"schema\" key (kmem-sim and the kernels write \"schema\": "
        "\"kmem-report/1\")");
    nlohmann::json cut = good;
    cut["phys"]["zones"][0].erase("free_area");
    refused(work_file("cut.json", cut.dump()),
            ": not a valid kmem-report/1 report: phys.zones[0].free_area: missing");
    nlohmann::json wrong = good;
    wrong["map"]["ranges"][1]["start"] = "0x1000";
    refused(work_file("wrong.json", wrong.dump()),
            ": not a valid kmem-report/1 report: map.ranges[1].start: not an unsigned integer");
    nlohmann::json unbooted = good;
    unbooted.erase("phys");
    refused(work_file("unbooted.json", unbooted.dump()),
            ": not a valid kmem-report/1 report: phys: missing (a report of a boot has phys; one "
            "of none has "
            "boot.skipped)");
    // A value of the wrong kind where the reader does not check first.
    nlohmann::json odd = good;
    odd["map"]["bytes_by_type"]["acpi_nvs"] = "lots";
    SimRun o = run_sim("--from " + work_file("odd.json", odd.dump()));
    EXPECT_EQ(o.status, 2);
    EXPECT_EQ(o.err.rfind("kmem-sim: not a valid kmem-report/1 report: ", 0), 0u) << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_TRUE(o.out.empty()) << o.out;
    const std::string broken = work_file("broken.log", "a\nb\nKMEM-JSON {\"schema\": \n");
    SimRun r = run_sim("--from " + broken);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err.rfind("kmem-sim: " + broken + ":3: not JSON: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    r = run_sim("--from /nonexistent/report.json");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("kmem-sim: /nonexistent/report.json: cannot open"), std::string::npos)
        << r.err;
    // --from boots nothing.
    const std::string aws = path_of("aws.json");
    for (const char *opt : {"--map-only", "--window 2G", "--fail-slab 3", "--format text"}) {
        r = run_sim("--from " + aws + " " + opt);
        EXPECT_EQ(r.status, 2) << opt;
        EXPECT_NE(r.err.find("--from boots nothing"), std::string::npos) << r.err;
    }
    EXPECT_EQ(run_sim("--from " + aws + " --builtin").status, 2);
    EXPECT_EQ(run_sim("--from " + aws + " --map " + aws).status, 2);
}

// The value of the text's row NAME: its A and B columns.
std::pair<std::string, std::string> compare_row(const std::string &text, const std::string &name) {
    std::smatch m;
    const std::regex row("\n  " + name + " +(\\S+) +(\\S+)");
    if (!std::regex_search(text, m, row)) return {"missing", "missing"};
    return {m[1], m[2]};
}

TEST(KmemSimReport, CompareTwoReportsSideBySide) {
    const nlohmann::json a =
        saved_report("--map " + test::data_path("memmaps/qemu-q35-seabios-8g.txt"), "a.json");
    const nlohmann::json b = saved_report("--builtin", "b.json");
    const nlohmann::json m = saved_report("--map-only", "m.json");
    SimRun r = run_sim("--from " + path_of("a.json") + " --compare " + path_of("b.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.rfind("kmem: A: kmem-sim " KMEM_PROJECT_VERSION ", map " +
                              a["map"]["name"].get<std::string>() +
                              "\nkmem: B: kmem-sim " KMEM_PROJECT_VERSION ", map " +
                              b["map"]["name"].get<std::string>() + "\n",
                          0),
              0u)
        << r.out;
    const auto str = [](const nlohmann::json &v) { return std::to_string(v.get<uint64_t>()); };
    EXPECT_EQ(compare_row(r.out, "pages managed"),
              std::make_pair(str(a["phys"]["managed_pages"]), str(b["phys"]["managed_pages"])));
    EXPECT_EQ(compare_row(r.out, "usable bytes \\(map\\)"),
              std::make_pair(str(a["map"]["usable_bytes"]), str(b["map"]["usable_bytes"])));
    EXPECT_EQ(compare_row(r.out, "EarlyWindow"),
              std::make_pair(str(a["boot"]["phases"][1]["ns"]), str(b["boot"]["phases"][1]["ns"])));
    EXPECT_EQ(compare_row(r.out, "NUMA nodes"), std::make_pair(std::string("1"), std::string("8")));
    for (const char *part : {"Boot phases (ns)", "Memory", "Allocations before Running (bytes)",
                             "Slab caches (objects allocated)", "\n  kmem_cache "})
        EXPECT_NE(r.out.find(part), std::string::npos) << part;
    // A map-only report beside a booted one: "-" where it has nothing.
    r = run_sim("--from " + path_of("m.json") + " --compare " + path_of("a.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(compare_row(r.out, "pages managed"),
              std::make_pair(std::string("-"), str(a["phys"]["managed_pages"])));
    // The run itself as A: the default replay beside a saved report.
    r = run_sim("--compare " + path_of("b.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("linux-6.1-x86_64-qemu-1g-2cpu.log\nkmem: B: "), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("\n  reserve_real_mode (1 / -) "), std::string::npos) << r.out;
    // Not with --json; a bad FILE is bad input.
    EXPECT_EQ(run_sim("--compare " + path_of("b.json") + " --json").status, 2);
    r = run_sim("--compare /nonexistent.json");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("/nonexistent.json: cannot open"), std::string::npos) << r.err;
}

// --map-only --json, read back with --map: the same map, the same boot.
TEST(KmemSimReport, MapOnlyJsonReadsBackAsAMap) {
    const std::vector<std::string> inputs = {
        test::data_path("memmaps/qemu-q35-seabios-8g.txt"),
        test::data_path("memmaps/rpi4-8g-arm64-dt-layout.txt"),
        test::data_path("memmaps/supermicro-h11dsu-epyc-naples-1tib-8numa.txt"),
        std::string(KMEM_TEST_DATA_DIR) + "/binary/lenovo-g50.efi"};
    for (const std::string &input : inputs) {
        SCOPED_TRACE(input);
        const nlohmann::json mo = saved_report("--map-only --map " + input, "readback.json");
        const nlohmann::json direct = saved_report("--map " + input, "direct.json");
        SimRun r = run_sim("--json --map " + path_of("readback.json"));
        ASSERT_EQ(r.status, 0) << r.err;
        const nlohmann::json again = nlohmann::json::parse(r.out);
        EXPECT_EQ(again["map"]["ranges"], mo["map"]["ranges"]);
        EXPECT_EQ(again["map"]["bytes_by_type"], mo["map"]["bytes_by_type"]);
        EXPECT_EQ(again["map"]["format"], "kmem-report");
        EXPECT_EQ(again["map"]["source"], "map.ranges of " + input);
        EXPECT_EQ(again["map"]["name"], path_of("readback.json"));
        EXPECT_EQ(again["phys"]["managed_pages"], direct["phys"]["managed_pages"]);
        EXPECT_EQ(again["phys"]["zones"].size(), direct["phys"]["zones"].size());
        // The text names what it read.
        r = run_sim("--map-only --map " + path_of("readback.json"));
        EXPECT_NE(r.out.find("(kmem-report, from map.ranges of " + input + ")"), std::string::npos)
            << r.out;
    }
    // A booted report's map reads back too, and --format report insists.
    saved_report("--builtin", "booted.json");
    EXPECT_EQ(run_sim("--map-only --format report --map " + path_of("booted.json")).status, 0);
    SimRun r =
        run_sim("--format report --map " + test::data_path("memmaps/qemu-q35-seabios-8g.txt"));
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("no kmem report in it"), std::string::npos) << r.err;
}

// One cache per call site and object size of the log's kmem_cache_alloc
// events, named after them; worked out here from the log itself.
TEST(KmemSimReport, ReplayedCachesAreNamedByCallSite) {
    std::ifstream log(test::data_path("linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log"));
    const std::regex event(R"(\] kmem_cache_alloc: call_site=([^+ ]+)\S* .*bytes_req=(\d+))");
    std::set<std::string> expected;
    for (std::string line; std::getline(log, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, event)) continue;
        const std::string size = "-" + m[2].str();
        expected.insert(m[1].str().substr(0, 31 - size.size()) + size);
    }
    ASSERT_GT(expected.size(), 50u);
    const nlohmann::json j = saved_report("", "default.json");
    EXPECT_EQ(j["replay"]["caches"].get<size_t>(), expected.size());
    std::set<std::string> names;
    for (const auto &c : j["slab"]["caches"])
        names.insert(c["name"].get<std::string>());
    for (const std::string &e : expected)
        EXPECT_TRUE(names.count(e)) << e;
    EXPECT_TRUE(names.count("alloc_inode-632"));
    EXPECT_TRUE(names.count("__d_alloc-192"));
    for (const std::string &n : names)
        EXPECT_NE(n.rfind("replay-", 0), 0u) << n;
}

} // namespace
} // namespace kmem
