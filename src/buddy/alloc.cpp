// SPDX-License-Identifier: MIT
//
// DOC: allocating and freeing pages; the per-CPU lists.
//
// The fast path serves orders 0..kPcpMaxOrder from the calling CPU's list for
// its home zone, with no lock and no atomic operation: one branch decides
// between "pop from the list" and the out-of-line slow path. The slow path
// walks the zone fallback order (preferred node first, highest allowed zone
// type first), honours the min watermark, refills per-CPU lists in batches,
// and takes and splits blocks under the zone lock.
#include "internal.h"

namespace kmem {
namespace {

using BI = BuddyInternals;

Status validate_flags(uint32_t flags, uint16_t node) {
    if (flags & ~kAllocKnownFlags) return make_error(Errc::invalid_argument, "unknown allocation flag");
    if ((flags & kAllocZoneDma) && (flags & kAllocZoneDma32))
        return make_error(Errc::invalid_argument, "unsupported flag combination: ZONE_DMA and ZONE_DMA32");
    if ((flags & kAllocExactNode) && node == kAnyNode)
        return make_error(Errc::invalid_argument, "exact-node allocation without a node");
    if (node != kAnyNode && node >= kMaxNodes)
        return make_error(Errc::invalid_argument, "NUMA node id too large");
    return {};
}

ZoneType highest_zone(uint32_t flags) {
    if (flags & kAllocZoneDma) return ZoneType::dma;
    if (flags & kAllocZoneDma32) return ZoneType::dma32;
    return ZoneType::normal;
}

// Calls f(zone index, is_preferred_zone) along the fallback order until f
// returns true; returns whether it did.
template <class F>
bool for_each_fallback_zone(const PhysAllocator &a, uint32_t flags, uint16_t node, F &&f) {
    const int top = static_cast<int>(highest_zone(flags));
    bool first = true;
    auto visit_node = [&](uint16_t n) {
        for (int t = top; t >= 0; --t) {
            const unsigned zi = PhysAllocator::zone_index(n, static_cast<ZoneType>(t));
            if (!a.zone(n, static_cast<ZoneType>(t)).present) continue;
            const bool preferred = first;
            first = false;
            if (f(zi, preferred)) return true;
        }
        return false;
    };
    if (visit_node(node)) return true;
    if (flags & kAllocExactNode) return false;
    for (uint16_t n = 0; n < kMaxNodes; ++n)
        if (n != node && visit_node(n)) return true;
    return false;
}

void fill_block(PhysAllocator &a, uint64_t pfn, unsigned order, uint32_t flags) {
    if (flags & kAllocZero) {
        KMEM_CHECK_MAPPED(pa_of(pfn), pages(order) * kPageSize);
        __builtin_memset(Plat::phys_to_virt(pa_of(pfn)), 0, pages(order) * kPageSize);
    }
    if (flags & kAllocTails) {
        for (uint64_t i = 1; i < pages(order); ++i)
            BI::write_head(a, pfn + i, PageState::tail, 0, 0, 0, static_cast<uint32_t>(i));
        BI::raw_desc(a, pfn)->add_flags(kPageTailsWritten);
    }
}

} // namespace

const char *zone_type_name(ZoneType t) {
    switch (t) {
    case ZoneType::dma: return "DMA";
    case ZoneType::dma32: return "DMA32";
    case ZoneType::normal: return "Normal";
    }
    return "?";
}

PageDesc *PhysAllocator::desc(uint64_t pfn) const {
    return BI::unreadable(*this, pfn) ? nullptr : BI::raw_desc(*this, pfn);
}

const char *PhysAllocator::unreadable(uint64_t pfn) const { return BI::unreadable(*this, pfn); }

Result<uint64_t> PhysAllocator::head_of(uint64_t pfn) const {
    if (const char *why = BI::unreadable(*this, pfn)) return make_error(Errc::not_allocated, why);
    const uint64_t w = BI::raw_desc(*this, pfn)->word();
    const PageState st = PageDesc::state_of(w);
    if (is_head_state(st)) return pfn;
    const uint32_t dist = PageDesc::aux_of(w);
    if ((st == PageState::tail || st == PageState::slab_tail) && dist && dist <= pfn) {
        const uint64_t h = pfn - dist;
        const PageDesc *hd = desc(h);
        if (hd && (hd->state() == PageState::allocated || hd->state() == PageState::slab) &&
            (hd->flags() & kPageTailsWritten) && h + pages(hd->order()) > pfn)
            return h;
    }
    return make_error(Errc::not_allocated, "page is inside a block whose head is unknown");
}

void BuddyInternals::refresh_home_zones(PhysAllocator &a) {
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
        unsigned home = PhysAllocator::zone_index(a.cpu_node_[cpu], ZoneType::normal);
        for_each_fallback_zone(a, 0, a.cpu_node_[cpu], [&](unsigned zi, bool) {
            home = zi;
            return true;
        });
        a.home_zone_[cpu] = static_cast<uint8_t>(home);
    }
    if (a.fail_countdown_) aim_at_empty_zone(a); // still armed: keep the fast path out
}

bool BuddyInternals::aim_at_empty_zone(PhysAllocator &a) {
    for (unsigned zi = 0; zi < kMaxZones; ++zi)
        if (!a.zones_[zi].present) {
            for (uint8_t &home : a.home_zone_) home = static_cast<uint8_t>(zi);
            return true;
        }
    return false;
}

Status PhysAllocator::fail_nth_allocation(uint64_t n) {
    KMEM_NOT_IN_INTERRUPT("fail_nth_allocation");
    if (n == 0) {
        fail_countdown_ = 0;
        BI::refresh_home_zones(*this);
        return {};
    }
    if (!BI::aim_at_empty_zone(*this)) // the fast path misses from now on
        return make_error(Errc::invalid_argument, "every zone has memory: no empty list to aim at");
    fail_countdown_ = n;
    return {};
}

void PhysAllocator::set_reclaimer(Reclaimer fn, void *ctx) {
    reclaimer_ctx_ = ctx;
    __atomic_store_n(&reclaimer_, fn, __ATOMIC_RELEASE);
}

void PhysAllocator::set_cpu_node(unsigned cpu, uint16_t node) {
    if (cpu >= kMaxCpus || node >= kMaxNodes) return;
    cpu_node_[cpu] = node;
    BI::refresh_home_zones(*this);
}

void BuddyInternals::pcp_drain(PhysAllocator &a, unsigned cpu, unsigned zi, unsigned order,
                               uint32_t count) {
    PcpList &pcp = a.pcp_[zi][cpu];
    Zone &z = a.zones_[zi];
    LockGuard<Lock> g(a.zone_locks_[zi]);
    for (uint32_t i = 0; i < count && pcp.head[order]; ++i) {
        give_block(a, zi, pcp_pop(pcp, order), order);
        z.free += pages(order);
        z.out -= pages(order);
        ++z.stats.frees;
    }
    ++pcp.drains;
}

uint64_t PhysAllocator::drain_cpu_pcp(unsigned cpu) {
    if (cpu >= kMaxCpus) return 0;
    IrqGuard irq; // the calling CPU's own lists, or a quiescent CPU's
    uint64_t drained = 0;
    for (unsigned zi = 0; zi < kMaxZones; ++zi) {
        if (!zones_[zi].present) continue;
        for (unsigned o = 0; o <= kPcpMaxOrder; ++o)
            if (const uint32_t n = pcp_[zi][cpu].count[o]) {
                BI::pcp_drain(*this, cpu, zi, o, n);
                drained += uint64_t{n} << o;
            }
    }
    return drained;
}

uint64_t PhysAllocator::drain_local_pcp() {
    IrqGuard irq; // the CPU id stays ours
    return drain_cpu_pcp(Plat::cpu_id());
}

namespace {

// Refill the CPU's list for zone zi with up to a batch of blocks; true if
// at least one block arrived.
bool pcp_refill(PhysAllocator &a, PcpList &pcp, unsigned zi, unsigned order, uint32_t flags) {
    Zone &z = BI::zone(a, zi);
    LockGuard<BI::Lock> g(BI::zone_lock(a, zi));
    unsigned got = 0;
    for (; got < BI::pcp_batch(order); ++got) {
        uint64_t pfn;
        if (!BI::watermark_ok(z, order, flags) || !BI::take_block(a, zi, order, pfn)) break;
        BI::write_head(a, pfn, PageState::free_pcp, order, zi);
        BI::pcp_push(pcp, order, pfn);
        z.free -= pages(order);
        z.out += pages(order);
        ++z.stats.allocs;
    }
    if (got) ++pcp.refills;
    else ++z.stats.failed;
    return got > 0;
}

} // namespace

Result<uint64_t> PhysAllocator::alloc_pages(unsigned order, uint32_t flags, uint16_t node) {
    KMEM_ASSERT_ATOMIC_IN_INTERRUPT(flags);
    // Fast path: the calling CPU's list for its home zone (zeroed and
    // tail-written blocks take the slow path, which uses the lists too).
    const unsigned long irq = Plat::irq_save();
    if (order <= kPcpMaxOrder && (flags & ~kAllocAtomic) == 0 && node == kAnyNode) [[likely]] {
        const unsigned cpu = Plat::cpu_id();
        PcpList &pcp = pcp_[home_zone_[cpu]][cpu];
        if (pcp.head[order]) [[likely]] {
            const uint64_t pfn = BI::pcp_pop(pcp, order);
            // A listed block's word is free_pcp, its order and zone, nothing
            // else (every path that lists one writes it so): allocated is
            // one bit more.
            static_assert((static_cast<unsigned>(PageState::free_pcp) | 1) == static_cast<unsigned>(PageState::allocated));
            PageDesc *d = BI::raw_desc(*this, pfn);
            KMEM_ASSERT(d->word() == PageDesc::make(PageState::free_pcp, d->order(), d->zone()),
                        "a block on a per-CPU list whose descriptor is not free_pcp alone");
            d->set_word(d->word() | 1);
            return irq_restore_then(irq, [pfn] { return Result<uint64_t>(pa_of(pfn)); });
        }
    }
    return alloc_pages_slow(order, flags, node, irq);
}

Result<uint64_t> PhysAllocator::alloc_pages_slow(unsigned order, uint32_t flags, uint16_t node, unsigned long irq) {
    Plat::irq_restore(irq);
    return alloc_pages_range(order, 0, kMaxPhysMemory, flags, node);
}

bool PhysAllocator::take_any(unsigned order, uint64_t min, uint64_t max, uint32_t flags, uint16_t node,
                             uint64_t &got, unsigned &got_zone) {
    bool ok;
    {
        IrqGuard irq; // the per-CPU lists below are this CPU's
        const unsigned cpu = Plat::cpu_id();
        const uint16_t pref = node == kAnyNode ? cpu_node_[cpu] : node;
        const uint64_t lo = (min + kPageSize - 1) >> kPageShift;
        const uint64_t hi = (max > kMaxPhysMemory ? kMaxPhysMemory : max) >> kPageShift;
        const bool whole_space = lo == 0 && hi == kMaxPfn;
        const bool use_pcp = whole_space && order <= kPcpMaxOrder && !(flags & kAllocNoPcp) &&
                             !(flags & kAllocReserves);
        ok = for_each_fallback_zone(*this, flags, pref, [&](unsigned zi, bool preferred) {
            Zone &z = zones_[zi];
            if (z.end_pfn <= lo || z.start_pfn >= hi) return false;
            if (use_pcp) {
                PcpList &pcp = pcp_[zi][cpu];
                if (!pcp.head[order] && !pcp_refill(*this, pcp, zi, order, flags)) return false;
                got = BI::pcp_pop(pcp, order);
            } else {
                LockGuard<BI::Lock> g(zone_locks_[zi]);
                if (!BI::watermark_ok(z, order, flags)) return false;
                bool found = whole_space ? BI::take_block(*this, zi, order, got)
                                         : BuddyInternals::take_block_in(*this, zi, order, lo, hi, got);
                if (!found) {
                    ++z.stats.failed;
                    return false;
                }
                z.free -= pages(order);
                z.out += pages(order);
                ++z.stats.allocs;
                // Before the lock goes: a block off the lists must not read as a free buddy.
                BI::write_head(*this, got, PageState::allocated, order, zi);
            }
            // The per-CPU path holds no zone lock here.
            if (!preferred) __atomic_fetch_add(&z.stats.fallbacks, 1, __ATOMIC_RELAXED);
            got_zone = zi;
            return true;
        });
        if (ok) BI::write_head(*this, got, PageState::allocated, order, got_zone);
    }
    return ok;
}

Result<uint64_t> PhysAllocator::alloc_pages_range(unsigned order, uint64_t min, uint64_t max,
                                                  uint32_t flags, uint16_t node) {
    if (order > kMaxOrder) return make_error(Errc::invalid_argument, "order above MAX_ORDER");
    KMEM_TRY(validate_flags(flags, node));
    if (min >= max) return make_error(Errc::invalid_range, "empty address range");
    KMEM_ASSERT_ATOMIC_IN_INTERRUPT(flags);
    if (Plat::in_interrupt()) flags |= kAllocAtomic; // what a handler asks for is atomic
    if (BI::inject_failure(*this)) return make_error(Errc::no_memory, "injected failure (fail_nth_allocation)");
    uint64_t got = 0;
    unsigned got_zone = 0;
    for (bool reclaimed = false;; reclaimed = true) {
        if (take_any(order, min, max, flags, node, got, got_zone)) break;
        // No block: what the CPU's lists and the layers above hold goes back
        // first (Linux's shrinkers), once, for a request that may wait.
        if (reclaimed || (flags & kAllocAtomic))
            return make_error(Errc::no_memory, "no free block of that order in the allowed zones");
        __atomic_fetch_add(&reclaims_, 1, __ATOMIC_RELAXED);
        uint64_t freed = drain_local_pcp();
        if (Reclaimer fn = __atomic_load_n(&reclaimer_, __ATOMIC_ACQUIRE)) freed += fn(reclaimer_ctx_);
        if (!freed) return make_error(Errc::no_memory, "no free block of that order in the allowed zones");
    }
    fill_block(*this, got, order, flags);
    return pa_of(got);
}

Status PhysAllocator::free_pages(uint64_t pa, unsigned order) {
    // Fast path: an allocated head of this order whose descriptor the one-
    // compare test vouches for, onto the calling CPU's list. Everything else
    // takes the checks of free_pages_slow (which puts a valid block of a
    // per-CPU order on the same list).
    const uint64_t pfn = pfn_of(pa);
    if (order <= kPcpMaxOrder && !((pa & (kPageSize - 1)) | (pfn & (pages(order) - 1))) &&
        page::readable_fast(pages_, pfn)) [[likely]] {
        PageDesc *d = page::vouched_desc(pages_, pfn);
        const uint64_t w = d->word();
        // An allocated head of this order (owner, flags and aux are anything).
        constexpr uint64_t kStateOrder = (uint64_t{1} << PageDesc::kZoneShift) - 1;
        if ((w & kStateOrder) == PageDesc::make(PageState::allocated, order, 0)) [[likely]] {
            const unsigned long irq = Plat::irq_save();
            const unsigned cpu = Plat::cpu_id();
            const unsigned zi = PageDesc::zone_of(w);
            PcpList &pcp = pcp_[zi][cpu];
            // free_pcp with the order and zone it has, nothing else.
            d->set_word((w & PageDesc::kOrderZoneMask) | PageDesc::make(PageState::free_pcp, 0, 0));
            if (BI::pcp_push(pcp, order, pfn) > BI::pcp_high(order)) [[unlikely]]
                return pcp_drain_restoring(cpu, zi, order, irq);
            return irq_restore_ok(irq);
        }
    }
    return free_pages_slow(pa, order);
}

Status PhysAllocator::pcp_drain_restoring(unsigned cpu, unsigned zi, unsigned order, unsigned long irq) {
    BI::pcp_drain(*this, cpu, zi, order, BI::pcp_batch(order));
    Plat::irq_restore(irq);
    return {};
}

Status PhysAllocator::free_pages_slow(uint64_t pa, unsigned order) {
    if (pa % kPageSize) return make_error(Errc::invalid_argument, "address is not page-aligned");
    if (order > kMaxOrder) return make_error(Errc::invalid_argument, "order above MAX_ORDER");
    const uint64_t pfn = pfn_of(pa);
    if (pfn & (pages(order) - 1))
        return make_error(Errc::invalid_argument, "address is not aligned to the block order");
    if (const char *why = BI::unreadable(*this, pfn)) {
        // A page of a lazy run is free: freeing it is a double free.
        const bool lazy = pfn < kMaxPfn && page::in_lazy(BI::section(*this, pfn), pfn);
        return make_error(lazy ? Errc::double_free : Errc::not_allocated, why);
    }
    PageDesc *d = BI::raw_desc(*this, pfn);
    switch (d->state()) {
    case PageState::allocated: break;
    case PageState::free:
    case PageState::free_pcp: return make_error(Errc::double_free, "double free: the block is already free");
    case PageState::reserved: return make_error(Errc::not_allocated, "page is reserved, not allocated");
    case PageState::slab: return make_error(Errc::not_allocated, "page belongs to the slab allocator");
    default: {
        uint64_t head;
        unsigned o;
        if (BI::find_block(*this, pfn, head, o)) {
            const PageState hs = BI::raw_desc(*this, head)->state();
            if (hs == PageState::free || hs == PageState::free_pcp)
                return make_error(Errc::double_free, "double free: the page is already free");
        }
        return make_error(Errc::not_allocated, "not the head of an allocated block");
    }
    }
    if (d->order() != order)
        return make_error(Errc::invalid_argument, "order does not match the allocated block");
    const unsigned zi = d->zone();
    if (order <= kPcpMaxOrder) { // a valid free the fast test could not vouch for: the same list
        const unsigned long irq = Plat::irq_save();
        const unsigned cpu = Plat::cpu_id();
        d->set_word(PageDesc::make(PageState::free_pcp, order, zi));
        if (BI::pcp_push(pcp_[zi][cpu], order, pfn) > BI::pcp_high(order)) return pcp_drain_restoring(cpu, zi, order, irq);
        Plat::irq_restore(irq);
        return {};
    }
    Zone &z = zones_[zi];
    LockGuard<BI::Lock> g(zone_locks_[zi]);
    BI::give_block(*this, zi, pfn, order);
    z.free += pages(order);
    z.out -= pages(order);
    ++z.stats.frees;
    return {};
}

} // namespace kmem
