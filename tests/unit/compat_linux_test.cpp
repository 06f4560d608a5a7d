// The Linux boot-allocator names over kmem (include/kmem/compat/linux.h):
// every bootmem and memblock call with the semantics Linux documents -
// zeroed or raw, alignment, [min, max), low memory, preferred or exact
// node, panic or NULL on failure, reservations (exclusive too), frees of
// parts, of reserved memory and late frees - and the call-site tags the
// early-allocation report shows.
#include <kmem/compat/linux.h>

#include "boot_machine.h"

#include <gtest/gtest.h>

#include <cstring>

namespace kmem {
namespace {

using namespace kmem::compat;
using test::BootMachine;
using test::GiB;
using test::MiB;

uint64_t pa(const void *p) { return static_cast<uint64_t>(static_cast<const uint8_t *>(p) - hosted::physical_memory_base()); }

bool all_zero(const void *p, size_t n) {
    const auto *b = static_cast<const uint8_t *>(p);
    for (size_t i = 0; i < n; ++i)
        if (b[i]) return false;
    return true;
}

class CompatLinux : public ::testing::Test {
protected:
    void SetUp() override { m_.boot_to(Phase::direct_map); }
    void TearDown() override { m_.expect_books_ok(); }
    MemorySystem &sys() { return m_.sys(); }
    const EarlyRecord &last() { return sys().early(sys().early_count() - 1); }
    BootMachine m_;
};

TEST_F(CompatLinux, BootmemAllocationsAreZeroedAlignedAndAboveTheGoal) {
    void *a = alloc_bootmem(100);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(pa(a) % SMP_CACHE_BYTES, 0u);
    EXPECT_TRUE(all_zero(a, 100));
    EXPECT_EQ(last().api, BootApi::alloc_bootmem);
    EXPECT_STREQ(last().caller, "TestBody") << "the call-site tag is the calling function";
    EXPECT_GE(pa(a), MAX_DMA_ADDRESS) << "bootmem's goal: above 16 MiB when possible";
    void *b = alloc_bootmem_align(5000, 8192);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(pa(b) % 8192, 0u);
    EXPECT_TRUE(all_zero(b, 5000));
    void *c = alloc_bootmem_pages(3 * PAGE_SIZE);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(pa(c) % PAGE_SIZE, 0u);
    void *d = alloc_bootmem_nopanic(64);
    EXPECT_NE(d, nullptr);
    EXPECT_EQ(alloc_bootmem_nopanic(64 * GiB), nullptr);
    EXPECT_EQ(sys().last_error().code, Errc::no_memory);
    free_bootmem(pa(a), 100);
    free_bootmem(pa(b), 5000);
    free_bootmem(pa(c), 3 * PAGE_SIZE);
    free_bootmem(pa(d), 64);
}

TEST_F(CompatLinux, BootmemLowAndNode) {
    void *lo = alloc_bootmem_low(2 * PAGE_SIZE);
    ASSERT_NE(lo, nullptr);
    EXPECT_LT(pa(lo) + 2 * PAGE_SIZE, 4 * GiB);
    void *lp = alloc_bootmem_low_pages(PAGE_SIZE);
    ASSERT_NE(lp, nullptr);
    EXPECT_EQ(pa(lp) % PAGE_SIZE, 0u);
    EXPECT_LT(pa(lp), 4 * GiB);
    void *n1 = alloc_bootmem_node(1, 3 * PAGE_SIZE);
    ASSERT_NE(n1, nullptr);
    EXPECT_GE(pa(n1), 4 * GiB) << "node 1 is 4-6 GiB";
    void *n0 = alloc_bootmem_pages_node(0, 2 * PAGE_SIZE);
    ASSERT_NE(n0, nullptr);
    EXPECT_LT(pa(n0), 2 * GiB);
    free_bootmem_node(0, pa(n0), 2 * PAGE_SIZE);
    free_bootmem_node(1, pa(n1), 3 * PAGE_SIZE);
    free_bootmem(pa(lo), 2 * PAGE_SIZE);
    free_bootmem(pa(lp), PAGE_SIZE);
}

TEST_F(CompatLinux, BootmemPanicsWhenNothingFits) {
    EXPECT_DEATH(alloc_bootmem(64 * GiB), "bootmem allocation failed");
    EXPECT_DEATH(alloc_bootmem_node(0, 3 * GiB), "bootmem allocation failed");
}

TEST_F(CompatLinux, ReserveBootmemExclusive) {
    ASSERT_EQ(reserve_bootmem(5 * GiB, MiB, BOOTMEM_DEFAULT), 0);
    EXPECT_EQ(reserve_bootmem(5 * GiB + 4096, 4096, BOOTMEM_EXCLUSIVE), -16);
    EXPECT_EQ(reserve_bootmem(5 * GiB + 4096, 4096, BOOTMEM_DEFAULT), 0);
    // Reserved memory is never handed out ...
    const uint64_t free_before = free_all_bootmem();
    free_bootmem_late(5 * GiB, MiB); // ... until freed: all of it comes back
    EXPECT_EQ(free_all_bootmem(), free_before + MiB / PAGE_SIZE);
}

TEST_F(CompatLinux, MemblockAllocZeroedRawAndRanges) {
    void *a = memblock_alloc(200, SMP_CACHE_BYTES);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(pa(a) % SMP_CACHE_BYTES, 0u);
    EXPECT_TRUE(all_zero(a, 200));
    std::memset(a, 0x5a, 200);
    memblock_free(a, 200);
    void *raw = memblock_alloc_raw(3 * PAGE_SIZE, PAGE_SIZE);
    ASSERT_NE(raw, nullptr);
    EXPECT_EQ(last().api, BootApi::memblock_alloc_raw);
    EXPECT_TRUE(last().raw);
    void *from = memblock_alloc_from(PAGE_SIZE, PAGE_SIZE, 5 * GiB + 123);
    ASSERT_NE(from, nullptr);
    EXPECT_GE(pa(from), 5 * GiB + 123);
    void *low = memblock_alloc_low(PAGE_SIZE, PAGE_SIZE);
    ASSERT_NE(low, nullptr);
    EXPECT_LT(pa(low), 4 * GiB);
    void *node = memblock_alloc_node(2 * PAGE_SIZE, PAGE_SIZE, 1);
    ASSERT_NE(node, nullptr);
    EXPECT_GE(pa(node), 4 * GiB);
    EXPECT_EQ(memblock_alloc(64 * GiB, PAGE_SIZE), nullptr) << "memblock_alloc returns NULL, never panics";
    memblock_free(raw, 3 * PAGE_SIZE);
    memblock_free(from, PAGE_SIZE);
    memblock_free(low, PAGE_SIZE);
    memblock_free(node, 2 * PAGE_SIZE);
}

TEST_F(CompatLinux, MemblockTryNidAndExactNid) {
    // A range: [16 MiB, 32 MiB), node 0 preferred.
    void *a = memblock_alloc_try_nid(8 * PAGE_SIZE, PAGE_SIZE, 16 * MiB, 32 * MiB, 0);
    ASSERT_NE(a, nullptr);
    EXPECT_GE(pa(a), 16 * MiB);
    EXPECT_LE(pa(a) + 8 * PAGE_SIZE, 32 * MiB);
    EXPECT_TRUE(all_zero(a, 8 * PAGE_SIZE));
    // Preferred node without memory: falls back; exact: NULL.
    void *b = memblock_alloc_try_nid_raw(PAGE_SIZE, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ACCESSIBLE, 3);
    EXPECT_NE(b, nullptr);
    EXPECT_EQ(memblock_alloc_exact_nid_raw(PAGE_SIZE, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ANYWHERE, 3), nullptr);
    void *c = memblock_alloc_exact_nid_raw(16 * MiB, 2 * MiB, 16 * MiB, MEMBLOCK_ALLOC_ACCESSIBLE, 1);
    ASSERT_NE(c, nullptr);
    EXPECT_GE(pa(c), 4 * GiB);
    EXPECT_EQ(pa(c) % (2 * MiB), 0u);
    EXPECT_TRUE(last().exact_nid);
    memblock_free(a, 8 * PAGE_SIZE);
    memblock_free(b, PAGE_SIZE);
    memblock_free(c, 16 * MiB);
}

TEST_F(CompatLinux, MemblockPhysAllocReserveAndPartialFree) {
    // As Linux's reserve_real_mode: 28 KiB below 1 MiB ... which this machine
    // has only from 1 MiB: nothing fits, 0.
    EXPECT_EQ(memblock_phys_alloc_range(28672, PAGE_SIZE, 0, MiB), 0u);
    phys_addr_t p = memblock_phys_alloc_range(2 * MiB, 2 * MiB, MiB, 1024 * MiB);
    ASSERT_NE(p, 0u);
    EXPECT_EQ(p % (2 * MiB), 0u);
    EXPECT_LT(p, 1024 * MiB);
    // pcpu_embed_first_chunk's pattern: free the unused tail of a chunk.
    const uint64_t before = free_all_bootmem();
    EXPECT_EQ(memblock_phys_free(p + MiB, MiB), 0);
    EXPECT_EQ(free_all_bootmem(), before + MiB / PAGE_SIZE);
    EXPECT_EQ(memblock_phys_free(p, MiB), 0);
    EXPECT_EQ(memblock_phys_free(p, MiB), -22) << "not reserved any more";
    phys_addr_t q = memblock_phys_alloc(PAGE_SIZE, PAGE_SIZE);
    ASSERT_NE(q, 0u);
    EXPECT_EQ(memblock_phys_free(q, PAGE_SIZE), 0);
    // memblock_reserve: any range, holes too; freed as reserved memory.
    EXPECT_EQ(memblock_reserve(3 * GiB, MiB), 0) << "a hole: nothing to do";
    EXPECT_EQ(memblock_reserve(100 * MiB, MiB), 0);
    EXPECT_EQ(memblock_phys_free(100 * MiB, MiB), 0);
    EXPECT_EQ(memblock_reserve(~uint64_t{0} - 10, 100), -22) << "wraps";
}

TEST(CompatLinuxPhases, BeforeEarlyWindowAllocationsFailCleanly) {
    BootMachine m;
    m.boot_to(Phase::firmware_map);
    EXPECT_EQ(memblock_alloc(64, 8), nullptr);
    EXPECT_EQ(m.sys().last_error().code, Errc::wrong_phase);
    EXPECT_EQ(memblock_phys_alloc(4096, 4096), 0u);
    EXPECT_EQ(alloc_bootmem_nopanic(64), nullptr);
    EXPECT_DEATH(alloc_bootmem(64), "bootmem allocation failed");
    // Reservations already work: into the firmware map.
    EXPECT_EQ(memblock_reserve(16 * MiB, MiB), 0);
    EXPECT_EQ(free_all_bootmem(), 0u);
    ASSERT_TRUE(m.sys().early_window(m.window()).ok());
    EXPECT_NE(memblock_alloc(64, 8), nullptr);
}

} // namespace
} // namespace kmem
