// A simulated machine booted through MemorySystem's phases (tests only): a
// SimMachine (hosted_machine.h) with RAM ranges on nodes, the early window
// mapped by "the boot code", and a direct_map hook that maps each range into
// the simulated memory.
#pragma once

#include <kmem/boot.h>

#include "hosted_machine.h"
#include "platform/hosted/hosted.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>

namespace kmem::test {

inline Status map_into_simulation(void *, uint64_t start, uint64_t end) {
    return hosted::map_physical_range(start, end);
}

class BootMachine : public SimMachine {
public:
    // RAM below 2 GiB on node 0, 4-6 GiB on node 1, with a 1 GiB early window.
    BootMachine() : BootMachine({{MiB, 2 * GiB, 0}, {4 * GiB, 6 * GiB, 1}}) {}
    explicit BootMachine(std::initializer_list<Ram> ram, uint64_t window = GiB) : window_(window) {
        add_ram(ram);
        create();
        const uint64_t top = ram_top();
        EXPECT_TRUE(map_window(0, window < top ? window : top).ok());
        sys_ = std::make_unique<MemorySystem>();
    }
    MemorySystem &sys() { return *sys_; }
    uint64_t window() const { return window_; }
    // Up to and including `last`.
    void boot_to(Phase last) {
        if (last >= Phase::firmware_map) {
            ASSERT_TRUE(sys_->firmware_map(map()).ok());
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
    std::unique_ptr<MemorySystem> sys_;
    uint64_t window_;
};

} // namespace kmem::test
