// DOC: the tools' map loader on hostile files and directories: entry names
// beyond 64 bits, devices, FIFOs, files far larger than any map, sysfs
// errors that name the file and line. Every case must end in a refusal (or a
// map), promptly and without reading more than the format can need.
#include <kmem/memmap_parse.h>

#include "map_loader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace kmem {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed at the end.
class MapLoader : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("kmem-map-loader-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    static void write(const fs::path &p, const std::string &text) {
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
    }
    void entry(const fs::path &memmap, const std::string &n, const std::string &start,
               const std::string &end, const std::string &type) {
        write(memmap / n / "start", start);
        write(memmap / n / "end", end);
        write(memmap / n / "type", type);
    }
    bool load(const std::string &path, std::string &error, ParseOptions opts = {}) {
        tools::LoadedMap info;
        return tools::load_map_file(path, opts, map_, info, error);
    }

    fs::path dir_;
    StaticMemoryMap<> map_;
};

// Issue 20, item 2: an all-digit entry name beyond 64 bits threw
// std::out_of_range out of std::stoull and aborted kmem-sim.
TEST_F(MapLoader, EntryNumberBeyond64BitsIsJustALargeNumber) {
    const fs::path memmap = dir_ / "memmap";
    entry(memmap, "0", "0x0\n", "0x9fbff\n", "System RAM\n");
    entry(memmap, "99999999999999999999999", "0x100000\n", "0x7fffffff\n", "System RAM\n");
    std::string error;
    ASSERT_TRUE(load(memmap.string(), error)) << error;
    EXPECT_EQ(map_.usable_bytes(), 0x9f000u + 0x7ff00000u);
}

// Issue 20, item 3: /dev/zero was read until the OOM killer came.
TEST_F(MapLoader, CharacterDeviceIsRefusedUnread) {
    std::string error;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(load("/dev/zero", error));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_EQ(error, "/dev/zero: not a regular file (a character device); kmem-sim reads maps from "
                     "regular files and /sys/firmware/memmap-style directories");
    EXPECT_FALSE(load("/dev/urandom", error));
    EXPECT_NE(error.find("(a character device)"), std::string::npos) << error;
}

// Issue 20, item 3: a FIFO in a memmap directory blocked forever.
TEST_F(MapLoader, FifoInAMemmapDirectoryIsRefused) {
    const fs::path memmap = dir_ / "memmap";
    entry(memmap, "0", "0x0\n", "0x9fbff\n", "System RAM\n");
    fs::create_directories(memmap / "1");
    write(memmap / "1" / "start", "0x100000\n");
    write(memmap / "1" / "end", "0x7fffffff\n");
    ASSERT_EQ(::mkfifo((memmap / "1" / "type").c_str(), 0600), 0);
    std::string error;
    EXPECT_FALSE(load(memmap.string(), error));
    EXPECT_EQ(error, (memmap / "1" / "type").string() +
                         ": not a regular file (a FIFO or pipe); kmem-sim reads maps from regular files "
                         "and /sys/firmware/memmap-style directories");
    // A FIFO given as the map itself.
    ASSERT_EQ(::mkfifo((dir_ / "map.fifo").c_str(), 0600), 0);
    EXPECT_FALSE(load((dir_ / "map.fifo").string(), error));
    EXPECT_NE(error.find("(a FIFO or pipe)"), std::string::npos) << error;
}

// Issue 20, item 3: a 1 GiB sparse file took 2.1 GB of RSS to be refused.
TEST_F(MapLoader, FileLargerThanAnyTextMapIsRefusedUnread) {
    const fs::path big = dir_ / "sparse-1g.txt";
    write(big, "BIOS-e820: [mem 0x0-0x9fbff] usable\n");
    fs::resize_file(big, uint64_t{1} << 30);
    std::string error;
    EXPECT_FALSE(load(big.string(), error));
    EXPECT_EQ(error, big.string() + ": the file is 1073741824 bytes (1024 MiB); kmem-sim reads at most "
                                    "268435456 bytes (256 MiB) for console text");
    // Its own size tells it: nothing was read.
    EXPECT_TRUE(map_.empty());
}

// A binary map has a lower limit than text: an FDT header followed by 20 MiB.
TEST_F(MapLoader, BinaryMapOverItsLimitIsRefused) {
    const fs::path blob = dir_ / "huge.dtb";
    write(blob, std::string("\xd0\x0d\xfe\xed", 4));
    fs::resize_file(blob, uint64_t{20} << 20);
    std::string error;
    EXPECT_FALSE(load(blob.string(), error));
    EXPECT_EQ(error, blob.string() + ": the file is 20971520 bytes (20 MiB); kmem-sim reads at most "
                                     "16777216 bytes (16 MiB) for a map in format fdt");
    ParseOptions fdt;
    fdt.format = MapFormat::fdt;
    EXPECT_FALSE(load(blob.string(), error, fdt));
    EXPECT_NE(error.find("for a binary map"), std::string::npos) << error;
}

TEST_F(MapLoader, SysfsAttributeFileOverOnePageIsRefused) {
    const fs::path memmap = dir_ / "memmap";
    entry(memmap, "0", "0x0\n", "0x9fbff\n", std::string(5000, 'x'));
    std::string error;
    EXPECT_FALSE(load(memmap.string(), error));
    EXPECT_EQ(error, (memmap / "0" / "type").string() +
                         ": the file is 5000 bytes; kmem-sim reads at most 4096 bytes for a sysfs attribute file");
}

TEST_F(MapLoader, EmptyFileSaysSo) {
    write(dir_ / "empty.txt", "");
    std::string error;
    EXPECT_FALSE(load((dir_ / "empty.txt").string(), error));
    EXPECT_EQ(error, (dir_ / "empty.txt").string() + ": the file is empty: it holds no memory map");
}

// Issue 20, item 5: sysfs refusals said "DIR/N: reason" with no file or line.
TEST_F(MapLoader, SysfsErrorsNameTheFileAndLine) {
    const fs::path memmap = dir_ / "memmap";
    entry(memmap, "0", "0x0\n", "0x9fbff\n", "System RAM\n");
    entry(memmap, "1", "0x200000\n", "0x1fffff0\n\njunk\n", "System RAM\n");
    std::string error;
    EXPECT_FALSE(load(memmap.string(), error));
    EXPECT_EQ(error, (memmap / "1" / "end").string() + ":3: sysfs end is not a hex number");
    entry(memmap, "1", "0x200000\n", "0x1ffeff\n", "System RAM\n");
    EXPECT_FALSE(load(memmap.string(), error));
    EXPECT_EQ(error, (memmap / "1" / "end").string() + ":1: range ends before it starts");
    entry(memmap, "1", "0x200000\n", "0x2fffff\n", "Banana\n");
    EXPECT_FALSE(load(memmap.string(), error));
    EXPECT_EQ(error, (memmap / "1" / "type").string() + ":1: unknown sysfs memmap type");
    entry(memmap, "1", "zero\n", "0x2fffff\n", "Reserved\n");
    EXPECT_FALSE(load(memmap.string(), error));
    EXPECT_EQ(error, (memmap / "1" / "start").string() + ":1: sysfs start is not a hex number");
}

// The inclusive end one below the start is an empty entry, dropped as in the
// text forms (Linux prints a zero-size entry so).
TEST_F(MapLoader, SysfsZeroSizeEntryIsDropped) {
    const fs::path memmap = dir_ / "memmap";
    entry(memmap, "0", "0x0\n", "0x9fbff\n", "System RAM\n");
    entry(memmap, "1", "0x100000\n", "0xfffff\n", "Reserved\n");
    std::string error;
    ASSERT_TRUE(load(memmap.string(), error)) << error;
    EXPECT_EQ(map_.size(), 1u);
}

TEST_F(MapLoader, EfiLayoutArgumentsAreCheckedAsArguments) {
    const fs::path efi = dir_ / "map.efi";
    std::string one(48, '\0');
    one[0] = 7;    // EfiConventionalMemory
    one[24] = 16; // 16 pages
    write(efi, one);
    ParseOptions o;
    o.format = MapFormat::efi;
    o.efi_desc_size = 32;
    std::string error;
    EXPECT_FALSE(load(efi.string(), error, o));
    EXPECT_EQ(error, "--efi-desc-size 32: an EFI descriptor is at least 40 bytes (EFI_MEMORY_DESCRIPTOR) "
                     "and a multiple of 8");
    o.efi_desc_size = 48;
    o.efi_desc_version = 2;
    EXPECT_FALSE(load(efi.string(), error, o));
    EXPECT_EQ(error, "--efi-desc-version 2: kmem reads EFI descriptors of version 1, the only one UEFI defines");
    o.efi_desc_version = 1;
    EXPECT_TRUE(load(efi.string(), error, o)) << error;
    EXPECT_EQ(map_.usable_bytes(), 16u * 4096);
}

} // namespace
} // namespace kmem
