// SPDX-License-Identifier: MIT
//
// DOC: the boot sequence - kmem's single front door.
//
// A kernel brings its memory up through one MemorySystem (static storage; it
// holds the memory map, the buddy, slab and the page tables), one phase at a
// time, each an explicit call that is valid only in the phase before it:
//
//   firmware_map(map)        Off          -> FirmwareMap  the firmware's map is known;
//                                                         reserve() marks what is taken
//   early_window(start, end) FirmwareMap  -> EarlyWindow  the boot code has mapped
//                                                         [start, end): the buddy comes up
//                                                         inside it, slab and kmalloc at once
//   direct_map(hook, ctx)    EarlyWindow  -> DirectMap    page tables of all RAM built from
//                                                         the buddy, range by range; each
//                                                         range is onlined once mapped
//   running()                DirectMap    -> Running      boot is over: the early-allocation
//                                                         record is closed
//
// A call in the wrong phase returns Errc::wrong_phase and changes nothing;
// every call here (the phases, alloc, free, reserve, and so the bootmem and
// memblock wrappers) made from an interrupt handler returns
// Errc::wrong_context (docs/porting.md, "Calling contexts").
// Boot-time allocation (what bootmem and memblock did) goes through alloc()
// / free() / reserve(), valid from EarlyWindow on (reserve() from
// FirmwareMap on); include/kmem/compat/linux.h wraps them in the Linux names.
// Every alloc() before Running is recorded (size, alignment, constraints,
// phase, caller) for the early-allocation report.
#pragma once

#include <kmem/buddy.h>
#include <kmem/memmap.h>
#include <kmem/paging.h>
#include <kmem/paging_aarch64.h>
#include <kmem/paging_riscv64.h>
#include <kmem/result.h>
#include <kmem/slab.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem {

enum class Phase : uint8_t { off = 0, firmware_map, early_window, direct_map, running };
inline constexpr unsigned kPhaseCount = 5;
const char *phase_name(Phase p); // "Off", "FirmwareMap", "EarlyWindow", "DirectMap", "Running"

// Which boot API a request came through (for the report).
enum class BootApi : uint8_t {
    kmem = 0,
    alloc_bootmem, alloc_bootmem_nopanic, alloc_bootmem_align, alloc_bootmem_pages,
    alloc_bootmem_node, alloc_bootmem_pages_node, alloc_bootmem_low, alloc_bootmem_low_pages,
    memblock_alloc, memblock_alloc_raw, memblock_alloc_from, memblock_alloc_low,
    memblock_alloc_node, memblock_alloc_try_nid, memblock_alloc_try_nid_raw,
    memblock_alloc_exact_nid_raw, memblock_phys_alloc, memblock_phys_alloc_range,
    page_tables, // the direct map's own tables
};
const char *boot_api_name(BootApi api);

inline constexpr int kNoNode = -1;

// The direct map's page tables and where it starts, per architecture: on
// x86_64 Linux's 0xffff888000000000; on AArch64 the lower half (TTBR0), at
// 64 TiB, so one table root serves the kernel's identity map and the direct
// map; on RISC-V the start of Sv39's upper half (canonical in Sv48 too).
#if defined(__aarch64__)
using ArchPageTables = Aarch64PageTables;
inline constexpr uint64_t kArchDirectMapBase = 0x0000400000000000ull;
#elif defined(__riscv)
using ArchPageTables = Riscv64PageTables;
inline constexpr uint64_t kArchDirectMapBase = 0xffffffc000000000ull;
#else
using ArchPageTables = PageTables;
inline constexpr uint64_t kArchDirectMapBase = kDirectMapBase;
#endif

// One boot-time allocation request. Physical constraints are [min, max)
// (max 0: no limit); `goal` is a preferred lowest address (bootmem's goal):
// tried first, dropped if nothing fits above it.
struct BootRequest {
    uint64_t size = 0;
    uint64_t align = 0;       // power of two; 0: 8
    uint64_t min = 0, max = 0;
    uint64_t goal = 0;
    int nid = kNoNode;        // preferred node (kNoNode: any)
    bool exact_nid = false;   // the node or nothing
    bool raw = false;         // not zeroed
    BootApi api = BootApi::kmem;
    const char *caller = nullptr; // call-site tag (static string)
};

// One record of the early-allocation report.
struct EarlyRecord {
    uint64_t pa;              // 0 if it failed
    uint64_t size, align, min, max;
    int32_t nid;
    Phase phase;
    BootApi api;
    bool exact_nid, raw, failed;
    bool slab;                // served by kmalloc (else whole pages from the buddy)
    const char *caller;
    uint64_t ns;              // when, from firmware_map()
};
inline constexpr size_t kEarlyRecords = 1024;

// Called by direct_map() after a range is in the page tables: the platform
// makes it reachable (hosted: maps the simulated memory; bare metal: the new
// tables are live). The range is onlined to the buddy afterwards.
using MappedHook = Status (*)(void *ctx, uint64_t start, uint64_t end);

struct PhaseTimes {
    uint64_t start_ns[kPhaseCount]; // Plat::now_ns() when each phase began (0: not reached)
};

// When the direct map reached a RAM range (the range is mapped and online).
struct DirectMapRange {
    uint64_t start, end;
    uint64_t ns; // after firmware_map()
};
inline constexpr size_t kDirectMapRecords = 256;

class MemorySystem {
public:
    MemorySystem() = default;
    MemorySystem(const MemorySystem &) = delete;
    MemorySystem &operator=(const MemorySystem &) = delete;

    // ---- phases (each valid only in the phase it leaves)
    Status firmware_map(const MemoryMap &map);
    // The window is [start, end) (page boundaries): where the boot code's
    // early mapping covers RAM - [0, 1 GiB) on x86, the kernel's RAM on a
    // board whose memory starts high. The one-argument form is [0, end).
    Status early_window(uint64_t start, uint64_t end, const SlabOptions &opts = {}, uint64_t seed = 0);
    Status early_window(uint64_t end, const SlabOptions &opts = {}, uint64_t seed = 0) {
        return early_window(0, end, opts, seed);
    }
    Status direct_map(MappedHook hook, void *ctx, uint64_t va_base = kArchDirectMapBase);
    Status running();
    Phase phase() const { return phase_; }
    const PhaseTimes &times() const { return times_; }
    uint64_t window_start() const { return window_start_; }
    uint64_t window_end() const { return window_end_; }
    // The RAM ranges in the order the direct map reached them.
    size_t direct_map_count() const { return direct_map_count_; }
    const DirectMapRange &direct_map_range(size_t i) const { return direct_map_[i]; }

    // ---- boot-time allocation (EarlyWindow, DirectMap, Running)
    // Physical address, or an error (no_memory, invalid_argument, wrong_phase).
    Result<uint64_t> alloc(const BootRequest &r);
    // Give back [pa, pa + size): a kmalloc-served allocation is freed when pa
    // is its start; of page-served or reserved memory, every whole page
    // inside is given to the buddy (a part of a range works, as in Linux).
    Status free(uint64_t pa, uint64_t size);
    // Mark [pa, pa + size) as taken (FirmwareMap on). exclusive: fail with
    // Errc::busy if any of it is reserved already.
    Status reserve(uint64_t pa, uint64_t size, bool exclusive, const char *why);
    // Why the last failed boot call failed.
    Error last_error() const {
        Error e = last_error_;
        if (!e.reason) e.reason = ""; // stored null, so that an unused system is all zero
        return e;
    }

    // ---- the early-allocation report
    size_t early_count() const { return early_count_; }
    const EarlyRecord &early(size_t i) const { return early_[i]; }
    uint64_t early_dropped() const { return early_dropped_; } // beyond kEarlyRecords

    // ---- the layers (valid once early_window() succeeded)
    PhysAllocator &phys() { return phys_; }
    SlabAllocator &slab() { return slab_; }
    ArchPageTables &tables() { return tables_; }
    const MemoryMap &map() const { return map_; }

    // The system the compat layer (kmem/compat/linux.h) talks to: the last
    // one that entered FirmwareMap.
    static MemorySystem *current();

private:
    void enter(Phase to);
    Status failed(Error e) { // remember why, and say it
        last_error_ = e;
        return e;
    }
    void record(const BootRequest &r, uint64_t pa, bool failed, bool slab);

    Phase phase_ = Phase::off;
    PhaseTimes times_{};
    uint64_t window_start_ = 0, window_end_ = 0;
    DirectMapRange direct_map_[kDirectMapRecords]{};
    size_t direct_map_count_ = 0;
    Error last_error_{nullptr};
    LazyMemoryMap<> map_; // bound by firmware_map(): an unused system is all zero (.bss)
    PhysAllocator phys_;
    SlabAllocator slab_;
    ArchPageTables tables_;
    EarlyRecord early_[kEarlyRecords]{};
    size_t early_count_ = 0;
    uint64_t early_dropped_ = 0;
};

} // namespace kmem
