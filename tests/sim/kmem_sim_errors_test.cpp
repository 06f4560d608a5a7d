// DOC: kmem-sim's error contract, end to end (sim_errors.h, README "Using
// kmem-sim"): each exit status, and for every kind of refusal one line on
// stderr that says where (FILE:LINE:, FILE:byte N:, a sysfs entry's file,
// --OPTION VALUE:, or FILE: for the input as a whole) and why. Hostile
// inputs run under a memory limit and a timeout, so a regression fails the
// test instead of hanging it or feeding the OOM killer.
#include "sim_run.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace kmem {
namespace {

const std::string kWork = std::string(KMEM_SIM_WORK_DIR) + "/errors";

std::string write_temp(const std::string &name, const std::string &content) {
    fs::create_directories(kWork);
    const std::string path = kWork + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

// An address-space limit kmem-sim can start under: not an ASan build, which
// reserves terabytes of shadow memory first.
const char *kLimit = "ulimit -v 4000000; ";
bool address_space_limit_works() {
    static const bool works =
        test::run_command(std::string(kLimit) + KMEM_SIM + " --help >/dev/null 2>&1").status == 0;
    return works;
}

// kmem-sim with at most 4 GB of address space (where it can start so) and
// 20 s: enough for any map that is refused before a machine is simulated.
SimRun run_limited(const std::string &args) {
    fs::create_directories(kWork);
    const std::string err = kWork + "/stderr." + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    const std::string limit = address_space_limit_works() ? kLimit : "";
    const test::CommandResult c = test::run_command(limit + "timeout 20 " + std::string(KMEM_SIM) +
                                                    " " + args + " 2>" + err);
    SimRun r;
    r.status = c.status;
    r.out = c.out;
    r.err = test::read_file(err);
    return r;
}

// One refusal: status 2 and exactly the line `want` (a regular expression
// for the whole of stderr, "kmem-sim: " and the newline added here).
void expect_refusal(const SimRun &r, const std::string &want) {
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(std::regex_match(r.err, std::regex("kmem-sim: " + want + "\n"))) << r.err << "  wanted: " << want;
}

std::string quote(const std::string &s) { return std::regex_replace(s, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)"); }

std::string sysfs_dir(const std::string &name, const std::vector<std::array<std::string, 4>> &entries) {
    const fs::path dir = fs::path(kWork) / name;
    fs::remove_all(dir);
    for (const auto &[n, start, end, type] : entries) {
        fs::create_directories(dir / n);
        std::ofstream(dir / n / "start") << start;
        std::ofstream(dir / n / "end") << end;
        std::ofstream(dir / n / "type") << type;
    }
    return dir.string();
}

// ------------------------------------------------------------ status 2: input

TEST(KmemSimErrors, TextRefusalsNameTheLine) {
    std::string p = write_temp("end-before-start.txt", "BIOS-e820: [mem 0x0-0x9fbff] usable\n"
                                                       "BIOS-e820: [mem 0x200000-0x1ffeff] usable\n");
    expect_refusal(run_limited("--map " + p), quote(p) + ":2: range ends before it starts");
    p = write_temp("letters.txt", "BIOS-e820: [mem 0x0000000000100000-0x3fffzfff] usable\n");
    expect_refusal(run_limited("--map " + p), quote(p) + ":1: expected <start>-<end> hex addresses");
    p = write_temp("type.txt", "\nBIOS-e820: [mem 0x0-0xfff] banana\n");
    expect_refusal(run_limited("--map " + p), quote(p) + ":2: unknown e820 memory type");
    p = write_temp("node.txt", "BIOS-e820: [mem 0x0-0x7fffffff] usable\nSRAT: Node 99 PXM 0 [mem 0x0-0xfff]\n");
    expect_refusal(run_limited("--map " + p), quote(p) + ":2: NUMA node id too large");
    p = write_temp("52bit.txt", "BIOS-e820: [mem 0x10000000000000-0x10000000000fff] reserved\n");
    expect_refusal(run_limited("--map " + p), quote(p) + ":1: range ends above the 52-bit physical address limit");
}

TEST(KmemSimErrors, WholeInputRefusalsSayWhyTheyHaveNoLine) {
    std::string p = write_temp("no-map.txt", "Linux version 6.1\nCommand line: quiet\n");
    expect_refusal(run_limited("--map " + p),
                   quote(p) + ": no memory map in the text \\(no BIOS-e820, efi: memNN or node lines\\)");
    p = write_temp("gaps-only.txt", "BIOS-e820: [gap 0x00000000000a0000-0x00000000000effff]\n");
    expect_refusal(run_limited("--map " + p),
                   quote(p) + ": no memory map in the text \\(no BIOS-e820, efi: memNN or node lines\\)");
    p = write_temp("empty.txt", "");
    expect_refusal(run_limited("--map " + p), quote(p) + ": the file is empty: it holds no memory map");
    p = write_temp("garbage.bin", std::string("\x01\x02\x00\x7f\x00\x00\x00\x00\x13", 9));
    expect_refusal(run_limited("--map " + p),
                   quote(p) + ": cannot tell the map format from the file's content; name it with --format");
    expect_refusal(run_limited("--map /nonexistent/map.txt"),
                   "/nonexistent/map\\.txt: cannot open: No such file or directory");
}

TEST(KmemSimErrors, BinaryRefusalsNameTheByte) {
    const std::string dtb = test::read_file(test::data_path("dtbs/rockchip__rk3568-evb1-v10.dtb"));
    std::string p = write_temp("cut.dtb", dtb.substr(0, 20));
    expect_refusal(run_limited("--format fdt --map " + p), quote(p) + ":byte 0: blob too short for an FDT header");
    // One EFI descriptor of type 16 (not defined by UEFI) after a good one.
    std::string efi(96, '\0');
    efi[0] = 7;
    efi[24] = 1;
    efi[48] = 16;
    efi[48 + 8 + 1] = 0x10; // PhysicalStart 0x1000
    efi[48 + 24] = 1;
    p = write_temp("bad-type.efi", efi);
    expect_refusal(run_limited("--format efi --map " + p), quote(p) + ":byte 48: EFI memory type is not defined by UEFI");
    expect_refusal(run_limited("--format efi --efi-desc-size 32 --map " + p),
                   "--efi-desc-size 32: an EFI descriptor is at least 40 bytes \\(EFI_MEMORY_DESCRIPTOR\\) and a "
                   "multiple of 8");
}

TEST(KmemSimErrors, UnreadableFilesAreRefusedUnread) {
    expect_refusal(run_limited("--map /dev/zero"),
                   "/dev/zero: not a regular file \\(a character device\\); kmem-sim reads maps from regular "
                   "files and /sys/firmware/memmap-style directories");
    expect_refusal(run_limited("--map /dev/urandom"), "/dev/urandom: not a regular file \\(a character device\\);.*");
    const std::string fifo = kWork + "/map.fifo";
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    expect_refusal(run_limited("--map " + fifo), quote(fifo) + ": not a regular file \\(a FIFO or pipe\\);.*");
    expect_refusal(run_limited("--replay " + fifo), quote(fifo) + ": not a regular file \\(a FIFO or pipe\\);.*");
    const std::string big = write_temp("sparse-1g.txt", "BIOS-e820: [mem 0x0-0x9fbff] usable\n");
    fs::resize_file(big, uint64_t{1} << 30);
    expect_refusal(run_limited("--map " + big),
                   quote(big) + ": the file is 1073741824 bytes \\(1024 MiB\\); kmem-sim reads at most 268435456 "
                                "bytes \\(256 MiB\\) for console text");
}

TEST(KmemSimErrors, SysfsRefusalsNameTheEntryFile) {
    std::string d = sysfs_dir("sysfs-end", {{"0", "0x0\n", "0x9fbff\n", "System RAM\n"},
                                            {"1", "0x200000\n", "0x1ffeff\n", "System RAM\n"}});
    expect_refusal(run_limited("--map " + d), quote(d) + "/1/end:1: range ends before it starts");
    d = sysfs_dir("sysfs-type", {{"0", "0x0\n", "0x9fbff\n", "Banana\n"}});
    expect_refusal(run_limited("--map " + d), quote(d) + "/0/type:1: unknown sysfs memmap type");
    d = sysfs_dir("sysfs-fifo", {{"0", "0x0\n", "0x9fbff\n", "System RAM\n"}});
    fs::remove(fs::path(d) / "0" / "type");
    ASSERT_EQ(::mkfifo((fs::path(d) / "0" / "type").c_str(), 0600), 0);
    expect_refusal(run_limited("--map " + d), quote(d) + "/0/type: not a regular file \\(a FIFO or pipe\\);.*");
    d = sysfs_dir("sysfs-none", {});
    fs::create_directories(d);
    expect_refusal(run_limited("--format sysfs --map " + d),
                   quote(d) + ": no memmap entries \\(expected numbered directories with start, end and type files\\)");
}

TEST(KmemSimErrors, ReplayRefusalNamesTheLine) {
    const std::string p = write_temp("bad.log", "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x0000000007ffffff] usable\n"
                                                "[    0.100000] kmalloc: call_site=foo+0x1/0x2 bytes_req=8\n");
    const SimRun r = run_limited("--replay " + p);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err.rfind("kmem-sim: " + p + ":2: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// ------------------------------------------------------ status 2: arguments

TEST(KmemSimErrors, ArgumentRefusalsNameTheOption) {
    const std::string map = test::data_path("memmaps/qemu-q35-seabios-8g.txt");
    expect_refusal(run_limited("--window 5 --map " + map),
                   "--window: '5' is not between 16M and 64T \\(the early window holds the buddy's first arrays\\)");
    expect_refusal(run_limited("--no-such-option"), ".*--no-such-option.* \\(kmem-sim --help lists the options\\)");
    expect_refusal(run_limited("--map " + map + " --builtin"), "--map, --replay, --builtin and --from exclude each other");
    expect_refusal(run_limited("--format banana --map " + map), "unknown --format 'banana'");
    expect_refusal(run_limited("--format sysfs --map " + map),
                   quote(map) + ": --format sysfs needs a directory like /sys/firmware/memmap");
}

// A fault injection beyond the boot's allocations used to pass silently.
TEST(KmemSimErrors, FaultInjectionThatNeverFiresIsAnArgumentError) {
    const std::string map = test::data_path("memmaps/qemu-q35-seabios-8g.txt");
    SimRun r = run_sim("--fail-page-alloc 100000 --map " + map);
    expect_refusal(r, "--fail-page-alloc 100000: the boot made fewer than 100000 page allocations, so no fault "
                      "was injected");
    r = run_sim("--fail-slab 100000000 --map " + map);
    expect_refusal(r, "--fail-slab 100000000: the boot made fewer than 100000000 object allocations, so no "
                      "fault was injected");
}

// ---------------------------------------------------- status 1: cannot boot

void expect_cannot_boot(const SimRun &r, const std::string &want) {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(std::regex_match(r.err, std::regex("kmem-sim: " + want + "\n"))) << r.err << "  wanted: " << want;
}

TEST(KmemSimErrors, TooLittleRamIsToldInTheUsersTerms) {
    const std::string p = write_temp("4k.txt", "BIOS-e820: [mem 0x0000000000000000-0x0000000000000fff] usable\n");
    expect_cannot_boot(run_sim("--map " + p),
                       quote(p) + ": kmem could not boot on this map: it describes 4 KiB of usable RAM; kmem needs "
                                  "at least 32 KiB to boot \\(page descriptors, page tables and its first slab\\)");
}

TEST(KmemSimErrors, EarlyWindowTooSmallForItsDescriptors) {
    // 16 KiB across the 4 MiB boundary (two blocks: 16 KiB of descriptors),
    // and the rest of the RAM above the early window.
    const std::string p = write_temp("16k.txt", "BIOS-e820: [mem 0x00000000003fe000-0x0000000000401fff] usable\n"
                                                "BIOS-e820: [mem 0x0000000080000000-0x0000000083ffffff] usable\n");
    expect_cannot_boot(run_sim("--map " + p),
                       quote(p) + ": kmem could not boot on this map: the early window \\[0x200000-0x40200000\\) holds "
                                  "16 KiB of usable RAM, too little for the page descriptors kmem keeps for it "
                                  "\\(8 bytes per 4 KiB page of every 4 MiB block it touches\\) and its "
                                  "first slab \\(EarlyWindow: .*\\)");
}

TEST(KmemSimErrors, DirectMapWithoutRoomForItsTables) {
    // 48 KiB at 0 and a page in each of 12 more sections.
    std::string text = "BIOS-e820: [mem 0x0-0xbfff] usable\n";
    for (int i = 1; i <= 12; ++i) {
        char line[96];
        std::snprintf(line, sizeof line, "BIOS-e820: [mem 0x%llx-0x%llx] usable\n", (1ull * i) << 30,
                      ((1ull * i) << 30) + 0xfff);
        text += line;
    }
    const std::string p = write_temp("scattered.txt", text);
    expect_cannot_boot(run_sim("--map " + p),
                       quote(p) + ": kmem could not boot on this map: its 96 KiB of usable RAM leaves no room, after "
                                  "the early window, for the page tables of the direct map and the page descriptors "
                                  "of the RAM above the window \\(DirectMap: .*\\)");
}

TEST(KmemSimErrors, RamPast64TiB) {
    const std::string p = write_temp("70t.txt", "BIOS-e820: [mem 0x0-0x7fffffff] usable\n"
                                                "BIOS-e820: [mem 0x400000000000-0x40007fffffff] usable\n");
    expect_cannot_boot(run_sim("--map " + p),
                       quote(p) + ": kmem could not boot on this map: it describes RAM up to 0x400080000000 "
                                  "\\(64\\.00 TiB\\); kmem manages physical memory below 64 TiB");
}

TEST(KmemSimErrors, MachineTheHostCannotSimulate) {
    // 32 TiB of RAM under a 4 GB address-space limit.
    if (!address_space_limit_works()) GTEST_SKIP() << "kmem-sim does not start under ulimit -v (ASan)";
    const std::string p = write_temp("32t.txt", "BIOS-e820: [mem 0x0-0x7fffffff] usable\n"
                                                "BIOS-e820: [mem 0x1fff80000000-0x1fffffffffff] usable\n");
    expect_cannot_boot(run_limited("--map " + p),
                       quote(p) + ": kmem could not boot on this map: simulating it takes 32 TiB of this host's "
                                  "address space \\(its RAM ends at 0x200000000000\\), more than the host will "
                                  "reserve \\(.*\\)");
}

TEST(KmemSimErrors, InjectedFaultTheBootCannotSurvive) {
    const std::string map = test::data_path("memmaps/qemu-q35-seabios-8g.txt");
    expect_cannot_boot(run_sim("--fail-page-alloc 3 --map " + map),
                       quote(map) + ": kmem could not boot on this map: the page allocation --fail-page-alloc 3 made "
                                    "fail is one the boot cannot do without \\(DirectMap: .*\\)");
}

// ------------------------------------------------- status 3: nothing to boot

TEST(KmemSimErrors, NoUsableRamIsNothingToBoot) {
    const std::string p = write_temp("reserved.txt", "BIOS-e820: [mem 0x0-0x7fffffff] reserved\n");
    const SimRun r = run_sim("--map " + p);
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.err, "kmem-sim: " + p + ": the map describes no usable RAM: nothing to boot\n");
    EXPECT_NE(r.out.find("kmem: no usable memory in the map: nothing to boot"), std::string::npos) << r.out;
    EXPECT_EQ(run_sim("--map-only --map " + p).status, 0);
}

// ------------------------------------------------------ status 0: accepted

TEST(KmemSimErrors, HostileButValidInputsBoot) {
    // An entry number beyond 64 bits used to abort kmem-sim (std::stoull).
    const std::string d = sysfs_dir("sysfs-huge-number", {{"0", "0x0\n", "0x9fbff\n", "System RAM\n"},
                                                          {"99999999999999999999999", "0x100000\n", "0x7fffffff\n",
                                                           "System RAM\n"}});
    SimRun r = run_limited("--map-only --json --map " + d);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["map"]["usable_bytes"].get<uint64_t>(), 0x9f000u + 0x7ff00000u);
    // A NUMA boundary inside a page loses no page.
    const std::string p = write_temp("numa-page.txt", "BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable\n"
                                                      "ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x400007ff]\n"
                                                      "ACPI: SRAT: Node 1 PXM 1 [mem 0x40000800-0x7fffffff]\n");
    r = run_sim("--json --map " + p);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["map"]["usable_bytes"].get<uint64_t>(), 2ull << 30);
    // A map as people paste it.
    const std::string lower = write_temp("lower.txt", "bios-e820: [mem 0x0000000000000000-0x000000000009fbff] Usable\n"
                                                      "bios-e820: [mem 0x0000000000100000-0x000000007fffffff] USABLE\n");
    r = run_sim("--json --map " + lower);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["map"]["usable_bytes"].get<uint64_t>(), 0x9f000u + 0x7ff00000u);
}

} // namespace
} // namespace kmem
