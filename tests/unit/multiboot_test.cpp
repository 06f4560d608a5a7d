// SPDX-License-Identifier: MIT
//
// Tests of the Multiboot 1 and Multiboot 2 memory-map parsers on buffers laid
// out as GRUB hands them to a kernel, built from real e820 maps, and on every
// way such a buffer can be cut short or be wrong.
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

struct E820 {
    uint64_t base;
    uint64_t length;
    uint32_t type; // 1 usable, 2 reserved, 3 ACPI data, 4 ACPI NVS, 5 bad
};

void append32(Bytes &b, uint32_t v) {
    b.resize(b.size() + 4);
    put32(b, b.size() - 4, v);
}
void append64(Bytes &b, uint64_t v) {
    b.resize(b.size() + 8);
    put64(b, b.size() - 8, v);
}

// Multiboot 1 mmap buffer; `size` is each entry's size field (>= 20).
Bytes mb1_bytes(const std::vector<E820> &es, uint32_t size = 20) {
    Bytes b;
    for (const E820 &e : es) {
        append32(b, size);
        append64(b, e.base);
        append64(b, e.length);
        append32(b, e.type);
        b.resize(b.size() + (size - 20), 0xee);
    }
    return b;
}

// Multiboot 2 memory-map tag (type 6).
Bytes mb2_mmap_tag(const std::vector<E820> &es, uint32_t entry_size = 24, uint32_t version = 0) {
    Bytes b;
    append32(b, 6);
    append32(b, static_cast<uint32_t>(16 + es.size() * entry_size));
    append32(b, entry_size);
    append32(b, version);
    for (const E820 &e : es) {
        Bytes entry(entry_size > 24 ? entry_size : 24, 0xee);
        put64(entry, 0, e.base);
        put64(entry, 8, e.length);
        put32(entry, 16, e.type);
        put32(entry, 20, 0);
        b.insert(b.end(), entry.begin(), entry.begin() + entry_size); // cut if < 24
    }
    return b;
}

Bytes mb2_tag(uint32_t type, const Bytes &payload) {
    Bytes b;
    append32(b, type);
    append32(b, static_cast<uint32_t>(8 + payload.size()));
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes str_payload(const char *s) { return Bytes(s, s + std::strlen(s) + 1); }

// Boot information: total_size, reserved, the tags 8-byte aligned.
Bytes mb2_info(const std::vector<Bytes> &tags) {
    Bytes b(8, 0);
    for (const Bytes &t : tags) {
        b.insert(b.end(), t.begin(), t.end());
        b.resize((b.size() + 7) & ~size_t{7}, 0);
    }
    put32(b, 0, static_cast<uint32_t>(b.size()));
    return b;
}

const Bytes kEndTag = {0, 0, 0, 0, 8, 0, 0, 0};

// What GRUB 2 passes on a BIOS machine, in its order, around the mmap tag.
Bytes grub_info(const Bytes &mmap_tag) {
    Bytes load_base(4), meminfo(8), bootdev(12);
    put32(load_base, 0, 0x100000);
    put32(meminfo, 0, 639);
    put32(meminfo, 4, 1047424);
    put32(bootdev, 0, 0x80);
    put32(bootdev, 8, 0xffffffff);
    return mb2_info({mb2_tag(21, load_base), mb2_tag(1, str_payload("/boot/kernel console=ttyS0")),
                     mb2_tag(2, str_payload("GRUB 2.06")), mb2_tag(4, meminfo), mb2_tag(5, bootdev),
                     mmap_tag, mb2_tag(14, Bytes(20, 0x52)), kEndTag});
}

// QEMU -m 1G (SeaBIOS), the BIOS-e820 lines of
// data/linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log.
const std::vector<E820> kQemu1G = {
    {0x0000000000, 0x0009fc00, 1},  // [0, 639 KiB)
    {0x000009fc00, 0x00000400, 2},  // EBDA
    {0x00000f0000, 0x00010000, 2},  // BIOS ROM
    {0x0000100000, 0x3fee0000, 1},  // [1 MiB, 0x3ffe0000)
    {0x003ffe0000, 0x00020000, 2},  // ACPI tables area SeaBIOS reserves
    {0x00fffc0000, 0x00040000, 2},  // flash
    {0xfd00000000, 0x300000000, 2}, // AMD HyperTransport hole [1012 GiB, 1 TiB)
};
// By hand: usable [0, 0x9fc00) shrinks to whole pages [0, 0x9f000) = 0x9f000
// (the 0xc00 sliver leaves the map), plus [0x100000, 0x3ffe0000) = 0x3fee0000:
// 0x3ff7f000 = 1 GiB - 516 KiB. Reserved 0x400 + 0x10000 + 0x20000 + 0x40000 +
// 0x300000000 = 0x300070400. Seven ranges (no two neighbours share a type).
constexpr uint64_t kQemu1GUsable = 0x3ff7f000;
constexpr uint64_t kQemu1GReserved = 0x300070400;
constexpr size_t kQemu1GRanges = 7;

// QEMU q35 -m 8G (SeaBIOS 1.11), data/memmaps/qemu-q35-seabios-8g.txt.
const std::vector<E820> kQemuQ35_8G = {
    {0x000000000, 0x0009fc00, 1}, {0x00009fc00, 0x00000400, 2},
    {0x0000f0000, 0x00010000, 2}, {0x000100000, 0x7fede000, 1},
    {0x07ffde000, 0x00022000, 2}, {0x0b0000000, 0x10000000, 2}, // PCIe MMCONFIG
    {0x0fed1c000, 0x00004000, 2}, {0x0feffc000, 0x00004000, 2},
    {0x0fffc0000, 0x00040000, 2}, {0x100000000, 0x180000000, 1},
};
// By hand: usable 0x9f000 (trimmed as above) + 0x7fede000 + 0x180000000
// = 0x1fff7d000; reserved 0x400 + 0x10000 + 0x22000 + 0x10000000 + 0x4000 +
// 0x4000 + 0x40000 = 0x1007a400; ten ranges.
constexpr uint64_t kQ35Usable = 0x1fff7d000;
constexpr uint64_t kQ35Reserved = 0x1007a400;
constexpr size_t kQ35Ranges = 10;

void expect_qemu_1g(const MemoryMap &m) {
    EXPECT_TRUE(m.check().ok()) << m.check().reason();
    EXPECT_EQ(m.usable_bytes(), kQemu1GUsable);
    EXPECT_EQ(m.reserved_bytes(), kQemu1GReserved);
    EXPECT_EQ(m.size(), kQemu1GRanges);
    ASSERT_GE(m.size(), 1u);
    EXPECT_EQ(m[0].end, 0x9f000u);
    EXPECT_EQ(m.find(0x9f800), nullptr);
    EXPECT_EQ(m.highest_address(), uint64_t{1} << 40);
}

void expect_q35_8g(const MemoryMap &m) {
    EXPECT_TRUE(m.check().ok()) << m.check().reason();
    EXPECT_EQ(m.usable_bytes(), kQ35Usable);
    EXPECT_EQ(m.reserved_bytes(), kQ35Reserved);
    EXPECT_EQ(m.size(), kQ35Ranges);
    EXPECT_EQ(m.highest_address(), 0x280000000u);
}

void expect_same_map(const MemoryMap &a, const MemoryMap &b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].start, b[i].start) << i;
        EXPECT_EQ(a[i].end, b[i].end) << i;
        EXPECT_EQ(a[i].type, b[i].type) << i;
    }
}

void expect_text_map_equals(const char *path, const MemoryMap &bin) {
    Bytes text = test::read_bytes(path);
    StaticMemoryMap<> txt;
    Status s = parse_linux_text(reinterpret_cast<const char *>(text.data()), text.size(), txt);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_same_map(bin, txt);
}

using ParseFn = Status (*)(const void *, size_t, MemoryMap &);

// Every prefix of a valid buffer, copied to its own allocation so ASan sees
// any read past it, must parse or fail with truncated / no_entries.
void every_prefix(ParseFn fn, const Bytes &b) {
    for (size_t len = 0; len <= b.size(); ++len) {
        Bytes prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
        StaticMemoryMap<> m;
        Status s = fn(prefix.data(), len, m);
        if (s.ok()) {
            EXPECT_TRUE(m.check().ok()) << len;
        } else {
            EXPECT_TRUE(s.code() == Errc::truncated || s.code() == Errc::no_entries)
                << len << ": " << errc_name(s.code()) << ": " << s.reason();
            EXPECT_TRUE(m.empty()) << len;
        }
    }
}

} // namespace

// ---------------------------------------------------------------- Multiboot 1

TEST(Multiboot1Parse, QemuOneGig) {
    StaticMemoryMap<> m;
    Bytes b = mb1_bytes(kQemu1G);
    ASSERT_EQ(b.size(), 7u * 24);
    Status s = parse_multiboot1_mmap(b.data(), b.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_qemu_1g(m);
}

TEST(Multiboot1Parse, LargerSizeFieldsAreSkipped) {
    for (uint32_t size : {20u, 24u, 28u, 100u}) {
        StaticMemoryMap<> m;
        Bytes b = mb1_bytes(kQemu1G, size);
        Status s = parse_multiboot1_mmap(b.data(), b.size(), m);
        ASSERT_TRUE(s.ok()) << size << ": " << s.reason();
        expect_qemu_1g(m);
    }
}

TEST(Multiboot1Parse, TypeMapping) {
    StaticMemoryMap<> m;
    Bytes b = mb1_bytes({{0x00000, 0x1000, 1},
                         {0x01000, 0x1000, 2},
                         {0x02000, 0x1000, 3},
                         {0x03000, 0x1000, 4},
                         {0x04000, 0x1000, 5},
                         {0x05000, 0x1000, 6},
                         {0x06000, 0x1000, 0},
                         {0x07000, 0x1000, 0xffffffff},
                         {0x08000, 0x1000, 7}});
    Status s = parse_multiboot1_mmap(b.data(), b.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    ASSERT_EQ(m.size(), 6u);
    EXPECT_EQ(m[0].type, MemType::usable);
    EXPECT_EQ(m[1].type, MemType::reserved);
    EXPECT_EQ(m[2].type, MemType::acpi_reclaimable);
    EXPECT_EQ(m[3].type, MemType::acpi_nvs);
    EXPECT_EQ(m[4].type, MemType::unusable);
    EXPECT_EQ(m[5].type, MemType::reserved);
    EXPECT_EQ(m[5].start, 0x5000u); // types 6, 0, 0xffffffff, 7 merge as reserved
    EXPECT_EQ(m[5].end, 0x9000u);
}

TEST(Multiboot1Parse, FixtureMatchesTextMap) {
    Bytes file = test::read_bytes(KMEM_TEST_DATA_DIR "/binary/qemu-q35-8g.mb1");
    EXPECT_EQ(file, mb1_bytes(kQemuQ35_8G)) << "run scripts/gen-binary-maps.py";
    StaticMemoryMap<> m;
    Status s = parse_multiboot1_mmap(file.data(), file.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_q35_8g(m);
    expect_text_map_equals(KMEM_DATA_DIR "/memmaps/qemu-q35-seabios-8g.txt", m);
}

TEST(Multiboot1Parse, EveryPrefix) {
    every_prefix(parse_multiboot1_mmap, mb1_bytes(kQemu1G));
    every_prefix(parse_multiboot1_mmap, mb1_bytes(kQemu1G, 28));
}

TEST(Multiboot1Parse, SizeFieldBelow20) {
    for (uint32_t size : {0u, 4u, 16u, 19u}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = mb1_bytes(kQemu1G);
        put32(b, 48, size); // third entry
        Status s = parse_multiboot1_mmap(b.data(), b.size(), m);
        EXPECT_EQ(s.code(), Errc::malformed) << size;
        EXPECT_EQ(s.error().where, Where::byte);
        EXPECT_EQ(s.error().at, 48u);
        EXPECT_TRUE(m.empty());
    }
}

TEST(Multiboot1Parse, SizeFieldRunsPastTheBuffer) {
    for (uint32_t size : {21u, 0x1000u, 0xffffffffu}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = mb1_bytes(kQemu1G);
        put32(b, 6 * 24, size); // last entry
        Status s = parse_multiboot1_mmap(b.data(), b.size(), m);
        EXPECT_EQ(s.code(), Errc::truncated) << size;
        EXPECT_EQ(s.error().at, 6u * 24);
        EXPECT_TRUE(m.empty());
    }
}

TEST(Multiboot1Parse, TrailingBytes) {
    for (size_t extra = 1; extra < 24; ++extra) {
        StaticMemoryMap<> m;
        Bytes b = mb1_bytes(kQemu1G);
        b.resize(b.size() + extra, 0);
        Status s = parse_multiboot1_mmap(b.data(), b.size(), m);
        // 4 or more extra bytes read as a size field of 0: malformed.
        EXPECT_EQ(s.code(), extra < 4 ? Errc::truncated : Errc::malformed) << extra;
        EXPECT_EQ(s.error().at, 7u * 24);
        EXPECT_TRUE(m.empty());
    }
}

TEST(Multiboot1Parse, RangeWrapsOrIsTooHigh) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = mb1_bytes({{0, 0x1000, 1}, {0xfffffffffffff000, 0x2000, 2}});
    Status s = parse_multiboot1_mmap(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::invalid_range);
    EXPECT_EQ(s.error().at, 24u);
    EXPECT_TRUE(m.empty());

    prefill(m);
    b = mb1_bytes({{0, 0x1000, 1}, {0x000ffffffffff000, 0x2000, 1}});
    s = parse_multiboot1_mmap(b.data(), b.size(), m);
    test::expect_byte_error(s, Errc::invalid_range, 24u, m);
}

TEST(Multiboot1Parse, EmptyAndNull) {
    StaticMemoryMap<> m;
    prefill(m);
    EXPECT_EQ(parse_multiboot1_mmap(nullptr, 0, m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());
    prefill(m);
    EXPECT_EQ(parse_multiboot1_mmap(nullptr, 24, m).code(), Errc::invalid_argument);
    EXPECT_TRUE(m.empty());
    // Zero-length entries describe nothing.
    prefill(m);
    Bytes b = mb1_bytes({{0x1000, 0, 1}, {0x5000, 0, 2}});
    EXPECT_EQ(parse_multiboot1_mmap(b.data(), b.size(), m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());
    // A usable sliver smaller than a page is trimmed away: nothing left.
    b = mb1_bytes({{0x1100, 0x800, 1}});
    EXPECT_EQ(parse_multiboot1_mmap(b.data(), b.size(), m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());
}

TEST(Multiboot1Parse, Capacity) {
    StaticMemoryMap<2> m;
    Bytes b = mb1_bytes({{0, 0x1000, 1}, {0x1000, 0x1000, 2}, {0x2000, 0x1000, 1}});
    Status s = parse_multiboot1_mmap(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::capacity);
    EXPECT_EQ(s.error().at, 48u);
    EXPECT_TRUE(m.empty());
}

// ------------------------------------------------------- Multiboot 2 mmap tag

TEST(Multiboot2TagParse, QemuOneGig) {
    StaticMemoryMap<> m;
    Bytes b = mb2_mmap_tag(kQemu1G);
    ASSERT_EQ(b.size(), 16u + 7 * 24);
    Status s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_qemu_1g(m);
}

TEST(Multiboot2TagParse, FixtureMatchesHandTotals) {
    Bytes file = test::read_bytes(KMEM_TEST_DATA_DIR "/binary/qemu-1g.mb2-tag");
    EXPECT_EQ(file, mb2_mmap_tag(kQemu1G)) << "run scripts/gen-binary-maps.py";
    StaticMemoryMap<> m;
    Status s = parse_multiboot2_mmap_tag(file.data(), file.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_qemu_1g(m);
}

TEST(Multiboot2TagParse, LargerEntrySize) {
    StaticMemoryMap<> m;
    Bytes b = mb2_mmap_tag(kQemu1G, 32);
    Status s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_qemu_1g(m);
}

TEST(Multiboot2TagParse, BytesAfterTheTagAreIgnored) {
    StaticMemoryMap<> m;
    Bytes b = mb2_mmap_tag(kQemu1G);
    b.resize(b.size() + 13, 0xff);
    Status s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_qemu_1g(m);
}

TEST(Multiboot2TagParse, EveryPrefix) {
    every_prefix(parse_multiboot2_mmap_tag, mb2_mmap_tag(kQemu1G));
}

TEST(Multiboot2TagParse, EntryVersion1) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = mb2_mmap_tag(kQemu1G, 24, 1);
    Status s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::unsupported_version);
    EXPECT_EQ(s.error().at, 12u);
    EXPECT_TRUE(m.empty());
}

TEST(Multiboot2TagParse, BadEntrySize) {
    for (uint32_t es : {0u, 8u, 16u, 20u, 28u, 33u}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = mb2_mmap_tag(kQemu1G);
        put32(b, 8, es);
        Status s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
        EXPECT_EQ(s.code(), Errc::malformed) << es;
        EXPECT_EQ(s.error().at, 8u);
        EXPECT_TRUE(m.empty());
    }
}

TEST(Multiboot2TagParse, TagSizeBelow16) {
    for (uint32_t size : {0u, 8u, 12u, 15u}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = mb2_mmap_tag(kQemu1G);
        put32(b, 4, size);
        Status s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
        EXPECT_EQ(s.code(), Errc::malformed) << size;
        EXPECT_TRUE(m.empty());
    }
}

TEST(Multiboot2TagParse, WrongTagType) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = mb2_mmap_tag(kQemu1G);
    put32(b, 0, 7);
    EXPECT_EQ(parse_multiboot2_mmap_tag(b.data(), b.size(), m).code(), Errc::bad_magic);
    EXPECT_TRUE(m.empty());
}

TEST(Multiboot2TagParse, TagSizeDisagreesWithEntries) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = mb2_mmap_tag(kQemu1G);
    put32(b, 4, 16 + 24 + 8); // one entry and a third of the next
    Status s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::truncated);
    EXPECT_EQ(s.error().at, 16u + 24);
    EXPECT_TRUE(m.empty());

    prefill(m);
    put32(b, 4, static_cast<uint32_t>(b.size() + 24)); // claims more than the buffer
    s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::truncated);
    EXPECT_TRUE(m.empty());

    prefill(m);
    put32(b, 4, 16); // no entries at all
    EXPECT_EQ(parse_multiboot2_mmap_tag(b.data(), b.size(), m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());
}

TEST(Multiboot2TagParse, RangeTooHighPointsAtTheEntry) {
    StaticMemoryMap<> m;
    Bytes b = mb2_mmap_tag({{0, 0x1000, 1}, {0, 0x1000, 1}, {uint64_t{1} << 52, 0x1000, 2}});
    Status s = parse_multiboot2_mmap_tag(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::invalid_range);
    EXPECT_EQ(s.error().at, 16u + 2 * 24);
    EXPECT_TRUE(m.empty());
}

// ---------------------------------------------- Multiboot 2 boot information

TEST(Multiboot2InfoParse, GrubQemuOneGig) {
    StaticMemoryMap<> m;
    Bytes b = grub_info(mb2_mmap_tag(kQemu1G));
    Status s = parse_multiboot2_info(b.data(), b.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_qemu_1g(m);
}

TEST(Multiboot2InfoParse, FixtureMatchesTextMap) {
    Bytes file = test::read_bytes(KMEM_TEST_DATA_DIR "/binary/qemu-q35-8g.mb2");
    ASSERT_GE(file.size(), 8u);
    const uint32_t total = file[0] | file[1] << 8 | file[2] << 16 | uint32_t{file[3]} << 24;
    EXPECT_EQ(total, file.size());
    StaticMemoryMap<> m;
    Status s = parse_multiboot2_info(file.data(), file.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_q35_8g(m);
    expect_text_map_equals(KMEM_DATA_DIR "/memmaps/qemu-q35-seabios-8g.txt", m);
}

TEST(Multiboot2InfoParse, EveryPrefix) {
    Bytes b = grub_info(mb2_mmap_tag(kQemu1G));
    every_prefix(parse_multiboot2_info, b);
    every_prefix(parse_multiboot2_info, test::read_bytes(KMEM_TEST_DATA_DIR "/binary/qemu-q35-8g.mb2"));

    // A loader that cut the structure and fixed total_size to match: any
    // error is acceptable, but never a crash or a half-filled map.
    for (size_t len = 0; len <= b.size(); ++len) {
        Bytes cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
        if (len >= 4) put32(cut, 0, static_cast<uint32_t>(len));
        StaticMemoryMap<> m;
        Status s = parse_multiboot2_info(cut.data(), cut.size(), m);
        if (s.ok()) {
            EXPECT_TRUE(m.check().ok());
        } else {
            EXPECT_TRUE(m.empty()) << len;
        }
    }
}

TEST(Multiboot2InfoParse, MissingMmapTag) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = mb2_info({mb2_tag(1, str_payload("cmdline")), kEndTag});
    EXPECT_EQ(parse_multiboot2_info(b.data(), b.size(), m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());

    // An mmap tag after the end tag does not count.
    prefill(m);
    b = mb2_info({mb2_tag(1, str_payload("cmdline")), kEndTag, mb2_mmap_tag(kQemu1G)});
    EXPECT_EQ(parse_multiboot2_info(b.data(), b.size(), m).code(), Errc::no_entries);
    EXPECT_TRUE(m.empty());

    // Only the header.
    b = mb2_info({});
    EXPECT_EQ(parse_multiboot2_info(b.data(), b.size(), m).code(), Errc::no_entries);
}

TEST(Multiboot2InfoParse, NoEndTagIsTolerated) {
    StaticMemoryMap<> m;
    Bytes b = mb2_info({mb2_tag(1, str_payload("x")), mb2_mmap_tag(kQemu1G)});
    Status s = parse_multiboot2_info(b.data(), b.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_qemu_1g(m);
}

TEST(Multiboot2InfoParse, FirstMmapTagWins) {
    StaticMemoryMap<> m;
    Bytes b = mb2_info({mb2_mmap_tag(kQemu1G), mb2_mmap_tag({{0, 0x10000000, 1}}), kEndTag});
    Status s = parse_multiboot2_info(b.data(), b.size(), m);
    ASSERT_TRUE(s.ok()) << s.reason();
    expect_qemu_1g(m);
}

TEST(Multiboot2InfoParse, TagSizeBelow8) {
    for (uint32_t size : {0u, 1u, 7u}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = grub_info(mb2_mmap_tag(kQemu1G));
        put32(b, 8 + 4, size); // first tag
        Status s = parse_multiboot2_info(b.data(), b.size(), m);
        EXPECT_EQ(s.code(), Errc::malformed) << size;
        EXPECT_EQ(s.error().where, Where::byte);
        EXPECT_EQ(s.error().at, 8u);
        EXPECT_TRUE(m.empty());
    }
}

TEST(Multiboot2InfoParse, TagRunsPastTotalSize) {
    StaticMemoryMap<> m;
    prefill(m);
    Bytes b = mb2_info({mb2_tag(1, str_payload("abc")), mb2_mmap_tag(kQemu1G), kEndTag});
    // The mmap tag starts at 8 + 16 = 24; make it claim 8 bytes more than remain.
    put32(b, 24 + 4, static_cast<uint32_t>(b.size() - 24 + 8));
    Status s = parse_multiboot2_info(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::malformed);
    EXPECT_EQ(s.error().at, 24u);
    EXPECT_TRUE(m.empty());

    // total_size that ends inside a tag header.
    prefill(m);
    b = mb2_info({mb2_tag(1, str_payload("abc")), mb2_mmap_tag(kQemu1G), kEndTag});
    put32(b, 0, 24 + 4);
    s = parse_multiboot2_info(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::malformed);
    EXPECT_EQ(s.error().at, 24u);
    EXPECT_TRUE(m.empty());
}

TEST(Multiboot2InfoParse, BadTotalSize) {
    Bytes good = grub_info(mb2_mmap_tag(kQemu1G));
    for (uint32_t total : {0u, 4u, 7u}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = good;
        put32(b, 0, total);
        EXPECT_EQ(parse_multiboot2_info(b.data(), b.size(), m).code(), Errc::malformed) << total;
        EXPECT_TRUE(m.empty());
    }
    for (uint32_t total : {static_cast<uint32_t>(good.size() + 1), 0xffffffffu}) {
        StaticMemoryMap<> m;
        prefill(m);
        Bytes b = good;
        put32(b, 0, total);
        Status s = parse_multiboot2_info(b.data(), b.size(), m);
        EXPECT_EQ(s.code(), Errc::truncated) << total;
        EXPECT_EQ(s.error().at, 0u);
        EXPECT_TRUE(m.empty());
    }
    // A buffer longer than total_size is fine (the rest is not ours).
    StaticMemoryMap<> m;
    Bytes b = good;
    b.resize(b.size() + 64, 0xcc);
    ASSERT_TRUE(parse_multiboot2_info(b.data(), b.size(), m).ok());
    expect_qemu_1g(m);
}

TEST(Multiboot2InfoParse, TagErrorsCarryInfoOffsets) {
    Bytes tag = mb2_mmap_tag(kQemu1G, 24, 1); // entry_version 1
    Bytes b = mb2_info({mb2_tag(1, str_payload("abc")), tag, kEndTag});
    StaticMemoryMap<> m;
    prefill(m);
    Status s = parse_multiboot2_info(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::unsupported_version);
    EXPECT_EQ(s.error().at, 24u + 12); // the tag is at 24, entry_version at +12
    EXPECT_TRUE(m.empty());

    // entry_size 16 inside the info.
    tag = mb2_mmap_tag(kQemu1G, 16);
    b = mb2_info({tag, kEndTag});
    prefill(m);
    s = parse_multiboot2_info(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::malformed);
    EXPECT_EQ(s.error().at, 8u + 8);
    EXPECT_TRUE(m.empty());

    // An mmap tag too small for its own header (size 12) inside the info.
    b = mb2_info({mb2_tag(6, Bytes(4, 0)), kEndTag});
    prefill(m);
    s = parse_multiboot2_info(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::malformed);
    EXPECT_TRUE(m.empty());

    // The tag's own size covers only part of its last entry.
    tag = mb2_mmap_tag(kQemu1G);
    tag.resize(tag.size() - 8);
    put32(tag, 4, static_cast<uint32_t>(tag.size()));
    b = mb2_info({tag, kEndTag});
    prefill(m);
    s = parse_multiboot2_info(b.data(), b.size(), m);
    EXPECT_EQ(s.code(), Errc::truncated);
    EXPECT_EQ(s.error().at, 8u + 16 + 6 * 24);
    EXPECT_TRUE(m.empty());
}

TEST(Multiboot2InfoParse, NullAndTiny) {
    StaticMemoryMap<> m;
    prefill(m);
    EXPECT_EQ(parse_multiboot2_info(nullptr, 16, m).code(), Errc::invalid_argument);
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(parse_multiboot2_info(nullptr, 0, m).code(), Errc::truncated);
    EXPECT_EQ(parse_multiboot2_mmap_tag(nullptr, 0, m).code(), Errc::truncated);
    EXPECT_EQ(parse_multiboot2_mmap_tag(nullptr, 8, m).code(), Errc::invalid_argument);
}
