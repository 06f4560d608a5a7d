// SPDX-License-Identifier: MIT
//
// DOC: libFuzzer target: slab and kmalloc as random operation sequences,
// the slab's and the buddy's check() after every one.
//
// Each input chooses slab options (random freelists, init on alloc or free,
// debug on every cache, small CPU partial lists) and then runs a program on
// a fresh SlabAllocator over a fresh buddy (fuzz_machine.h), up to 64 steps,
// each one call or a run of up to 200 of the same kind: kmalloc of every
// size class and of page sizes, from every zone, kzalloc, kcalloc (overflow
// included), krealloc; caches of any size, alignment and flags, with and
// without a constructor, their allocations, frees, shrinking and
// destruction; flushes; fault injection; and refused frees - a pointer into
// an object, a page the slab never handed out. A model of the live objects
// checks alignment, zone, usable size, that objects never overlap, that
// their contents survive until they are freed, zeroing, the constructor,
// and that a cache with live objects cannot be destroyed.
#include "fuzz_machine.h"

#include <kmem/slab.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

namespace {

using namespace kmem;
using fuzz::Machine;

#define REQUIRE(cond) \
    do {              \
        if (!(cond)) __builtin_trap(); \
    } while (0)

constexpr uint8_t kCtorByte = 0xc7;
void ctor(void *p) { std::memset(p, kCtorByte, 8); }

struct Object {
    size_t size;
    KmemCache *cache; // null: kmalloc
    uint8_t fill;
};

uint64_t pa_of(const void *p) {
    return static_cast<uint64_t>(static_cast<const uint8_t *>(p) - hosted::physical_memory_base());
}

class Run {
public:
    Run(FuzzedDataProvider &in, Machine &m) : in_(in), m_(m), phys_(m.boot()) {
        SlabOptions o;
        o.random_freelist = in_.ConsumeBool();
        o.init_on_alloc = in_.ConsumeIntegralInRange(0, 3) == 0;
        o.init_on_free = in_.ConsumeIntegralInRange(0, 3) == 0;
        o.debug_all = in_.ConsumeIntegralInRange(0, 3) == 0;
        o.cpu_partial_bytes = in_.ConsumeBool() ? 0 : 128 * 1024;
        o.min_slab_objects = in_.ConsumeBool() ? 0 : 64;
        slab_.emplace();
        REQUIRE(slab_->init(phys_, o, in_.ConsumeIntegral<uint64_t>()).ok());
        init_on_alloc_ = o.init_on_alloc;
        debug_all_ = o.debug_all;
        check();
    }

    void step() {
        switch (in_.ConsumeIntegralInRange(0, 15)) {
        case 0:
        case 1:
        case 2:
            for (unsigned n = batch(); n--;) kmalloc();
            break;
        case 3:
        case 4:
            for (unsigned n = batch(); n--;) free_one();
            break;
        case 5: krealloc(); break;
        case 6: kcalloc(); break;
        case 7: cache_create(); break;
        case 8:
        case 9:
            for (unsigned n = batch(); n--;) cache_alloc();
            break;
        case 10: cache_destroy(); break;
        case 11:
            if (!caches_.empty()) (void)slab_->cache_shrink(pick_cache());
            break;
        case 12:
            if (in_.ConsumeBool()) (void)slab_->shrink_all();
            else slab_->flush_all_cpus();
            break;
        case 13: slab_->fail_nth_allocation(in_.ConsumeIntegralInRange<uint64_t>(0, 6)); break;
        case 14: wrong_free(); break;
        case 15: REQUIRE(m_.online_rest().ok()); break;
        }
        check();
    }

    void finish() {
        slab_->fail_nth_allocation(0);
        while (!live_.empty()) release(live_.begin()->first);
        for (KmemCache *c : caches_) REQUIRE(slab_->cache_destroy(c).ok());
        caches_.clear();
        (void)slab_->shrink_all();
        check();
    }

private:
    void check() {
        REQUIRE(slab_->check().ok());
        REQUIRE(phys_.check().ok());
    }

    // Most steps make or free one object; some a run of them (slabs fill up).
    unsigned batch() { return in_.ConsumeBool() ? 1 : in_.ConsumeIntegralInRange(2, 200); }

    size_t size_from() {
        switch (in_.ConsumeIntegralInRange(0, 5)) {
        case 0: return in_.ConsumeIntegralInRange<size_t>(0, 16);
        case 1: return SlabAllocator::class_size(in_.ConsumeIntegralInRange<unsigned>(0, kKmallocClasses - 1));
        case 2: return in_.ConsumeIntegralInRange<size_t>(kKmallocMaxCacheSize - 8, kKmallocMaxCacheSize + 8);
        case 3: return in_.ConsumeIntegralInRange<size_t>(kKmallocMaxCacheSize, 64 * 1024);
        default: return in_.ConsumeIntegralInRange<size_t>(1, 1024);
        }
    }

    uint32_t zone_flags() {
        switch (in_.ConsumeIntegralInRange(0, 7)) {
        case 0: return kAllocZoneDma;
        case 1: return kAllocZoneDma32;
        default: return 0;
        }
    }

    // A new object: where it may be, what it holds, then our own bytes.
    void got(void *p, size_t size, KmemCache *cache, uint32_t flags) {
        if (size == 0 && !cache) {
            REQUIRE(p == kZeroSizePtr);
            return;
        }
        const size_t usable = cache ? cache->object_size : slab_->ksize(p);
        REQUIRE(usable >= size);
        if (!cache && size > kKmallocMaxCacheSize) REQUIRE(pa_of(p) % kPageSize == 0);
        if (!cache && !debug_all_ && size <= kPageSize && (size & (size - 1)) == 0) REQUIRE(pa_of(p) % size == 0);
        if (cache && cache->align) REQUIRE(pa_of(p) % cache->align == 0);
        REQUIRE(pa_of(p) % 8 == 0);
        if (flags & kAllocZoneDma) REQUIRE(pa_of(p) + size <= kZoneDmaEnd);
        if (flags & kAllocZoneDma32) REQUIRE(pa_of(p) + size <= kZoneDma32End);
        // Zeroed (kAllocZero, init_on_alloc) first, then the constructor.
        const uint8_t *b = static_cast<const uint8_t *>(p);
        const size_t constructed = cache && has_ctor_[cache] ? std::min<size_t>(8, size) : 0;
        for (size_t i = 0; i < constructed; ++i) REQUIRE(b[i] == kCtorByte);
        if ((flags & kAllocZero) || init_on_alloc_)
            for (size_t i = constructed; i < size; ++i) REQUIRE(b[i] == 0);
        const uint64_t lo = pa_of(p), hi = lo + (size ? size : 1);
        auto next = live_.lower_bound(p);
        if (next != live_.end()) REQUIRE(pa_of(next->first) >= hi);
        if (next != live_.begin()) {
            auto prev = std::prev(next);
            REQUIRE(pa_of(prev->first) + (prev->second.size ? prev->second.size : 1) <= lo);
        }
        const uint8_t fill = static_cast<uint8_t>(++fills_ | 1);
        std::memset(p, fill, size);
        live_[p] = Object{size, cache, fill};
    }

    void verify(void *p, const Object &o) {
        const uint8_t *b = static_cast<const uint8_t *>(p);
        for (size_t i = 0; i < o.size; ++i) REQUIRE(b[i] == o.fill);
    }

    void release(void *p) {
        const Object o = live_.at(p);
        verify(p, o);
        live_.erase(p);
        REQUIRE((o.cache ? slab_->cache_free(o.cache, p) : slab_->kfree(p)).ok());
    }

    void kmalloc() {
        const size_t size = size_from();
        const uint32_t flags = zone_flags() | (in_.ConsumeIntegralInRange(0, 3) == 0 ? kAllocZero : 0);
        if (void *p = slab_->kmalloc(size, flags)) got(p, size, nullptr, flags);
    }

    void free_one() {
        if (live_.empty()) {
            REQUIRE(slab_->kfree(nullptr).ok() && slab_->kfree(kZeroSizePtr).ok());
            return;
        }
        auto it = live_.begin();
        std::advance(it, in_.ConsumeIntegralInRange<size_t>(0, live_.size() - 1));
        release(it->first);
    }

    void krealloc() {
        std::vector<void *> kmallocs;
        for (const auto &[p, o] : live_)
            if (!o.cache) kmallocs.push_back(p);
        if (kmallocs.empty()) return;
        void *p = kmallocs[in_.ConsumeIntegralInRange<size_t>(0, kmallocs.size() - 1)];
        const Object o = live_.at(p);
        const size_t size = size_from();
        verify(p, o);
        void *q = slab_->krealloc(p, size);
        if (!q) { // p is untouched
            verify(p, o);
            return;
        }
        live_.erase(p);
        if (size == 0) {
            REQUIRE(q == kZeroSizePtr);
            return;
        }
        const uint8_t *b = static_cast<const uint8_t *>(q);
        for (size_t i = 0; i < std::min(size, o.size); ++i) REQUIRE(b[i] == o.fill);
        REQUIRE(slab_->ksize(q) >= size);
        const uint8_t fill = static_cast<uint8_t>(++fills_ | 1);
        std::memset(q, fill, size);
        for (const auto &[other, x] : live_) // no overlap with any other object
            REQUIRE(pa_of(other) + (x.size ? x.size : 1) <= pa_of(q) || pa_of(q) + size <= pa_of(other));
        live_[q] = Object{size, nullptr, fill};
    }

    void kcalloc() {
        const size_t n = in_.ConsumeBool() ? in_.ConsumeIntegral<size_t>() : in_.ConsumeIntegralInRange<size_t>(0, 64);
        const size_t each = in_.ConsumeIntegralInRange<size_t>(0, 512);
        size_t bytes;
        const bool overflow = __builtin_mul_overflow(n, each, &bytes);
        void *p = slab_->kcalloc(n, each);
        if (overflow) REQUIRE(p == nullptr);
        if (p) got(p, bytes, nullptr, kAllocZero);
    }

    KmemCache *pick_cache() { return caches_[in_.ConsumeIntegralInRange<size_t>(0, caches_.size() - 1)]; }

    void cache_create() {
        if (caches_.size() >= 4) return;
        const size_t size = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<size_t>(0, 256)
                                              : in_.ConsumeIntegralInRange<size_t>(0, 20000);
        const size_t align = in_.ConsumeBool() ? 0 : size_t{1} << in_.ConsumeIntegralInRange(0, 13);
        uint32_t flags = in_.ConsumeIntegral<uint8_t>() & (kCacheKnownFlags | 0x20);
        if ((flags & kCacheDma) && (flags & kCacheDma32)) flags &= ~kCacheDma32;
        const bool with_ctor = in_.ConsumeBool();
        const Result<KmemCache *> r = slab_->cache_create("fuzz", size, align, flags, with_ctor ? ctor : nullptr);
        if (flags & ~kCacheKnownFlags) REQUIRE(!r.ok());
        if (!r.ok()) return;
        REQUIRE(r.value()->object_size >= size);
        caches_.push_back(r.value());
        has_ctor_[r.value()] = with_ctor;
    }

    void cache_alloc() {
        if (caches_.empty()) return;
        KmemCache *c = pick_cache();
        const uint32_t zone = (c->flags & kCacheDma) ? uint32_t{kAllocZoneDma} : (c->flags & kCacheDma32) ? uint32_t{kAllocZoneDma32} : 0u;
        if (void *p = slab_->cache_alloc(c)) got(p, c->object_size, c, zone);
    }

    void cache_destroy() {
        if (caches_.empty()) return;
        const size_t i = in_.ConsumeIntegralInRange<size_t>(0, caches_.size() - 1);
        KmemCache *c = caches_[i];
        bool in_use = false;
        for (const auto &[p, o] : live_) in_use |= o.cache == c;
        const Status s = slab_->cache_destroy(c);
        REQUIRE(s.ok() == !in_use);
        if (!s.ok()) return;
        caches_[i] = caches_.back();
        caches_.pop_back();
        has_ctor_.erase(c);
    }

    // Pointers kfree must refuse, leaving every object as it was.
    void wrong_free() {
        if (in_.ConsumeBool() && !live_.empty()) { // inside an object
            auto it = live_.begin();
            std::advance(it, in_.ConsumeIntegralInRange<size_t>(0, live_.size() - 1));
            if (it->second.size < 2 || it->second.cache) return;
            void *inside = static_cast<uint8_t *>(it->first) + in_.ConsumeIntegralInRange<size_t>(1, it->second.size - 1);
            REQUIRE(!slab_->kfree(inside).ok());
            verify(it->first, it->second);
            return;
        }
        // A page from the buddy, never the slab's.
        const Result<uint64_t> page = phys_.alloc_pages(0);
        if (!page.ok()) return;
        REQUIRE(!slab_->kfree(Machine::ptr(page.value())).ok());
        REQUIRE(phys_.free_pages(page.value(), 0).ok());
    }

    FuzzedDataProvider &in_;
    Machine &m_;
    PhysAllocator &phys_;
    std::optional<SlabAllocator> slab_;
    bool init_on_alloc_ = false, debug_all_ = false;
    std::map<void *, Object> live_;
    std::vector<KmemCache *> caches_;
    std::map<KmemCache *, bool> has_ctor_;
    uint64_t fills_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    Run run(in, fuzz::machine());
    for (unsigned steps = 0; in.remaining_bytes() && steps < 64; ++steps) run.step();
    run.finish();
    return 0;
}
