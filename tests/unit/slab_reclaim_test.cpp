// Memory that comes back before anything reports out of memory: the buddy's
// reclaimer (PhysAllocator::set_reclaimer), which the slab layer registers,
// gives back the calling CPU's partial slabs and every node's empty slabs
// when an allocation finds no free block, and the allocation is tried once
// more; atomic requests never wait for it.
#include <kmem/slab.h>

#include "slab_machine.h"

#include <gtest/gtest.h>

#include <vector>

namespace kmem {
namespace {

class SlabReclaim : public SlabMachineTest {
protected:
    void SetUp() override { start({{1 * MiB, 33 * MiB, 0}}); }

    // Fill memory with kmalloc objects, then free them all: their slabs
    // are empty but cached (the CPU's partial list, each node's min_partial).
    void fill_and_free_slabs() {
        std::vector<void *> objs;
        while (void *p = slab().kmalloc(2048)) objs.push_back(p);
        for (void *p : objs) ASSERT_TRUE(slab().kfree(p).ok());
        ASSERT_GT(slab().totals().slab_pages, 0u);
    }
    // Take every free page of the buddy (any order), keeping them.
    std::vector<uint64_t> take_free_pages(uint32_t flags) {
        std::vector<uint64_t> pages;
        for (Result<uint64_t> r = phys().alloc_pages(0, flags); r.ok(); r = phys().alloc_pages(0, flags))
            pages.push_back(r.value());
        return pages;
    }
    void give_back(const std::vector<uint64_t> &pages) {
        for (uint64_t pa : pages) ASSERT_TRUE(phys().free_pages(pa, 0).ok());
    }
};

TEST_F(SlabReclaim, AnAllocationGetsTheEmptySlabsBeforeItFails) {
    fill_and_free_slabs();
    const uint64_t cached = slab().totals().slab_pages;
    const uint64_t reclaims = phys().reclaims();
    // Order 3 after every free page went out: only the empty slabs hold memory.
    std::vector<uint64_t> held = take_free_pages(kAllocAtomic);
    Result<uint64_t> r = phys().alloc_pages(3);
    ASSERT_TRUE(r.ok()) << r.error().reason;
    EXPECT_GT(phys().reclaims(), reclaims);
    EXPECT_LT(slab().totals().slab_pages, cached) << "the empty slabs went back";
    ASSERT_TRUE(phys().free_pages(r.value(), 3).ok());
    give_back(held);
    m_->expect_books_agree();
}

TEST_F(SlabReclaim, AtomicRequestsFailWithoutReclaiming) {
    fill_and_free_slabs();
    const uint64_t cached = slab().totals().slab_pages;
    std::vector<uint64_t> held = take_free_pages(kAllocAtomic);
    const uint64_t reclaims = phys().reclaims();
    EXPECT_EQ(phys().alloc_pages(3, kAllocAtomic).code(), Errc::no_memory);
    EXPECT_EQ(phys().reclaims(), reclaims);
    EXPECT_EQ(slab().totals().slab_pages, cached) << "nothing was taken from the slab layer";
    give_back(held);
    m_->expect_books_agree();
}

TEST_F(SlabReclaim, AKmallocThatNeedsANewSlabReclaimsAnotherCachesSlabs) {
    // Empty slabs of the 2 KiB cache; memory otherwise full; a 96-byte
    // kmalloc needs a slab of its own: it gets one from the reclaimed pages.
    fill_and_free_slabs();
    std::vector<uint64_t> held = take_free_pages(kAllocAtomic);
    void *p = slab().kmalloc(96);
    ASSERT_NE(p, nullptr) << slab().last_error().reason;
    EXPECT_TRUE(slab().kfree(p).ok());
    give_back(held);
    m_->expect_books_agree();
}

} // namespace
} // namespace kmem
