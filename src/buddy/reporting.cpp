// SPDX-License-Identifier: MIT
//
// DOC: free page reporting - telling the layer below which free memory it
// may take back.
//
// A kernel under a hypervisor reports free pages so the host can reclaim
// them (Linux's page_reporting, virtio-balloon); a process allocator
// (tools/malloc) discards them with madvise. report_free walks the free
// lists of each zone, largest order first, under the zone lock, and hands
// every block not yet reported to the sink: all its pages but the first,
// which holds the block's free-list link. The block is then marked reported
// (a flag in the link) and moved to the tail of its list, so allocation keeps
// taking blocks that are still resident first. Unreported blocks are kept
// newest first, so the walk starts where the reported ones begin and goes
// towards the head: the longest free first; with idle_only it stops at the
// first block freed in the current epoch. A block loses the mark when it leaves
// its list (allocated, or merged with its buddy: the bigger block is
// unreported and may be reported again); splitting a reported block keeps
// its upper halves reported.
#include "internal.h"

namespace kmem {

using BI = BuddyInternals;

uint64_t PhysAllocator::report_free(unsigned min_order, uint64_t max_pages, FreeSink sink, void *ctx,
                                   bool idle_only) {
    KMEM_ASSERT(!Plat::in_interrupt(), "report_free in an interrupt handler");
    if (Plat::in_interrupt()) return 0;
    if (min_order < 1) min_order = 1; // an order-0 block is its link page only
    // Blocks pushed before this epoch began were free at the previous idle call.
    const uint32_t epoch = __atomic_load_n(&report_epoch_, __ATOMIC_RELAXED);
    if (idle_only) __atomic_store_n(&report_epoch_, epoch + 1, __ATOMIC_RELAXED);
    uint64_t done = 0;
    for (unsigned zi = 0; zi < kMaxZones && done < max_pages; ++zi) {
        if (!zones_[zi].present) continue;
        LockGuard<BI::Lock> g(zone_locks_[zi]);
        Zone &z = zones_[zi];
        for (unsigned o = kMaxOrder + 1; o-- > min_order && done < max_pages;) {
            FreeArea &area = z.area[o];
            // The unreported prefix, from its end (the longest free) backwards.
            FreeLink *l = area.first_reported ? area.first_reported->prev : area.tail;
            while (l && done < max_pages) {
                FreeLink *older = l->prev;
                if (idle_only && static_cast<int32_t>(l->epoch - epoch) >= 0) break; // newer ones follow
                const uint64_t pfn = BI::pfn_of_link(l);
                BI::list_remove(area, pfn);
                sink(ctx, pa_of(pfn) + kPageSize, (pages(o) - 1) * kPageSize);
                BI::list_push_reported(area, pfn);
                done += pages(o) - 1;
                l = older;
            }
        }
    }
    return done;
}

uint64_t PhysAllocator::unreported_free_pages(uint64_t *out) {
    uint64_t n = 0, given = 0;
    for (unsigned zi = 0; zi < kMaxZones; ++zi) {
        if (!zones_[zi].present) continue;
        LockGuard<BI::Lock> g(zone_locks_[zi]);
        const Zone &z = zones_[zi];
        n += z.free - z.lazy - BI::reported_pages(z);
        given += z.out;
    }
    if (out) *out = given;
    return n;
}

} // namespace kmem
