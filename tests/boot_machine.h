// A simulated machine booted through MemorySystem's phases (tests only):
// RAM ranges on nodes, the early window mapped by "the boot code", and a
// direct_map hook that maps each range into the simulated memory.
#pragma once

#include <kmem/boot.h>

#include "platform/hosted/hosted.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>

namespace kmem::test {

inline constexpr uint64_t kMiB = uint64_t{1} << 20, kGiB = uint64_t{1} << 30;

struct RamRange {
    uint64_t start, end;
    uint16_t node;
};

inline Status map_into_simulation(void *, uint64_t start, uint64_t end) {
    return hosted::map_physical_range(start, end);
}

class BootMachine {
public:
    // RAM below 2 GiB on node 0, 4-6 GiB on node 1, with a 1 GiB early window.
    BootMachine() : BootMachine({{kMiB, 2 * kGiB, 0}, {4 * kGiB, 6 * kGiB, 1}}) {}
    explicit BootMachine(std::initializer_list<RamRange> ram, uint64_t window = kGiB) : window_(window) {
        uint64_t top = 0;
        for (const RamRange &r : ram) {
            EXPECT_TRUE(map_.add(r.start, r.end, MemType::usable, r.node).ok());
            top = r.end > top ? r.end : top;
        }
        EXPECT_TRUE(hosted::create_physical_memory(top).ok());
        EXPECT_TRUE(hosted::map_physical_range(0, window < top ? window : top).ok());
        sys_ = std::make_unique<MemorySystem>();
    }
    ~BootMachine() {
        sys_.reset();
        hosted::destroy_physical_memory();
    }
    MemorySystem &sys() { return *sys_; }
    StaticMemoryMap<> &map() { return map_; }
    uint64_t window() const { return window_; }
    // Up to and including `last`.
    void boot_to(Phase last) {
        if (last >= Phase::firmware_map) {
            ASSERT_TRUE(sys_->firmware_map(map_).ok());
        }
        if (last >= Phase::early_window) {
            ASSERT_TRUE(sys_->early_window(window_).ok());
        }
        if (last >= Phase::direct_map) {
            ASSERT_TRUE(sys_->direct_map(map_into_simulation, nullptr).ok());
        }
        if (last >= Phase::running) {
            ASSERT_TRUE(sys_->running().ok());
        }
    }
    void expect_books_ok() {
        const Status b = sys_->phys().check();
        EXPECT_TRUE(b.ok()) << b.reason();
        const Status s = sys_->slab().check();
        EXPECT_TRUE(s.ok()) << s.reason();
    }

private:
    StaticMemoryMap<> map_;
    std::unique_ptr<MemorySystem> sys_;
    uint64_t window_;
};

} // namespace kmem::test
