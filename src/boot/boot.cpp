// SPDX-License-Identifier: MIT
//
// DOC: the boot phases of MemorySystem (see include/kmem/boot.h).
//
// FirmwareMap keeps a copy of the firmware's map; EarlyWindow bootstraps the
// buddy from the part of RAM the boot code mapped and brings slab up at once;
// DirectMap builds the direct map's page tables from the buddy, one RAM range
// at a time, lets the platform make each range reachable and onlines it;
// Running closes the early-allocation record.
#include <kmem/boot.h>

#include "platform/current.h"

namespace kmem {
namespace {

MemorySystem *g_current = nullptr;

bool is_ram(MemType t) { return t == MemType::usable || t == MemType::kernel_reserved; }

} // namespace

const char *phase_name(Phase p) {
    switch (p) {
    case Phase::off: return "Off";
    case Phase::firmware_map: return "FirmwareMap";
    case Phase::early_window: return "EarlyWindow";
    case Phase::direct_map: return "DirectMap";
    case Phase::running: return "Running";
    }
    return "?";
}

MemorySystem *MemorySystem::current() { return g_current; }

// Each phase function has checked it is called in the phase before `to`
// (debug builds check that it did: phases advance one at a time).
void MemorySystem::enter(Phase to) {
    KMEM_ASSERT(static_cast<unsigned>(to) == static_cast<unsigned>(phase_) + 1, "a boot phase skipped or repeated");
    phase_ = to;
    times_.start_ns[static_cast<unsigned>(to)] = Plat::now_ns();
}

Status MemorySystem::firmware_map(const MemoryMap &map) {
    KMEM_NOT_IN_INTERRUPT("firmware_map");
    if (phase_ != Phase::off) return make_error(Errc::wrong_phase, "firmware_map: the map is already known");
    KMEM_TRY(map.check());
    if (map.usable_bytes() == 0) return make_error(Errc::invalid_argument, "the map has no usable memory");
    map_.bind();
    KMEM_TRY(map_.assign(map));
    enter(Phase::firmware_map);
    g_current = this;
    return {};
}

Status MemorySystem::early_window(uint64_t window_start, uint64_t window_end, const SlabOptions &opts,
                                  uint64_t seed) {
    KMEM_NOT_IN_INTERRUPT("early_window");
    if (phase_ != Phase::firmware_map)
        return make_error(Errc::wrong_phase, "early_window: valid only in FirmwareMap");
    if (window_start % kPageSize || window_end % kPageSize || window_end <= window_start)
        return make_error(Errc::invalid_argument, "early window must be a non-empty range of whole pages");
    KMEM_TRY(phys_.bootstrap(map_, window_start, window_end));
    KMEM_TRY(slab_.init(phys_, opts, seed));
    window_start_ = window_start;
    window_end_ = window_end;
    enter(Phase::early_window);
    return {};
}

Status MemorySystem::direct_map(MappedHook hook, void *ctx, uint64_t va_base) {
    KMEM_NOT_IN_INTERRUPT("direct_map");
    if (phase_ != Phase::early_window)
        return make_error(Errc::wrong_phase, "direct_map: valid only in EarlyWindow");
    if (va_base % (uint64_t{1} << 30)) return make_error(Errc::invalid_argument, "direct map base not 1 GiB aligned");
    enter(Phase::direct_map);
    if (!tables_.ready()) KMEM_TRY(tables_.init(phys_));
    // Lowest ranges first: the window is mapped already, so the tables for
    // everything beyond it come from memory that is online.
    for (const MemRange &r : map_) {
        if (!is_ram(r.type)) continue;
        const uint64_t start = r.start & ~(kPageSize - 1), end = (r.end + kPageSize - 1) & ~(kPageSize - 1);
        KMEM_TRY(tables_.map(va_base + start, start, end - start));
        if (hook) KMEM_TRY(hook(ctx, start, end));
        // Online what lies outside the window: below it, then above it.
        const uint64_t below_end = end < window_start_ ? end : window_start_;
        const uint64_t above_start = start > window_end_ ? start : window_end_;
        const uint64_t parts[2][2] = {{start, below_end}, {above_start, end}};
        for (const auto &part : parts) {
            if (part[0] >= part[1]) continue;
            KMEM_TRY(phys_.online_map_ranges(map_, part[0], part[1]));
            KMEM_TRY(phys_.reserve_map_ranges(map_, part[0], part[1]));
        }
        if (direct_map_count_ < kDirectMapRecords)
            direct_map_[direct_map_count_++] = {start, end, Plat::now_ns() - times_.start_ns[1]};
    }
    BootRequest tables{};
    tables.size = tables_.table_pages() * kPageSize;
    tables.align = kPageSize;
    tables.api = BootApi::page_tables;
    tables.caller = "direct_map";
    tables.raw = true;
    record(tables, tables_.root(), false, false);
    return {};
}

Status MemorySystem::running() {
    KMEM_NOT_IN_INTERRUPT("running");
    if (phase_ != Phase::direct_map) return make_error(Errc::wrong_phase, "running: valid only in DirectMap");
    enter(Phase::running);
    return {};
}

} // namespace kmem
