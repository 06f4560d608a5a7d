// The slab and kmalloc tests' machine: a HostedMachine (hosted_machine.h)
// booted from a map of the given RAM ranges, with slab on top. Only RAM is
// mapped into the window, as on hardware. The slab tests know it as
// kmem::Machine, with Ram, MiB and GiB, in namespace kmem.
#pragma once

#include <kmem/slab.h>

#include "hosted_machine.h"
#include "platform/hosted/hosted.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>

namespace kmem {
namespace test {

class SlabMachine : public HostedMachine {
public:
    static constexpr uint64_t kSeed = 0x5eed;

    // Describe RAM with add_ram() or map(), then boot_with_slab().
    SlabMachine() = default;
    SlabMachine(std::initializer_list<Ram> ram, const SlabOptions &opts = {}, uint64_t seed = kSeed) {
        add_ram(ram);
        const Status s = boot_with_slab(opts, seed);
        EXPECT_TRUE(s.ok()) << s.reason();
    }
    // Bootstrap the buddy over all of RAM (boot_ram_mapped), then slab.
    Status boot_with_slab(const SlabOptions &opts = {}, uint64_t seed = kSeed) {
        KMEM_TRY(boot_ram_mapped());
        return slab_->init(a(), opts, seed);
    }
    PhysAllocator &phys() { return a(); }
    SlabAllocator &slab() { return *slab_; }
    // What every test ends with: the books of slab and buddy must agree.
    void expect_books_agree() {
        const Status s = slab_->check();
        EXPECT_TRUE(s.ok()) << "slab check: " << s.reason();
        const Status b = a().check();
        EXPECT_TRUE(b.ok()) << "buddy check: " << b.reason();
    }

private:
    std::unique_ptr<SlabAllocator> slab_ = std::make_unique<SlabAllocator>();
};

} // namespace test

using Machine = test::SlabMachine;
using test::GiB;
using test::MiB;
using test::Ram;

// The default machine: ZONE_DMA and DMA32 memory and Normal memory above
// 4 GiB on node 0, and a second node above 8 GiB (Normal only).
inline constexpr Ram kNode0Low{1 * MiB, 128 * MiB, 0};
inline constexpr Ram kNode0High{4 * GiB, 4 * GiB + 128 * MiB, 0};
inline constexpr Ram kNode1{8 * GiB, 8 * GiB + 128 * MiB, 1};

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
