// Oracle test of parse_fdt: libfdt (Debian libfdt-dev, used only here) walks
// the same blob, the same MemoryMap calls are made from what it finds, and the
// two maps must agree range by range, along with the FdtInfo counts.
//
// Inputs: every board in data/dtbs; the sources in tests/data/dts compiled
// with dtc at test time; and QEMU "virt" trees dumped at test time for several
// memory sizes and NUMA layouts. dtc and qemu-system-aarch64 are required: if
// either is missing the tests fail (they never skip).
#include <kmem/memmap_parse.h>

#include "../test_util.h"

#include <gtest/gtest.h>

#include <libfdt.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kmem {
namespace {

namespace fs = std::filesystem;
using Blob = std::vector<uint8_t>;

constexpr uint64_t M = 1024 * 1024, G = 1024 * M;

// ---------------------------------------------------------------------------
// The oracle: the memory map as libfdt sees it.

// The value's first NUL-terminated string equals `s` (strcmp() on the value,
// bounded by its length).
bool prop_string_is(const void *value, int len, const char *s) {
    if (!value || len <= 0) return false;
    const char *v = static_cast<const char *>(value);
    return strnlen(v, static_cast<size_t>(len)) < static_cast<size_t>(len) &&
           std::strcmp(v, s) == 0;
}

bool node_available(const void *fdt, int node) {
    int len = 0;
    const void *status = fdt_getprop(fdt, node, "status", &len);
    return !status || prop_string_is(status, len, "okay") || prop_string_is(status, len, "ok");
}

uint64_t read_cells(const fdt32_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 32) | fdt32_to_cpu(p[i]);
    return v;
}

// Add each (address, size) pair of `reg` to the map; returns the pair count.
uint32_t add_reg_pairs(const void *reg, int len, int ac, int sc, MemType type, uint16_t node,
                       MemoryMap &out) {
    EXPECT_TRUE(ac >= 1 && ac <= 2 && sc >= 1 && sc <= 2) << "cells " << ac << "/" << sc;
    EXPECT_EQ(len % ((ac + sc) * 4), 0);
    const fdt32_t *cells = static_cast<const fdt32_t *>(reg);
    uint32_t pairs = 0;
    for (int i = 0; (i + ac + sc) * 4 <= len; i += ac + sc, ++pairs) {
        const uint64_t address = read_cells(cells + i, ac);
        const uint64_t size = read_cells(cells + i + ac, sc);
        if (size == 0) continue;
        Status s = out.add_untrimmed(address, address + size, type, node);
        EXPECT_TRUE(s.ok()) << s.reason();
        // A memory node's range is its node's, carve-outs inside included.
        if (type == MemType::usable) {
            EXPECT_TRUE(out.set_node(address, address + size, node).ok());
        }
    }
    return pairs;
}

void libfdt_memory_map(const Blob &blob, MemoryMap &out, FdtInfo &info) {
    const void *fdt = blob.data();
    out.clear();
    info = FdtInfo{};
    ASSERT_EQ(fdt_check_header(fdt), 0);
    info.version = fdt_version(fdt);

    // Memory reservation block.
    const int nrsv = fdt_num_mem_rsv(fdt);
    ASSERT_GE(nrsv, 0);
    for (int i = 0; i < nrsv; ++i) {
        uint64_t address = 0, size = 0;
        ASSERT_EQ(fdt_get_mem_rsv(fdt, i, &address, &size), 0);
        ++info.memreserve_entries;
        ASSERT_TRUE(out.add_untrimmed(address, address + size, MemType::reserved).ok());
    }

    // Root-level device_type = "memory" nodes, with the root's cells.
    const int root_ac = fdt_address_cells(fdt, 0);
    const int root_sc = fdt_size_cells(fdt, 0);
    int node = 0;
    fdt_for_each_subnode(node, fdt, 0) {
        int len = 0;
        const void *type = fdt_getprop(fdt, node, "device_type", &len);
        if (!prop_string_is(type, len, "memory") || !node_available(fdt, node)) continue;
        ++info.memory_nodes;
        const void *reg = fdt_getprop(fdt, node, "reg", &len);
        if (!reg) continue;
        uint16_t nid = 0;
        int nlen = 0;
        const void *numa = fdt_getprop(fdt, node, "numa-node-id", &nlen);
        if (numa) {
            EXPECT_EQ(nlen, 4);
            nid = static_cast<uint16_t>(fdt32_to_cpu(*static_cast<const fdt32_t *>(numa)));
        }
        info.memory_regs += add_reg_pairs(reg, len, root_ac, root_sc, MemType::usable, nid, out);
    }

    // /reserved-memory children, with its own cells.
    const int rsv = fdt_path_offset(fdt, "/reserved-memory");
    if (rsv >= 0) {
        const int ac = fdt_address_cells(fdt, rsv);
        const int sc = fdt_size_cells(fdt, rsv);
        int child = 0;
        fdt_for_each_subnode(child, fdt, rsv) {
            if (!node_available(fdt, child)) continue;
            int len = 0;
            const void *reg = fdt_getprop(fdt, child, "reg", &len);
            if (reg) {
                ++info.reserved_regions;
                add_reg_pairs(reg, len, ac, sc, MemType::reserved, 0, out);
            } else if (fdt_getprop(fdt, child, "size", &len)) {
                ++info.dynamic_reserved;
            }
        }
    }
    out.trim_usable_to_pages();
}

struct Compared {
    Status status;
    FdtInfo info;
    StaticMemoryMap<> map;
};

// Parse with kmem and with the libfdt oracle and compare everything.
std::unique_ptr<Compared> expect_same_as_libfdt(const Blob &blob, const std::string &what) {
    SCOPED_TRACE(what);
    auto ours = std::make_unique<Compared>();
    ours->status = parse_fdt(blob.data(), blob.size(), ours->map, &ours->info);
    EXPECT_TRUE(ours->status.ok())
        << what << ": " << ours->status.reason() << " at byte " << ours->status.error().at;
    EXPECT_TRUE(ours->map.check().ok()) << ours->map.check().reason();

    auto want = std::make_unique<Compared>();
    libfdt_memory_map(blob, want->map, want->info);

    EXPECT_EQ(ours->map.size(), want->map.size());
    for (size_t i = 0; i < ours->map.size() && i < want->map.size(); ++i) {
        const MemRange &a = ours->map[i], &b = want->map[i];
        EXPECT_EQ(a.start, b.start) << "range " << i;
        EXPECT_EQ(a.end, b.end) << "range " << i;
        EXPECT_EQ(a.type, b.type) << "range " << i;
        EXPECT_EQ(a.node, b.node) << "range " << i;
    }
    EXPECT_EQ(ours->info.version, want->info.version);
    EXPECT_EQ(ours->info.memory_nodes, want->info.memory_nodes);
    EXPECT_EQ(ours->info.memory_regs, want->info.memory_regs);
    EXPECT_EQ(ours->info.reserved_regions, want->info.reserved_regions);
    EXPECT_EQ(ours->info.dynamic_reserved, want->info.dynamic_reserved);
    EXPECT_EQ(ours->info.memreserve_entries, want->info.memreserve_entries);
    return ours;
}

// ---------------------------------------------------------------------------
// Tools run at test time.

fs::path work_dir() {
    fs::path dir = KMEM_ORACLE_WORK_DIR;
    fs::create_directories(dir);
    return dir;
}

std::string quote(const std::string &s) {
    std::string q = "'";
    for (char c : s)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// Run a shell command, output to `log`; true when it exits 0.
bool run(const std::string &cmd, const fs::path &log) {
    const int rc = std::system((cmd + " >" + quote(log.string()) + " 2>&1").c_str());
    return rc == 0;
}

std::string log_text(const fs::path &log) {
    try {
        return test::read_file(log.string());
    } catch (...) {
        return "(no output)";
    }
}

// The tools are required: a missing one is a failure with a clear message.
void require_tool(const char *tool, const char *version_flag) {
    const fs::path log = work_dir() / (std::string(tool) + ".version.log");
    ASSERT_TRUE(run(std::string(tool) + " " + version_flag, log))
        << tool << " is required by the FDT oracle tests but could not be run (install "
        << (std::string(tool) == "dtc" ? "device-tree-compiler" : "qemu-system-arm")
        << "): " << log_text(log);
}

Blob read_blob(const fs::path &p) {
    std::string s = test::read_file(p.string());
    return Blob(s.begin(), s.end());
}

// qemu-system-aarch64 -M virt,dumpdtb=OUT for the given extra arguments.
Blob qemu_virt_dtb(const std::string &name, const std::string &args) {
    const fs::path out = work_dir() / ("qemu-" + name + ".dtb");
    const fs::path log = work_dir() / ("qemu-" + name + ".log");
    fs::remove(out);
    const std::string cmd = "qemu-system-aarch64 -M virt,dumpdtb=" + quote(out.string()) +
                            " -cpu cortex-a57 -nographic -display none " + args;
    EXPECT_TRUE(run(cmd, log)) << cmd << ": " << log_text(log);
    if (!fs::exists(out)) {
        ADD_FAILURE() << "QEMU wrote no device tree: " << cmd << ": " << log_text(log);
        return {};
    }
    return read_blob(out);
}

// ---------------------------------------------------------------------------

TEST(FdtOracle, RealBoardsAgreeWithLibfdt) {
    size_t n = 0;
    for (const auto &e : fs::directory_iterator(test::data_path("dtbs"))) {
        if (e.path().extension() != ".dtb") continue;
        ++n;
        expect_same_as_libfdt(read_blob(e.path()), e.path().filename().string());
    }
    EXPECT_GE(n, 20u);
}

TEST(FdtOracle, DtsSourcesCompiledWithDtcAgreeWithLibfdt) {
    require_tool("dtc", "--version");
    const fs::path src = fs::path(KMEM_TEST_DATA_DIR) / "dts";
    size_t n = 0;
    for (const auto &e : fs::directory_iterator(src)) {
        if (e.path().extension() != ".dts") continue;
        ++n;
        const fs::path out = work_dir() / (e.path().stem().string() + ".dtb");
        const fs::path log = work_dir() / (e.path().stem().string() + ".dtc.log");
        const std::string cmd =
            "dtc -q -I dts -O dtb -o " + quote(out.string()) + " " + quote(e.path().string());
        ASSERT_TRUE(run(cmd, log)) << cmd << ": " << log_text(log);
        auto got = expect_same_as_libfdt(read_blob(out), e.path().filename().string());
        // Each source describes something; none of them is an empty map.
        EXPECT_FALSE(got->map.empty()) << e.path();
    }
    EXPECT_GE(n, 5u);
}

struct QemuMemory {
    const char *name;
    const char *size_arg;
    uint64_t bytes;
};

TEST(FdtOracle, QemuVirtMemorySizes) {
    require_tool("qemu-system-aarch64", "--version");
    for (const QemuMemory &q : {QemuMemory{"128m", "128M", 128 * M}, QemuMemory{"1g", "1G", G},
                                QemuMemory{"3g", "3G", 3 * G}, QemuMemory{"8g", "8G", 8 * G}}) {
        SCOPED_TRACE(q.name);
        Blob blob = qemu_virt_dtb(q.name, std::string("-m ") + q.size_arg);
        ASSERT_FALSE(blob.empty());
        auto got = expect_same_as_libfdt(blob, std::string("qemu virt -m ") + q.size_arg);
        EXPECT_EQ(got->map.usable_bytes(), q.bytes);
        EXPECT_EQ(got->map.node_count(), 1u);
        EXPECT_EQ(got->info.memory_nodes, 1u);
    }
}

struct QemuNuma {
    const char *name;
    std::vector<uint64_t> node_bytes; // memory of NUMA node 0, 1, ...
};

std::string numa_args(const QemuNuma &q) {
    uint64_t total = 0;
    std::string a;
    const size_t n = q.node_bytes.size();
    for (size_t i = 0; i < n; ++i) {
        const std::string id = std::to_string(i);
        a += " -object memory-backend-ram,id=m" + id +
             ",size=" + std::to_string(q.node_bytes[i] / M) + "M";
        a += " -numa node,nodeid=" + id + ",cpus=" + id + ",memdev=m" + id;
        total += q.node_bytes[i];
    }
    return "-smp " + std::to_string(n) + " -m " + std::to_string(total / M) + "M" + a;
}

TEST(FdtOracle, QemuVirtNumaLayouts) {
    require_tool("qemu-system-aarch64", "--version");
    const QemuNuma layouts[] = {
        {"numa2-equal", {512 * M, 512 * M}},
        {"numa2-uneven", {1 * G, 3 * G}},
        {"numa4", {256 * M, 768 * M, 1 * G, 2 * G}},
        {"numa4-large", {2 * G, 2 * G, 2 * G, 2 * G}},
    };
    for (const QemuNuma &q : layouts) {
        SCOPED_TRACE(q.name);
        const std::string args = numa_args(q);
        Blob blob = qemu_virt_dtb(q.name, args);
        ASSERT_FALSE(blob.empty());
        auto got = expect_same_as_libfdt(blob, "qemu virt " + args);
        uint64_t total = 0;
        for (size_t i = 0; i < q.node_bytes.size(); ++i) {
            EXPECT_EQ(got->map.bytes_in_node(static_cast<uint16_t>(i), MemType::usable),
                      q.node_bytes[i])
                << "node " << i;
            total += q.node_bytes[i];
        }
        EXPECT_EQ(got->map.usable_bytes(), total);
        EXPECT_EQ(got->map.node_count(), q.node_bytes.size());
        EXPECT_EQ(got->info.memory_nodes, q.node_bytes.size());
    }
}

} // namespace
} // namespace kmem
