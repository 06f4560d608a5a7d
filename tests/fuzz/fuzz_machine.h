// SPDX-License-Identifier: MIT
//
// DOC: the simulated machine the buddy and slab fuzz targets run on.
//
// Simulated physical memory is created once per process; every input starts
// from a fresh PhysAllocator on zeroed memory with only the early window
// mapped, so an input behaves the same whatever ran before it. RAM: ZONE_DMA
// and DMA32 on node 0 from 1 MiB, Normal memory above 4 GiB with unaligned
// ends on node 0, and node 1 above 8 GiB; the early window is the first
// 64 MiB, the rest is onlined when the input asks (as the direct map does).
#pragma once

#include <kmem/buddy.h>
#include <kmem/memmap.h>

#include "platform/hosted/hosted.h"

#include <optional>

namespace kmem::fuzz {

inline constexpr uint64_t kMiB = uint64_t{1} << 20, kGiB = uint64_t{1} << 30;
struct RamRange {
    uint64_t start, end;
    uint16_t node;
};
inline constexpr RamRange kRam[] = {
    {1 * kMiB, 48 * kMiB, 0},
    {4 * kGiB + 8192, 4 * kGiB + 40 * kMiB - 4096, 0},
    {8 * kGiB, 8 * kGiB + 24 * kMiB, 1},
};
inline constexpr uint64_t kTop = 8 * kGiB + 24 * kMiB;
inline constexpr uint64_t kWindowEnd = 64 * kMiB;

class Machine {
public:
    Machine() {
        for (const RamRange &r : kRam)
            if (!map_.add(r.start, r.end, MemType::usable, r.node).ok()) __builtin_trap();
        if (!hosted::create_physical_memory(kTop).ok()) __builtin_trap();
    }
    // A fresh allocator booted on the early window; false if bootstrap failed.
    PhysAllocator &boot() {
        hosted::unmap_all_physical();
        for (const RamRange &r : kRam) hosted::discard_physical_range(r.start, r.end);
        phys_.emplace();
        online_all_ = false;
        if (!hosted::map_physical_range(0, kWindowEnd).ok() || !phys_->bootstrap(map_, 0, kWindowEnd).ok())
            __builtin_trap();
        return *phys_;
    }
    // The direct map: map and online the RAM above the window (once).
    Status online_rest() {
        if (online_all_) return {};
        online_all_ = true;
        for (const RamRange &r : kRam) KMEM_TRY(hosted::map_physical_range(r.start & ~(kPageSize - 1), r.end));
        return phys_->online_map_ranges(map_, 0, kMaxPhysMemory);
    }
    bool all_online() const { return online_all_; }
    const MemoryMap &map() const { return map_; }
    static uint8_t *ptr(uint64_t pa) { return hosted::physical_memory_base() + pa; }

private:
    StaticMemoryMap<> map_;
    std::optional<PhysAllocator> phys_;
    bool online_all_ = false;
};

// One process-wide machine (the hosted physical memory is a singleton).
inline Machine &machine() {
    static Machine m;
    return m;
}

} // namespace kmem::fuzz
