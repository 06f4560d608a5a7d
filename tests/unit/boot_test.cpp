// The boot front door: phases in order and only in order, what each phase
// makes possible, the direct map built from the buddy and every range
// onlined, boot allocations (kmalloc-served and page-served, constraints,
// nodes, frees of parts) and the early-allocation record.
#include <kmem/boot.h>

#include "boot_machine.h"
#include "page/page_map.h"

#include <gtest/gtest.h>

#include <cstring>

namespace kmem {
namespace {

using test::BootMachine;
using test::GiB;
using test::MiB;

BootRequest request(uint64_t size, uint64_t align = 8) {
    BootRequest r;
    r.size = size;
    r.align = align;
    r.caller = "test";
    return r;
}

TEST(Boot, PhasesOnlyInOrder) {
    BootMachine m;
    MemorySystem &s = m.sys();
    EXPECT_EQ(s.phase(), Phase::off);
    EXPECT_EQ(s.early_window(GiB).code(), Errc::wrong_phase);
    EXPECT_EQ(s.direct_map(nullptr, nullptr).code(), Errc::wrong_phase);
    EXPECT_EQ(s.running().code(), Errc::wrong_phase);
    EXPECT_EQ(s.alloc(request(64)).code(), Errc::wrong_phase);
    EXPECT_EQ(s.reserve(0x100000, 4096, false, "x").code(), Errc::wrong_phase);
    EXPECT_EQ(s.phase(), Phase::off);

    ASSERT_TRUE(s.firmware_map(m.map()).ok());
    EXPECT_EQ(s.phase(), Phase::firmware_map);
    EXPECT_EQ(MemorySystem::current(), &s);
    EXPECT_EQ(s.firmware_map(m.map()).code(), Errc::wrong_phase);
    EXPECT_EQ(s.direct_map(nullptr, nullptr).code(), Errc::wrong_phase);
    EXPECT_EQ(s.alloc(request(64)).code(), Errc::wrong_phase);
    EXPECT_EQ(s.free(0x100000, 64).code(), Errc::wrong_phase);

    EXPECT_EQ(s.early_window(GiB + 1).code(), Errc::invalid_argument);
    EXPECT_EQ(s.phase(), Phase::firmware_map);
    ASSERT_TRUE(s.early_window(m.window()).ok());
    EXPECT_EQ(s.early_window(m.window()).code(), Errc::wrong_phase);
    EXPECT_EQ(s.running().code(), Errc::wrong_phase);
    ASSERT_TRUE(s.direct_map(test::map_into_simulation, nullptr).ok());
    EXPECT_EQ(s.direct_map(test::map_into_simulation, nullptr).code(), Errc::wrong_phase);
    ASSERT_TRUE(s.running().ok());
    EXPECT_EQ(s.running().code(), Errc::wrong_phase);
    for (unsigned p = 1; p < kPhaseCount; ++p) EXPECT_GT(s.times().start_ns[p], 0u) << phase_name(Phase(p));
    m.expect_books_ok();
}

TEST(Boot, BadMapsAreRefused) {
    BootMachine m;
    StaticMemoryMap<> empty;
    EXPECT_EQ(m.sys().firmware_map(empty).code(), Errc::invalid_argument);
    EXPECT_EQ(m.sys().phase(), Phase::off);
}

TEST(Boot, EarlyWindowOnlyTheWindowIsOnline) {
    BootMachine m;
    m.boot_to(Phase::early_window);
    const PhysTotals t = m.sys().phys().totals();
    EXPECT_LE(t.managed * kPageSize, GiB);
    void *p = m.sys().slab().kmalloc(100);
    ASSERT_NE(p, nullptr); // kmalloc works before the direct map exists
    EXPECT_TRUE(m.sys().slab().kfree(p).ok());
    m.expect_books_ok();
}

TEST(Boot, DirectMapOnlinesEveryRangeAndTranslates) {
    BootMachine m;
    m.boot_to(Phase::direct_map);
    MemorySystem &s = m.sys();
    uint64_t online = 0;
    for (const MemRange &r : s.phys().online_map()) online += r.size();
    EXPECT_EQ(online, m.map().usable_bytes());
    for (uint64_t pa : {MiB, GiB + 12345, 4 * GiB + 7, 6 * GiB - 1}) {
        Result<Translation> tr = s.tables().translate(kDirectMapBase + pa);
        ASSERT_TRUE(tr.ok()) << pa;
        EXPECT_EQ(tr.value().pa, pa);
    }
    EXPECT_FALSE(s.tables().translate(kDirectMapBase + 3 * GiB).ok()); // a hole stays unmapped
    // The tables' pages are the first record of the early report.
    ASSERT_GE(s.early_count(), 1u);
    const EarlyRecord &e = s.early(s.early_count() - 1);
    EXPECT_EQ(e.api, BootApi::page_tables);
    EXPECT_EQ(e.size, s.tables().table_pages() * kPageSize);
    m.expect_books_ok();
}

TEST(Boot, SmallRequestsAreKmallocZeroedOrRaw) {
    BootMachine m;
    m.boot_to(Phase::early_window);
    MemorySystem &s = m.sys();
    // kmalloc-112's objects are only 16-byte aligned: a 64-byte alignment
    // takes kmalloc-128 (128-byte aligned); a page alignment takes a page.
    Result<uint64_t> aligned = s.alloc(request(100, 64));
    ASSERT_TRUE(aligned.ok());
    EXPECT_EQ(aligned.value() % 64, 0u);
    EXPECT_EQ(s.slab().ksize(hosted::physical_memory_base() + aligned.value()), 128u);
    ASSERT_TRUE(s.free(aligned.value(), 100).ok());
    Result<uint64_t> paged = s.alloc(request(100, kPageSize));
    ASSERT_TRUE(paged.ok());
    EXPECT_EQ(paged.value() % kPageSize, 0u);
    EXPECT_EQ(s.slab().ksize(hosted::physical_memory_base() + paged.value()), 0u);
    ASSERT_TRUE(s.free(paged.value(), 100).ok());
    BootRequest r = request(100, 8);
    Result<uint64_t> a = s.alloc(r);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.value() % 8, 0u);
    auto *p = static_cast<uint8_t *>(hosted::physical_memory_base() + a.value());
    EXPECT_GT(s.slab().ksize(p), 0u) << "served by kmalloc";
    for (int i = 0; i < 100; ++i) ASSERT_EQ(p[i], 0);
    std::memset(p, 0xee, 100);
    ASSERT_TRUE(s.free(a.value(), 100).ok());
    EXPECT_EQ(s.free(a.value(), 100).code(), Errc::double_free);
    r.raw = true;
    Result<uint64_t> b = s.alloc(r); // LIFO: the same object, not zeroed
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b.value(), a.value());
    EXPECT_EQ(p[99], 0xee);
    ASSERT_TRUE(s.free(b.value(), 100).ok());
    m.expect_books_ok();
}

TEST(Boot, PageRequestsHonourAlignmentRangeAndNode) {
    BootMachine m;
    m.boot_to(Phase::direct_map);
    MemorySystem &s = m.sys();
    BootRequest r = request(3 * kPageSize + 5, 2 * MiB);
    Result<uint64_t> a = s.alloc(r);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.value() % (2 * MiB), 0u);
    // Top-down, as memblock: the highest fitting range of node 1 or 0.
    EXPECT_GE(a.value(), 4 * GiB);
    r.min = 16 * MiB;
    r.max = 32 * MiB;
    Result<uint64_t> b = s.alloc(r);
    ASSERT_TRUE(b.ok());
    EXPECT_GE(b.value(), 16 * MiB);
    EXPECT_LE(b.value() + r.size, 32 * MiB);
    r = request(MiB, kPageSize);
    r.nid = 0;
    r.exact_nid = true;
    Result<uint64_t> c = s.alloc(r);
    ASSERT_TRUE(c.ok());
    EXPECT_LT(c.value(), 2 * GiB);
    r.nid = 5; // no such memory: exact fails, preferred falls back
    EXPECT_EQ(s.alloc(r).code(), Errc::no_memory);
    r.exact_nid = false;
    EXPECT_TRUE(s.alloc(r).ok());
    // Larger than a max-order block (4 MiB): 16 MiB, as Linux's sparse_init asks.
    r = request(16 * MiB, 2 * MiB);
    Result<uint64_t> d = s.alloc(r);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.value() % (2 * MiB), 0u);
    m.expect_books_ok();
}

TEST(Boot, PartialFreesGiveBackWholePages) {
    BootMachine m;
    m.boot_to(Phase::direct_map);
    MemorySystem &s = m.sys();
    Result<uint64_t> a = s.alloc(request(MiB, kPageSize));
    ASSERT_TRUE(a.ok());
    const uint64_t free_before = s.phys().totals().free + s.phys().totals().pcp;
    // The last quarter, then a piece that is not whole pages (nothing), then the rest.
    ASSERT_TRUE(s.free(a.value() + 3 * MiB / 4, MiB / 4).ok());
    EXPECT_EQ(s.phys().totals().free + s.phys().totals().pcp, free_before + 64);
    ASSERT_TRUE(s.free(a.value() + 100, 200).ok());
    EXPECT_EQ(s.phys().totals().free + s.phys().totals().pcp, free_before + 64);
    ASSERT_TRUE(s.free(a.value(), 3 * MiB / 4).ok());
    EXPECT_EQ(s.phys().totals().free + s.phys().totals().pcp, free_before + 256);
    // Freed twice: not reserved any more.
    EXPECT_EQ(s.free(a.value(), kPageSize).code(), Errc::not_allocated);
    m.expect_books_ok();
}

TEST(Boot, ReservationsInEveryPhase) {
    BootMachine m;
    MemorySystem &s = m.sys();
    m.boot_to(Phase::firmware_map);
    // In FirmwareMap the map itself records it; the buddy never hands it out.
    ASSERT_TRUE(s.reserve(16 * MiB, 2 * MiB, false, "kernel image").ok());
    EXPECT_EQ(s.reserve(16 * MiB + 4096, 4096, true, "again").code(), Errc::busy);
    ASSERT_TRUE(s.early_window(m.window()).ok());
    EXPECT_EQ(s.phys().desc(pfn_of(16 * MiB))->state(), PageState::reserved);
    ASSERT_TRUE(s.direct_map(test::map_into_simulation, nullptr).ok());
    ASSERT_TRUE(s.reserve(5 * GiB, MiB, true, "initrd").ok());
    EXPECT_EQ(s.reserve(5 * GiB, 4096, true, "initrd again").code(), Errc::busy);
    EXPECT_TRUE(s.reserve(5 * GiB, 4096, false, "overlap is fine").ok());
    // Reserved, not allocated, memory can be freed (free_bootmem_late of the initrd).
    const uint64_t reserved = s.phys().totals().reserved;
    ASSERT_TRUE(s.free(5 * GiB, MiB).ok());
    EXPECT_EQ(s.phys().totals().reserved, reserved - 256);
    ASSERT_TRUE(s.free(16 * MiB, 2 * MiB).ok()); // the image's, reserved at FirmwareMap
    m.expect_books_ok();
}

// RAM reserved in FirmwareMap (a kernel's image, its stacks) is never
// written by the allocator: not by bootstrap, not by the direct map, not by
// the free lists - its pages come online as reserved. Found by the x86_64
// demo kernel: the descriptor array of section 0 landed on its own stack.
TEST(Boot, TakenMemoryIsNeverWritten) {
    BootMachine m({{0, 64 * MiB, 0}}, 64 * MiB);
    m.boot_to(Phase::firmware_map);
    uint8_t *image = hosted::physical_memory_base() + MiB;
    for (uint64_t i = 0; i < 20 * MiB; ++i) image[i] = static_cast<uint8_t>(i * 131 + 7);
    ASSERT_TRUE(m.sys().reserve(MiB, 20 * MiB, false, "kernel image").ok());
    ASSERT_TRUE(m.sys().reserve(0, MiB, false, "low 1 MiB").ok());
    ASSERT_TRUE(m.sys().early_window(m.window()).ok());
    ASSERT_TRUE(m.sys().direct_map(test::map_into_simulation, nullptr).ok());
    ASSERT_TRUE(m.sys().running().ok());
    for (int k = 0; k < 1000; ++k) ASSERT_NE(m.sys().slab().kmalloc(64 + k), nullptr);
    for (uint64_t i = 0; i < 20 * MiB; ++i)
        ASSERT_EQ(image[i], static_cast<uint8_t>(i * 131 + 7)) << "byte " << i << " of the image was written";
    EXPECT_EQ(m.sys().phys().desc(pfn_of(MiB))->state(), PageState::reserved);
    EXPECT_EQ(m.sys().phys().totals().reserved, 21 * MiB / kPageSize);
    m.expect_books_ok();
}

TEST(Boot, BadRequestsAreRefusedAndRecorded) {
    BootMachine m;
    m.boot_to(Phase::early_window);
    MemorySystem &s = m.sys();
    const PhysTotals before = s.phys().totals();
    EXPECT_EQ(s.alloc(request(0)).code(), Errc::invalid_argument);
    EXPECT_EQ(s.alloc(request(64, 48)).code(), Errc::invalid_argument);
    BootRequest r = request(4096);
    r.min = 8 * MiB;
    r.max = 8 * MiB;
    EXPECT_EQ(s.alloc(r).code(), Errc::invalid_range);
    r.nid = 999;
    r.max = 0;
    EXPECT_EQ(s.alloc(r).code(), Errc::invalid_argument);
    EXPECT_EQ(s.alloc(request(64 * GiB)).code(), Errc::no_memory);
    EXPECT_EQ(s.last_error().code, Errc::no_memory);
    const PhysTotals after = s.phys().totals();
    EXPECT_EQ(after.free + after.pcp, before.free + before.pcp);
    EXPECT_EQ(s.early_count(), 5u);
    for (size_t i = 0; i < s.early_count(); ++i) EXPECT_TRUE(s.early(i).failed);
    m.expect_books_ok();
}

TEST(Boot, EarlyRecordStopsAtRunning) {
    BootMachine m;
    m.boot_to(Phase::early_window);
    MemorySystem &s = m.sys();
    BootRequest r = request(64);
    r.api = BootApi::memblock_alloc;
    ASSERT_TRUE(s.alloc(r).ok());
    const EarlyRecord &e = s.early(0);
    EXPECT_EQ(e.phase, Phase::early_window);
    EXPECT_EQ(e.api, BootApi::memblock_alloc);
    EXPECT_STREQ(e.caller, "test");
    EXPECT_TRUE(e.slab);
    ASSERT_TRUE(s.direct_map(test::map_into_simulation, nullptr).ok());
    ASSERT_TRUE(s.alloc(request(3 * kPageSize)).ok());
    EXPECT_EQ(s.early(s.early_count() - 1).phase, Phase::direct_map);
    ASSERT_TRUE(s.running().ok());
    const size_t n = s.early_count();
    ASSERT_TRUE(s.alloc(request(64)).ok());
    EXPECT_EQ(s.early_count(), n);
}

} // namespace
} // namespace kmem
