// Linux console text: every real map in data/memmaps and the real Linux 6.1
// boot log, each checked against totals worked out by hand from the file, plus
// every line format and every kind of bad input.
//
// Working convention: e820 "[mem A-B]" ends are inclusive, so a range is
// B + 1 - A bytes; old "A - B" ends are exclusive; usable ranges are then
// shrunk to whole 4 KiB pages (start rounded up, end rounded down).
#include <kmem/memmap_parse.h>

#include "test_util.h"

#include <gtest/gtest.h>

#include <string>

namespace kmem {
namespace {

struct Parsed {
    StaticMemoryMap<> map;
    TextMapInfo info;
    Status status;
};

void parse_text(const std::string &text, Parsed &p) {
    p.status = parse_linux_text(text.data(), text.size(), p.map, &p.info);
}

void parse_data_file(const std::string &rel, Parsed &p) {
    parse_text(test::read_file(test::data_path(rel)), p);
    ASSERT_TRUE(p.status.ok()) << rel << ":" << p.status.error().at << ": " << p.status.reason();
    ASSERT_TRUE(p.map.check().ok()) << p.map.check().reason();
}

// ---------------------------------------------------------------- real maps

TEST(LinuxTextRealMaps, AsrockB250mDesktop8G) {
    // usable entries (inclusive ends, +1):
    //   0x0-0x57fff            -> 0x58000
    //   0x59000-0x9efff        -> 0x46000
    //   0x100000-0x8a660fff    -> 0x8a561000
    //   0x8a663000-0x8ea96fff  -> 0x4434000
    //   0x8edc1000-0x8ef53fff  -> 0x193000
    //   0x8faff000-0x8fafffff  -> 0x1000
    //   0x100000000-0x26effffff -> 0x16f000000
    // all page-aligned already; sum = 0x1fdbc7000 = 8551952384 bytes.
    // 21 entries; ACPI NVS 0x8a661000 sits between two reserved-free usable
    // ranges, "type 20" at 0x8faa4000 reads as reserved and merges with the
    // reserved 0x8f5bc000-0x8faa3fff before it -> 20 ranges.
    Parsed p;
    parse_data_file("memmaps/asrock-b250m-hdv-desktop-i5-7400-8g.txt", p);
    EXPECT_EQ(p.info.source, TextMapInfo::Source::e820);
    EXPECT_EQ(p.info.e820_lines, 21u);
    EXPECT_EQ(p.map.usable_bytes(), 8551952384u);
    EXPECT_EQ(p.map.size(), 20u);
    EXPECT_EQ(p.map.node_count(), 1u);
    const MemRange *t20 = p.map.find(0x8faa4000);
    ASSERT_NE(t20, nullptr);
    EXPECT_EQ(t20->type, MemType::reserved);
    EXPECT_EQ(t20->start, 0x8f5bc000u);
    EXPECT_EQ(t20->end, 0x8faff000u);
}

TEST(LinuxTextRealMaps, AwsXenHvm1G) {
    // usable 0x0-0x9dfff -> 0x9e000; 0x100000-0x3fffffff -> 0x3ff00000
    // sum = 0x3ff9e000 = 1073340416. reserved: 0x2000 + 0x20000 + 0x4000000
    // = 0x4022000 = 67248128. 5 entries, 5 ranges (reserved 0x9e000-0x9ffff
    // and 0xe0000-0xfffff are not adjacent).
    Parsed p;
    parse_data_file("memmaps/aws-ec2-xen-hvm-1g.txt", p);
    EXPECT_EQ(p.map.usable_bytes(), 1073340416u);
    EXPECT_EQ(p.map.reserved_bytes(), 67248128u);
    EXPECT_EQ(p.map.size(), 5u);
}

TEST(LinuxTextRealMaps, DellInspironSizeAtStartFormat) {
    // Early 2.4 "SIZE @ START": usable 0x9f800 @ 0 -> [0, 0x9f800) -> trimmed
    // to [0, 0x9f000) = 0x9f000; usable 0x13ef0000 @ 0x100000 -> 0x13ef0000.
    // sum = 0x13f8f000 = 335081472 (Linux said "Memory: 320464k/327616k").
    // ACPI data 0xfc00 @ 0x13ff0000 and ACPI NVS 0x400 @ 0x13fffc00 are
    // byte-exact: 0xfc00 = 64512 and 0x400 = 1024.
    Parsed p;
    parse_data_file("memmaps/dell-inspiron-5000e-2000-320m-sizeat.txt", p);
    EXPECT_EQ(p.map.usable_bytes(), 335081472u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_reclaimable), 64512u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_nvs), 1024u);
    EXPECT_EQ(p.map.size(), 7u);
    EXPECT_EQ(p.info.e820_lines, 7u);
}

TEST(LinuxTextRealMaps, DellPowerEdgeOldExclusiveFormatWithLogLevels) {
    // "<4> BIOS-e820: A - B (type)", B exclusive:
    // usable [0, 0xa0000) = 0xa0000; [0x100000, 0xdfff0000) = 0xdfef0000
    // sum = 0xdff90000 = 3757637632 (the "3.5 GiB visible" of the note).
    Parsed p;
    parse_data_file("memmaps/dell-poweredge-6400-4g-no-remap-2003.txt", p);
    EXPECT_EQ(p.map.usable_bytes(), 3757637632u);
    EXPECT_EQ(p.map.size(), 7u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_reclaimable), 0xdfffec00u - 0xdfff0000u);
}

TEST(LinuxTextRealMaps, HpPavilionDm1) {
    // usable 0x0-0x9f7ff -> [0, 0x9f800) -> trimmed 0x9f000
    //        0x100000-0xdf9befff -> 0xdf8bf000
    //        0xdfbf5000-0xdfbfffff -> 0xb000
    //        0x100000000-0x106ffffff -> 0x7000000
    // sum = 0xe6969000 = 3868626944. 16 entries, none adjacent with equal
    // type -> 16 ranges.
    Parsed p;
    parse_data_file("memmaps/hp-pavilion-dm1-laptop-amd-e450.txt", p);
    EXPECT_EQ(p.map.usable_bytes(), 3868626944u);
    EXPECT_EQ(p.map.size(), 16u);
}

TEST(LinuxTextRealMaps, HyperVWsl2) {
    // usable 0x0-0x9ffff -> 0xa0000; 0x200000-0xf7ffffff -> 0xf7e00000;
    //        0x100000000-0x335dfffff -> 0x235e00000
    // sum = 0x32dca0000 = 13653114880. ACPI data 0x100000-0x1fffff = 1 MiB.
    Parsed p;
    parse_data_file("memmaps/hyperv-wsl2-12g.txt", p);
    EXPECT_EQ(p.map.usable_bytes(), 13653114880u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_reclaimable), 1u << 20);
    EXPECT_EQ(p.map.size(), 5u);
}

TEST(LinuxTextRealMaps, Intel440bxUnsortedEntries) {
    // Linux 2.4.3 printed the BIOS order: the 0x100000 usable range and both
    // ACPI entries come after the 0xffff0000 reserved one. Sorted:
    // usable [0, 0x9fc00) -> 0x9f000; [0x100000, 0x7ff0000) -> 0x7ef0000
    // sum = 0x7f8f000 = 133754880 ("Memory: 126136k/131008k").
    // NVS [0x7ff0000, 0x7ff3000) = 0x3000, ACPI [0x7ff3000, 0x8000000) = 0xd000.
    Parsed p;
    parse_data_file("memmaps/intel-440bx-p2-2001-128m-unsorted.txt", p);
    EXPECT_EQ(p.map.usable_bytes(), 133754880u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_nvs), 0x3000u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_reclaimable), 0xd000u);
    EXPECT_EQ(p.map.size(), 7u);
    EXPECT_EQ(p.map[p.map.size() - 1].start, 0xffff0000u);
}

TEST(LinuxTextRealMaps, LenovoG50E820) {
    // usable 0x0-0x6dfff -> 0x6e000; 0x70000-0x85fff -> 0x16000;
    //        0x100000-0x9a0bbfff -> 0x99fbc000; 0x9aabc000-0x9f2befff -> 0x4803000;
    //        0x9fbff000-0x9fbfffff -> 0x1000; 0x100000000-0x19effffff -> 0x9f000000
    // sum = 0x13d844000 = 5327044608. 20 entries; "type 20" at 0x9f2bf000
    // merges with the reserved range after it -> 19 ranges.
    Parsed p;
    parse_data_file("memmaps/lenovo-g50-amd-laptop-uefi-insyde.txt", p);
    EXPECT_EQ(p.map.usable_bytes(), 5327044608u);
    EXPECT_EQ(p.map.size(), 19u);
}

TEST(LinuxTextRealMaps, LenovoG50UefiMapAgreesWithItsE820) {
    // The same laptop's 56 EFI descriptors (old "type=N, attr=, range=[..)"
    // format, two of them out of order). Types 1-4 and 7 are usable, 5/6
    // (runtime), 0 and 11 reserved, 9 ACPI, 10 NVS. The firmware built the
    // e820 above from this map, so both must sanitize to the same ranges.
    Parsed efi, e820;
    parse_data_file("memmaps/lenovo-g50-amd-laptop-uefi-insyde.efi.txt", efi);
    parse_data_file("memmaps/lenovo-g50-amd-laptop-uefi-insyde.txt", e820);
    EXPECT_EQ(efi.info.source, TextMapInfo::Source::efi);
    EXPECT_EQ(efi.info.efi_lines, 56u);
    EXPECT_EQ(efi.map.usable_bytes(), 5327044608u);
    ASSERT_EQ(efi.map.size(), e820.map.size());
    for (size_t i = 0; i < efi.map.size(); ++i) {
        EXPECT_EQ(efi.map[i].start, e820.map[i].start) << i;
        EXPECT_EQ(efi.map[i].end, e820.map[i].end) << i;
        EXPECT_EQ(efi.map[i].type, e820.map[i].type) << i;
    }
}

TEST(LinuxTextRealMaps, QemuI440fxNewFormatWithGaps) {
    // 2025+ wording: "System RAM", "device reserved", [gap] lines skipped.
    // usable [0, 0x9fc00) -> 0x9f000; 0x100000-0xffdffff -> 0xfee0000
    // sum = 0xff7f000 = 267907072 (-m 256M minus BIOS areas).
    // reserved: 0x400 + 0x10000 + 0x20000 + 0x40000 + 0x300000000 (the
    // 0xfd00000000-0xffffffffff HyperTransport hole) = 12885361664.
    Parsed p;
    parse_data_file("memmaps/qemu-i440fx-256m-newfmt-gaps.txt", p);
    EXPECT_EQ(p.info.e820_lines, 7u); // 10 lines, 3 of them gaps
    EXPECT_EQ(p.map.usable_bytes(), 267907072u);
    EXPECT_EQ(p.map.reserved_bytes(), 12885361664u);
    EXPECT_EQ(p.map.size(), 7u);
}

TEST(LinuxTextRealMaps, QemuQ35Seabios8G) {
    // usable [0, 0x9fc00) -> 0x9f000; 0x100000-0x7ffddfff -> 0x7fede000;
    //        0x100000000-0x27fffffff -> 0x180000000
    // sum = 0x1fff7d000 = 8589398016.
    Parsed p;
    parse_data_file("memmaps/qemu-q35-seabios-8g.txt", p);
    EXPECT_EQ(p.map.usable_bytes(), 8589398016u);
    EXPECT_EQ(p.map.size(), 10u);
    EXPECT_EQ(p.map.node_count(), 1u);
}

TEST(LinuxTextRealMaps, RaspberryPi4DeviceTreeLayout) {
    // No e820 or EFI lines: the map comes from "node 0: [mem ...]" lines.
    // 0x0-0x3b3fffff -> 0x3b400000; 0x40000000-0xfbffffff -> 0xbc000000;
    // 0x100000000-0x1ffffffff -> 0x100000000; sum = 0x1f7400000 = 8443133952.
    // The "Zone ranges" [mem] lines must not count.
    Parsed p;
    parse_data_file("memmaps/rpi4-8g-arm64-dt-layout.txt", p);
    EXPECT_EQ(p.info.source, TextMapInfo::Source::node_ranges);
    EXPECT_EQ(p.map.usable_bytes(), 8443133952u);
    EXPECT_EQ(p.map.size(), 3u);
    EXPECT_EQ(p.map.node_count(), 1u);
}

TEST(LinuxTextRealMaps, SupermicroEpyc1TiB8Nodes) {
    // Low usable (inclusive ends +1, then page trim):
    //   0x0-0x997ff -> [0, 0x99800) -> 0x99000
    //   0x100000-0x76daffff -> 0x76cb0000
    //   0x77000000-0xc9d5efff -> 0x52d5f000
    //   0xc9dd2000-0xc9e84fff -> 0xb3000
    //   0xcacc9000-0xcbffffff -> 0x1337000
    //   low total 0xcae92000
    // High: node 0 0x100000000-0x202f37ffff -> 0x1f2f380000; nodes 1..7 each
    // 0xN030000000-0x(N+1)02ff7ffff -> 0x1ffff80000.
    // node 0 = 0xcae92000 + 0x1f2f380000 = 0x1ffa212000
    // total = 0x1ffa212000 + 7 * 0x1ffff80000 = 0xfff9e92000 = 1099409465344.
    // 63 e820 entries, no two adjacent equal -> 63 ranges; 10 SRAT lines
    // give 8 nodes.
    Parsed p;
    parse_data_file("memmaps/supermicro-h11dsu-epyc-naples-1tib-8numa.txt", p);
    EXPECT_EQ(p.info.e820_lines, 63u);
    EXPECT_EQ(p.info.numa_ranges, 10u);
    EXPECT_EQ(p.map.usable_bytes(), 1099409465344u);
    EXPECT_EQ(p.map.size(), 63u);
    EXPECT_EQ(p.map.node_count(), 8u);
    EXPECT_EQ(p.map.bytes_in_node(0, MemType::usable), 0x1ffa212000u);
    for (uint16_t n = 1; n < 8; ++n)
        EXPECT_EQ(p.map.bytes_in_node(n, MemType::usable), 0x1ffff80000u) << "node " << n;
    EXPECT_EQ(p.map.find(0x1002ff80000)->node, 7u); // last reserved range
}

TEST(LinuxTextRealMaps, Linux61BootLog) {
    // 97011 lines of a real boot with timestamps; only 7 BIOS-e820 lines:
    // usable [0, 0x9fc00) -> 0x9f000; 0x100000-0x3ffdffff -> 0x3fee0000
    // sum = 0x3ff7f000 = 1073213440. The "e820: update"/"e820: remove" lines
    // are the kernel's own edits and are not firmware entries. The two
    // "node 0: [mem]" lines confirm node 0.
    Parsed p;
    parse_data_file("linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log", p);
    EXPECT_EQ(p.info.e820_lines, 7u);
    EXPECT_EQ(p.info.numa_ranges, 2u);
    EXPECT_EQ(p.map.usable_bytes(), 1073213440u);
    EXPECT_EQ(p.map.size(), 7u);
    EXPECT_EQ(p.map.node_count(), 1u);
}

// ------------------------------------------------------------ line formats

TEST(LinuxText, TimestampsLogLevelsAndCarriageReturns) {
    Parsed p;
    parse_text("<6>[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable\r\n"
               "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x0000000000ffffff] ACPI NVS\r\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    EXPECT_EQ(p.map.usable_bytes(), 0xa0000u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_nvs), 0xf00000u);
}

TEST(LinuxText, NumericAndPersistentTypes) {
    Parsed p;
    parse_text("BIOS-e820: [mem 0x0-0xfff] type 1\n"
               "BIOS-e820: [mem 0x1000-0x1fff] type 5\n"
               "BIOS-e820: [mem 0x2000-0x2fff] persistent (type 7)\n"
               "BIOS-e820: [mem 0x3000-0x3fff] persistent (type 12)\n"
               "BIOS-e820: [mem 0x4000-0x4fff] soft reserved\n"
               "BIOS-e820: [mem 0x5000-0x5fff] type 99\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    EXPECT_EQ(p.map.usable_bytes(), 0x1000u);
    EXPECT_EQ(p.map.bytes(MemType::unusable), 0x1000u);
    EXPECT_EQ(p.map.bytes(MemType::persistent), 0x2000u);
    EXPECT_EQ(p.map.reserved_bytes(), 0x2000u);
}

TEST(LinuxText, NewEfiFormatInclusiveEndsAndAttributes) {
    Parsed p;
    parse_text(
        "efi: mem00: [Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] "
        "range=[0x0000000000000000-0x000000000009ffff] (0MB)\n"
        "efi: mem01: [Runtime Data|RUN|  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] "
        "range=[0x00000000000a0000-0x00000000000fffff] (0MB)\n"
        "efi: mem02: [Conventional|   |  |  |SP|  |  |  |  |  |   |WB|WT|WC|UC] "
        "range=[0x0000000000100000-0x00000000001fffff] (1MB)\n"
        "efi: mem03: [Boot Data   |   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] "
        "range=[0x0000000000200000-0x00000000002fffff] (1MB)\n"
        "efi: mem04: [ACPI Mem NVS|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] "
        "range=[0x0000000000300000-0x0000000000300fff] (0MB)\n",
        p);
    ASSERT_TRUE(p.status.ok()) << p.status.error().at << ": " << p.status.reason();
    EXPECT_EQ(p.info.source, TextMapInfo::Source::efi);
    // conventional 0xa0000 + boot data 0x100000; the SP range is soft reserved.
    EXPECT_EQ(p.map.usable_bytes(), 0xa0000u + 0x100000u);
    EXPECT_EQ(p.map.reserved_bytes(), 0x60000u + 0x100000u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_nvs), 0x1000u);
}

TEST(LinuxText, E820WinsOverEfiLinesInTheSameLog) {
    Parsed p;
    parse_text("efi: mem00: type=7, attr=0xf, range=[0x0-0x200000) (2MB)\n"
               "BIOS-e820: [mem 0x0-0xfffff] usable\n",
               p);
    ASSERT_TRUE(p.status.ok());
    EXPECT_EQ(p.info.source, TextMapInfo::Source::e820);
    EXPECT_EQ(p.map.usable_bytes(), 0x100000u);
}

TEST(LinuxText, NumaLinesOfEveryKindAssignNodes) {
    Parsed p;
    parse_text("ACPI: SRAT: Node 1 PXM 1 [mem 0x40000000-0x7fffffff] hotplug\n"
               "BIOS-e820: [mem 0x0-0xbfffffff] usable\n"
               "NUMA: Node 0 [mem 0x00000000-0x0009ffff] + [mem 0x00100000-0x3fffffff] -> "
               "[mem 0x00000000-0x3fffffff]\n"
               "  node   2: [mem 0x0000000080000000-0x00000000bfffffff]\n"
               "NUMA: Initialized distance table, cnt=3\n"
               "Initmem setup node 0 [mem 0x0000000000000000-0x000000000009ffff]\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    EXPECT_EQ(p.map.node_count(), 3u);
    EXPECT_EQ(p.map.bytes_in_node(0, MemType::usable), 0x40000000u);
    EXPECT_EQ(p.map.bytes_in_node(1, MemType::usable), 0x40000000u);
    EXPECT_EQ(p.map.bytes_in_node(2, MemType::usable), 0x40000000u);
}

// ------------------------------------------------------------- bad input

void expect_error(const std::string &text, Errc code, uint64_t line, const char *reason = nullptr) {
    Parsed p;
    parse_text(text, p);
    EXPECT_EQ(p.status.code(), code) << text << " -> " << p.status.reason();
    EXPECT_EQ(p.status.error().where, Where::line);
    EXPECT_EQ(p.status.error().at, line);
    if (reason) {
        EXPECT_STREQ(p.status.reason(), reason);
    }
    EXPECT_TRUE(p.map.empty()) << "a failed parse must leave the map empty";
}

TEST(LinuxTextErrors, EndBeforeStart) {
    expect_error("BIOS-e820: [mem 0x0-0xfff] usable\nBIOS-e820: [mem 0x2000-0x1eff] usable\n",
                 Errc::invalid_range, 2, "range ends before it starts");
    expect_error("BIOS-e820: 0000000000002000 - 0000000000001000 (usable)\n",
                 Errc::invalid_range, 1, "range ends before it starts");
}

TEST(LinuxTextErrors, WrapPastTheTopOf64Bits) {
    expect_error("BIOS-e820: [mem 0xfffffffffffff000-0xffffffffffffffff] reserved\n",
                 Errc::invalid_range, 1, "range wraps past the top of the 64-bit space");
    expect_error("BIOS-e820: 0000000000002000 @ fffffffffffff000 (reserved)\n",
                 Errc::invalid_range, 1, "range wraps past the top of the 64-bit space");
    expect_error("BIOS-e820: [mem 0x0-0x1ffffffffffffffff] usable\n", Errc::malformed, 1);
}

TEST(LinuxTextErrors, AboveThePhysicalAddressLimit) {
    expect_error("\n\nBIOS-e820: [mem 0x0010000000000000-0x0010000000000fff] reserved\n",
                 Errc::invalid_range, 3);
}

TEST(LinuxTextErrors, UnknownTypeName) {
    expect_error("BIOS-e820: [mem 0x0-0xfff] usable\nBIOS-e820: [mem 0x1000-0x1fff] funny\n",
                 Errc::unknown_type, 2, "unknown e820 memory type");
    expect_error("efi: mem00: [Banana|  |WB] range=[0x0-0xfff] (0MB)\n", Errc::unknown_type, 1);
    expect_error("efi: mem00: type=99, attr=0xf, range=[0x0-0x1000) (0MB)\n",
                 Errc::unknown_type, 1);
}

TEST(LinuxTextErrors, MalformedLines) {
    expect_error("BIOS-e820: [mem 0x0 0xfff] usable\n", Errc::malformed, 1);
    expect_error("BIOS-e820: what is this\n", Errc::malformed, 1);
    expect_error("BIOS-e820: 0000000000000000 - 00000000000a0000 usable\n", Errc::malformed, 1);
    expect_error("BIOS-e820: [mem 0x0-0xfff usable\n", Errc::malformed, 1);
    expect_error("efi: mem00: type=7 attr=0xf, range=[0x0-0x1000) (0MB)\n", Errc::malformed, 1);
    expect_error("efi: mem00: type=7, attr=0xf, range=[0x0-0x1000 (0MB)\n", Errc::malformed, 1);
    expect_error("BIOS-e820: [mem 0x0-0xfff] usable\nACPI: SRAT: Node 0 PXM [mem 0x0-0xfff]\n",
                 Errc::malformed, 2);
}

TEST(LinuxTextErrors, NodeIdTooLarge) {
    expect_error("BIOS-e820: [mem 0x0-0xfff] usable\nACPI: SRAT: Node 64 PXM 0 [mem 0x0-0xfff]\n",
                 Errc::invalid_argument, 2, "NUMA node id too large");
}

TEST(LinuxTextErrors, NoMapAtAll) {
    Parsed p;
    parse_text("Linux version 6.1.0\nCommand line: quiet\n", p);
    EXPECT_EQ(p.status.code(), Errc::no_entries);
    parse_text("", p);
    EXPECT_EQ(p.status.code(), Errc::no_entries);
}

TEST(LinuxTextErrors, MoreEntriesThanCapacity) {
    // Alternate usable and reserved pages so nothing merges: 300 > 256 ranges.
    std::string text;
    char line[96];
    for (int i = 0; i < 300; ++i) {
        std::snprintf(line, sizeof line, "BIOS-e820: [mem 0x%x-0x%x] %s\n", i * 0x1000,
                      i * 0x1000 + 0xfff, i % 2 ? "reserved" : "usable");
        text += line;
    }
    expect_error(text, Errc::capacity, kDefaultMapCapacity + 1, "memory map capacity exceeded");
}

// ------------------------------------------- hostile input (issue 20)

// Item 4: a NUMA boundary inside a page dropped that page. Here SRAT splits
// a 2 GiB map at 0x40000800: the page 0x40000000-0x40000fff goes to node 0,
// which holds its first byte, and no byte of usable RAM is lost.
TEST(LinuxTextHostile, NumaBoundaryInsideAPageKeepsThePage) {
    Parsed p;
    parse_text("BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable\n"
               "ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x400007ff]\n"
               "ACPI: SRAT: Node 1 PXM 1 [mem 0x40000800-0x7fffffff]\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    ASSERT_TRUE(p.map.check().ok()) << p.map.check().reason();
    EXPECT_EQ(p.map.usable_bytes(), 2ull << 30);
    EXPECT_EQ(p.map.bytes_in_node(0, MemType::usable), 0x40001000u);
    EXPECT_EQ(p.map.bytes_in_node(1, MemType::usable), 0x80000000u - 0x40001000u);
}

// Item 5: the inclusive forms print a zero-size entry as [start, start - 1];
// docs/memmap.md says zero-length ranges are dropped, and so they are.
TEST(LinuxTextHostile, ZeroSizeRangeInTheInclusiveFormsIsDropped) {
    Parsed p;
    parse_text("BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable\n"
               "BIOS-e820: [mem 0x0000000080000000-0x000000007fffffff] reserved\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    EXPECT_EQ(p.map.size(), 1u);
    EXPECT_EQ(p.info.entries, 2u);
    parse_text("efi: mem00: [Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] "
               "range=[0x0000000000100000-0x00000000000fffff] (0MB)\n"
               "efi: mem01: [Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] "
               "range=[0x0000000000200000-0x00000000002fffff] (1MB)\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    EXPECT_EQ(p.map.usable_bytes(), 0x100000u);
}

// Item 5: "0x3fffzfff" is a malformed number, not a range ending at 0x3fff.
TEST(LinuxTextHostile, NumberRunningIntoLettersIsMalformed) {
    expect_error("BIOS-e820: [mem 0x0000000000100000-0x3fffzfff] usable\n", Errc::malformed, 1,
                 "expected <start>-<end> hex addresses");
    expect_error("BIOS-e820: 0000000000100000 - 00000000dfffg000 (usable)\n", Errc::malformed, 1);
}

// Item 6: maps copied by hand from old mailing-list reports.
TEST(LinuxTextHostile, MarkersAndTypeNamesMatchWhateverTheirCase) {
    Parsed p;
    parse_text("bios-e820: [mem 0x0000000000000000-0x000000000009fbff] Usable\n"
               "Bios-E820: [mem 0x0000000000100000-0x000000007fffffff] USABLE\n"
               "BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] RESERVED\n"
               "bios-e820: 0000000100000000 - 0000000140000000 (acpi nvs)\n"
               "BIOS-E820: [mem 0x0000000140000000-0x000000017fffffff] system ram\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    EXPECT_EQ(p.info.source, TextMapInfo::Source::e820);
    EXPECT_EQ(p.info.entries, 5u);
    EXPECT_EQ(p.map.usable_bytes(), 0x9f000u + 0x7ff00000u + 0x40000000u);
    EXPECT_EQ(p.map.bytes(MemType::acpi_nvs), 0x40000000u);
    EXPECT_EQ(p.map.reserved_bytes(), 0x40000u);
    parse_text("EFI: MEM00: TYPE=7, ATTR=0xf, RANGE=[0x0-0x200000) (2MB)\n"
               "srat: node 1 pxm 1 [MEM 0x100000-0x1fffff]\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    EXPECT_EQ(p.info.source, TextMapInfo::Source::efi);
    EXPECT_EQ(p.map.bytes_in_node(1, MemType::usable), 0x100000u);
}

// Found by fuzz_linux_text once the parser was instrumented: a text whose
// only BIOS-e820 lines are [gap] lines parsed "successfully" into an empty map.
TEST(LinuxTextHostile, GapLinesAloneAreNoMap) {
    Parsed p;
    parse_text("BIOS-e820: [gap 0x00000000000a0000-0x00000000000effff]\n", p);
    EXPECT_EQ(p.status.code(), Errc::no_entries);
    parse_text("BIOS-e820: [gap 0x00000000000a0000-0x00000000000effff]\n"
               "efi: mem00: type=7, attr=0xf, range=[0x0-0x200000) (2MB)\n",
               p);
    ASSERT_TRUE(p.status.ok()) << p.status.reason();
    EXPECT_EQ(p.info.source, TextMapInfo::Source::efi);
    EXPECT_EQ(p.map.usable_bytes(), 0x200000u);
}

} // namespace
} // namespace kmem
