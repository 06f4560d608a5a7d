// SPDX-License-Identifier: MIT
//
// DOC: the C API (include/kmem/kmem.h) called from C++: errors as codes
// with reasons, the staged firmware map (e820 tables, text, EFI), and one
// program's whole life - refusals before boot, the four phases on the
// hosted platform, kmalloc, caches, pages, the bootmem/memblock calls and
// their early-allocation records, check and the reports. The C API has one
// memory system per process, so only the Lifecycle test boots it.
#include <kmem/hosted.h>
#include <kmem/kmem.h>

#include <kmem/memmap.h>
#include <kmem/memmap_parse.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20, kGiB = uint64_t{1} << 30;

std::string read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

struct E820 {
    uint64_t base, length;
    uint32_t type;
} __attribute__((packed));
static_assert(sizeof(E820) == 20);
struct E820Acpi3 {
    uint64_t base, length;
    uint32_t type, attrs;
} __attribute__((packed));

std::vector<kmem_mem_range> staged_ranges() {
    std::vector<kmem_mem_range> out(kmem_map_count());
    for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(kmem_map_range(i, &out[i]), KMEM_OK);
    return out;
}

TEST(CApi, ErrorCodesHaveNames) {
    EXPECT_STREQ(kmem_errc_name(KMEM_OK), "ok");
    EXPECT_STREQ(kmem_errc_name(KMEM_DOUBLE_FREE), "double free");
    EXPECT_STREQ(kmem_errc_name(KMEM_WRONG_CONTEXT), "wrong calling context");
    EXPECT_STREQ(kmem_errc_name(static_cast<kmem_errc>(99)), "?");
    EXPECT_STREQ(kmem_phase_name(KMEM_PHASE_EARLY_WINDOW), "EarlyWindow");
    EXPECT_STREQ(kmem_mem_type_name(KMEM_MEM_USABLE), "usable");
}

TEST(CApi, E820TableFromTheBios) {
    const E820 table[] = {{0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0x100000, 0x7ff00000, 1}, {0xfec00000, 0x1000, 2},
                          {0x100000000, 0x40000000, 1}, {0x140000000, 0x1000, 4}};
    kmem_error err{};
    ASSERT_EQ(kmem_map_parse_e820(table, 6, sizeof(E820), &err), KMEM_OK) << err.reason;
    const std::vector<kmem_mem_range> r = staged_ranges();
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(r[0].start, 0u);
    EXPECT_EQ(r[0].end, 0x9f000u); // usable RAM trimmed to whole pages
    EXPECT_EQ(r[0].type, KMEM_MEM_USABLE);
    EXPECT_EQ(r[1].type, KMEM_MEM_RESERVED);
    EXPECT_EQ(r[5].type, KMEM_MEM_ACPI_NVS);
    EXPECT_EQ(kmem_map_bytes(KMEM_MEM_USABLE), 0x9f000u + 0x7ff00000u + 0x40000000u);
}

TEST(CApi, E820Acpi3EntriesWithoutTheEnabledBitAreSkipped) {
    const E820Acpi3 table[] = {{0x100000, 0x100000, 1, 1}, {0x200000, 0x100000, 1, 0}};
    ASSERT_EQ(kmem_map_parse_e820(table, 2, sizeof(E820Acpi3), nullptr), KMEM_OK);
    EXPECT_EQ(kmem_map_bytes(KMEM_MEM_USABLE), 0x100000u);
}

TEST(CApi, BadE820TablesSayWhereAndLeaveTheMapEmpty) {
    const E820 wraps[] = {{0x100000, 0x100000, 1}, {~uint64_t{0} - 10, 100, 1}};
    kmem_error err{};
    EXPECT_EQ(kmem_map_parse_e820(wraps, 2, sizeof(E820), &err), KMEM_INVALID_RANGE);
    EXPECT_EQ(err.where, KMEM_WHERE_BYTE);
    EXPECT_EQ(err.at, 20u); // the second entry
    EXPECT_NE(std::strstr(err.reason, "wraps"), nullptr) << err.reason;
    EXPECT_EQ(kmem_map_count(), 0u);
    EXPECT_EQ(kmem_map_parse_e820(wraps, 2, 16, &err), KMEM_INVALID_ARGUMENT);
    EXPECT_EQ(kmem_map_parse_e820(nullptr, 0, 20, &err), KMEM_NO_ENTRIES);
}

TEST(CApi, TextMapErrorsCarryTheLine) {
    const char text[] = "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                        "BIOS-e820: [mem 0x0000000000100000-0x000000000000ffff] usable\n";
    kmem_error err{};
    EXPECT_NE(kmem_map_parse(text, sizeof text - 1, KMEM_MAP_DETECT, &err), KMEM_OK);
    EXPECT_EQ(err.where, KMEM_WHERE_LINE);
    EXPECT_EQ(err.at, 2u);
    EXPECT_STRNE(err.reason, "");
    EXPECT_EQ(kmem_map_count(), 0u);
    EXPECT_EQ(kmem_map_parse(text, sizeof text - 1, static_cast<kmem_map_format>(42), &err), KMEM_INVALID_ARGUMENT);
}

TEST(CApi, EfiMapAsTheCxxParserReadsIt) {
    const std::string efi = read_file(std::string(KMEM_TEST_DATA_DIR) + "/binary/lenovo-g50.efi");
    ASSERT_FALSE(efi.empty());
    kmem::StaticMemoryMap<> expected;
    ASSERT_TRUE(kmem::parse_efi_memory_map(efi.data(), efi.size(), 48, 1, expected).ok());
    kmem_error err{};
    ASSERT_EQ(kmem_map_parse_efi(efi.data(), efi.size(), 48, 1, &err), KMEM_OK) << err.reason;
    ASSERT_EQ(kmem_map_count(), expected.size());
    EXPECT_EQ(kmem_map_bytes(KMEM_MEM_USABLE), expected.usable_bytes());
    EXPECT_EQ(kmem_map_parse(efi.data(), efi.size(), KMEM_MAP_EFI, &err), KMEM_OK) << err.reason;
    EXPECT_EQ(kmem_map_bytes(KMEM_MEM_USABLE), expected.usable_bytes());
}

TEST(CApi, MapEditsAreChecked) {
    kmem_map_clear();
    kmem_error err{};
    EXPECT_EQ(kmem_map_add(0, kGiB, KMEM_MEM_USABLE, 0, &err), KMEM_OK);
    EXPECT_EQ(kmem_map_add(kGiB, 2 * kGiB, static_cast<kmem_mem_type>(9), 0, &err), KMEM_UNKNOWN_TYPE);
    EXPECT_EQ(kmem_map_add(kGiB, 2 * kGiB, KMEM_MEM_USABLE, 64, &err), KMEM_INVALID_ARGUMENT);
    EXPECT_EQ(kmem_map_add(2 * kGiB, kGiB, KMEM_MEM_USABLE, 0, &err), KMEM_INVALID_RANGE);
    EXPECT_EQ(kmem_map_set_node(512 * kMiB, kGiB, 1, &err), KMEM_OK);
    const std::vector<kmem_mem_range> r = staged_ranges();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].node, 1u);
    kmem_mem_range out;
    EXPECT_EQ(kmem_map_range(2, &out), KMEM_INVALID_ARGUMENT);
}

kmem_errc count_and_map(void *ctx, uint64_t start, uint64_t end) {
    ++*static_cast<unsigned *>(ctx);
    return kmem_hosted_mapped(nullptr, start, end);
}

struct Sink {
    std::string text;
    static void write(void *ctx, const char *s, size_t n) { static_cast<Sink *>(ctx)->text.append(s, n); }
};

TEST(CApi, Lifecycle) {
    kmem_error err{};
    // Before boot: refusals with reasons, never a crash.
    EXPECT_EQ(kmem_boot_phase(), KMEM_PHASE_OFF);
    EXPECT_EQ(kmalloc(32, 0), nullptr);
    EXPECT_EQ(kmem_last_alloc_error(&err), KMEM_WRONG_PHASE);
    EXPECT_STRNE(err.reason, "");
    uint64_t pa = 0;
    EXPECT_EQ(kmem_alloc_pages(0, 0, KMEM_ANY_NODE, &pa, &err), KMEM_WRONG_PHASE);
    EXPECT_EQ(kmem_boot_early_window(0, kGiB, nullptr, &err), KMEM_WRONG_PHASE);
    EXPECT_NE(std::strstr(err.reason, "early_window"), nullptr) << err.reason;
    EXPECT_EQ(kmem_memblock_alloc_caller(4096, 4096, "too-early"), nullptr);
    EXPECT_EQ(kmem_check(&err), KMEM_WRONG_PHASE);

    // FirmwareMap from a real machine's map (8 GiB, RAM above 4 GiB).
    const std::string text = read_file(std::string(KMEM_DATA_DIR) + "/memmaps/qemu-q35-seabios-8g.txt");
    ASSERT_EQ(kmem_map_parse(text.data(), text.size(), KMEM_MAP_DETECT, &err), KMEM_OK) << err.reason;
    const uint64_t usable = kmem_map_bytes(KMEM_MEM_USABLE);
    ASSERT_EQ(kmem_hosted_create_memory(0x280000000, &err), KMEM_OK) << err.reason;
    ASSERT_EQ(kmem_boot_firmware_map(&err), KMEM_OK) << err.reason;
    EXPECT_EQ(kmem_boot_firmware_map(&err), KMEM_WRONG_PHASE);
    ASSERT_EQ(kmem_boot_reserve(kMiB, 2 * kMiB, 1, "kernel image", &err), KMEM_OK) << err.reason;
    EXPECT_EQ(kmem_boot_reserve(kMiB, 4096, 1, "again", &err), KMEM_BUSY);

    // EarlyWindow.
    ASSERT_EQ(kmem_hosted_map(0, kGiB, &err), KMEM_OK);
    kmem_slab_options opts;
    kmem_slab_defaults(&opts);
    EXPECT_TRUE(opts.random_freelist);
    opts.seed = 42;
    ASSERT_EQ(kmem_boot_early_window(0, kGiB, &opts, &err), KMEM_OK) << err.reason;
    void *table = kmem_memblock_alloc_caller(8192, 4096, "c_api_test.table");
    ASSERT_NE(table, nullptr);
    EXPECT_LT(kmem_virt_to_phys(table), kGiB);
    const uint64_t buffer = kmem_memblock_phys_alloc_caller(65536, 4096, "c_api_test.buffer");
    ASSERT_NE(buffer, 0u);
    void *low = kmem_alloc_bootmem_low_pages_caller(4096, "c_api_test.low");
    ASSERT_NE(low, nullptr);
    EXPECT_LT(kmem_virt_to_phys(low), 4 * kGiB);
    void *node0 = kmem_alloc_bootmem_node_caller(0, 3 * 4096, "c_api_test.node");
    ASSERT_NE(node0, nullptr);
    kmem_free_bootmem_node(0, kmem_virt_to_phys(node0), 3 * 4096);
    EXPECT_EQ(kmem_reserve_bootmem_caller(kMiB, 4096, KMEM_BOOTMEM_EXCLUSIVE, "c_api_test"), -16); // -EBUSY
    kmem_boot_request req{};
    req.size = 3 * kMiB;
    req.align = 2 * kMiB;
    req.min = 512 * kMiB;
    req.nid = KMEM_NO_NODE;
    req.caller = "c_api_test.request";
    uint64_t big = 0;
    ASSERT_EQ(kmem_boot_alloc(&req, &big, &err), KMEM_OK) << err.reason;
    EXPECT_EQ(big % (2 * kMiB), 0u);
    EXPECT_GE(big, 512 * kMiB);
    req.size = 64 * kGiB;
    EXPECT_EQ(kmem_boot_alloc(&req, &big, &err), KMEM_NO_MEMORY);

    // DirectMap: the C callback sees every RAM range.
    unsigned ranges = 0;
    ASSERT_EQ(kmem_boot_direct_map(count_and_map, &ranges, KMEM_DIRECT_MAP_DEFAULT, &err), KMEM_OK) << err.reason;
    EXPECT_GE(ranges, 3u); // below 1 MiB, the rest of low RAM (the image between), above 4 GiB
    ASSERT_EQ(kmem_boot_running(&err), KMEM_OK);
    EXPECT_EQ(kmem_boot_phase(), KMEM_PHASE_RUNNING);
    EXPECT_GT(kmem_boot_phase_start_ns(KMEM_PHASE_RUNNING), kmem_boot_phase_start_ns(KMEM_PHASE_FIRMWARE_MAP));

    // The early-allocation record names the API and the caller.
    bool saw_table = false, saw_request = false;
    for (size_t i = 0; i < kmem_early_count(); ++i) {
        kmem_early_alloc e{};
        ASSERT_EQ(kmem_early_record(i, &e), KMEM_OK);
        if (e.caller && std::string(e.caller) == "c_api_test.table") {
            saw_table = true;
            EXPECT_STREQ(e.api, "memblock_alloc");
            EXPECT_EQ(e.phase, KMEM_PHASE_EARLY_WINDOW);
        }
        if (e.caller && std::string(e.caller) == "c_api_test.request") saw_request = true;
    }
    EXPECT_TRUE(saw_table && saw_request);
    kmem_early_alloc none;
    EXPECT_EQ(kmem_early_record(kmem_early_count(), &none), KMEM_INVALID_ARGUMENT);

    // kmalloc family.
    auto *a = static_cast<unsigned char *>(kzalloc(5000, KMEM_GFP_KERNEL));
    ASSERT_NE(a, nullptr);
    for (int i = 0; i < 5000; ++i) ASSERT_EQ(a[i], 0);
    EXPECT_GE(ksize(a), 5000u);
    EXPECT_NE(kfree(a + 8), KMEM_OK); // the middle of an object is refused
    EXPECT_EQ(kfree(a), KMEM_OK);
    EXPECT_EQ(kfree(a), KMEM_DOUBLE_FREE);
    EXPECT_EQ(kfree(nullptr), KMEM_OK);
    void *z = kmalloc(0, 0);
    EXPECT_NE(z, nullptr);
    EXPECT_EQ(kfree(z), KMEM_OK);
    auto *v = static_cast<uint32_t *>(kcalloc(100, 4, 0));
    ASSERT_NE(v, nullptr);
    v[99] = 7;
    v = static_cast<uint32_t *>(krealloc(v, 100000, 0));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v[99], 7u);
    EXPECT_EQ(kfree(v), KMEM_OK);
    EXPECT_EQ(kcalloc(~size_t{0} / 2, 4, 0), nullptr);
    EXPECT_NE(kmem_last_alloc_error(&err), KMEM_OK);
    EXPECT_STRNE(err.reason, "");
    void *dma = kmalloc(64, KMEM_ALLOC_ZONE_DMA32);
    ASSERT_NE(dma, nullptr);
    EXPECT_LT(kmem_virt_to_phys(dma), 4 * kGiB);
    EXPECT_EQ(kfree(dma), KMEM_OK);

    // Caches.
    kmem_cache *c = nullptr;
    EXPECT_NE(kmem_cache_new("zero", 0, 0, 0, nullptr, &c, &err), KMEM_OK);
    EXPECT_EQ(c, nullptr);
    EXPECT_STRNE(err.reason, "");
    EXPECT_EQ(kmem_cache_create("zero", 0, 0, 0, nullptr), nullptr);
    c = kmem_cache_create("c_api_test", 200, 64, KMEM_CACHE_POISON, nullptr);
    ASSERT_NE(c, nullptr);
    EXPECT_STREQ(kmem_cache_name(c), "c_api_test");
    EXPECT_GE(kmem_cache_size(c), 200u);
    std::vector<void *> objs;
    for (int i = 0; i < 500; ++i) {
        void *o = kmem_cache_alloc(c, 0);
        ASSERT_NE(o, nullptr);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(o) % 64, 0u);
        objs.push_back(o);
    }
    EXPECT_EQ(kmem_cache_destroy(c), KMEM_BUSY);
    for (void *o : objs) ASSERT_EQ(kmem_cache_free(c, o), KMEM_OK);
    EXPECT_EQ(kmem_cache_free(c, objs[0]), KMEM_DOUBLE_FREE);
    EXPECT_EQ(kmem_check(&err), KMEM_OK) << err.reason;
    EXPECT_GT(kmem_cache_shrink(c), 0u);
    EXPECT_EQ(kmem_cache_destroy(c), KMEM_OK);

    // Pages.
    ASSERT_EQ(kmem_alloc_pages(KMEM_MAX_ORDER, 0, KMEM_ANY_NODE, &pa, &err), KMEM_OK) << err.reason;
    EXPECT_EQ(pa % (uint64_t{4096} << KMEM_MAX_ORDER), 0u);
    EXPECT_NE(kmem_free_pages(pa, KMEM_MAX_ORDER - 1, &err), KMEM_OK); // the wrong order
    EXPECT_EQ(kmem_free_pages(pa, KMEM_MAX_ORDER, &err), KMEM_OK) << err.reason;
    EXPECT_EQ(kmem_free_pages(pa, KMEM_MAX_ORDER, &err), KMEM_DOUBLE_FREE);
    EXPECT_STRNE(err.reason, "");
    EXPECT_NE(kmem_alloc_pages(KMEM_MAX_ORDER + 1, 0, KMEM_ANY_NODE, &pa, &err), KMEM_OK);
    uint64_t exact = 0;
    ASSERT_EQ(kmem_alloc_pages_exact(7, KMEM_ALLOC_ZERO, &exact, &err), KMEM_OK);
    EXPECT_EQ(kmem_free_pages_exact(exact, 7, &err), KMEM_OK);

    // Boot memory back, books, reports.
    kmem_memblock_free(table, 8192);
    kmem_totals before{}, after{};
    ASSERT_EQ(kmem_get_totals(&before, &err), KMEM_OK);
    kmem_free_bootmem_late(buffer, 65536);
    ASSERT_EQ(kmem_get_totals(&after, &err), KMEM_OK);
    EXPECT_EQ(after.free + after.pcp, before.free + before.pcp + 16); // its 16 pages
    EXPECT_EQ(kmem_check(&err), KMEM_OK) << err.reason;
    EXPECT_GT(after.managed * 4096, usable - 64 * kMiB); // all of RAM online, less its descriptors
    EXPECT_LE(after.managed * 4096, usable);
    Sink meminfo, slabinfo;
    EXPECT_EQ(kmem_report(KMEM_REPORT_MEMINFO, Sink::write, &meminfo, &err), KMEM_OK);
    EXPECT_NE(meminfo.text.find("MemTotal:"), std::string::npos) << meminfo.text;
    EXPECT_EQ(kmem_report(KMEM_REPORT_SLABINFO, Sink::write, &slabinfo, &err), KMEM_OK);
    EXPECT_NE(slabinfo.text.find("kmalloc-"), std::string::npos);
    EXPECT_EQ(kmem_report(static_cast<kmem_report_kind>(9), Sink::write, &meminfo, &err), KMEM_INVALID_ARGUMENT);
    EXPECT_EQ(kmem_report(KMEM_REPORT_MEMINFO, nullptr, nullptr, &err), KMEM_INVALID_ARGUMENT);
}

} // namespace
