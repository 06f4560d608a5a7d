// SPDX-License-Identifier: MIT
//
// DOC: /proc/buddyinfo, /proc/zoneinfo and /proc/meminfo for PhysAllocator.
//
// Formats follow mm/vmstat.c and fs/proc/meminfo.c closely enough that tools
// written for Linux's files read these.
#include <kmem/report.h>

#include "internal.h"
#include "lib/text_out.h"

namespace kmem {
struct BuddyInternals::ReportAccess {
    static uint64_t pcp_pages(const PhysAllocator &a, unsigned zi) {
        uint64_t n = 0;
        for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu)
            for (unsigned o = 0; o <= kPcpMaxOrder; ++o) n += a.pcp_[zi][cpu].count[o] * pages(o);
        return n;
    }
};

namespace {

template <class F> void for_each_present_zone(const PhysAllocator &a, F &&f) {
    for (uint16_t node = 0; node < kMaxNodes; ++node)
        for (unsigned t = 0; t < kZoneTypes; ++t) {
            const Zone &z = a.zone(node, static_cast<ZoneType>(t));
            if (z.present) f(node, static_cast<ZoneType>(t), z);
        }
}

} // namespace

void report_buddyinfo(const PhysAllocator &a, ReportSink sink, void *ctx) {
    TextOut out(sink, ctx);
    for_each_present_zone(a, [&](uint16_t node, ZoneType t, const Zone &z) {
        out.str("Node ").num(node).str(", zone ").str_right(zone_type_name(t), 8).str(" ");
        for (unsigned o = 0; o <= kMaxOrder; ++o) {
            uint64_t blocks = z.area[o].blocks;
            if (o == kMaxOrder) blocks += z.lazy / kMaxBlockPages;
            out.num(blocks, 6).str(" ");
        }
        out.nl();
    });
}

void report_zoneinfo(const PhysAllocator &a, ReportSink sink, void *ctx) {
    TextOut out(sink, ctx);
    for_each_present_zone(a, [&](uint16_t node, ZoneType t, const Zone &z) {
        const unsigned zi = PhysAllocator::zone_index(node, t);
        const uint64_t pcp = BuddyInternals::ReportAccess::pcp_pages(a, zi);
        out.str("Node ").num(node).str(", zone ").str_right(zone_type_name(t), 8).nl();
        out.str("  pages free     ").num(z.free + pcp).nl();
        out.str("        min      ").num(z.wmark_min).nl();
        out.str("        low      ").num(z.wmark_low).nl();
        out.str("        high     ").num(z.wmark_high).nl();
        out.str("        spanned  ").num(z.end_pfn - z.start_pfn).nl();
        out.str("        present  ").num(z.managed).nl();
        out.str("        managed  ").num(z.managed).nl();
        out.str("        reserved ").num(z.reserved).nl();
        out.str("        lazy     ").num(z.lazy).nl();
        out.str("        pcp      ").num(pcp).nl();
        out.str("        allocs   ").num(z.stats.allocs).nl();
        out.str("        frees    ").num(z.stats.frees).nl();
        out.str("        fallback ").num(z.stats.fallbacks).nl();
        out.str("        carved   ").num(z.stats.carved).nl();
        out.str("        failed   ").num(z.stats.failed).nl();
        out.str("  start_pfn:           ").num(z.start_pfn).nl();
    });
}

void report_meminfo(const PhysAllocator &a, ReportSink sink, void *ctx) {
    const PhysTotals t = a.totals();
    uint64_t low = 0;
    for_each_present_zone(a, [&](uint16_t, ZoneType, const Zone &z) { low += z.wmark_low; });
    const uint64_t free = t.free + t.pcp;
    const uint64_t available = free > low ? free - low : 0;
    TextOut out(sink, ctx);
    // fs/proc/meminfo.c: "Name:" padded to 16 columns, then %8lu " kB".
    auto line = [&](const char *name, uint64_t pages_count) {
        unsigned len = 0;
        while (name[len]) ++len;
        out.str(name);
        for (; len < 16; ++len) out.str(" ");
        out.num(pages_count * (kPageSize / 1024), 8).str(" kB").nl();
    };
    line("MemTotal:", t.managed);
    line("MemFree:", free);
    line("MemAvailable:", available);
    line("Reserved:", t.reserved);
    line("Allocated:", t.allocated);
    line("PerCpuLists:", t.pcp);
    line("Memmap:", (t.metadata_bytes + kPageSize - 1) / kPageSize);
}

} // namespace kmem
