// SPDX-License-Identifier: MIT
//
// DOC: onlining memory - the one path boot and memory hot-add share.
//
// online_range() takes a mapped range of RAM and, section by section:
//   1. gives the section a descriptor array if it has none: the highest
//      max-order block of the range inside that section holds it
//      (memory-map-on-memory); a range too small for that borrows a
//      max-order block from the buddy itself;
//   2. makes the whole-max-order-block middle of each zone part the
//      section's lazy run (one per section) - nothing in it is written;
//   3. initialises descriptors only for the ragged edges: the pages it frees
//      eagerly, and the not-online pages of the max-order blocks it touches
//      (so a buddy lookup never reads garbage);
//   4. frees the edges as maximal aligned blocks, merging with neighbours.
// The cost is O(sections + edge blocks): 1 TiB is 1024 section entries.
#include "internal.h"

namespace kmem {
namespace {

using BI = BuddyInternals;

const char *const kDescriptorOwner = "page descriptors";

uint64_t isqrt(uint64_t v) {
    uint64_t r = 0, bit = uint64_t{1} << 62;
    while (bit > v) bit >>= 2;
    while (bit) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

// Linux-like watermarks: min = 4 * sqrt(managed KiB) KiB, clamped.
void set_watermarks(Zone &z) {
    uint64_t min = 2 * isqrt(z.managed); // pages: 4*sqrt(4*managed) KiB / 4 KiB
    if (min > 65536) min = 65536;
    if (min > z.managed / 4) min = z.managed / 4;
    z.wmark_min = min;
    z.wmark_low = min + min / 4;
    z.wmark_high = min + min / 2;
}

ZoneType zone_type_of(uint64_t pfn) {
    if (pa_of(pfn) < kZoneDmaEnd) return ZoneType::dma;
    if (pa_of(pfn) < kZoneDma32End) return ZoneType::dma32;
    return ZoneType::normal;
}

uint64_t zone_type_end_pfn(ZoneType t) {
    if (t == ZoneType::dma) return pfn_of(kZoneDmaEnd);
    if (t == ZoneType::dma32) return pfn_of(kZoneDma32End);
    return kMaxPfn;
}

constexpr uint64_t align_down_block(uint64_t pfn) { return pfn & ~(kMaxBlockPages - 1); }
constexpr uint64_t align_up_block(uint64_t pfn) { return align_down_block(pfn + kMaxBlockPages - 1); }

} // namespace

struct BuddyInternals::OnlineStep {
    // How many whole sections share one in-place array block: a wholly
    // online section's array is 2 MiB, half a max-order block with the
    // default MAX_ORDER; alone at the top of its section it would leave the
    // rest of its block to be freed eagerly - descriptors and a free-list
    // link written, three pages touched per GiB. Two such arrays fill the
    // block, and the second section's lazy run then covers all of it.
    static constexpr uint64_t kWholeArrayPages = PageMap::array_pages(kPagesPerSection);
    static constexpr unsigned kArrayGroup =
        kWholeArrayPages < kMaxBlockPages && kMaxBlockPages % kWholeArrayPages == 0
            ? static_cast<unsigned>(kMaxBlockPages / kWholeArrayPages)
            : 1;

    // The sections whose arrays go together at the top of section sn when
    // [done, end) is being onlined: kArrayGroup when that many whole
    // sections from sn's start are, none of them with an array yet; else 1.
    static unsigned array_group(const PhysAllocator &a, size_t sn, uint64_t done, uint64_t end, bool taken) {
        if (kArrayGroup == 1 || taken || done != section_start_pfn(sn) || sn + kArrayGroup > kMaxSections ||
            section_start_pfn(sn) + uint64_t{kArrayGroup} * kPagesPerSection > end)
            return 1;
        for (unsigned j = 0; j < kArrayGroup; ++j)
            if (a.pages_.section_at(sn + j).descs) return 1;
        return kArrayGroup;
    }

    // Make sure section sn has descriptors for the part [ss, se) being
    // onlined: a new array, or a bigger one when [ss, se) lies beyond what the
    // current array covers or in its gap (the old one is copied, then its
    // memory given back). group > 1: sn and the group - 1 sections after it
    // are wholly onlined now and have no array; their arrays go together at
    // the top of sn (array_group).
    static Status ensure_descriptors(PhysAllocator &a, size_t sn, uint64_t ss, uint64_t se,
                                     uint16_t node, bool taken, unsigned group) {
        const Section &sec = a.pages_.section_at(sn);
        const uint64_t base = section_start_pfn(sn);
        // Cover the whole max-order blocks of this part, up to the highest
        // online page and leaving out the largest run of blocks with none:
        // a small machine, or a section with a hole, pays for what it has.
        PageMap::Coverage c;
        if (!a.pages_.coverage_for(sn, static_cast<uint32_t>(align_down_block(ss) - base),
                                   static_cast<uint32_t>(align_up_block(se) - base), c))
            return {};
        const uint64_t meta_pages = PageMap::array_pages(c.pages());
        PageDesc *array;
        uint64_t mb = 0, me = 0;
        if (group > 1) { // whole sections: one block at the top of sn holds all their arrays
            mb = se - group * meta_pages;
            me = se;
            array = static_cast<PageDesc *>(Plat::phys_to_virt(pa_of(mb)));
            constexpr uint32_t kAll = static_cast<uint32_t>(kPagesPerSection);
            for (unsigned j = 1; j < group; ++j)
                (void)a.pages_.install_array(sn + j, array + j * meta_pages * (kPageSize / sizeof(PageDesc)),
                                             PageMap::Coverage{kAll, kAll, kAll}, 0, 0);
        } else if (!taken && se - ss > meta_pages) { // inside the range, at its top (low memory stays free)
            mb = se - meta_pages;
            me = se;
            array = static_cast<PageDesc *>(Plat::phys_to_virt(pa_of(mb)));
        } else { // too small to hold its own descriptors, or taken memory: borrow from the buddy
            unsigned order = 0;
            while (pages(order) < meta_pages) ++order;
            Result<uint64_t> r = a.alloc_pages(order, kAllocReserves | kAllocNoPcp, node);
            if (!r.ok())
                return make_error(Errc::no_memory, "no memory for this section's page descriptors");
            a.desc(pfn_of(r.value()))->set_owner(a.pages_.reason_index(kDescriptorOwner));
            array = static_cast<PageDesc *>(Plat::phys_to_virt(r.value()));
        }
        KMEM_CHECK_MAPPED(Plat::virt_to_phys(array), (me > mb ? me - mb : meta_pages) * kPageSize);
        const uint32_t old_mb = sec.meta_begin, old_me = sec.meta_end;
        PageDesc *old = a.pages_.install_array(sn, array, c, static_cast<uint32_t>(mb ? mb - base : 0),
                                               static_cast<uint32_t>(me ? me - base : 0));
        // The array's own pages are never free; only those sharing a max-order
        // block with other pages can be read by a buddy lookup.
        if (mb) {
            const uint64_t head_end = align_up_block(mb) < me ? align_up_block(mb) : me;
            const uint64_t tail_begin = align_down_block(me) > head_end ? align_down_block(me) : head_end;
            BI::zero_descs(a, mb, head_end - mb);
            BI::zero_descs(a, tail_begin, me - tail_begin);
        }
        if (!old) return {};
        // Give the old array's memory back.
        if (old_mb < old_me) {
            const MemRange *r = a.online_.find(pa_of(base + old_mb));
            const uint16_t n = r ? r->node : node;
            // The old array may straddle 16 MiB or 4 GiB: each part to its zone.
            for (uint64_t p = base + old_mb, e = base + old_me; p < e;) {
                const ZoneType t = zone_type_of(p);
                const uint64_t pe = zone_type_end_pfn(t) < e ? zone_type_end_pfn(t) : e;
                const unsigned zi = PhysAllocator::zone_index(n, t);
                LockGuard<BI::Lock> g(a.zone_locks_[zi]);
                online_piece(a, sn, zi, p, pe, false);
                p = pe;
            }
            return {};
        }
        const uint64_t old_pa = Plat::virt_to_phys(old);
        return a.free_pages(old_pa, a.desc(pfn_of(old_pa))->order());
    }

    // Not-online pages of the max-order blocks around [ss, se) read as offline.
    static void mark_edges_offline(PhysAllocator &a, uint64_t ss, uint64_t se) {
        auto clear_gaps = [&](uint64_t b, uint64_t e) {
            for (uint64_t p = b; p < e; ++p)
                if (!a.online_.find(pa_of(p))) BI::zero_descs(a, p, 1);
        };
        clear_gaps(align_down_block(ss), ss);
        clear_gaps(se, align_up_block(se));
    }

    // Online [ps, pe) of zone zi inside section sn (no meta block inside).
    static void online_piece(PhysAllocator &a, size_t sn, unsigned zi, uint64_t ps, uint64_t pe,
                             bool may_be_lazy) KMEM_REQUIRES(a.zone_locks_[zi]) {
        Section &sec = a.pages_.section_at(sn);
        Zone &z = a.zones_[zi];
        const uint64_t base = section_start_pfn(sn);
        uint64_t ls = align_up_block(ps), le = align_down_block(pe);
        bool lazy = false;
        if (may_be_lazy && ls < le) {
            const uint32_t lo = static_cast<uint32_t>(ls - base), hi = static_cast<uint32_t>(le - base);
            if (sec.lazy_begin == sec.lazy_end) {
                sec.lazy_begin = lo;
                sec.lazy_end = hi;
                sec.lazy_zone = static_cast<uint8_t>(zi);
                sec.next_lazy = z.lazy_head;
                z.lazy_head = static_cast<uint32_t>(sn + 1);
                lazy = true;
            } else if (sec.lazy_zone == zi && sec.lazy_end == lo) {
                sec.lazy_end = hi;
                lazy = true;
            } else if (sec.lazy_zone == zi && sec.lazy_begin == hi) {
                sec.lazy_begin = lo;
                lazy = true;
            }
        }
        if (!lazy) ls = le = pe; // all eager
        z.present = true;
        if (!z.managed || ps < z.start_pfn) z.start_pfn = ps;
        if (pe > z.end_pfn) z.end_pfn = pe;
        z.managed += pe - ps;
        z.free += pe - ps;
        z.lazy += le - ls;
        // Eager edges: initialise their descriptors, then free them.
        if (ps < ls) BI::zero_descs(a, ps, ls - ps);
        if (le < pe) BI::zero_descs(a, le, pe - le);
        BI::give_range(a, zi, ps, ls);
        BI::give_range(a, zi, le, pe);
        set_watermarks(z);
    }

    // Online [ss, se) of section sn as taken memory: every page reads as
    // reserved (owner `why`) and nothing is written into the memory itself.
    static void online_section_part_taken(PhysAllocator &a, uint64_t ss, uint64_t se, uint16_t node,
                                          const char *why) {
        for (uint64_t p = ss; p < se;) {
            const ZoneType t = zone_type_of(p);
            const uint64_t zend = zone_type_end_pfn(t) < se ? zone_type_end_pfn(t) : se;
            const unsigned zi = PhysAllocator::zone_index(node, t);
            LockGuard<BI::Lock> g(a.zone_locks_[zi]);
            Zone &z = a.zones_[zi];
            z.present = true;
            if (!z.managed || p < z.start_pfn) z.start_pfn = p;
            if (zend > z.end_pfn) z.end_pfn = zend;
            z.managed += zend - p;
            z.reserved += zend - p;
            BI::mark_reserved(a, zi, p, zend, why);
            set_watermarks(z);
            p = zend;
        }
    }

    static void online_section_part(PhysAllocator &a, size_t sn, uint64_t ss, uint64_t se,
                                    uint16_t node) {
        Section &sec = a.pages_.section_at(sn);
        // A section has one lazy run: give it to the zone part with the most
        // whole max-order blocks (e.g. DMA32, not the 15 MiB of DMA below it).
        uint64_t best_blocks = 0;
        ZoneType lazy_type = ZoneType::dma;
        for (uint64_t p = ss; p < se;) {
            const ZoneType t = zone_type_of(p);
            const uint64_t zend = zone_type_end_pfn(t) < se ? zone_type_end_pfn(t) : se;
            const uint64_t blocks = align_down_block(zend) > align_up_block(p)
                                        ? (align_down_block(zend) - align_up_block(p)) / kMaxBlockPages
                                        : 0;
            if (blocks > best_blocks) {
                best_blocks = blocks;
                lazy_type = t;
            }
            p = zend;
        }
        for (uint64_t p = ss; p < se;) {
            const ZoneType t = zone_type_of(p);
            const uint64_t zend = zone_type_end_pfn(t) < se ? zone_type_end_pfn(t) : se;
            const unsigned zi = PhysAllocator::zone_index(node, t);
            const bool may_be_lazy = t == lazy_type;
            LockGuard<BI::Lock> g(a.zone_locks_[zi]);
            const uint64_t mb = section_start_pfn(sn) + sec.meta_begin;
            const uint64_t me = section_start_pfn(sn) + sec.meta_end;
            if (mb < me && mb < zend && me > p) { // the array's pages are not managed
                if (p < mb) online_piece(a, sn, zi, p, mb, may_be_lazy);
                if (me < zend) online_piece(a, sn, zi, me, zend, may_be_lazy);
            } else {
                online_piece(a, sn, zi, p, zend, may_be_lazy);
            }
            p = zend;
        }
        sec.online += static_cast<uint32_t>(se - ss);
        a.pages_.publish_readable(sn);
    }
};

Status PhysAllocator::online_range(uint64_t start, uint64_t end, uint16_t node) {
    KMEM_NOT_IN_INTERRUPT("online_range");
    return online_range_as(start, end, node, nullptr);
}

Status PhysAllocator::online_taken_range(uint64_t start, uint64_t end, uint16_t node, const char *why) {
    KMEM_NOT_IN_INTERRUPT("online_taken_range");
    return online_range_as(start, end, node, why ? why : "reserved");
}

Status PhysAllocator::online_range_as(uint64_t start, uint64_t end, uint16_t node, const char *taken) {
    if (start % kPageSize || end % kPageSize)
        return make_error(Errc::invalid_argument, "range is not page-aligned");
    if (start >= end) return make_error(Errc::invalid_range, "empty or inverted range");
    if (end > kMaxPhysMemory) return make_error(Errc::invalid_range, "range beyond the 64 TiB kmem manages");
    if (node >= kMaxNodes) return make_error(Errc::invalid_argument, "NUMA node id too large");
    if (!Plat::is_mapped(start, end - start))
        return make_error(Errc::invalid_argument, "range is not mapped: online only mapped memory");
    LockGuard<BI::Lock> g(online_lock_);
    online_.bind();
    for (const MemRange &r : online_)
        if (r.start < end && start < r.end)
            return make_error(Errc::invalid_range, "range is already online");
    if (online_.size() + 2 > online_.capacity())
        return make_error(Errc::capacity, "too many online ranges");

    const uint64_t spfn = pfn_of(start), epfn = pfn_of(end);
    uint64_t done = spfn;
    Status result;
    while (done < epfn) {
        const size_t sn = section_of(done);
        const uint64_t se = section_start_pfn(sn) + kPagesPerSection < epfn
                                ? section_start_pfn(sn) + kPagesPerSection
                                : epfn;
        result = BI::OnlineStep::ensure_descriptors(*this, sn, done, se, node, taken != nullptr,
                                                    BI::OnlineStep::array_group(*this, sn, done, epfn, taken != nullptr));
        if (!result.ok()) break;
        // Record the part as online first: edge marking asks what is online.
        (void)online_.add(pa_of(done), pa_of(se), MemType::usable, node);
        BI::OnlineStep::mark_edges_offline(*this, done, se);
        if (taken) BI::OnlineStep::online_section_part_taken(*this, done, se, node, taken);
        else BI::OnlineStep::online_section_part(*this, sn, done, se, node);
        done = se;
    }
    BI::refresh_home_zones(*this);
    return result;
}

Status PhysAllocator::online_map_ranges(const MemoryMap &map, uint64_t start, uint64_t end) {
    KMEM_NOT_IN_INTERRUPT("online_map_ranges");
    // Ranges that need a descriptor array from the buddy may have to wait
    // for larger ones; retry those once everything else is online.
    struct Pending {
        uint64_t start, end;
        uint16_t node;
    };
    Pending pending[64];
    size_t npending = 0;
    Status first_error;
    const char *taken = nullptr; // the pass for kernel_reserved ranges: their `why`
    auto try_online = [&](uint64_t s, uint64_t e, uint16_t node, bool retry) {
        const Status st = online_range_as(s, e, node, taken);
        if (!st.ok() && st.code() == Errc::no_memory && !retry && npending < 64 && !taken)
            pending[npending++] = {s, e, node};
        else if (!st.ok() && first_error.ok())
            first_error = st;
    };
    auto online_gaps = [&](uint64_t s, uint64_t e, uint16_t node, bool retry) {
        // [s, e) minus what is online already. Onlining changes online_ (it
        // is double-buffered), so look the next gap up afresh each time.
        for (uint64_t p = s; p < e;) {
            uint64_t gap_end = e;
            bool inside = false;
            for (const MemRange &r : online_) { // sorted
                if (r.end <= p) continue;
                if (r.start <= p) {
                    p = r.end;
                    inside = true;
                } else if (r.start < e) {
                    gap_end = r.start;
                }
                break;
            }
            if (inside) continue;
            try_online(p, gap_end, node, retry);
            p = gap_end;
        }
    };
    // Free memory first; then RAM the kernel has taken (its image, ...), online
    // as reserved and never written - its descriptors come from the free part.
    for (const MemRange &r : map) {
        if (r.type != MemType::usable) continue;
        const uint64_t s = r.start > start ? r.start : start;
        const uint64_t e = r.end < end ? r.end : end;
        if (s < e) online_gaps(s & ~(kPageSize - 1), (e + kPageSize - 1) & ~(kPageSize - 1), r.node, false);
    }
    for (size_t i = 0; i < npending; ++i)
        online_gaps(pending[i].start, pending[i].end, pending[i].node, true);
    for (const MemRange &r : map) {
        if (r.type != MemType::kernel_reserved) continue;
        const uint64_t s = r.start > start ? r.start : start;
        const uint64_t e = r.end < end ? r.end : end;
        taken = r.why ? r.why : "kernel reserved";
        if (s < e) online_gaps(s & ~(kPageSize - 1), (e + kPageSize - 1) & ~(kPageSize - 1), r.node, true);
    }
    return first_error;
}

Status PhysAllocator::bootstrap(const MemoryMap &map, uint64_t window_start, uint64_t window_end) {
    KMEM_NOT_IN_INTERRUPT("bootstrap");
    if (!online_.empty())
        return make_error(Errc::wrong_phase, "bootstrap: the allocator already has memory");
    KMEM_TRY(map.check());
    KMEM_TRY(online_map_ranges(map, window_start, window_end));
    if (online_.empty())
        return make_error(Errc::no_entries, "no usable memory inside the early window");
    return reserve_map_ranges(map, window_start, window_end);
}

Status PhysAllocator::reserve_map_ranges(const MemoryMap &map, uint64_t start, uint64_t end) {
    KMEM_NOT_IN_INTERRUPT("reserve_map_ranges");
    for (const MemRange &r : map) {
        if (r.type != MemType::kernel_reserved) continue;
        const uint64_t s = r.start > start ? r.start : start;
        const uint64_t e = r.end < end ? r.end : end;
        if (s < e) KMEM_TRY(reserve_range(s, e, r.why));
    }
    return {};
}

} // namespace kmem
