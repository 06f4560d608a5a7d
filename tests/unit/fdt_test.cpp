// Unit tests of parse_fdt: every real board blob in data/dtbs, exact values
// worked out by hand from `dtc -I dtb -O dts` for several of them, and hostile
// blobs built here (or mutated from a real one), each of which must fail with
// the right error code and leave the map empty.
#include <kmem/memmap_parse.h>

#include "test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace kmem {
namespace {

using Blob = std::vector<uint8_t>;

constexpr uint64_t M = 1024 * 1024, G = 1024 * M;

// Header field offsets (devicetree specification, 5.2).
constexpr size_t kTotalSize = 4, kOffStruct = 8, kOffStrings = 12, kOffRsvmap = 16, kVersion = 20,
                 kLastComp = 24, kSizeStrings = 32, kSizeStruct = 36;
constexpr size_t kHeaderSize = 40;

void put_be32(Blob &b, size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        b[off + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
uint32_t get_be32(const Blob &b, size_t off) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v = (v << 8) | b[off + i];
    return v;
}
void append_be32(Blob &b, uint32_t v) {
    b.resize(b.size() + 4);
    put_be32(b, b.size() - 4, v);
}
void append_be64(Blob &b, uint64_t v) {
    append_be32(b, static_cast<uint32_t>(v >> 32));
    append_be32(b, static_cast<uint32_t>(v));
}

// A small FDT writer: tokens are appended in order, property names are
// interned in the strings block, and build() lays the blob out as dtc does
// (header, memory reservation block, structure block, strings block), or with
// the reservation block last when `rsvmap_last` is set.
class FdtBuilder {
public:
    FdtBuilder &memreserve(uint64_t address, uint64_t size) {
        rsv_.push_back({address, size});
        return *this;
    }
    FdtBuilder &begin(const std::string &name) {
        token(1);
        for (char c : name)
            st_.push_back(static_cast<uint8_t>(c));
        st_.push_back(0);
        pad();
        return *this;
    }
    FdtBuilder &end() { return token(2); }
    FdtBuilder &nop() { return token(4); }
    FdtBuilder &token(uint32_t t) {
        append_be32(st_, t);
        return *this;
    }
    FdtBuilder &prop(const std::string &name, const Blob &value) {
        return prop_at(name_offset(name), value);
    }
    // A property whose name is at `name_off` in the strings block, whatever is there.
    FdtBuilder &prop_at(uint32_t name_off, const Blob &value) {
        token(3);
        append_be32(st_, static_cast<uint32_t>(value.size()));
        append_be32(st_, name_off);
        last_value_ = st_.size();
        st_.insert(st_.end(), value.begin(), value.end());
        pad();
        return *this;
    }
    FdtBuilder &cells(const std::string &name, std::initializer_list<uint32_t> v) {
        Blob b;
        for (uint32_t c : v)
            append_be32(b, c);
        return prop(name, b);
    }
    FdtBuilder &str(const std::string &name, const std::string &s) {
        Blob b(s.begin(), s.end());
        b.push_back(0);
        return prop(name, b);
    }
    // Raw bytes into the structure / strings block, for hostile layouts.
    FdtBuilder &raw_struct(const Blob &b) {
        st_.insert(st_.end(), b.begin(), b.end());
        return *this;
    }
    FdtBuilder &raw_strings(const std::string &s) {
        strings_ += s;
        return *this;
    }

    uint32_t strings_size() const { return static_cast<uint32_t>(strings_.size()); }

    bool end_token = true;      // append FDT_END
    bool rsv_terminated = true; // append the (0, 0) entry
    bool rsvmap_last = false;   // put the reservation block at the very end

    // Offset in the built blob of the last property value written.
    size_t last_value_offset() const { return struct_offset() + last_value_; }
    size_t struct_offset() const { return rsvmap_last ? kHeaderSize : kHeaderSize + rsv_bytes(); }

    Blob build() const {
        Blob st = st_;
        if (end_token) append_be32(st, 9);
        Blob rsv;
        for (auto [a, s] : rsv_) {
            append_be64(rsv, a);
            append_be64(rsv, s);
        }
        if (rsv_terminated) {
            append_be64(rsv, 0);
            append_be64(rsv, 0);
        }
        Blob b(kHeaderSize, 0);
        size_t off_rsv, off_struct, off_strings;
        if (!rsvmap_last) {
            off_rsv = b.size();
            b.insert(b.end(), rsv.begin(), rsv.end());
            off_struct = b.size();
            b.insert(b.end(), st.begin(), st.end());
            off_strings = b.size();
            b.insert(b.end(), strings_.begin(), strings_.end());
        } else {
            off_struct = b.size();
            b.insert(b.end(), st.begin(), st.end());
            off_strings = b.size();
            b.insert(b.end(), strings_.begin(), strings_.end());
            while (b.size() % 8)
                b.push_back(0);
            off_rsv = b.size();
            b.insert(b.end(), rsv.begin(), rsv.end());
        }
        put_be32(b, 0, 0xd00dfeed);
        put_be32(b, kTotalSize, static_cast<uint32_t>(b.size()));
        put_be32(b, kOffStruct, static_cast<uint32_t>(off_struct));
        put_be32(b, kOffStrings, static_cast<uint32_t>(off_strings));
        put_be32(b, kOffRsvmap, static_cast<uint32_t>(off_rsv));
        put_be32(b, kVersion, 17);
        put_be32(b, kLastComp, 16);
        put_be32(b, kSizeStrings, static_cast<uint32_t>(strings_.size()));
        put_be32(b, kSizeStruct, static_cast<uint32_t>(st.size()));
        return b;
    }

private:
    uint32_t name_offset(const std::string &name) {
        for (size_t i = 0; i + name.size() < strings_.size() + 1; ++i)
            if ((i == 0 || strings_[i - 1] == '\0') &&
                strings_.compare(i, name.size() + 1, name.c_str(), name.size() + 1) == 0)
                return static_cast<uint32_t>(i);
        const size_t off = strings_.size();
        strings_ += name;
        strings_.push_back('\0');
        return static_cast<uint32_t>(off);
    }
    void pad() {
        while (st_.size() % 4)
            st_.push_back(0);
    }
    size_t rsv_bytes() const { return 16 * (rsv_.size() + (rsv_terminated ? 1 : 0)); }

    std::vector<std::pair<uint64_t, uint64_t>> rsv_;
    Blob st_;
    std::string strings_;
    size_t last_value_ = 0;
};

// The root of a 2/2-cell tree, as most arm64 boards have it.
FdtBuilder root22() {
    FdtBuilder b;
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    return b;
}

// A memory node with 2/2 cells.
void memory_node(FdtBuilder &b, const char *name, uint64_t addr, uint64_t size) {
    b.begin(name)
        .str("device_type", "memory")
        .cells("reg", {uint32_t(addr >> 32), uint32_t(addr), uint32_t(size >> 32), uint32_t(size)})
        .end();
}

struct Parsed {
    Status status;
    FdtInfo info;
    StaticMemoryMap<> map;
};

// Parse into a map that already holds something, so "left empty" is a real check.
std::unique_ptr<Parsed> parse(const Blob &b, size_t len) {
    auto p = std::make_unique<Parsed>();
    EXPECT_TRUE(p->map.add(0x1000, 0x2000, MemType::usable).ok());
    p->status = parse_fdt(b.data(), len, p->map, &p->info);
    return p;
}
std::unique_ptr<Parsed> parse(const Blob &b) { return parse(b, b.size()); }

// The blob must fail with `code`, a reason containing `reason_part`, a byte
// offset, and leave the map empty.
std::unique_ptr<Parsed> expect_error(const Blob &b, Errc code, const char *reason_part = "") {
    auto p = parse(b);
    EXPECT_EQ(p->status.code(), code)
        << "got " << errc_name(p->status.code()) << ": " << p->status.reason();
    EXPECT_NE(std::string(p->status.reason()).find(reason_part), std::string::npos)
        << "reason \"" << p->status.reason() << "\" lacks \"" << reason_part << "\"";
    EXPECT_EQ(p->status.error().where, Where::byte);
    EXPECT_TRUE(p->map.empty()) << "map not left empty on error";
    return p;
}

Blob read_dtb(const std::string &name) {
    std::string s = test::read_file(test::data_path("dtbs/" + name + ".dtb"));
    return Blob(s.begin(), s.end());
}

// ---------------------------------------------------------------------------
// (a) every real board parses and yields a valid map

TEST(FdtRealBlobs, EveryBoardParsesAndChecks) {
    namespace fs = std::filesystem;
    size_t n = 0;
    for (const auto &e : fs::directory_iterator(test::data_path("dtbs"))) {
        if (e.path().extension() != ".dtb") continue;
        ++n;
        std::string s = test::read_file(e.path().string());
        Blob b(s.begin(), s.end());
        auto p = parse(b);
        EXPECT_TRUE(p->status.ok())
            << e.path() << ": " << p->status.reason() << " at byte " << p->status.error().at;
        EXPECT_TRUE(p->map.check().ok()) << e.path() << ": " << p->map.check().reason();
        EXPECT_EQ(p->info.version, 17u) << e.path();
    }
    EXPECT_GE(n, 20u);
}

// ---------------------------------------------------------------------------
// (b) exact values, worked out by hand from `dtc -I dtb -O dts`

struct BoardExpect {
    uint64_t usable, reserved;
    uint32_t memory_nodes, memory_regs, reserved_regions, dynamic_reserved, memreserve;
};

void expect_board(const std::string &name, const BoardExpect &want) {
    auto p = parse(read_dtb(name));
    ASSERT_TRUE(p->status.ok()) << name << ": " << p->status.reason();
    ASSERT_TRUE(p->map.check().ok());
    EXPECT_EQ(p->map.usable_bytes(), want.usable) << name;
    EXPECT_EQ(p->map.reserved_bytes(), want.reserved) << name;
    EXPECT_EQ(p->info.memory_nodes, want.memory_nodes) << name;
    EXPECT_EQ(p->info.memory_regs, want.memory_regs) << name;
    EXPECT_EQ(p->info.reserved_regions, want.reserved_regions) << name;
    EXPECT_EQ(p->info.dynamic_reserved, want.dynamic_reserved) << name;
    EXPECT_EQ(p->info.memreserve_entries, want.memreserve) << name;
}

// / { #address-cells = <2>; #size-cells = <2>;
//   memory@0 { device_type = "memory"; reg = <0x00 0x00 0x00 0x40000000>; }  -> [0, 1 GiB)
//   reserved-memory { #address-cells = <2>; #size-cells = <2>;
//     secmon@5000000 { reg = <0x00 0x5000000 0x00 0x300000>; }   -> [0x5000000, 0x5300000)
//     secmon@5300000 { reg = <0x00 0x5300000 0x00 0x2000000>; }  -> [0x5300000, 0x7300000)
//     linux,cma { size = <0x00 0x10000000>; }                    -> dynamic, not added
// reserved = 0x300000 + 0x2000000 = 0x2300000 (35 MiB)
// usable = 0x40000000 - 0x2300000 = 0x3dd00000
TEST(FdtRealBlobs, AmlogicSm1ReservedMemoryCarveOuts) {
    expect_board("amlogic__meson-sm1-x96-air", {0x3dd00000, 0x2300000, 1, 1, 2, 1, 0});
    auto p = parse(read_dtb("amlogic__meson-sm1-x96-air"));
    ASSERT_EQ(p->map.size(), 3u);
    EXPECT_EQ(p->map[1].start, 0x5000000u);
    EXPECT_EQ(p->map[1].end, 0x7300000u);
    EXPECT_EQ(p->map[1].type, MemType::reserved);
}

// /memreserve/ 0x0 0x1000;  (the spin-table page)
// / { #address-cells = <1>; #size-cells = <1>;
//   memory@0 { device_type = "memory"; reg = <0x00 0x20000000>; }  -> [0, 512 MiB)
//   reserved-memory { linux,cma { size = <0x4000000>; } }          -> dynamic only
// usable = 0x20000000 - 0x1000 = 0x1ffff000; reserved = 0x1000
TEST(FdtRealBlobs, RaspberryPiZero2MemreserveAndOneCellTree) {
    expect_board("broadcom__bcm2837-rpi-zero-2-w", {0x1ffff000, 0x1000, 1, 1, 0, 1, 1});
}

// /memreserve/ 0x80000000 0x10000;
// memory@80000000 { reg = <0x00 0x80000000 0x00 0x80000000>; }  -> [2 GiB, 4 GiB)
// usable = 0x80000000 - 0x10000 = 0x7fff0000; reserved = 0x10000
TEST(FdtRealBlobs, Lx2160aHoneycombMemreserveInsideRam) {
    expect_board("freescale__fsl-lx2160a-honeycomb", {0x7fff0000, 0x10000, 1, 1, 0, 0, 1});
}

// memory@0 { reg = <0x00 0x00 0x00 0x20000000>; }                 -> [0, 512 MiB)
// reserved-memory { psci-area@4000000 { reg = <0x00 0x4000000 0x00 0x200000>; } }
// usable = 0x20000000 - 0x200000 = 0x1fe00000; reserved = 0x200000
TEST(FdtRealBlobs, Armada3720PsciArea) {
    expect_board("marvell__armada-3720-eDPU", {0x1fe00000, 0x200000, 1, 1, 1, 0, 0});
}

// memory@80000000 { reg = <0x00 0x80000000 0x00 0x00>; }  -> size 0: boot loader fills it in
// reserved-memory, 11 children with reg (sizes):
//   tz-apps 0x300000, smem 0x100000, hypervisor 0x100000, tz 0x180000,
//   reserved 0x80000, rmtfs 0xe0000, rfsa 0x20000, mpss 0x2b00000,
//   wcnss 0x600000, venus 0x600000 : contiguous 0x86000000 .. 0x89f00000 = 0x3f00000
//   mba@8ea00000 0x100000
// reserved = 0x3f00000 + 0x100000 = 0x4000000 (64 MiB); usable = 0
TEST(FdtRealBlobs, Msm8916EmptyMemoryRegAndManyCarveOuts) {
    expect_board("qcom__msm8916-wingtech-wt88047", {0, 0x4000000, 1, 1, 11, 0, 0});
    auto p = parse(read_dtb("qcom__msm8916-wingtech-wt88047"));
    ASSERT_EQ(p->map.size(), 2u);
    EXPECT_EQ(p->map[0].start, 0x86000000u);
    EXPECT_EQ(p->map[0].end, 0x89f00000u);
    EXPECT_EQ(p->map[1].start, 0x8ea00000u);
    EXPECT_EQ(p->map[1].end, 0x8eb00000u);
}

// memory@48000000  { reg = <0x00 0x48000000 0x00 0x78000000>; }  -> [0x48000000, 0xc0000000)
// memory@600000000 { reg = <0x06 0x00 0x00 0x80000000>; }        -> [0x600000000, 0x680000000)
// usable = 0x78000000 + 0x80000000 = 0xf8000000 (3968 MiB)
TEST(FdtRealBlobs, RzG2mTwoMemoryNodes) {
    expect_board("renesas__r8a774a1-hihope-rzg2m-ex", {0xf8000000, 0, 2, 2, 0, 0, 0});
    auto p = parse(read_dtb("renesas__r8a774a1-hihope-rzg2m-ex"));
    ASSERT_EQ(p->map.size(), 2u);
    EXPECT_EQ(p->map[1].start, 0x600000000u);
    EXPECT_EQ(p->map[1].end, 0x680000000u);
}

// memory@0 { reg = <0x00 0x00 0x00 0x80000000  0x08 0x00 0x00 0x80000000>; }
//   two pairs: [0, 2 GiB) and [0x800000000, 0x880000000); usable = 4 GiB
TEST(FdtRealBlobs, KriaK26TwoPairsInOneReg) {
    expect_board("xilinx__smk-k26-revA-sm-k26-revA-sck-kv-g-revA", {4 * G, 0, 1, 2, 0, 0, 0});
}

// No /memory node at all (U-Boot adds it). reserved-memory:
//   dsp@92400000 { reg = <0x00 0x92400000 0x00 0x2000000>; }  -> reserved 32 MiB
TEST(FdtRealBlobs, Imx8mpNoMemoryNodeOnlyReserved) {
    expect_board("freescale__imx8mp-icore-mx8mp-edimm2.2", {0, 32 * M, 0, 0, 1, 0, 0});
}

// No /memory, no /reserved-memory, no memreserve: an empty map, not an error.
TEST(FdtRealBlobs, AllwinnerH5NoMemoryAtAll) {
    expect_board("allwinner__sun50i-h5-libretech-all-h3-it", {0, 0, 0, 0, 0, 0, 0});
    auto p = parse(read_dtb("allwinner__sun50i-h5-libretech-all-h3-it"));
    EXPECT_TRUE(p->map.empty());
}

// reserved-memory (2/2 cells) holds 17 children: 16 with reg, 1 (adsp-region)
// with only size. Sum of the reg sizes, merged where they overlap:
//   0x85600000+0x100000, 0x85700000+0x100000, 0x85800000+0x600000,
//   0x85e00000+0x200000, 0x86000000+0x200000, 0x86200000+0x3300000 (ends 0x89500000),
//   removed_region 0x85800000+0x3700000 (ends 0x88f00000, inside the above)
//     -> [0x85600000, 0x89500000) = 0x3f00000
//   mpss 0x8ac00000+0x7e00000 (0x92a00000), adsp 0x92a00000+0x1e00000 (0x94800000),
//   mba 0x94800000+0x200000, tzbuffer 0x94a00000+0x100000
//     -> [0x8ac00000, 0x94b00000) = 0x9f00000
//   venus 0x9f800000+0x800000 -> 0x800000; qseecom 0xf6800000+0x1400000 -> 0x1400000
//   gpu 0xfed00000+0xa00000 -> 0xa00000
//   debug 0xffb00000+0x100000 and ramoops 0xffc00000+0x100000 -> 0x200000
// reserved = 0x3f00000+0x9f00000+0x800000+0x1400000+0xa00000+0x200000 = 0x10600000
TEST(FdtRealBlobs, Sdm630OverlappingCarveOutsAndDynamicRegion) {
    expect_board("qcom__sdm630-sony-xperia-nile-pioneer", {0, 0x10600000, 1, 1, 16, 1, 0});
}

// ---------------------------------------------------------------------------
// Valid hand-built trees

TEST(FdtBuilt, MinimalTreeIsEmptyMap) {
    FdtBuilder b;
    b.begin("").end();
    auto p = parse(b.build());
    ASSERT_TRUE(p->status.ok()) << p->status.reason();
    EXPECT_TRUE(p->map.empty());
    EXPECT_EQ(p->info.version, 17u);
}

TEST(FdtBuilt, MemoryPropertiesInAnyOrderNumaAndNops) {
    FdtBuilder b = root22();
    b.nop();
    b.begin("memory@80000000")
        .cells("numa-node-id", {3})
        .cells("reg", {0, 0x80000000, 0, 0x40000000})
        .nop()
        .str("device_type", "memory")
        .end();
    memory_node(b, "memory@100000000", 0x100000000, 0x40000000);
    b.end();
    auto p = parse(b.build());
    ASSERT_TRUE(p->status.ok()) << p->status.reason();
    ASSERT_EQ(p->map.size(), 2u);
    EXPECT_EQ(p->map[0].node, 3u);
    EXPECT_EQ(p->map[1].node, 0u);
    EXPECT_EQ(p->map.usable_bytes(), 2 * G);
    EXPECT_EQ(p->info.memory_nodes, 2u);
    EXPECT_EQ(p->info.memory_regs, 2u);
}

TEST(FdtBuilt, DefaultCellsAreTwoAndOne) {
    FdtBuilder b; // root without #address-cells / #size-cells
    b.begin("")
        .begin("memory")
        .str("device_type", "memory")
        .cells("reg", {1, 0, 0x10000000})
        .end()
        .end();
    auto p = parse(b.build());
    ASSERT_TRUE(p->status.ok()) << p->status.reason();
    ASSERT_EQ(p->map.size(), 1u);
    EXPECT_EQ(p->map[0].start, 0x100000000u);
    EXPECT_EQ(p->map[0].end, 0x110000000u);
}

TEST(FdtBuilt, StatusAndPlacementRules) {
    FdtBuilder b = root22();
    // disabled memory: skipped and not counted
    b.begin("memory@0")
        .str("device_type", "memory")
        .str("status", "disabled")
        .cells("reg", {0, 0, 0, 0x10000000})
        .end();
    // status "ok" is as good as "okay"
    b.begin("memory@40000000")
        .str("device_type", "memory")
        .str("status", "ok")
        .cells("reg", {0, 0x40000000, 0, 0x10000000})
        .end();
    // a memory node without reg: counted, nothing added
    b.begin("memory@50000000").str("device_type", "memory").end();
    // device_type "memory" below the root level is not a memory node
    b.begin("soc")
        .begin("memory@60000000")
        .str("device_type", "memory")
        .cells("reg", {0, 0x60000000, 0, 0x10000000})
        .end()
        .end();
    // a PCI-style node with 3 address cells does not matter
    b.begin("pcie@0").cells("#address-cells", {3}).cells("#size-cells", {2}).end();
    // device_type not NUL-terminated inside its value: not "memory"
    b.begin("memory@70000000")
        .prop("device_type", Blob{'m', 'e', 'm', 'o', 'r', 'y'})
        .cells("reg", {0, 0x70000000, 0, 0x10000000})
        .end();
    b.begin("reserved-memory").cells("#address-cells", {1}).cells("#size-cells", {1});
    b.begin("a@44000000").cells("reg", {0x44000000, 0x100000}).str("status", "okay").end();
    b.begin("b@45000000").cells("reg", {0x45000000, 0x100000}).str("status", "disabled").end();
    b.begin("cma").cells("size", {0x1000000}).end();
    b.begin("neither").end();
    b.end();
    b.end();
    auto p = parse(b.build());
    ASSERT_TRUE(p->status.ok()) << p->status.reason();
    EXPECT_EQ(p->info.memory_nodes, 2u);
    EXPECT_EQ(p->info.memory_regs, 1u);
    EXPECT_EQ(p->info.reserved_regions, 1u);
    EXPECT_EQ(p->info.dynamic_reserved, 1u);
    EXPECT_EQ(p->map.usable_bytes(), 0x10000000u - 0x100000u);
    EXPECT_EQ(p->map.reserved_bytes(), 0x100000u);
}

TEST(FdtBuilt, MemreserveAndVersion16) {
    FdtBuilder b = root22();
    memory_node(b, "memory@0", 0, 0x10000000);
    b.end();
    b.memreserve(0x1000, 0x1000).memreserve(0x8000, 0).memreserve(0x20000, 0x800);
    Blob blob = b.build();
    put_be32(blob, kVersion, 16);
    put_be32(blob, kSizeStruct, 0xffffffff); // not a v16 field: ignored
    auto p = parse(blob);
    ASSERT_TRUE(p->status.ok()) << p->status.reason();
    EXPECT_EQ(p->info.version, 16u);
    EXPECT_EQ(p->info.memreserve_entries, 3u);
    EXPECT_EQ(p->map.reserved_bytes(), 0x1000u + 0x800u);
    // [0x20000, 0x20800) reserved cuts the usable page [0x20000, 0x21000) out whole.
    EXPECT_EQ(p->map.usable_bytes(), 0x10000000u - 0x1000u - 0x1000u);
    EXPECT_TRUE(p->map.check().ok());
}

TEST(FdtBuilt, NestingUpToTheLimitIsFine) {
    FdtBuilder b;
    for (int i = 0; i < 64; ++i)
        b.begin(i ? "n" : "");
    for (int i = 0; i < 64; ++i)
        b.end();
    auto p = parse(b.build());
    EXPECT_TRUE(p->status.ok()) << p->status.reason();
}

// ---------------------------------------------------------------------------
// (c) hostile inputs

// A well-formed tree with usable memory and a memreserve entry, so an error
// found later really has something to throw away.
FdtBuilder good_prefix() {
    FdtBuilder b = root22();
    b.memreserve(0x1000, 0x1000);
    memory_node(b, "memory@0", 0, 0x40000000);
    return b;
}

TEST(FdtHostile, NullAndEmpty) {
    StaticMemoryMap<> m;
    EXPECT_EQ(parse_fdt(nullptr, 16, m).code(), Errc::invalid_argument);
    EXPECT_EQ(parse_fdt(nullptr, 0, m).code(), Errc::truncated);
    EXPECT_TRUE(m.empty());
}

TEST(FdtHostile, BadMagic) {
    Blob b = read_dtb("marvell__armada-3720-eDPU");
    b[3] ^= 1;
    auto p = expect_error(b, Errc::bad_magic);
    EXPECT_EQ(p->status.error().at, 0u);
}

TEST(FdtHostile, TotalSizeLargerThanBuffer) {
    Blob b = read_dtb("marvell__armada-3720-eDPU");
    auto p = parse(b, b.size() - 1);
    EXPECT_EQ(p->status.code(), Errc::truncated);
    EXPECT_EQ(p->status.error().at, b.size() - 1);
    EXPECT_TRUE(p->map.empty());
    put_be32(b, kTotalSize, static_cast<uint32_t>(b.size() + 1));
    expect_error(b, Errc::truncated, "totalsize");
}

TEST(FdtHostile, TruncatedHeader) {
    Blob b = read_dtb("marvell__armada-3720-eDPU");
    for (size_t len : {0u, 3u, 4u, 20u, 35u, 39u}) {
        auto p = parse(b, len);
        EXPECT_EQ(p->status.code(), Errc::truncated) << "len " << len;
        EXPECT_TRUE(p->map.empty());
    }
}

TEST(FdtHostile, TotalSizeSmallerThanHeader) {
    Blob b = good_prefix().end().build();
    put_be32(b, kTotalSize, 32);
    expect_error(b, Errc::malformed, "totalsize is smaller");
}

TEST(FdtHostile, StructOffsetOutOfBounds) {
    Blob b = good_prefix().end().build();
    put_be32(b, kOffStruct, static_cast<uint32_t>(b.size() + 4));
    auto p = expect_error(b, Errc::malformed, "structure block offset is out of bounds");
    EXPECT_EQ(p->status.error().at, kOffStruct);

    b = good_prefix().end().build();
    put_be32(b, kSizeStruct, static_cast<uint32_t>(b.size()));
    expect_error(b, Errc::malformed, "structure block size");

    b = good_prefix().end().build();
    put_be32(b, kOffStruct, get_be32(b, kOffStruct) + 2); // misaligned
    expect_error(b, Errc::malformed, "not 4-byte aligned");

    b = good_prefix().end().build();
    put_be32(b, kOffRsvmap, 44); // misaligned reservation block
    expect_error(b, Errc::malformed, "not 8-byte aligned");
    put_be32(b, kOffRsvmap, 0xfffffff8);
    expect_error(b, Errc::malformed, "reservation block offset is out of bounds");
}

TEST(FdtHostile, StringsOffsetOutOfBounds) {
    Blob b = good_prefix().end().build();
    put_be32(b, kOffStrings, static_cast<uint32_t>(b.size()));
    auto p = expect_error(b, Errc::malformed, "strings block is out of bounds");
    EXPECT_EQ(p->status.error().at, kOffStrings);

    b = good_prefix().end().build();
    put_be32(b, kSizeStrings, 0xfffffff0); // offset + size overflows 32 bits
    expect_error(b, Errc::malformed, "strings block is out of bounds");
}

TEST(FdtHostile, UnterminatedNodeName) {
    FdtBuilder b = good_prefix();
    b.token(1).raw_struct(Blob{'m', 'e', 'm', 'o'});
    b.end_token = false; // the struct block ends inside the name
    expect_error(b.build(), Errc::malformed, "unterminated string");
}

TEST(FdtHostile, UnterminatedPropertyName) {
    FdtBuilder b = good_prefix();
    const uint32_t tail = b.strings_size();
    b.raw_strings("bogus-name-without-nul"); // the strings block ends without a NUL
    b.begin("x").prop_at(tail, Blob{}).end().end();
    expect_error(b.build(), Errc::malformed, "unterminated string");
}

TEST(FdtHostile, PropertyNameOffsetOutOfBounds) {
    FdtBuilder b = good_prefix();
    b.begin("x").prop_at(b.strings_size(), Blob{'x', 0}).end().end();
    expect_error(b.build(), Errc::malformed, "out of bounds");

    FdtBuilder c = good_prefix();
    c.begin("x").prop_at(0xffffffff, Blob{}).end().end();
    expect_error(c.build(), Errc::malformed, "out of bounds");
}

TEST(FdtHostile, PropertyLengthRunsPastBlock) {
    FdtBuilder b = good_prefix();
    b.token(3);
    Blob hdr;
    append_be32(hdr, 0x1000); // len far past the end
    append_be32(hdr, 0);
    b.raw_struct(hdr).end();
    expect_error(b.build(), Errc::truncated, "property value runs past");

    FdtBuilder c = good_prefix();
    c.token(3).raw_struct(Blob{0, 0}); // property header itself cut short
    c.end_token = false;
    expect_error(c.build(), Errc::truncated, "property header runs past");
}

TEST(FdtHostile, AddressCellsThree) {
    FdtBuilder b;
    b.begin("").cells("#address-cells", {3}).cells("#size-cells", {2});
    b.begin("memory@0").str("device_type", "memory").cells("reg", {0, 0, 0, 0, 0x1000}).end().end();
    expect_error(b.build(), Errc::malformed, "#address-cells > 2");
}

TEST(FdtHostile, SizeCellsThree) {
    FdtBuilder b;
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {3});
    b.begin("memory@0").str("device_type", "memory").cells("reg", {0, 0, 0, 0, 0x1000}).end().end();
    expect_error(b.build(), Errc::malformed, "#size-cells > 2");
}

TEST(FdtHostile, ReservedMemoryCellsThree) {
    FdtBuilder b = good_prefix();
    b.begin("reserved-memory").cells("#address-cells", {3}).cells("#size-cells", {1});
    b.begin("x").cells("reg", {0, 0, 0x1000, 0x1000}).end().end().end();
    expect_error(b.build(), Errc::malformed, "#address-cells > 2");
}

TEST(FdtHostile, ZeroCells) {
    FdtBuilder b;
    b.begin("").cells("#address-cells", {0}).cells("#size-cells", {1});
    b.begin("memory@0").str("device_type", "memory").cells("reg", {0x1000}).end().end();
    expect_error(b.build(), Errc::malformed, "#address-cells is 0");

    FdtBuilder c;
    c.begin("").cells("#address-cells", {1}).cells("#size-cells", {0});
    c.begin("memory@0").str("device_type", "memory").cells("reg", {0x1000}).end().end();
    expect_error(c.build(), Errc::malformed, "#size-cells is 0");
}

TEST(FdtHostile, CellPropertyNotFourBytes) {
    FdtBuilder b;
    b.begin("").cells("#address-cells", {0, 2}).cells("#size-cells", {2});
    memory_node(b, "memory@0", 0, 0x1000);
    b.end();
    expect_error(b.build(), Errc::malformed, "#address-cells is not one 32-bit cell");

    FdtBuilder c = root22();
    c.begin("memory@0")
        .str("device_type", "memory")
        .prop("numa-node-id", Blob{0, 1})
        .cells("reg", {0, 0, 0, 0x1000})
        .end()
        .end();
    expect_error(c.build(), Errc::malformed, "numa-node-id is not one 32-bit cell");
}

TEST(FdtHostile, RegLengthNotMultipleOfCells) {
    FdtBuilder b = good_prefix();
    b.begin("memory@80000000")
        .str("device_type", "memory")
        .cells("reg", {0, 0x80000000, 0})
        .end()
        .end();
    expect_error(b.build(), Errc::malformed, "reg length");
}

TEST(FdtHostile, RegWrapsOrExceedsAddressLimit) {
    FdtBuilder b = good_prefix();
    b.begin("memory@ffff")
        .str("device_type", "memory")
        .cells("reg", {0xffffffff, 0xfffff000, 0, 0x2000})
        .end()
        .end();
    expect_error(b.build(), Errc::invalid_range, "wraps");

    FdtBuilder c = good_prefix();
    c.begin("memory@big")
        .str("device_type", "memory")
        .cells("reg", {0x00100000, 0, 0, 0x1000}); // 2^52: beyond the physical limit
    const size_t reg = c.last_value_offset();
    c.end().end();
    auto p = expect_error(c.build(), Errc::invalid_range, "52-bit");
    EXPECT_EQ(p->status.error().at, reg);
}

TEST(FdtHostile, Version15AndLastComp18) {
    Blob b = good_prefix().end().build();
    put_be32(b, kVersion, 15);
    auto p = expect_error(b, Errc::unsupported_version, "older than 16");
    EXPECT_EQ(p->status.error().at, kVersion);

    b = good_prefix().end().build();
    put_be32(b, kLastComp, 18);
    p = expect_error(b, Errc::unsupported_version, "newer than 17");
    EXPECT_EQ(p->status.error().at, kLastComp);
}

TEST(FdtHostile, MissingFdtEnd) {
    FdtBuilder b = good_prefix();
    b.end();
    b.end_token = false;
    expect_error(b.build(), Errc::truncated, "without FDT_END");
}

TEST(FdtHostile, EndWithNodesOpen) {
    FdtBuilder b = good_prefix(); // root never closed
    expect_error(b.build(), Errc::malformed, "FDT_END with nodes still open");
}

TEST(FdtHostile, EndNodeWithoutNode) {
    FdtBuilder b = good_prefix();
    b.end().end();
    expect_error(b.build(), Errc::malformed, "FDT_END_NODE without");
}

TEST(FdtHostile, FirstTokenNotRoot) {
    FdtBuilder b;
    b.nop().begin("").end();
    expect_error(b.build(), Errc::malformed, "does not start with the root");
}

TEST(FdtHostile, SecondRootOrPropertyOutsideNode) {
    FdtBuilder b = good_prefix();
    b.end().begin("").end();
    expect_error(b.build(), Errc::malformed, "second root");

    FdtBuilder c = good_prefix();
    c.end().str("model", "x");
    expect_error(c.build(), Errc::malformed, "property outside");
}

TEST(FdtHostile, PropertyAfterSubnode) {
    FdtBuilder b = good_prefix();
    b.cells("#size-cells", {1}).end(); // root property after memory@0
    expect_error(b.build(), Errc::malformed, "property after a subnode");
}

TEST(FdtHostile, UnknownToken) {
    FdtBuilder b = good_prefix();
    b.token(5).end();
    expect_error(b.build(), Errc::malformed, "unknown");

    FdtBuilder c = good_prefix();
    c.token(0x09000000).end();
    expect_error(c.build(), Errc::malformed, "unknown");
}

TEST(FdtHostile, NestingDeeperThanLimit) {
    FdtBuilder b = good_prefix();
    for (int i = 0; i < 64; ++i)
        b.begin("n");
    for (int i = 0; i < 65; ++i)
        b.end();
    expect_error(b.build(), Errc::capacity, "deeper than 64");
}

TEST(FdtHostile, NumaNodeIdTooLarge) {
    FdtBuilder b = good_prefix();
    b.begin("memory@80000000")
        .str("device_type", "memory")
        .cells("reg", {0, 0x80000000, 0, 0x1000000})
        .cells("numa-node-id", {kMaxNodes});
    const size_t at = b.last_value_offset();
    b.end().end();
    auto p = expect_error(b.build(), Errc::invalid_argument, "numa-node-id");
    EXPECT_EQ(p->status.error().where, Where::byte);
    EXPECT_EQ(p->status.error().at, at);
}

TEST(FdtHostile, MemreserveRunsOffTheEnd) {
    FdtBuilder b = good_prefix();
    b.end();
    b.rsv_terminated = false;
    b.rsvmap_last = true;
    expect_error(b.build(), Errc::truncated, "reservation block runs past");
}

TEST(FdtHostile, MemreserveWrapsOrExceedsLimit) {
    FdtBuilder b = good_prefix();
    b.end().memreserve(0xfffffffffffff000ull, 0x2000);
    auto p = expect_error(b.build(), Errc::invalid_range, "wraps");
    EXPECT_EQ(p->status.error().at, kHeaderSize + 16); // the second entry

    FdtBuilder c = good_prefix();
    c.end().memreserve(uint64_t{1} << 52, 0x1000);
    p = expect_error(c.build(), Errc::invalid_range, "52-bit");
    EXPECT_EQ(p->status.error().at, kHeaderSize + 16);
}

TEST(FdtHostile, CapacityExhausted) {
    FdtBuilder b = root22();
    b.begin("memory@0").str("device_type", "memory");
    Blob v;
    for (uint64_t i = 0; i < 10; ++i) { // ten disjoint ranges into a 4-range map
        append_be64(v, i * 0x100000);
        append_be64(v, 0x1000);
    }
    b.prop("reg", v).end().end();
    Blob blob = b.build();
    StaticMemoryMap<4> m;
    Status s = parse_fdt(blob.data(), blob.size(), m);
    EXPECT_EQ(s.code(), Errc::capacity);
    EXPECT_EQ(s.error().where, Where::byte);
    EXPECT_TRUE(m.empty());
}

// Every truncation of a real blob fails cleanly (or is a valid prefix, which
// cannot happen here because totalsize is checked first).
TEST(FdtHostile, EveryPrefixOfARealBlobFails) {
    Blob b = read_dtb("qcom__msm8916-wingtech-wt88047");
    for (size_t len = 0; len < b.size(); len += 97) {
        auto p = parse(b, len);
        EXPECT_FALSE(p->status.ok()) << len;
        EXPECT_TRUE(p->map.empty());
    }
}

} // namespace
} // namespace kmem
