// /sys/firmware/memmap: single entries, a real directory copied from the
// development machine, the live one where the test runs, and bad entries.
#include <kmem/memmap_parse.h>

#include "map_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace kmem {
namespace {

Status add_entry(MemoryMap &m, const std::string &start, const std::string &end,
                 const std::string &type) {
    return add_sysfs_memmap_entry(m, start.data(), start.size(), end.data(), end.size(),
                                  type.data(), type.size());
}

TEST(Sysfs, EntryFilesAsTheKernelWritesThem) {
    StaticMemoryMap<8> m;
    ASSERT_TRUE(add_entry(m, "0x0\n", "0x9fbff\n", "System RAM\n").ok());
    ASSERT_TRUE(add_entry(m, "0x9fc00\n", "0xfffff\n", "Reserved\n").ok());
    ASSERT_TRUE(add_entry(m, "0x100000\n", "0x1fffff\n", "ACPI Tables\n").ok());
    ASSERT_TRUE(add_entry(m, "0x200000\n", "0x2fffff\n", "ACPI Non-volatile Storage\n").ok());
    ASSERT_TRUE(add_entry(m, "0x300000\n", "0x3fffff\n", "Persistent Memory (legacy)\n").ok());
    ASSERT_TRUE(add_entry(m, "0x400000\n", "0x4fffff\n", "Unusable memory\n").ok());
    m.trim_usable_to_pages();
    ASSERT_TRUE(m.check().ok());
    EXPECT_EQ(m.usable_bytes(), 0x9f000u);
    EXPECT_EQ(m.bytes(MemType::acpi_reclaimable), 0x100000u);
    EXPECT_EQ(m.bytes(MemType::acpi_nvs), 0x100000u);
    EXPECT_EQ(m.bytes(MemType::persistent), 0x100000u);
    EXPECT_EQ(m.bytes(MemType::unusable), 0x100000u);
}

TEST(Sysfs, BadEntries) {
    StaticMemoryMap<8> m;
    EXPECT_EQ(add_entry(m, "zero", "0xfff", "System RAM").code(), Errc::malformed);
    EXPECT_EQ(add_entry(m, "0x0", "0xfff junk", "System RAM").code(), Errc::malformed);
    EXPECT_EQ(add_entry(m, "0x2000", "0xfff", "System RAM").code(), Errc::invalid_range);
    EXPECT_EQ(add_entry(m, "0x0", "0xffffffffffffffff", "Reserved").code(), Errc::invalid_range);
    EXPECT_EQ(add_entry(m, "0x0", "0xfff", "Banana").code(), Errc::unknown_type);
    EXPECT_TRUE(m.empty());
}

TEST(Sysfs, RealDirectoryFromTheDevelopmentMachine) {
    // tests/data/sysfs/dev-vm-24g, five entries:
    //   0x0-0x9fbff System RAM          -> [0, 0x9fc00) -> trimmed 0x9f000
    //   0x9fc00-0xfffff Reserved
    //   0x100000-0xbfffffff System RAM  -> 0xbff00000
    //   0xeec00000-0xfebfffff Reserved
    //   0x100000000-0x63fffffff System RAM -> 0x540000000
    // usable = 0x5fff9f000 = 25769406464; reserved = 0x60400 + 0x10000000.
    StaticMemoryMap<> m;
    tools::LoadedMap info;
    std::string error;
    ASSERT_TRUE(tools::load_map_file(std::string(KMEM_TEST_DATA_DIR) + "/sysfs/dev-vm-24g", {},
                                     m, info, error))
        << error;
    EXPECT_EQ(info.format, MapFormat::sysfs);
    EXPECT_EQ(info.sysfs_entries, 5u);
    EXPECT_EQ(m.usable_bytes(), 25769406464u);
    EXPECT_EQ(m.reserved_bytes(), 0x60400u + 0x10000000u);
    EXPECT_EQ(m.size(), 5u);
}

TEST(Sysfs, LiveSysfsWhereThereIsOne) {
    const char *live = "/sys/firmware/memmap";
    if (!std::filesystem::is_directory(live)) GTEST_SKIP() << "no " << live << " here";
    StaticMemoryMap<> m;
    tools::LoadedMap info;
    std::string error;
    ASSERT_TRUE(tools::load_map_file(live, {}, m, info, error)) << error;
    EXPECT_TRUE(m.check().ok());
    EXPECT_GT(m.usable_bytes(), 0u);
}

TEST(Sysfs, DirectoryWithoutEntriesIsAnError) {
    StaticMemoryMap<> m;
    tools::LoadedMap info;
    std::string error;
    ParseOptions opts;
    opts.format = MapFormat::sysfs;
    EXPECT_FALSE(tools::load_map_file(KMEM_TEST_DATA_DIR, opts, m, info, error));
    EXPECT_NE(error.find("no memmap entries"), std::string::npos) << error;
}

} // namespace
} // namespace kmem
