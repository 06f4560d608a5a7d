// SPDX-License-Identifier: MIT
//
// DOC: boot-time allocation - what bootmem and memblock did, on kmem.
//
// Never a second allocator: a small request with no physical constraint is a
// kmalloc (kmalloc_node for a preferred node); anything else is a
// memblock-style reservation from the buddy (PhysAllocator::alloc_reserved:
// the highest free range that fits, top-down as memblock allocates), so a
// later free of any part of it gives its whole pages back, as in Linux.
// Requests before Running are recorded for the early-allocation report.
#include <kmem/boot.h>

#include "platform/current.h"

namespace kmem {

void MemorySystem::record(const BootRequest &r, uint64_t pa, bool failed, bool slab) {
    if (phase_ == Phase::running) return;
    if (early_count_ == kEarlyRecords) {
        ++early_dropped_;
        return;
    }
    EarlyRecord &e = early_[early_count_++];
    e = EarlyRecord{pa, r.size, r.align, r.min, r.max, r.nid, phase_, r.api,
                    r.exact_nid, r.raw, failed, slab, r.caller ? r.caller : "?",
                    Plat::now_ns() - times_.start_ns[static_cast<unsigned>(Phase::firmware_map)]};
}

Result<uint64_t> MemorySystem::alloc(const BootRequest &r) {
    KMEM_NOT_IN_INTERRUPT("a boot-time allocation (MemorySystem::alloc, bootmem, memblock)");
    auto fail = [&](Error e) -> Result<uint64_t> {
        if (phase_ >= Phase::early_window) record(r, 0, true, false);
        return failed(e);
    };
    if (phase_ < Phase::early_window)
        return fail(make_error(Errc::wrong_phase, "boot allocation before EarlyWindow: no allocator yet"));
    if (r.size == 0) return fail(make_error(Errc::invalid_argument, "allocation of 0 bytes"));
    const uint64_t align = r.align ? r.align : 8;
    if (align & (align - 1)) return fail(make_error(Errc::invalid_argument, "alignment is not a power of two"));
    if (r.max && r.min >= r.max) return fail(make_error(Errc::invalid_range, "empty [min, max) range"));
    if (r.nid != kNoNode && (r.nid < 0 || r.nid >= static_cast<int>(kMaxNodes)))
        return fail(make_error(Errc::invalid_argument, "NUMA node id out of range"));

    // Small and unconstrained: kmalloc, from the first cache whose objects
    // are aligned enough - the size's own class, the size rounded up to the
    // alignment, or the power of two above both (whose objects are aligned
    // to their size).
    if (r.size < kPageSize && align < kPageSize && r.min == 0 && r.max == 0 && r.goal == 0 && !r.exact_nid) {
        uint64_t pow2 = r.size > align ? r.size : align;
        pow2 = uint64_t{1} << (64 - __builtin_clzll(pow2 - 1));
        const uint64_t candidates[] = {r.size, (r.size + align - 1) & ~(align - 1), pow2};
        for (uint64_t n : candidates) {
            if (slab_.kmalloc_alignment(n) < align) continue;
            const uint16_t node = r.nid == kNoNode ? kAnyNode : static_cast<uint16_t>(r.nid);
            void *p = slab_.kmalloc_node(n, r.raw ? 0u : uint32_t{kAllocZero}, node);
            if (!p) break; // no memory for a slab: whole pages will not fit either, but try
            const uint64_t pa = Plat::virt_to_phys(p);
            record(r, pa, false, true);
            return pa;
        }
    }
    // Whole pages, reserved: the node asked for, then (unless exact) any;
    // above the goal first, then anywhere allowed.
    const uint64_t palign = align < kPageSize ? kPageSize : align;
    const char *why = r.caller ? r.caller : boot_api_name(r.api);
    Result<uint64_t> got = make_error(Errc::no_memory, "no memory");
    for (int pass = 0; pass < 4 && !got.ok(); ++pass) {
        const bool any_node = pass >= 2;
        const bool use_goal = pass % 2 == 0;
        if (any_node && (r.exact_nid || r.nid == kNoNode)) break;
        if (use_goal && r.goal <= r.min) continue;
        const uint16_t node = (r.nid == kNoNode || any_node) ? kAnyNode : static_cast<uint16_t>(r.nid);
        got = phys_.alloc_reserved(r.size, palign, use_goal ? r.goal : r.min, r.max, node, why);
        if (!got.ok() && got.code() != Errc::no_memory) break;
    }
    if (!got.ok()) return fail(got.error());
    if (!r.raw) __builtin_memset(Plat::phys_to_virt(got.value()), 0, r.size);
    record(r, got.value(), false, false);
    return got.value();
}

Status MemorySystem::free(uint64_t pa, uint64_t size) {
    KMEM_NOT_IN_INTERRUPT("a boot-time free (MemorySystem::free, free_bootmem)");
    if (phase_ < Phase::early_window)
        return failed(make_error(Errc::wrong_phase, "boot free before EarlyWindow: nothing was allocated"));
    if (size == 0) return {};
    if (pa + size < pa) return failed(make_error(Errc::invalid_range, "range wraps past 2^64"));
    // A kmalloc-served allocation: freed from its start; a part of one cannot
    // give any page back (as a part of a memblock range inside a page).
    void *p = Plat::phys_to_virt(pa);
    if (slab_.ksize(p) != 0) {
        const Status s = slab_.kfree(p);
        return s.ok() ? s : failed(s.error());
    }
    const Status s = phys_.unreserve_range(pa, pa + size);
    return s.ok() ? s : failed(s.error());
}

Status MemorySystem::reserve(uint64_t pa, uint64_t size, bool exclusive, const char *why) {
    KMEM_NOT_IN_INTERRUPT("MemorySystem::reserve");
    if (phase_ == Phase::off) return failed(make_error(Errc::wrong_phase, "reserve before FirmwareMap"));
    if (pa + size < pa) return failed(make_error(Errc::invalid_range, "range wraps past 2^64"));
    if (size == 0) return {};
    if (!why) why = "reserved";
    // Exclusive: busy if any page of it is reserved already - in the map
    // before EarlyWindow, in the buddy's books after (checked and reserved
    // under the same locks).
    // (In the map: a kernel_reserved range that holds the start of a page
    // of [pa, pa + size), found per range, not per page.)
    if (exclusive && phase_ == Phase::firmware_map)
        for (const MemRange &m : map_) {
            const uint64_t first = (m.start + kPageSize - 1) & ~(kPageSize - 1); // its first page start
            const uint64_t lo = first > (pa & ~(kPageSize - 1)) ? first : pa & ~(kPageSize - 1);
            if (m.type == MemType::kernel_reserved && lo < m.end && lo < pa + size)
                return failed(make_error(Errc::busy, "exclusive reservation overlaps a reserved range"));
        }
    const Status s = phase_ == Phase::firmware_map ? map_.reserve(pa, pa + size, why)
                     : exclusive                   ? phys_.reserve_range_exclusive(pa, pa + size, why)
                                                   : phys_.reserve_range(pa, pa + size, why);
    return s.ok() ? s : failed(s.error());
}

const char *boot_api_name(BootApi api) {
    switch (api) {
    case BootApi::kmem: return "kmem";
    case BootApi::alloc_bootmem: return "alloc_bootmem";
    case BootApi::alloc_bootmem_nopanic: return "alloc_bootmem_nopanic";
    case BootApi::alloc_bootmem_align: return "alloc_bootmem_align";
    case BootApi::alloc_bootmem_pages: return "alloc_bootmem_pages";
    case BootApi::alloc_bootmem_node: return "alloc_bootmem_node";
    case BootApi::alloc_bootmem_pages_node: return "alloc_bootmem_pages_node";
    case BootApi::alloc_bootmem_low: return "alloc_bootmem_low";
    case BootApi::alloc_bootmem_low_pages: return "alloc_bootmem_low_pages";
    case BootApi::memblock_alloc: return "memblock_alloc";
    case BootApi::memblock_alloc_raw: return "memblock_alloc_raw";
    case BootApi::memblock_alloc_from: return "memblock_alloc_from";
    case BootApi::memblock_alloc_low: return "memblock_alloc_low";
    case BootApi::memblock_alloc_node: return "memblock_alloc_node";
    case BootApi::memblock_alloc_try_nid: return "memblock_alloc_try_nid";
    case BootApi::memblock_alloc_try_nid_raw: return "memblock_alloc_try_nid_raw";
    case BootApi::memblock_alloc_exact_nid_raw: return "memblock_alloc_exact_nid_raw";
    case BootApi::memblock_phys_alloc: return "memblock_phys_alloc";
    case BootApi::memblock_phys_alloc_range: return "memblock_phys_alloc_range";
    case BootApi::page_tables: return "page_tables";
    }
    return "?";
}

} // namespace kmem
