// kmem-sim's command line: --version, sizes with K/M/G/T suffixes, and the
// data directory found relative to the binary (a copied or installed
// kmem-sim keeps its main job).
#include "sim_run.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kmem {
namespace {

TEST(KmemSimCli, VersionNamesTheReleaseAndTheSchema) {
    SimRun r = run_sim("--version");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.rfind("kmem-sim " KMEM_PROJECT_VERSION "\nreport schema: kmem-report/1\n", 0),
              0u)
        << r.out;
    EXPECT_NE(r.out.find("data directories: "), std::string::npos) << r.out;
}

TEST(KmemSimCli, WindowTakesSizeSuffixes) {
    for (const char *w : {"2G", "2GiB", "2g", "2048M", "2097152K", "0x80000000", "2147483648"}) {
        SCOPED_TRACE(w);
        SimRun r = run_sim(std::string("--builtin --json --window ") + w);
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(nlohmann::json::parse(r.out)["boot"]["window_bytes"], uint64_t{2} << 30);
    }
    // On a machine with less RAM than the window, the boot code maps all of it.
    SimRun r = run_sim("--json --window 1T --map " +
                       test::data_path("memmaps/qemu-i440fx-256m-newfmt-gaps.txt"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    uint64_t ram_top = 0;
    for (const auto &x : j["map"]["ranges"])
        if (x["type"] == "usable") ram_top = x["end"];
    EXPECT_EQ(j["boot"]["window_start"].get<uint64_t>() + j["boot"]["window_bytes"].get<uint64_t>(),
              ram_top);
}

TEST(KmemSimCli, BadSizesAreOneLineAndStatus2) {
    const struct {
        const char *arg, *err;
    } cases[] = {
        {"--window 2X", "kmem-sim: --window: '2X' is not a size: unknown unit (bytes, or a number "
                        "with K, M, G or T: "
                        "2G, 512M, 0x40000000)\n"},
        {"--window G", "kmem-sim: --window: 'G' is not a size: no number (bytes, or a number with "
                       "K, M, G or T: 2G, "
                       "512M, 0x40000000)\n"},
        {"--window 99999999999T",
         "kmem-sim: --window: '99999999999T' is not a size: too large (bytes, or a number "
         "with K, M, G or T: 2G, 512M, 0x40000000)\n"},
        {"--window 8M",
         "kmem-sim: --window: '8M' is not between 16M and 64T (the early window holds the buddy's "
         "first arrays)\n"},
        {"--window 16777217",
         "kmem-sim: --window: '16777217' is not a whole number of 4096-byte pages\n"},
        {"--efi-desc-size 48Q",
         "kmem-sim: --efi-desc-size: '48Q' is not a size: unknown unit (bytes, or a number "
         "with K, M, G or T: 2G, 512M, 0x40000000)\n"},
    };
    for (const auto &c : cases) {
        SimRun r = run_sim(std::string("--builtin ") + c.arg);
        EXPECT_EQ(r.status, 2) << c.arg;
        EXPECT_EQ(r.err, c.err);
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
}

TEST(KmemSimCli, EfiDescriptorSizeTakesHex) {
    const std::string efi = "--json --map-only --format efi --map " +
                            std::string(KMEM_TEST_DATA_DIR) +
                            "/binary/lenovo-g50.efi --efi-desc-size ";
    SimRun dec = run_sim(efi + "48"), hex = run_sim(efi + "0x30");
    ASSERT_EQ(dec.status, 0) << dec.err;
    ASSERT_EQ(hex.status, 0) << hex.err;
    EXPECT_EQ(nlohmann::json::parse(dec.out)["map"], nlohmann::json::parse(hex.out)["map"]);
}

// A copy of kmem-sim in PREFIX/bin finds the shipped log in
// PREFIX/share/kmem (an install), or where KMEM_DATA_DIR says; with
// neither it says where it looked.
TEST(KmemSimCli, DefaultRunFindsItsDataRelativeToTheBinary) {
    const fs::path prefix = fs::path(KMEM_SIM_WORK_DIR) / "prefix";
    fs::remove_all(prefix);
    fs::create_directories(prefix / "bin");
    fs::copy_file(KMEM_SIM, prefix / "bin/kmem-sim");
    const std::string sim = (prefix / "bin/kmem-sim").string();
    const std::string log = "linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log";
    // Nothing there.
    test::CommandResult r = test::run_command("env -u KMEM_DATA_DIR " + sim + " 2>&1 >/dev/null");
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "kmem-sim: the default run replays " + log +
                         ", which is in no data directory (looked for " +
                         (prefix / "share/kmem" / log).string() +
                         "); set KMEM_DATA_DIR to the directory that holds kmem's data, or give "
                         "--replay, --map or "
                         "--builtin\n");
    // KMEM_DATA_DIR.
    r = test::run_command("env KMEM_DATA_DIR=" KMEM_DATA_DIR " " + sim + " --json 2>&1");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(nlohmann::json::parse(r.out)["map"]["name"], std::string(KMEM_DATA_DIR) + "/" + log);
    // An installed layout: PREFIX/share/kmem.
    fs::create_directories(prefix / "share/kmem/linux-boot");
    fs::copy_file(test::data_path(log), prefix / "share/kmem" / log);
    r = test::run_command("env -u KMEM_DATA_DIR " + sim + " --json 2>&1");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["map"]["name"], (prefix / "share/kmem" / log).string());
    EXPECT_EQ(j["replay"]["failed"], 0);
    EXPECT_EQ(j["replay"]["memblock_allocs"], 48);
}

} // namespace
} // namespace kmem
