// SPDX-License-Identifier: MIT
//
// Tests of map-format detection, format names, and parse_memory_map()'s
// dispatch, on the real inputs (dtbs, console text, the binary fixtures made
// by scripts/gen-binary-maps.py) and on garbage.
#include <kmem/memmap_parse.h>

#include "binary_test_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace kmem;

namespace {

using test::Bytes;
using test::prefill;
using test::put32;
using test::put64;

Bytes fixture(const char *name) {
    return test::read_bytes(std::string(KMEM_TEST_DATA_DIR "/binary/") + name);
}

std::vector<std::string> files_in(const std::string &dir, const std::string &ext) {
    std::vector<std::string> out;
    for (const auto &e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ext) out.push_back(e.path().string());
    return out;
}

MapFormat detect(const Bytes &b) { return detect_map_format(b.data(), b.size()); }

Bytes from_string(const std::string &s) { return Bytes(s.begin(), s.end()); }

// Deterministic garbage.
Bytes noise(size_t len, uint64_t seed) {
    Bytes b(len);
    for (auto &c : b) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        c = static_cast<uint8_t>(seed >> 56);
    }
    return b;
}

void expect_same_map(const MemoryMap &a, const MemoryMap &b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].start, b[i].start) << i;
        EXPECT_EQ(a[i].end, b[i].end) << i;
        EXPECT_EQ(a[i].type, b[i].type) << i;
        EXPECT_EQ(a[i].node, b[i].node) << i;
    }
}

const MapFormat kAllFormats[] = {
    MapFormat::unknown,        MapFormat::linux_text,      MapFormat::efi, MapFormat::multiboot1,
    MapFormat::multiboot2_tag, MapFormat::multiboot2_info, MapFormat::fdt, MapFormat::sysfs};

} // namespace

// ------------------------------------------------------------------ detection

TEST(DetectFormat, BinaryFixtures) {
    EXPECT_EQ(detect(fixture("lenovo-g50.efi")), MapFormat::efi);
    EXPECT_EQ(detect(fixture("qemu-q35-8g.mb1")), MapFormat::multiboot1);
    EXPECT_EQ(detect(fixture("qemu-q35-8g.mb2")), MapFormat::multiboot2_info);
    EXPECT_EQ(detect(fixture("qemu-1g.mb2-tag")), MapFormat::multiboot2_tag);
}

TEST(DetectFormat, RealDeviceTrees) {
    auto dtbs = files_in(KMEM_DATA_DIR "/dtbs", ".dtb");
    ASSERT_FALSE(dtbs.empty());
    for (const auto &p : dtbs)
        EXPECT_EQ(detect(test::read_bytes(p)), MapFormat::fdt) << p;
}

TEST(DetectFormat, RealConsoleText) {
    auto texts = files_in(KMEM_DATA_DIR "/memmaps", ".txt");
    ASSERT_FALSE(texts.empty());
    for (const auto &p : texts)
        EXPECT_EQ(detect(test::read_bytes(p)), MapFormat::linux_text) << p;
    // A whole serial-console boot log (with a stray escape or two).
    EXPECT_EQ(detect(test::read_bytes(KMEM_DATA_DIR "/linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log")),
              MapFormat::linux_text);
}

TEST(DetectFormat, TextVariants) {
    EXPECT_EQ(detect(from_string("BIOS-e820: [mem 0x0-0xfff] usable\r\n")), MapFormat::linux_text);
    EXPECT_EQ(detect(from_string("x")), MapFormat::linux_text);
    // UTF-8 and a colour escape are still text.
    EXPECT_EQ(detect(from_string("\x1b[1m"
                                 "e820 \xe2\x80\x94 map\x1b[0m\n"
                                 "BIOS-e820: [mem 0x0-0xfff] usable\n")),
              MapFormat::linux_text);
    // One NUL makes it binary.
    Bytes b = from_string("BIOS-e820: [mem 0x0-0xfff] usable\n");
    b[5] = 0;
    EXPECT_EQ(detect(b), MapFormat::unknown);
    // Mostly control bytes, or bytes that are not UTF-8, is not text.
    EXPECT_EQ(detect(Bytes(64, 0x01)), MapFormat::unknown);
    EXPECT_EQ(detect(Bytes(64, 0xff)), MapFormat::unknown);
    EXPECT_EQ(detect(Bytes(64, 0x80)), MapFormat::unknown);
    Bytes cut = from_string("BIOS-e820: [mem 0x0-0xfff] usable \xe2\x80");
    EXPECT_EQ(detect(cut), MapFormat::linux_text); // one broken sequence is tolerated
}

TEST(DetectFormat, Garbage) {
    EXPECT_EQ(detect_map_format(nullptr, 0), MapFormat::unknown);
    EXPECT_EQ(detect_map_format(nullptr, 100), MapFormat::unknown);
    EXPECT_EQ(detect(Bytes{}), MapFormat::unknown);
    EXPECT_EQ(detect(Bytes(100, 0)), MapFormat::unknown);
    EXPECT_EQ(detect(Bytes(100, 0xff)), MapFormat::unknown);
    for (size_t len : {16, 47, 48, 96, 1000, 4096})
        for (uint64_t seed = 1; seed <= 4; ++seed)
            EXPECT_EQ(detect(noise(len, seed)), MapFormat::unknown) << len << "/" << seed;
}

TEST(DetectFormat, FdtMagicOnly) {
    Bytes b = {0xd0, 0x0d, 0xfe, 0xed};
    EXPECT_EQ(detect(b), MapFormat::fdt);
    b = {0xed, 0xfe, 0x0d, 0xd0}; // little-endian magic is not a DTB
    EXPECT_NE(detect(b), MapFormat::fdt);
}

TEST(DetectFormat, StructuralRules) {
    Bytes mb2 = fixture("qemu-q35-8g.mb2");
    Bytes b = mb2;
    put32(b, 4, 1); // reserved must be 0
    EXPECT_NE(detect(b), MapFormat::multiboot2_info);
    b = mb2;
    b.push_back(0); // total_size must equal the length
    EXPECT_NE(detect(b), MapFormat::multiboot2_info);
    b = mb2;
    put32(b, 12, 4); // first tag's size below 8
    EXPECT_NE(detect(b), MapFormat::multiboot2_info);

    Bytes tag = fixture("qemu-1g.mb2-tag");
    b = tag;
    put32(b, 8, 32); // entry_size must be 24
    EXPECT_NE(detect(b), MapFormat::multiboot2_tag);
    b = tag;
    b.resize(b.size() + 8, 0); // a tag inside a longer buffer still counts
    EXPECT_EQ(detect(b), MapFormat::multiboot2_tag);

    Bytes mb1 = fixture("qemu-q35-8g.mb1");
    b = mb1;
    b.pop_back(); // the chain must end exactly at the length
    EXPECT_NE(detect(b), MapFormat::multiboot1);

    Bytes efi = fixture("lenovo-g50.efi");
    b = efi;
    put32(b, 48 * 3, 16); // an undefined type
    EXPECT_NE(detect(b), MapFormat::efi);
    b = efi;
    put32(b, 48 * 3, 0x70000001); // OEM types are fine
    EXPECT_EQ(detect(b), MapFormat::efi);
    b = efi;
    b[48 * 5 + 8] = 0x10; // unaligned PhysicalStart
    EXPECT_NE(detect(b), MapFormat::efi);
}

// ---------------------------------------------------------------------- names

TEST(MapFormatNames, CanonicalNamesRoundTrip) {
    for (MapFormat f : kAllFormats) {
        const char *name = map_format_name(f);
        ASSERT_NE(name, nullptr);
        EXPECT_EQ(map_format_from_name(name), f) << name;
    }
    EXPECT_STREQ(map_format_name(MapFormat::linux_text), "text");
    EXPECT_STREQ(map_format_name(MapFormat::efi), "efi");
    EXPECT_STREQ(map_format_name(MapFormat::multiboot1), "multiboot1");
    EXPECT_STREQ(map_format_name(MapFormat::multiboot2_tag), "multiboot2-tag");
    EXPECT_STREQ(map_format_name(MapFormat::multiboot2_info), "multiboot2");
    EXPECT_STREQ(map_format_name(MapFormat::fdt), "fdt");
    EXPECT_STREQ(map_format_name(MapFormat::sysfs), "sysfs");
    EXPECT_STREQ(map_format_name(MapFormat::unknown), "unknown");
    EXPECT_STREQ(map_format_name(static_cast<MapFormat>(200)), "unknown");
}

TEST(MapFormatNames, Aliases) {
    EXPECT_EQ(map_format_from_name("text"), MapFormat::linux_text);
    EXPECT_EQ(map_format_from_name("e820"), MapFormat::linux_text);
    EXPECT_EQ(map_format_from_name("linux"), MapFormat::linux_text);
    EXPECT_EQ(map_format_from_name("dmesg"), MapFormat::linux_text);
    EXPECT_EQ(map_format_from_name("efi"), MapFormat::efi);
    EXPECT_EQ(map_format_from_name("uefi"), MapFormat::efi);
    EXPECT_EQ(map_format_from_name("mb1"), MapFormat::multiboot1);
    EXPECT_EQ(map_format_from_name("multiboot1"), MapFormat::multiboot1);
    EXPECT_EQ(map_format_from_name("mb2"), MapFormat::multiboot2_info);
    EXPECT_EQ(map_format_from_name("multiboot2"), MapFormat::multiboot2_info);
    EXPECT_EQ(map_format_from_name("mb2-tag"), MapFormat::multiboot2_tag);
    EXPECT_EQ(map_format_from_name("fdt"), MapFormat::fdt);
    EXPECT_EQ(map_format_from_name("dtb"), MapFormat::fdt);
    EXPECT_EQ(map_format_from_name("sysfs"), MapFormat::sysfs);
    EXPECT_EQ(map_format_from_name("auto"), MapFormat::unknown);
}

TEST(MapFormatNames, UnrecognizedNames) {
    EXPECT_EQ(map_format_from_name(nullptr), MapFormat::unknown);
    for (const char *n : {"", "EFI", "ef", "efii", "mb", "mb3", "text ", " text", "multiboot"})
        EXPECT_EQ(map_format_from_name(n), MapFormat::unknown) << '"' << n << '"';
}

TEST(MapFormatNames, TextSourceNames) {
    EXPECT_STREQ(text_source_name(TextMapInfo::Source::none), "none");
    EXPECT_STREQ(text_source_name(TextMapInfo::Source::e820), "e820");
    EXPECT_STREQ(text_source_name(TextMapInfo::Source::efi), "efi");
    EXPECT_STREQ(text_source_name(TextMapInfo::Source::node_ranges), "node ranges");
}

// ------------------------------------------------------------------ dispatch

TEST(ParseMemoryMap, AutoDetectsAndMatchesTheFormatParser) {
    struct Case {
        const char *file;
        MapFormat format;
        Status (*direct)(const Bytes &, MemoryMap &);
    };
    const Case cases[] = {
        {"lenovo-g50.efi", MapFormat::efi,
         [](const Bytes &b, MemoryMap &m) {
             return parse_efi_memory_map(b.data(), b.size(), 48, 1, m);
         }},
        {"qemu-q35-8g.mb1", MapFormat::multiboot1,
         [](const Bytes &b, MemoryMap &m) { return parse_multiboot1_mmap(b.data(), b.size(), m); }},
        {"qemu-q35-8g.mb2", MapFormat::multiboot2_info,
         [](const Bytes &b, MemoryMap &m) { return parse_multiboot2_info(b.data(), b.size(), m); }},
        {"qemu-1g.mb2-tag", MapFormat::multiboot2_tag,
         [](const Bytes &b, MemoryMap &m) {
             return parse_multiboot2_mmap_tag(b.data(), b.size(), m);
         }},
    };
    for (const Case &c : cases) {
        Bytes b = fixture(c.file);
        StaticMemoryMap<> via_auto, direct;
        MapFormat used = MapFormat::sysfs;
        Status s = parse_memory_map(b.data(), b.size(), ParseOptions{}, via_auto, &used);
        ASSERT_TRUE(s.ok()) << c.file << ": " << s.reason();
        EXPECT_EQ(used, c.format) << c.file;
        ASSERT_TRUE(c.direct(b, direct).ok());
        expect_same_map(via_auto, direct);
        EXPECT_TRUE(via_auto.check().ok());
    }
}

TEST(ParseMemoryMap, TextAndFdt) {
    Bytes text = test::read_bytes(KMEM_DATA_DIR "/memmaps/qemu-q35-seabios-8g.txt");
    StaticMemoryMap<> m, direct;
    MapFormat used = MapFormat::unknown;
    Status s = parse_memory_map(text.data(), text.size(), ParseOptions{}, m, &used);
    ASSERT_TRUE(s.ok()) << s.reason();
    EXPECT_EQ(used, MapFormat::linux_text);
    EXPECT_EQ(m.usable_bytes(), 0x1fff7d000u); // worked out in multiboot_test.cpp
    ASSERT_TRUE(
        parse_linux_text(reinterpret_cast<const char *>(text.data()), text.size(), direct).ok());
    expect_same_map(m, direct);

    Bytes dtb = test::read_bytes(KMEM_DATA_DIR "/dtbs/broadcom__bcm2837-rpi-zero-2-w.dtb");
    s = parse_memory_map(dtb.data(), dtb.size(), ParseOptions{}, m, &used);
    ASSERT_TRUE(s.ok()) << s.reason();
    EXPECT_EQ(used, MapFormat::fdt);
    EXPECT_FALSE(m.empty());
    ASSERT_TRUE(parse_fdt(dtb.data(), dtb.size(), direct).ok());
    expect_same_map(m, direct);
}

TEST(ParseMemoryMap, ExplicitFormatOverridesDetection) {
    // A multiboot 1 buffer forced through the EFI parser: 240 bytes = 5
    // descriptors, the first of type 20 (the mb1 size field): not a UEFI type.
    Bytes mb1 = fixture("qemu-q35-8g.mb1");
    StaticMemoryMap<> m;
    prefill(m);
    MapFormat used = MapFormat::unknown;
    ParseOptions o;
    o.format = MapFormat::efi;
    Status s = parse_memory_map(mb1.data(), mb1.size(), o, m, &used);
    EXPECT_EQ(s.code(), Errc::unknown_type);
    EXPECT_EQ(used, MapFormat::efi);
    EXPECT_TRUE(m.empty());
}

TEST(ParseMemoryMap, EfiDescriptorSizeFromOptions) {
    // Re-stride the Lenovo fixture to 56 bytes; detection cannot know the
    // stride, so the caller names the format and the size.
    Bytes b48 = fixture("lenovo-g50.efi");
    Bytes b56;
    for (size_t off = 0; off < b48.size(); off += 48) {
        b56.insert(b56.end(), b48.begin() + static_cast<std::ptrdiff_t>(off),
                   b48.begin() + static_cast<std::ptrdiff_t>(off + 48));
        b56.resize(b56.size() + 8, 0);
    }
    StaticMemoryMap<> m, ref;
    ParseOptions o;
    o.format = MapFormat::efi;
    o.efi_desc_size = 56;
    ASSERT_TRUE(parse_memory_map(b56.data(), b56.size(), o, m).ok());
    ASSERT_TRUE(parse_efi_memory_map(b48.data(), b48.size(), 48, 1, ref).ok());
    expect_same_map(m, ref);

    o.efi_desc_version = 2;
    prefill(m);
    EXPECT_EQ(parse_memory_map(b56.data(), b56.size(), o, m).code(), Errc::unsupported_version);
    EXPECT_TRUE(m.empty());
}

TEST(ParseMemoryMap, Multiboot2NameTakesTagOrInfo) {
    ParseOptions o;
    o.format = map_format_from_name("mb2");
    for (const char *f : {"qemu-1g.mb2-tag", "qemu-q35-8g.mb2"}) {
        Bytes b = fixture(f);
        StaticMemoryMap<> m;
        MapFormat used = MapFormat::unknown;
        Status s = parse_memory_map(b.data(), b.size(), o, m, &used);
        ASSERT_TRUE(s.ok()) << f << ": " << s.reason();
        EXPECT_EQ(used, MapFormat::multiboot2_info);
        EXPECT_FALSE(m.empty());
    }
}

TEST(ParseMemoryMap, SysfsIsNotABuffer) {
    StaticMemoryMap<> m;
    prefill(m);
    ParseOptions o;
    o.format = MapFormat::sysfs;
    Bytes b = from_string("0x0\n");
    Status s = parse_memory_map(b.data(), b.size(), o, m);
    EXPECT_EQ(s.code(), Errc::invalid_argument);
    EXPECT_NE(std::strstr(s.reason(), "sysfs is a directory"), nullptr) << s.reason();
    EXPECT_TRUE(m.empty());
}

TEST(ParseMemoryMap, GarbageEmptyAndNull) {
    StaticMemoryMap<> m;
    prefill(m);
    MapFormat used = MapFormat::efi;
    Bytes junk = noise(200, 7);
    Status s = parse_memory_map(junk.data(), junk.size(), ParseOptions{}, m, &used);
    EXPECT_EQ(s.code(), Errc::bad_magic);
    EXPECT_EQ(used, MapFormat::unknown);
    EXPECT_TRUE(m.empty());

    prefill(m);
    EXPECT_EQ(parse_memory_map(nullptr, 0, ParseOptions{}, m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());

    prefill(m);
    EXPECT_EQ(parse_memory_map(nullptr, 10, ParseOptions{}, m).code(), Errc::invalid_argument);
    EXPECT_TRUE(m.empty());

    // Text that holds no memory map.
    prefill(m);
    Bytes text = from_string("hello, world\n");
    s = parse_memory_map(text.data(), text.size(), ParseOptions{}, m, &used);
    EXPECT_EQ(used, MapFormat::linux_text);
    EXPECT_EQ(s.code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());
}

TEST(ParseMemoryMap, EveryPrefixOfEveryFixtureIsSafe) {
    for (const char *f :
         {"lenovo-g50.efi", "qemu-q35-8g.mb1", "qemu-q35-8g.mb2", "qemu-1g.mb2-tag"}) {
        Bytes b = fixture(f);
        for (size_t len = 0; len <= b.size(); ++len) {
            Bytes prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
            StaticMemoryMap<> m;
            Status s = parse_memory_map(prefix.data(), len, ParseOptions{}, m);
            if (s.ok()) {
                EXPECT_TRUE(m.check().ok()) << f << " " << len;
            } else {
                EXPECT_TRUE(m.empty()) << f << " " << len;
            }
        }
    }
}
