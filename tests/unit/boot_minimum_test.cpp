// DOC: the least RAM kmem boots on (tools/common/sim_errors.h,
// kMinBootBytes): kmem-sim refuses a smaller map up front with "kmem needs
// at least 32 KiB to boot", so that claim must hold for the core itself -
// no map below it boots, wherever its RAM lies, and one of 32 KiB does.
#include "map_loader.h"
#include "sim_boot.h"
#include "sim_errors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace kmem {
namespace {

// Every phase of kmem-sim's boot on one usable range [base, base + bytes).
bool boots(uint64_t base, uint64_t bytes, std::string &error) {
    StaticMemoryMap<> map;
    EXPECT_TRUE(map.add(base, base + bytes, MemType::usable).ok());
    tools::SimBoot boot;
    const bool ok = tools::start_machine(map, tools::kDefaultEarlyWindow, boot, error) &&
                    tools::run_phases(boot, error) && tools::check_machine(boot, error);
    tools::release_machine(boot);
    return ok;
}

TEST(BootMinimum, NoMapBelowTheMinimumBoots) {
    // The bottom of a section, low memory, above 4 GiB, across a section
    // boundary, and high in a section far up.
    for (const uint64_t base : {0ull, 0x100000ull, 0x100000000ull, 0x3fffe000ull, 0x7ffff000000ull}) {
        for (uint64_t bytes = 4096; bytes < tools::kMinBootBytes; bytes += 4096) {
            std::string error;
            EXPECT_FALSE(boots(base, bytes, error)) << bytes << " bytes at 0x" << std::hex << base;
        }
    }
}

TEST(BootMinimum, TheMinimumBootsAtTheBottomOfASection) {
    std::string error;
    EXPECT_TRUE(boots(0, tools::kMinBootBytes, error)) << error;
    EXPECT_TRUE(boots(uint64_t{4} << 30, tools::kMinBootBytes, error)) << error;
}

} // namespace
} // namespace kmem
