// What every demo kernel's serial output must hold (tests/qemu): the
// report, and a KMEM-JSON line - a report of schema kmem-report/1, valid
// against docs/report-schema.json - that agrees with the memory map the
// kernel printed: the exact usable bytes, every CPU, every node, the
// self-tests passed with timer interrupts allocating on every CPU, every page
// back and every layer's check() clean.
#pragma once

#include "report_schema.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

namespace kmem {

// Usable bytes of the map lines the kernel printed: "kmem: [mem A-B] usable node N".
inline uint64_t printed_usable(const std::string &out, unsigned &lines) {
    std::istringstream in(out);
    std::string line;
    uint64_t sum = 0;
    lines = 0;
    while (std::getline(in, line)) {
        unsigned long long a, b;
        char type[32];
        unsigned node;
        if (std::sscanf(line.c_str(), "kmem: [mem %llx-%llx] %31s node %u", &a, &b, type, &node) != 4) continue;
        ++lines;
        if (std::string(type) == "usable") sum += b - a + 1;
    }
    return sum;
}

// self_tests_passed: the kernel's line; arch: its name (the report's
// producer is kmem-ARCH); extra_key: its firmware count that must be
// positive (kernel.firmware: ACPI tables read, device-tree bytes);
// pass_status: QEMU's exit status when the kernel reports success (33 through
// isa-debug-exit and semihosting, 0 through RISC-V's sifive_test).
inline void expect_good_report(const test::CommandResult &r, unsigned cpus, unsigned nodes, bool above_4g,
                               const char *self_tests_passed, const char *arch, const char *extra_key,
                               int pass_status = 33) {
    ASSERT_EQ(r.status, pass_status) << "QEMU exit status (the kernel's success code)\n" << r.out;
    for (const char *part : {"/proc/buddyinfo:", "/proc/meminfo:", "/proc/slabinfo:", "kmem: allocations before Running:",
                             self_tests_passed})
        EXPECT_NE(r.out.find(part), std::string::npos) << part;
    const size_t at = r.out.find("KMEM-JSON ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string line = r.out.substr(at + 10, r.out.find('\n', at) - at - 10);
    const auto j = nlohmann::json::parse(line);
    // The shared report: its schema, valid against the JSON Schema.
    EXPECT_EQ(j["schema"], "kmem-report/1");
    EXPECT_EQ(j["producer"]["name"], std::string("kmem-") + arch);
    EXPECT_EQ(j["kernel"]["arch"], arch);
    std::string file = ::testing::UnitTest::GetInstance()->current_test_info()->name(); // ".../pc_128M_1cpu"
    std::replace(file.begin(), file.end(), '/', '_');
    std::filesystem::create_directories(KMEM_QEMU_WORK_DIR);
    test::expect_valid_report_text(line, std::string(KMEM_QEMU_WORK_DIR) + "/" + file + ".json");

    const auto &map = j["map"], &phys = j["phys"], &kernel = j["kernel"];
    unsigned lines = 0;
    const uint64_t usable = printed_usable(r.out, lines);
    EXPECT_EQ(map["usable_bytes"].get<uint64_t>(), usable) << "the report and the map it printed agree";
    EXPECT_EQ(map["ranges"].size(), lines);
    EXPECT_EQ(map["entries"].get<size_t>(), lines);
    EXPECT_EQ(kernel["cpus"]["count"].get<unsigned>(), cpus);
    EXPECT_EQ(phys["nodes"].get<unsigned>(), nodes);
    EXPECT_EQ(map["nodes"].get<unsigned>(), nodes);
    bool high = false;
    for (const auto &m : map["ranges"]) high |= m["type"] == "usable" && m["start"].get<uint64_t>() >= (uint64_t{4} << 30);
    EXPECT_EQ(high, above_4g);
    // Every usable page is managed (free, allocated or reserved) except
    // those holding page descriptors inside the memory they describe.
    const uint64_t managed = phys["managed_pages"], meta = phys["metadata_bytes"];
    EXPECT_LE(managed, usable / 4096);
    EXPECT_LE((usable / 4096 - managed) * 4096, meta);
    EXPECT_EQ(managed, phys["free_pages"].get<uint64_t>() + phys["allocated_pages"].get<uint64_t>() +
                           phys["reserved_pages"].get<uint64_t>());
    EXPECT_GT(kernel["firmware"][extra_key].get<uint64_t>(), 0u) << extra_key;
    // The boot: the three phases, and the direct map reached every usable range.
    ASSERT_EQ(j["boot"]["phases"].size(), 3u);
    EXPECT_EQ(j["boot"]["phases"][0]["name"], "FirmwareMap");
    EXPECT_GE(j["boot"]["all_online_ns"].get<uint64_t>(), j["boot"]["kmalloc_ready_ns"].get<uint64_t>());
    EXPECT_GE(j["boot"]["direct_map"].size(), 1u);
    // The early report: the boot's memblock/bootmem calls and the direct map's tables.
    EXPECT_GE(j["early"]["allocations"].size(), 5u);
    const auto &st = kernel["selftest"];
    EXPECT_TRUE(st["ok"].get<bool>()) << st.dump();
    EXPECT_EQ(st["check"], "ok");
    EXPECT_EQ(st["free_before"], st["free_after"]) << "every page came back";
    EXPECT_GT(st["pages_allocated"].get<uint64_t>(), managed * 9 / 10) << "ran out of memory for real";
    EXPECT_EQ(st["late_freed_pages"], 16);
    EXPECT_EQ(st["errors"], 0);
    EXPECT_FALSE(st.contains("first_failure")) << st["first_failure"].dump();
    // The timer interrupt's handler allocated and freed on every CPU, and
    // gave back all it took.
    const auto &irq = st["interrupts"];
    EXPECT_GT(irq["min_per_cpu"].get<uint64_t>(), 0u) << "a CPU took no timer interrupt";
    EXPECT_GE(irq["handled"].get<uint64_t>(), irq["min_per_cpu"].get<uint64_t>() * cpus);
    EXPECT_GT(irq["allocations"].get<uint64_t>(), 0u);
    EXPECT_EQ(irq["frees"], irq["allocations"]) << "the handlers freed what they allocated";
    EXPECT_EQ(irq["errors"], 0);
    // Per CPU: every CPU, the interrupts it took adding up to the total.
    const auto &per_cpu = kernel["cpus"]["per_cpu"];
    ASSERT_EQ(per_cpu.size(), cpus);
    uint64_t sum = 0, fewest = ~uint64_t{0};
    for (unsigned c = 0; c < cpus; ++c) {
        EXPECT_EQ(per_cpu[c]["cpu"], c);
        EXPECT_LT(per_cpu[c]["node"].get<unsigned>(), nodes);
        sum += per_cpu[c]["timer_interrupts"].get<uint64_t>();
        fewest = std::min(fewest, per_cpu[c]["timer_interrupts"].get<uint64_t>());
    }
    EXPECT_EQ(sum, irq["handled"].get<uint64_t>());
    EXPECT_EQ(fewest, irq["min_per_cpu"].get<uint64_t>());
    if (cpus > 1) {
        EXPECT_GT(st["cross_cpu_frees"].get<uint64_t>(), 0u);
    }
    EXPECT_GT(kernel["page_tables"]["pages"].get<uint64_t>(), 0u);
}

} // namespace kmem
