// SPDX-License-Identifier: MIT
//
// DOC: kmalloc and friends.
//
// Sizes up to 8 KiB go to one of 36 caches: 8-byte steps up to 64, then four
// classes per power of two (80, 96, 112, 128, 160, ...), so no request wastes
// more than 20 % (SLUB's powers of two waste up to 50 %). Larger requests take
// exactly the pages they need from the buddy (alloc_pages_exact), not the
// next power of two. kfree finds the owner of any pointer through its page
// descriptor in O(1).
#include "slab_internal.h"

namespace kmem {
namespace {

using SI = SlabInternals;

constexpr uint32_t kKmallocFlags = kAllocZero | kAllocZoneDma | kAllocZoneDma32 | kAllocAtomic;

} // namespace

unsigned SlabAllocator::size_class(size_t size) { return size ? kKmallocClassOf.of[(size - 1) >> 3] : 0; }

size_t SlabAllocator::class_size(unsigned i) {
    if (i < 8) return (i + 1) * 8;
    const unsigned g = (i - 8) / 4, k = (i - 8) % 4 + 1;
    return (size_t{1} << (6 + g)) + k * (size_t{1} << (4 + g));
}

// Logically const: a DMA zone's caches are set up on first use, whoever asks.
const KmemCache *SlabAllocator::kmalloc_cache(size_t size, uint32_t flags) const {
    if (size == 0 || size > kKmallocMaxCacheSize) return nullptr;
    const unsigned z = (flags & kAllocZoneDma) ? 2 : (flags & kAllocZoneDma32) ? 1 : 0;
    if (!phys_) return &kmalloc_[z][size_class(size)]; // before init(): all zero
    return const_cast<SlabAllocator *>(this)->kmalloc_zone_cache(z, size_class(size));
}

size_t SlabAllocator::kmalloc_alignment(size_t size) const {
    const KmemCache *c = kmalloc_cache(size);
    if (!c) return 0;
    const uint64_t bits = uint64_t{c->object0} | c->stride | kPageSize;
    return static_cast<size_t>(bits & (~bits + 1));
}

// The fast path (SlabInternals::kmalloc_fast); everything else: kmalloc_node.
void *SlabAllocator::kmalloc(size_t size, uint32_t flags) {
    KMEM_ASSERT_ATOMIC_IN_INTERRUPT(flags);
    if ((flags & ~kAllocAtomic) == 0) [[likely]] {
        if (KmemCache *c = SI::kmalloc_fast_cache(*this, size)) [[likely]] {
            // Interrupts off around the CPU's freelist only: the pop.
            const unsigned long irq = Plat::irq_save();
            if (void *p = SI::pop_local(c->cpu[Plat::cpu_slot()])) [[likely]] return irq_restore_return(irq, p);
            Plat::irq_restore(irq);
        }
    }
    return kmalloc_node(size, flags, kAnyNode);
}

void *SlabAllocator::kmalloc_node(size_t size, uint32_t flags, uint16_t node) {
    if (!phys_) [[unlikely]] {
        SI::fail(*this, Errc::wrong_phase, "slab is not initialised");
        return nullptr;
    }
    if (flags & ~kKmallocFlags) [[unlikely]] {
        SI::fail(*this, Errc::invalid_argument, "unsupported kmalloc flag");
        return nullptr;
    }
    KMEM_ASSERT_ATOMIC_IN_INTERRUPT(flags);
    if (Plat::in_interrupt()) flags |= kAllocAtomic; // what a handler asks for is atomic
    if (size - 1 < kKmallocMaxCacheSize) [[likely]] { // 1..8192
        const unsigned z = (flags & kAllocZoneDma) ? 2 : (flags & kAllocZoneDma32) ? 1 : 0;
        KmemCache *c = kmalloc_zone_cache(z, size_class(size));
        return c ? cache_alloc(c, flags & (kAllocZero | kAllocAtomic), node) : nullptr;
    }
    if (size == 0) return kZeroSizePtr;
    const uint64_t count = (size + kPageSize - 1) / kPageSize;
    if (size > kMaxBlockPages * kPageSize) {
        SI::fail(*this, Errc::invalid_argument, "kmalloc size larger than a max-order block");
        return nullptr;
    }
    // init_on_alloc covers page-level allocations too (Linux's init_on_alloc
    // zeroes every page allocation).
    Result<uint64_t> r = phys_->alloc_pages_exact(count, opts_.init_on_alloc ? flags | kAllocZero : flags, node);
    if (!r.ok()) {
        SI::fail(*this, r.code(), r.error().reason);
        return nullptr;
    }
    __atomic_fetch_add(&large_allocations_, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&large_pages_, count, __ATOMIC_RELAXED);
    return Plat::phys_to_virt(r.value());
}

void *SlabAllocator::kcalloc(size_t n, size_t size, uint32_t flags) {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        SI::fail(*this, Errc::invalid_argument, "kcalloc: n * size overflows");
        return nullptr;
    }
    return kmalloc(bytes, flags | kAllocZero);
}

// A large (page-level) kmalloc allocation at p, or 0 pages.
static uint64_t large_pages_at(const PhysAllocator &a, const void *p) {
    return a.exact_pages_at(Plat::virt_to_phys(p));
}

Status SlabAllocator::kfree(const void *p) {
    if (reinterpret_cast<uintptr_t>(p) > reinterpret_cast<uintptr_t>(kZeroSizePtr) && phys_) [[likely]] {
        // The slab and the object's index are found with interrupts on; the
        // CPU's lists change with them off.
        if (SlabHeader *s = SI::slab_fast(*phys_, p)) [[likely]] {
            KmemCache *c = s->cache;
            const uint32_t i = c->plain ? SI::index_of(c, s, p) : UINT32_MAX;
            const unsigned long irq = Plat::irq_save();
            const uint32_t r = i != UINT32_MAX ? SI::push_local_at(c, Plat::cpu_slot(), s, const_cast<void *>(p), i)
                                               : SI::kFreeSlow;
            if (r == 0) [[likely]] return irq_restore_ok(irq);
            return SI::free_rest_restoring(*this, p, s, r, irq);
        }
    }
    return kfree_slow(p);
}

Status SlabAllocator::kfree_slow(const void *p) {
    if (!p || p == kZeroSizePtr) return {};
    if (!phys_) return make_error(Errc::wrong_phase, "slab is not initialised");
    const char *why; // kfree's fast lookup found no slab: only the slow one can
    if (SlabHeader *s = SI::slab_of_slow(*this, p, &why)) {
        IrqGuard irq;
        return free_object(s->cache, s, const_cast<void *>(p));
    }
    if (const uint64_t count = large_pages_at(*phys_, p)) {
        if (opts_.init_on_free) __builtin_memset(const_cast<void *>(p), 0, count * kPageSize);
        KMEM_TRY(phys_->free_pages_exact(Plat::virt_to_phys(p), count));
        __atomic_fetch_sub(&large_allocations_, 1, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&large_pages_, count, __ATOMIC_RELAXED);
        return {};
    }
    // A large allocation freed twice: its first page is free again.
    const uint64_t pa = Plat::virt_to_phys(p);
    if (pa % kPageSize == 0) {
        const PageState st = phys_->block_state(pa);
        if (st == PageState::free || st == PageState::free_pcp)
            return make_error(Errc::double_free, "double free: the pages are already free");
    }
    return make_error(Errc::not_allocated, why ? why : "not allocated by kmalloc");
}

size_t SlabAllocator::ksize(const void *p) const {
    if (!p || p == kZeroSizePtr || !phys_) return 0;
    const char *why;
    if (const SlabHeader *s = SI::slab_of(*this, p, &why))
        return SI::index_of(s->cache, s, p) == UINT32_MAX ? 0 : s->cache->object_size;
    return large_pages_at(*phys_, p) * kPageSize;
}

void *SlabAllocator::krealloc(void *p, size_t new_size, uint32_t flags) {
    if (!p || p == kZeroSizePtr) return kmalloc(new_size, flags);
    if (new_size == 0) {
        if (Status s = kfree(p); !s.ok()) SI::fail(*this, s.code(), s.reason());
        return kZeroSizePtr;
    }
    const size_t old = ksize(p);
    if (old == 0) {
        SI::fail(*this, Errc::not_allocated, "krealloc of a pointer kmalloc did not return");
        return nullptr;
    }
    if (new_size <= old) return p;
    void *q = kmalloc(new_size, flags & ~kAllocZero);
    if (!q) return nullptr; // p is untouched
    __builtin_memcpy(q, p, old);
    if (flags & kAllocZero) __builtin_memset(static_cast<uint8_t *>(q) + old, 0, ksize(q) - old);
    (void)kfree(p);
    return q;
}

} // namespace kmem
