// A simulated machine for the slab and kmalloc tests: simulated physical
// memory, the buddy booted from a map of the given RAM ranges, and slab on
// top. Only RAM is mapped into the window, as on hardware.
#pragma once

#include <kmem/slab.h>

#include "platform/hosted/hosted.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <memory>

namespace kmem {

inline constexpr uint64_t MiB = uint64_t{1} << 20;
inline constexpr uint64_t GiB = uint64_t{1} << 30;


struct Ram {
    uint64_t start, end;
    uint16_t node;
};


// The default machine: ZONE_DMA and DMA32 memory and Normal memory above
// 4 GiB on node 0, and a second node above 8 GiB (Normal only).
inline constexpr Ram kNode0Low{1 * MiB, 128 * MiB, 0};
inline constexpr Ram kNode0High{4 * GiB, 4 * GiB + 128 * MiB, 0};
inline constexpr Ram kNode1{8 * GiB, 8 * GiB + 128 * MiB, 1};

class Machine {
public:
    Machine(std::initializer_list<Ram> ram, const SlabOptions &opts = {}, uint64_t seed = 0x5eed) {
        uint64_t top = 0;
        for (const Ram &r : ram) {
            EXPECT_TRUE(map_.add(r.start, r.end, MemType::usable, r.node).ok());
            top = std::max(top, r.end);
        }
        EXPECT_TRUE(hosted::create_physical_memory(top).ok());
        for (const Ram &r : ram) EXPECT_TRUE(hosted::map_physical_range(r.start, r.end).ok());
        phys_ = std::make_unique<PhysAllocator>();
        slab_ = std::make_unique<SlabAllocator>();
        const Status b = phys_->bootstrap(map_, 0, top);
        EXPECT_TRUE(b.ok()) << b.reason();
        const Status s = slab_->init(*phys_, opts, seed);
        EXPECT_TRUE(s.ok()) << s.reason();
    }
    ~Machine() {
        slab_.reset();
        phys_.reset();
        hosted::destroy_physical_memory();
    }
    PhysAllocator &phys() { return *phys_; }
    SlabAllocator &slab() { return *slab_; }
    // What every test ends with: the books of slab and buddy must agree.
    void expect_books_agree() {
        const Status s = slab_->check();
        EXPECT_TRUE(s.ok()) << "slab check: " << s.reason();
        const Status b = phys_->check();
        EXPECT_TRUE(b.ok()) << "buddy check: " << b.reason();
    }

private:
    StaticMemoryMap<> map_;
    std::unique_ptr<PhysAllocator> phys_;
    std::unique_ptr<SlabAllocator> slab_;
};

// The fixture of the slab and kmalloc tests: a Machine in m_ (started by the
// test's SetUp with start()), and every test ends with the books of slab and
// buddy agreeing (tests that damage objects on purpose repair them first).
class SlabMachineTest : public ::testing::Test {
protected:
    // (Re)boot a fresh machine with these RAM ranges.
    void start(std::initializer_list<Ram> ram, const SlabOptions &opts = {}) {
        m_.reset();
        m_ = std::make_unique<Machine>(ram, opts);
    }
    void TearDown() override {
        if (!m_) return;
        m_->expect_books_agree();
        m_.reset();
    }
    SlabAllocator &slab() { return m_->slab(); }
    PhysAllocator &phys() { return m_->phys(); }
    std::unique_ptr<Machine> m_;
};

inline uint64_t pa(const void *p) { return static_cast<uint64_t>(static_cast<const uint8_t *>(p) - hosted::physical_memory_base()); }
inline bool inside(const void *p, const Ram &r) { return pa(p) >= r.start && pa(p) < r.end; }
inline void *va(uint64_t phys) { return hosted::physical_memory_base() + phys; }

} // namespace kmem
