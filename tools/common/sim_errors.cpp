// SPDX-License-Identifier: MIT
//
// DOC: kmem-sim's error contract: boot failures in the user's terms.
#include "sim_errors.h"

#include "map_report.h"

#include <kmem/buddy.h>

#include <cstdio>

namespace kmem::tools {
namespace {

constexpr const char *kCannotBoot = "kmem could not boot on this map: ";

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// "4 KiB", "32 TiB" when exact, else human_bytes ("64.00 TiB").
std::string size_words(uint64_t n) {
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    for (int u = 4; u >= 0; --u) {
        const uint64_t unit = uint64_t{1} << (10 * (u + 1));
        if (n >= unit && n % unit == 0 && n / unit < 1024) return std::to_string(n / unit) + " " + units[u];
    }
    return human_bytes(n);
}

uint64_t usable_inside(const MemoryMap &map, uint64_t start, uint64_t end) {
    uint64_t n = 0;
    map.for_each(MemType::usable, [&](const MemRange &r) {
        const uint64_t s = r.start > start ? r.start : start, e = r.end < end ? r.end : end;
        if (s < e) n += e - s;
    });
    return n;
}

// "(EarlyWindow: no memory for this section's page descriptors)": the core's words, last.
std::string core_words(const SimBoot &boot) {
    return std::string(" (") + phase_name(boot.failed_in) + ": " + boot.failure.reason + ")";
}

} // namespace

std::string cannot_boot_reason(const MemoryMap &map) {
    const uint64_t top = ram_top(map), usable = map.usable_bytes();
    if (top > kMaxPhysMemory)
        return kCannotBoot + std::string("it describes RAM up to ") + hex(top) + " (" + size_words(top) +
               "); kmem manages physical memory below 64 TiB";
    if (usable != 0 && usable < kMinBootBytes)
        return kCannotBoot + std::string("it describes ") + size_words(usable) +
               " of usable RAM; kmem needs at least " + size_words(kMinBootBytes) +
               " to boot (page descriptors, page tables and its first slab)";
    return "";
}

std::string boot_failure_reason(const MemoryMap &map, const SimBoot &boot, uint64_t fail_page_alloc,
                                uint64_t fail_slab) {
    if (!boot.sys) { // the host would not reserve the simulated memory
        const uint64_t top = ram_top(map);
        return kCannotBoot + std::string("simulating it takes ") + size_words(top) +
               " of this host's address space (its RAM ends at " + hex(top) +
               "), more than the host will reserve (" + boot.failure.reason + ")";
    }
    if (fail_page_alloc && boot.phys().injected_failures())
        return kCannotBoot + std::string("the page allocation --fail-page-alloc ") +
               std::to_string(fail_page_alloc) + " made fail is one the boot cannot do without" +
               core_words(boot);
    if (fail_slab && boot.slab().injected_failures())
        return kCannotBoot + std::string("the object allocation --fail-slab ") + std::to_string(fail_slab) +
               " made fail is one the boot cannot do without" + core_words(boot);
    if (boot.failure.code == Errc::no_memory && boot.failed_in == Phase::early_window) {
        const uint64_t top = ram_top(map);
        const uint64_t end = top - boot.window_start > boot.window ? boot.window_start + boot.window : top;
        return kCannotBoot + std::string("the early window [") + hex(boot.window_start) + "-" + hex(end) +
               ") holds " + size_words(usable_inside(map, boot.window_start, end)) +
               " of usable RAM, too little for the page descriptors kmem keeps for it (8 bytes per "
               "4 KiB page of every " + size_words(kMaxBlockPages * kPageSize) + " block it touches) and its first slab" +
               core_words(boot);
    }
    if (boot.failure.code == Errc::no_memory && boot.failed_in == Phase::direct_map)
        return kCannotBoot + std::string("its ") + size_words(map.usable_bytes()) +
               " of usable RAM leaves no room, after the early window, for the page tables of the "
               "direct map and the page descriptors of the RAM above the window" +
               core_words(boot);
    return kCannotBoot + std::string(phase_name(boot.failed_in)) + ": " + boot.failure.reason;
}

} // namespace kmem::tools
