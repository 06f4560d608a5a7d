// SPDX-License-Identifier: MIT
//
// DOC: booting kmem on a simulated machine (hosted tools only).
//
// The simulated machine's physical memory is one MAP_NORESERVE mapping (see
// src/platform/hosted). Boot follows kmem's phases: the early window (the
// first 1 GiB the boot code maps) is mapped and the buddy bootstrapped from
// it; then every other range of RAM is mapped and onlined, as the direct-map
// builder does on hardware.
#pragma once

#include <kmem/boot.h>
#include <kmem/buddy.h>
#include <kmem/slab.h>
#include <kmem/memmap.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace kmem::tools {

struct BootPhase {
    std::string name;
    uint64_t ns;
};

// A simulated machine booted through MemorySystem, kmem's front door.
struct SimBoot {
    std::unique_ptr<MemorySystem> sys;
    uint64_t kmalloc_ready_ns = 0; // from the start of bootstrap until kmalloc works
    std::vector<BootPhase> phases; // each phase left, with its duration
    uint64_t all_online_ns = 0; // from the start of bootstrap until all RAM is online
    uint64_t window = 0;        // bytes of the early window
    uint64_t window_start = 0;  // where it begins: the lowest RAM, 2 MiB-aligned
    uint64_t map_read_ns = 0;   // the tool reading and parsing its input (not a kmem phase)
    uint64_t last_ns = 0;       // when the current phase began (monotonic)
    uint64_t bootstrap_ns = 0;  // when early_window() was called
    Error failure{};              // a failed boot: the core's reason (sim_errors.h words it for the user)
    Phase failed_in = Phase::off; // and the phase it could not reach (off: the host could not simulate it)
    PhysAllocator &phys() const { return sys->phys(); }
    SlabAllocator &slab() const { return sys->slab(); }
};

inline constexpr uint64_t kDefaultEarlyWindow = uint64_t{1} << 30;

// Create the simulated machine for `map` and enter FirmwareMap. False (with a
// reason in `error`) if the machine cannot be simulated. The simulated memory
// lives until the next call or until release_machine().
bool start_machine(const MemoryMap &map, uint64_t window, SimBoot &out, std::string &error);
// Leave the current phase for the next one (EarlyWindow maps the window
// first; DirectMap maps every range as its tables are built), timing it.
bool enter_phase(SimBoot &boot, Phase next, std::string &error);
// Every phase from FirmwareMap up to Running.
bool run_phases(SimBoot &boot, std::string &error);
// check() of the slab and the buddy; false with "slab check failed: ..." or
// "buddy check failed: ..." in `error`.
bool check_machine(const SimBoot &boot, std::string &error);
void release_machine(SimBoot &boot);

// Lowest start of RAM (usable or kernel-reserved) in the map; 0 if none.
uint64_t ram_bottom(const MemoryMap &map);
// Highest end of RAM (usable or kernel-reserved) in the map; 0 if none.
uint64_t ram_top(const MemoryMap &map);

void print_boot_text(std::ostream &os, const SimBoot &boot);
nlohmann::json boot_json(const SimBoot &boot);
nlohmann::json phys_json(const PhysAllocator &phys);
nlohmann::json slab_json(const SlabAllocator &slab);

} // namespace kmem::tools
