// SPDX-License-Identifier: MIT
//
// Tests of parse_efi_memory_map(): a real UEFI map rebuilt as the raw
// descriptor array GetMemoryMap() returns, every descriptor stride, and every
// way a hostile or broken map can be wrong.
#include <kmem/memmap_parse.h>

#include "binary_test_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
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

struct EfiDesc {
    uint32_t type;
    uint64_t attr;
    uint64_t start;
    uint64_t end; // exclusive, as Linux prints it; NumberOfPages = (end - start) / 4096
};

// One EFI_MEMORY_DESCRIPTOR per entry, `stride` bytes apart; bytes past the
// 40 defined ones are filled with `filler` (firmware extension fields).
Bytes efi_bytes(const std::vector<EfiDesc> &descs, size_t stride = 48, uint8_t filler = 0) {
    Bytes b(descs.size() * stride, filler);
    for (size_t i = 0; i < descs.size(); ++i) {
        const size_t off = i * stride;
        put32(b, off, descs[i].type);
        put32(b, off + 4, 0);
        put64(b, off + 8, descs[i].start);
        put64(b, off + 16, 0);
        put64(b, off + 24, (descs[i].end - descs[i].start) / 4096);
        put64(b, off + 32, descs[i].attr);
    }
    return b;
}

Status parse(const Bytes &b, size_t desc_size, MemoryMap &m, uint32_t version = 1) {
    return parse_efi_memory_map(b.data(), b.size(), desc_size, version, m);
}

constexpr uint64_t kRt = uint64_t{1} << 63; // EFI_MEMORY_RUNTIME

// Lenovo G50 (INSYDE UEFI 2.31), data/memmaps/lenovo-g50-amd-laptop-uefi-insyde.efi.txt:
// the 56 efi: memNN lines, in firmware order (mem48/mem49 come out of order).
// clang-format off
const std::vector<EfiDesc> kLenovo = {
    { 3, 0xf,                  0x000000000, 0x000001000}, // mem00
    { 7, 0xf,                  0x000001000, 0x00006e000}, // mem01
    {10, 0xf,                  0x00006e000, 0x000070000}, // mem02
    { 7, 0xf,                  0x000070000, 0x000080000}, // mem03
    { 3, 0xf,                  0x000080000, 0x000082000}, // mem04
    { 7, 0xf,                  0x000082000, 0x000086000}, // mem05
    { 0, 0xf,                  0x000086000, 0x000088000}, // mem06
    { 6, 0x800000000000000f,   0x000088000, 0x0000a0000}, // mem07
    { 2, 0xf,                  0x000100000, 0x0014e2000}, // mem08
    { 7, 0xf,                  0x0014e2000, 0x002000000}, // mem09
    { 2, 0xf,                  0x002000000, 0x0033e2000}, // mem10
    { 7, 0xf,                  0x0033e2000, 0x034744000}, // mem11
    { 2, 0xf,                  0x034744000, 0x03639a000}, // mem12
    { 7, 0xf,                  0x03639a000, 0x070eca000}, // mem13
    { 2, 0xf,                  0x070eca000, 0x097ac0000}, // mem14
    { 4, 0xf,                  0x097ac0000, 0x097ae0000}, // mem15
    { 7, 0xf,                  0x097ae0000, 0x0992b4000}, // mem16
    { 2, 0xf,                  0x0992b4000, 0x099488000}, // mem17
    { 4, 0xf,                  0x099488000, 0x09a0bc000}, // mem18
    { 0, 0xf,                  0x09a0bc000, 0x09aabc000}, // mem19
    { 7, 0xf,                  0x09aabc000, 0x09aabd000}, // mem20
    { 2, 0xf,                  0x09aabd000, 0x09aabf000}, // mem21
    { 7, 0xf,                  0x09aabf000, 0x09ab8b000}, // mem22
    { 1, 0xf,                  0x09ab8b000, 0x09acbf000}, // mem23
    { 7, 0xf,                  0x09acbf000, 0x09c7b2000}, // mem24
    { 4, 0xf,                  0x09c7b2000, 0x09d06a000}, // mem25
    { 7, 0xf,                  0x09d06a000, 0x09d06c000}, // mem26
    { 4, 0xf,                  0x09d06c000, 0x09d1b7000}, // mem27
    { 7, 0xf,                  0x09d1b7000, 0x09d1bc000}, // mem28
    { 4, 0xf,                  0x09d1bc000, 0x09d1c4000}, // mem29
    { 7, 0xf,                  0x09d1c4000, 0x09d1c6000}, // mem30
    { 4, 0xf,                  0x09d1c6000, 0x09d1ed000}, // mem31
    { 7, 0xf,                  0x09d1ed000, 0x09d1ee000}, // mem32
    { 4, 0xf,                  0x09d1ee000, 0x09d37a000}, // mem33
    { 7, 0xf,                  0x09d37a000, 0x09d384000}, // mem34
    { 4, 0xf,                  0x09d384000, 0x09d396000}, // mem35
    { 7, 0xf,                  0x09d396000, 0x09d3b6000}, // mem36
    { 4, 0xf,                  0x09d3b6000, 0x09ecbf000}, // mem37
    { 7, 0xf,                  0x09ecbf000, 0x09ef0d000}, // mem38
    { 2, 0xf,                  0x09ef0d000, 0x09ef17000}, // mem39
    { 3, 0xf,                  0x09ef17000, 0x09f2bf000}, // mem40
    { 5, 0x800000000000000f,   0x09f2bf000, 0x09f4bf000}, // mem41
    { 6, 0x800000000000000f,   0x09f4bf000, 0x09f6bf000}, // mem42
    { 0, 0xf,                  0x09f6bf000, 0x09fabf000}, // mem43
    {10, 0xf,                  0x09fabf000, 0x09fbbf000}, // mem44
    { 9, 0xf,                  0x09fbbf000, 0x09fbff000}, // mem45
    { 4, 0xf,                  0x09fbff000, 0x09fc00000}, // mem46
    { 7, 0xf,                  0x100000000, 0x19f000000}, // mem47
    { 0, 0x0,                  0x0000a0000, 0x0000c0000}, // mem48
    { 0, 0x0,                  0x09fc00000, 0x0e0000000}, // mem49
    {11, 0x8000000000000001,   0x0f8000000, 0x0fc000000}, // mem50
    {11, 0x8000000000000001,   0x0fec00000, 0x0fec02000}, // mem51
    {11, 0x8000000000000001,   0x0fec10000, 0x0fec11000}, // mem52
    {11, 0x8000000000000001,   0x0fed80000, 0x0fed81000}, // mem53
    {11, 0x8000000000000001,   0x0fee00000, 0x0fee01000}, // mem54
    {11, 0x8000000000000000,   0x0ff800000, 0x100000000}, // mem55
};
// clang-format on

// Worked by hand. Types 1-4 and 7 without EFI_MEMORY_RUNTIME are usable;
// 0, 5, 6, 11 reserved; 9 ACPI data; 10 ACPI NVS. Neighbours of one type merge:
//
//   usable   [0x0,        0x6e000)     mem00-01                 0x6e000
//            [0x70000,    0x86000)     mem03-05                 0x16000
//            [0x100000,   0x9a0bc000)  mem08-18                 0x99fbc000
//            [0x9aabc000, 0x9f2bf000)  mem20-40                 0x4803000
//            [0x9fbff000, 0x9fc00000)  mem46                    0x1000
//            [0x100000000,0x19f000000) mem47                    0x9f000000
//                                                        sum    0x13d844000 (5080.3 MiB)
//   ACPI NVS [0x6e000, 0x70000) mem02 0x2000 + [0x9fabf000, 0x9fbbf000) mem44 0x100000
//                                                        sum    0x102000
//   ACPI data [0x9fbbf000, 0x9fbff000) mem45                    0x40000
//   reserved [0x86000,    0xc0000)     mem06, 07, 48 (48 listed last)  0x3a000
//            [0x9a0bc000, 0x9aabc000)  mem19                    0xa00000
//            [0x9f2bf000, 0x9fabf000)  mem41-43 (RT code/data)  0x800000
//            [0x9fc00000, 0xe0000000)  mem49                    0x40400000
//            mem50 0x4000000, mem51 0x2000, mem52-54 3 x 0x1000, mem55 0x800000
//                                                        sum    0x45e3f000
//   ranges: 6 usable + 2 NVS + 1 ACPI data + 10 reserved = 19
constexpr uint64_t kLenovoUsable = 0x13d844000;
constexpr uint64_t kLenovoNvs = 0x102000;
constexpr uint64_t kLenovoAcpi = 0x40000;
constexpr uint64_t kLenovoReserved = 0x45e3f000;
constexpr size_t kLenovoRanges = 19;

void expect_lenovo(const MemoryMap &m) {
    EXPECT_TRUE(m.check().ok()) << m.check().reason();
    EXPECT_EQ(m.usable_bytes(), kLenovoUsable);
    EXPECT_EQ(m.bytes(MemType::acpi_nvs), kLenovoNvs);
    EXPECT_EQ(m.bytes(MemType::acpi_reclaimable), kLenovoAcpi);
    EXPECT_EQ(m.reserved_bytes(), kLenovoReserved);
    EXPECT_EQ(m.bytes(MemType::unusable), 0u);
    EXPECT_EQ(m.bytes(MemType::persistent), 0u);
    EXPECT_EQ(m.size(), kLenovoRanges);
    ASSERT_GE(m.size(), 1u);
    EXPECT_EQ(m[0].start, 0u);
    EXPECT_EQ(m[0].end, 0x6e000u);
    EXPECT_EQ(m.highest_address(), 0x19f000000u);
    const MemRange *uma = m.find(0xc0000000);
    ASSERT_NE(uma, nullptr);
    EXPECT_EQ(uma->start, 0x9fc00000u);
    EXPECT_EQ(uma->end, 0xe0000000u);
    EXPECT_EQ(uma->type, MemType::reserved);
    EXPECT_EQ(m.find(0xd0000), nullptr); // the legacy hole 0xc0000-0x100000
}

} // namespace

TEST(EfiParse, LenovoG50Stride48) {
    StaticMemoryMap<> m;
    Bytes b = efi_bytes(kLenovo, 48);
    ASSERT_EQ(b.size(), 56u * 48);
    Status s = parse(b, 48, m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_lenovo(m);
}

TEST(EfiParse, LenovoG50Stride40And56) {
    for (size_t stride : {size_t{40}, size_t{56}, size_t{64}}) {
        StaticMemoryMap<> m;
        // Extension bytes past the 40 defined ones must be ignored.
        Bytes b = efi_bytes(kLenovo, stride, 0xa5);
        Status s = parse(b, stride, m);
        ASSERT_TRUE(s.ok()) << "stride " << stride << ": " << s.reason();
        expect_lenovo(m);
    }
}

TEST(EfiParse, LenovoG50WrongStrideIsNotSilentlyAccepted) {
    // A 48-byte array read with a 56-byte stride: 2688 = 48 * 56, so it divides
    // evenly, but the descriptors are misread and must not pass as the real map.
    StaticMemoryMap<> m;
    Bytes b = efi_bytes(kLenovo, 48);
    Status s = parse(b, 56, m);
    if (s.ok()) {
        EXPECT_NE(m.usable_bytes(), kLenovoUsable);
    } else {
        EXPECT_TRUE(m.empty());
    }
}

TEST(EfiParse, FixtureMatchesTestTableAndTextMap) {
    Bytes file = test::read_bytes(KMEM_TEST_DATA_DIR "/binary/lenovo-g50.efi");
    EXPECT_EQ(file, efi_bytes(kLenovo, 48)) << "run scripts/gen-binary-maps.py";

    StaticMemoryMap<> bin;
    Status s = parse(file, 48, bin);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_lenovo(bin);

    // The same machine's efi: memNN lines through the text parser.
    Bytes text = test::read_bytes(KMEM_DATA_DIR "/memmaps/lenovo-g50-amd-laptop-uefi-insyde.efi.txt");
    StaticMemoryMap<> txt;
    s = parse_linux_text(reinterpret_cast<const char *>(text.data()), text.size(), txt);
    ASSERT_TRUE(s.ok()) << s.reason();
    ASSERT_EQ(txt.size(), bin.size());
    for (size_t i = 0; i < bin.size(); ++i) {
        EXPECT_EQ(bin[i].start, txt[i].start) << i;
        EXPECT_EQ(bin[i].end, txt[i].end) << i;
        EXPECT_EQ(bin[i].type, txt[i].type) << i;
    }
}

TEST(EfiParse, EveryPrefixParsesOrIsTruncated) {
    Bytes b = efi_bytes(kLenovo, 48);
    for (size_t len = 0; len <= b.size(); ++len) {
        StaticMemoryMap<> m;
        // A copy of exactly len bytes, so ASan sees any read past the prefix.
        Bytes prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
        Status s = parse_efi_memory_map(prefix.data(), len, 48, 1, m);
        if (len == 0) {
            EXPECT_EQ(s.code(), Errc::no_entries);
        } else if (len % 48 != 0) {
            EXPECT_EQ(s.code(), Errc::truncated) << len;
            EXPECT_EQ(s.error().where, Where::byte);
            EXPECT_EQ(s.error().at, len - len % 48) << len;
        } else {
            EXPECT_TRUE(s.ok()) << len << ": " << s.reason();
            EXPECT_TRUE(m.check().ok());
        }
        if (!s.ok()) {
            EXPECT_TRUE(m.empty()) << len;
        }
    }
}

TEST(EfiParse, DescriptorTypesAndAttributes) {
    StaticMemoryMap<> m;
    const uint64_t sp = uint64_t{1} << 18; // EFI_MEMORY_SP
    Bytes b = efi_bytes({
        {7, 0xf, 0x00000, 0x10000},        // conventional -> usable
        {7, 0xf | kRt, 0x10000, 0x20000},  // runtime conventional -> reserved
        {7, 0xf | sp, 0x20000, 0x30000},   // specific purpose -> reserved
        {8, 0xf, 0x30000, 0x40000},        // unusable
        {15, 0xf, 0x40000, 0x50000},       // unaccepted -> unusable
        {14, 0xf, 0x50000, 0x60000},       // persistent
        {12, 0x1, 0x60000, 0x70000},       // MMIO port space -> reserved
        {13, 0xf, 0x70000, 0x80000},       // PAL code -> reserved
        {0x70000000, 0, 0x80000, 0x90000}, // OEM -> reserved
        {0x80000000, 0, 0x90000, 0xa0000}, // OS loader defined -> reserved
        {0xffffffff, 0, 0xa0000, 0xb0000}, // OS loader defined -> reserved
    });
    Status s = parse(b, 48, m);
    ASSERT_TRUE(s.ok()) << s.reason();
    EXPECT_TRUE(m.check().ok());
    EXPECT_EQ(m.usable_bytes(), 0x10000u);
    EXPECT_EQ(m.bytes(MemType::unusable), 0x20000u);
    EXPECT_EQ(m.bytes(MemType::persistent), 0x10000u);
    // 0x10000-0x30000 reserved, then 0x60000-0xb0000 reserved.
    EXPECT_EQ(m.reserved_bytes(), 0x20000u + 0x50000u);
    EXPECT_EQ(m.size(), 5u);
}

TEST(EfiParse, UnsortedOverlappingAndEmptyDescriptors) {
    StaticMemoryMap<> m;
    Bytes b = efi_bytes({
        {7, 0xf, 0x200000, 0x400000}, // usable 2 MiB
        {7, 0xf, 0x100000, 0x100000}, // zero pages: dropped
        {0, 0x0, 0x300000, 0x380000}, // reserved inside the usable range wins
        {7, 0xf, 0x000000, 0x100000}, // below everything else, listed last
    });
    Status s = parse(b, 48, m);
    ASSERT_TRUE(s.ok()) << s.reason();
    EXPECT_TRUE(m.check().ok());
    ASSERT_EQ(m.size(), 4u);
    EXPECT_EQ(m[0].start, 0u);
    EXPECT_EQ(m[0].end, 0x100000u); // [0,1M) and [2M,3M) are not adjacent: no merge
    EXPECT_EQ(m[1].start, 0x200000u);
    EXPECT_EQ(m[1].end, 0x300000u);
    EXPECT_EQ(m[2].type, MemType::reserved);
    EXPECT_EQ(m[3].start, 0x380000u);
    EXPECT_EQ(m[3].end, 0x400000u);
    EXPECT_EQ(m.usable_bytes(), 0x100000u + 0x100000u + 0x80000u);
}

TEST(EfiParse, DescriptorSizeBelow40) {
    for (size_t ds : {size_t{0}, size_t{8}, size_t{32}, size_t{39}}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b(96, 0);
        Status s = parse(b, ds, m);
        EXPECT_FALSE(s.ok()) << ds;
        EXPECT_EQ(s.code(), Errc::malformed) << ds;
        EXPECT_NE(std::strstr(s.reason(), "smaller than EFI_MEMORY_DESCRIPTOR"), nullptr)
            << s.reason();
        EXPECT_TRUE(m.empty());
    }
}

TEST(EfiParse, DescriptorSizeNotMultipleOf8) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = efi_bytes({{7, 0xf, 0, 0x1000}, {7, 0xf, 0x1000, 0x2000}}, 44);
    Status s = parse(b, 44, m);
    EXPECT_EQ(s.code(), Errc::malformed);
    EXPECT_TRUE(m.empty());
}

TEST(EfiParse, UnsupportedVersion) {
    for (uint32_t v : {0u, 2u, 0xffffffffu}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = efi_bytes({{7, 0xf, 0, 0x1000}});
        Status s = parse(b, 48, m, v);
        EXPECT_EQ(s.code(), Errc::unsupported_version) << v;
        EXPECT_TRUE(m.empty());
    }
}

TEST(EfiParse, PartialDescriptorIsTruncatedAtItsOffset) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = efi_bytes({{7, 0xf, 0, 0x1000}, {7, 0xf, 0x1000, 0x2000}, {7, 0xf, 0x2000, 0x3000}});
    Status s = parse_efi_memory_map(b.data(), 100, 48, 1, m);
    test::expect_byte_error(s, Errc::truncated, 96u, m);
}

TEST(EfiParse, UnalignedPhysicalStart) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = efi_bytes({{7, 0xf, 0, 0x1000}, {7, 0xf, 0x1800, 0x2800}});
    Status s = parse(b, 48, m);
    test::expect_byte_error(s, Errc::malformed, 48u, m);
}

TEST(EfiParse, PageCountOverflow) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = efi_bytes({{7, 0xf, 0, 0x1000}, {7, 0xf, 0, 0x1000}});
    put64(b, 48 + 24, uint64_t{1} << 52); // 2^52 pages * 4096 = 2^64
    Status s = parse(b, 48, m);
    EXPECT_EQ(s.code(), Errc::invalid_range);
    EXPECT_EQ(s.error().at, 48u);
    EXPECT_TRUE(m.empty());

    put64(b, 48 + 24, UINT64_MAX);
    s = parse(b, 48, m);
    EXPECT_EQ(s.code(), Errc::invalid_range);
    EXPECT_EQ(s.error().at, 48u);
    EXPECT_TRUE(m.empty());
}

TEST(EfiParse, StartPlusSizeWraps) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = efi_bytes({{7, 0xf, 0, 0x1000}, {7, 0xf, 0, 0}, {7, 0xf, 0, 0x1000}});
    put64(b, 96 + 8, 0xfffffffffffff000); // last page of the 64-bit space ...
    put64(b, 96 + 24, 2);                 // ... and one more
    Status s = parse(b, 48, m);
    EXPECT_EQ(s.code(), Errc::invalid_range);
    EXPECT_EQ(s.error().at, 96u);
    EXPECT_TRUE(m.empty());
}

TEST(EfiParse, RangeAbove52BitsKeepsMemoryMapReasonAndOurOffset) {
    StaticMemoryMap<> m;
    prefill(m);
    const uint64_t top = uint64_t{1} << 52;
    Bytes b = efi_bytes({{7, 0xf, 0, 0x1000}, {7, 0xf, top - 0x1000, top + 0x1000}});
    Status s = parse(b, 48, m);
    EXPECT_EQ(s.code(), Errc::invalid_range);
    EXPECT_EQ(s.error().where, Where::byte);
    EXPECT_EQ(s.error().at, 48u);
    EXPECT_NE(std::strstr(s.reason(), "52-bit"), nullptr) << s.reason();
    EXPECT_TRUE(m.empty());

    // Ending exactly at the limit is fine.
    b = efi_bytes({{7, 0xf, top - 0x1000, top}});
    s = parse(b, 48, m);
    EXPECT_TRUE(s.ok()) << s.reason();
    EXPECT_EQ(m.highest_address(), top);
}

TEST(EfiParse, UndefinedTypes) {
    for (uint32_t t : {16u, 17u, 0x1000u, 0x6fffffffu}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = efi_bytes({{7, 0xf, 0, 0x1000}, {7, 0xf, 0x1000, 0x2000}});
        put32(b, 48, t);
        Status s = parse(b, 48, m);
        EXPECT_EQ(s.code(), Errc::unknown_type) << t;
        EXPECT_EQ(s.error().at, 48u);
        EXPECT_TRUE(m.empty());
    }
}

TEST(EfiParse, EmptyMaps) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes none;
    EXPECT_EQ(parse_efi_memory_map(none.data(), 0, 48, 1, m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(parse_efi_memory_map(nullptr, 0, 48, 1, m).code(), Errc::no_entries);

    // Only zero-page descriptors: nothing is described.
    prefill(m);
    Bytes zero = efi_bytes({{7, 0xf, 0x1000, 0x1000}, {0, 0, 0x5000, 0x5000}});
    EXPECT_EQ(parse(zero, 48, m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());

    prefill(m);
    EXPECT_EQ(parse_efi_memory_map(nullptr, 48, 48, 1, m).code(), Errc::invalid_argument);
    EXPECT_TRUE(m.empty());
}

TEST(EfiParse, CapacityErrorPointsAtTheDescriptor) {
    StaticMemoryMap<3> m;
    // Alternating types never merge: the 4th descriptor (offset 144) overflows.
    Bytes b = efi_bytes({{7, 0xf, 0x0000, 0x1000},
                         {0, 0x0, 0x1000, 0x2000},
                         {7, 0xf, 0x2000, 0x3000},
                         {0, 0x0, 0x3000, 0x4000}});
    Status s = parse(b, 48, m);
    test::expect_byte_error(s, Errc::capacity, 144u, m);
}

TEST(EfiParse, UnalignedBufferIsFine) {
    Bytes b = efi_bytes(kLenovo, 48);
    Bytes shifted(b.size() + 1);
    std::memcpy(shifted.data() + 1, b.data(), b.size());
    StaticMemoryMap<> m;
    Status s = parse_efi_memory_map(shifted.data() + 1, b.size(), 48, 1, m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_lenovo(m);
}
