// SPDX-License-Identifier: MIT
//
// DOC: kmem-sim's error contract - its exit statuses, and a boot that failed
// told in the user's terms (README "Using kmem-sim", docs/memmap.md "Errors").
//
//   0  booted (or, with --map-only, printed the map)
//   1  the map parsed, but kmem could not boot on it (too little RAM, RAM
//      past the 64 TiB kmem manages, a machine this host cannot simulate, an
//      injected fault the boot cannot survive), or could not serve every
//      request of a replayed boot
//   2  bad input or arguments (including a fault injection that never fired)
//   3  nothing to boot: the map describes no usable RAM (the map is printed)
//   4  internal error: kmem's own consistency check failed after a boot (a bug)
//
// Every status but 0 comes with one line on stderr, "kmem-sim: " and then
// where (FILE:LINE:, FILE:byte N:, a sysfs entry's file, --OPTION VALUE:, or
// FILE: for what concerns the input as a whole) and why.
#pragma once

#include "sim_boot.h"

#include <kmem/memmap.h>

#include <cstdint>
#include <string>

namespace kmem::tools {

enum ExitStatus : int {
    kExitBooted = 0,
    kExitCannotBoot = 1,
    kExitBadInput = 2,
    kExitNothingToBoot = 3,
    kExitInternalError = 4,
};

// Below this much usable RAM no map boots: the page descriptors of a
// max-order block (8 KiB at least), the direct map's page tables (4 pages)
// and the first slab do not fit. (32 KiB inside one 4 MiB block does boot;
// RAM that touches more blocks needs 8 KiB more for each.)
inline constexpr uint64_t kMinBootBytes = 32 * 1024;

// Why kmem cannot boot on `map` at all, seen before trying ("" if nothing
// rules it out): RAM past 64 TiB, less usable RAM than kMinBootBytes.
std::string cannot_boot_reason(const MemoryMap &map);

// A boot that failed (start_machine / enter_phase returned false), in the
// user's terms. fail_page_alloc / fail_slab: the fault injection asked for
// (0: none), named when the injected failure is what stopped the boot.
std::string boot_failure_reason(const MemoryMap &map, const SimBoot &boot, uint64_t fail_page_alloc,
                                uint64_t fail_slab);

} // namespace kmem::tools
