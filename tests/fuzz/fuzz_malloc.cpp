// SPDX-License-Identifier: MIT
//
// DOC: libFuzzer target: the malloc shim's C API (tools/malloc) as random
// call sequences checked against a model.
//
// The shim is this process's allocator, as under LD_PRELOAD (libFuzzer's own
// allocations go through it too). Each input is a sequence of malloc,
// calloc (overflow included), realloc (to zero and from null included),
// reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
// free and malloc_trim calls of sizes from 0 to past the shim's mmap
// threshold. The model holds every live block: it checks alignment, that
// malloc_usable_size covers the request, that blocks never overlap, that
// calloc memory is zero, that a block's contents survive until it is freed
// and that realloc keeps the common prefix; errors must come with null and
// ENOMEM or EINVAL. ASan cannot run here (it replaces malloc itself), so
// the model is the check, with UBSan; everything live is freed at the end
// of each input.
#include <fuzzer/FuzzedDataProvider.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <malloc.h>
#include <map>
#include <stdlib.h>

namespace {

#define REQUIRE(cond) \
    do {              \
        if (!(cond)) __builtin_trap(); \
    } while (0)

struct Block {
    size_t size;
    uint8_t fill;
};

// The shim's threshold for mmap()ed blocks is 4 MiB; sizes go past it.
size_t size_from(FuzzedDataProvider &in) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0: return in.ConsumeIntegralInRange<size_t>(0, 16);
    case 1: return in.ConsumeIntegralInRange<size_t>(8180, 8200);
    case 2: return in.ConsumeIntegralInRange<size_t>(8192, 1 << 20);
    case 3: return in.ConsumeIntegralInRange<size_t>((4 << 20) - 64, (4 << 20) + 8192);
    case 4: return in.ConsumeBool() ? SIZE_MAX - in.ConsumeIntegralInRange<size_t>(0, 8192) : size_t{1} << 62;
    default: return in.ConsumeIntegralInRange<size_t>(1, 2048);
    }
}

size_t align_from(FuzzedDataProvider &in) {
    if (in.ConsumeIntegralInRange(0, 7) == 0) return in.ConsumeIntegralInRange<size_t>(0, 100000); // often not a power of two
    return size_t{1} << in.ConsumeIntegralInRange(0, 16);
}

bool is_pow2(size_t a) { return a && !(a & (a - 1)); }

// The API through pointers the compiler knows nothing about: glibc declares
// aligned_alloc and memalign with alloc_align, so a direct call with an
// alignment that is no power of two would let it assume the impossible, and
// it may fold or drop plain malloc/free pairs.
template <class F> F opaque(F f) {
    static F volatile keep;
    keep = f;
    return keep;
}
#define malloc opaque(&::malloc)
#define calloc opaque(&::calloc)
#define realloc opaque(&::realloc)
#define reallocarray opaque(&::reallocarray)
#define free opaque(&::free)
#define posix_memalign opaque(&::posix_memalign)
#define aligned_alloc opaque(&::aligned_alloc)
#define memalign opaque(&::memalign)
#define valloc opaque(&::valloc)
#define pvalloc opaque(&::pvalloc)
#define malloc_usable_size opaque(&::malloc_usable_size)

class Run {
public:
    explicit Run(FuzzedDataProvider &in) : in_(in) {}

    void step() {
        switch (in_.ConsumeIntegralInRange(0, 12)) {
        case 0:
        case 1: {
            const size_t n = size_from(in_);
            errno = 0;
            got(malloc(n), n, 16, false);
            break;
        }
        case 2: {
            // Small, or just past what fits in a size_t.
            const size_t each = in_.ConsumeIntegralInRange<size_t>(0, 4096);
            const size_t count = in_.ConsumeBool() && each ? SIZE_MAX / each + in_.ConsumeIntegralInRange<size_t>(0, 2)
                                                           : in_.ConsumeIntegralInRange<size_t>(0, 3000);
            size_t bytes;
            const bool overflow = __builtin_mul_overflow(count, each, &bytes);
            errno = 0;
            void *p = calloc(count, each);
            if (overflow) REQUIRE(!p && errno == ENOMEM);
            else got(p, bytes, 16, true);
            break;
        }
        case 3:
        case 4: free_one(); break;
        case 5: realloc_one(false); break;
        case 6: realloc_one(true); break;
        case 7: {
            const size_t align = align_from(in_), n = size_from(in_);
            void *p = reinterpret_cast<void *>(1);
            const int rc = posix_memalign(&p, align, n);
            if (!is_pow2(align) || align % sizeof(void *)) REQUIRE(rc == EINVAL);
            if (rc == 0) got(p, n, align, false);
            else REQUIRE(rc == EINVAL || rc == ENOMEM);
            break;
        }
        case 8: {
            const size_t align = align_from(in_), n = size_from(in_);
            errno = 0;
            void *p = aligned_alloc(align, n);
            if (!is_pow2(align)) REQUIRE(!p && errno == EINVAL);
            else got(p, n, align, false);
            break;
        }
        case 9: {
            const size_t align = align_from(in_), n = size_from(in_);
            size_t pow2 = 1;
            while (pow2 < align && pow2 < (size_t{1} << 62)) pow2 <<= 1; // memalign rounds it up
            errno = 0;
            got(memalign(align, n), n, pow2, false);
            break;
        }
        case 10: {
            const size_t n = size_from(in_);
            errno = 0;
            if (in_.ConsumeBool()) {
                got(valloc(n), n, 4096, false);
            } else {
                const size_t rounded = n > SIZE_MAX - 4096 ? n : n ? (n + 4095) & ~size_t{4095} : 4096;
                got(pvalloc(n), rounded, 4096, false);
            }
            break;
        }
        case 11: (void)malloc_trim(0); break;
        case 12: {
            const size_t count = size_from(in_), each = in_.ConsumeIntegralInRange<size_t>(1, 64);
            if (live_.empty()) break;
            auto it = pick();
            void *p = it->first;
            const Block b = it->second;
            size_t bytes;
            const bool overflow = __builtin_mul_overflow(count, each, &bytes);
            errno = 0;
            void *q = reallocarray(p, count, each);
            if (overflow) {
                REQUIRE(!q && errno == ENOMEM);
                verify(p, b);
                break;
            }
            reallocated(p, b, q, bytes);
            break;
        }
        }
    }

    void finish() {
        for (const auto &[p, b] : live_) {
            verify(p, b);
            free(p);
        }
        live_.clear();
    }

private:
    std::map<void *, Block>::iterator pick() {
        auto it = live_.begin();
        std::advance(it, in_.ConsumeIntegralInRange<size_t>(0, live_.size() - 1));
        return it;
    }

    void verify(void *p, const Block &b) {
        const uint8_t *c = static_cast<const uint8_t *>(p);
        for (size_t i = 0; i < b.size && i < 4096; ++i) REQUIRE(c[i] == b.fill);
        if (b.size > 4096) REQUIRE(c[b.size - 1] == b.fill);
    }

    // Fill the head (and the last byte) of a block: touching all of a
    // multi-megabyte block would only cost time.
    void fill(void *p, size_t n, uint8_t v) {
        std::memset(p, v, n < 4096 ? n : 4096);
        if (n > 4096) static_cast<uint8_t *>(p)[n - 1] = v;
    }

    void add(void *p, size_t n) {
        const uintptr_t lo = reinterpret_cast<uintptr_t>(p), hi = lo + (n ? n : 1);
        auto next = live_.lower_bound(p);
        if (next != live_.end()) REQUIRE(reinterpret_cast<uintptr_t>(next->first) >= hi);
        if (next != live_.begin()) {
            auto prev = std::prev(next);
            REQUIRE(reinterpret_cast<uintptr_t>(prev->first) + (prev->second.size ? prev->second.size : 1) <= lo);
        }
        const uint8_t v = static_cast<uint8_t>(++fills_ | 1);
        fill(p, n, v);
        live_[p] = Block{n, v};
    }

    void got(void *p, size_t n, size_t align, bool zeroed) {
        if (!p) {
            REQUIRE(errno == ENOMEM || errno == EINVAL);
            REQUIRE(n >= (size_t{1} << 40) || align > (size_t{1} << 40)); // only absurd requests fail here
            return;
        }
        REQUIRE(reinterpret_cast<uintptr_t>(p) % (align < 16 ? 16 : align) == 0);
        REQUIRE(malloc_usable_size(p) >= n);
        if (zeroed) {
            const uint8_t *c = static_cast<const uint8_t *>(p);
            for (size_t i = 0; i < n && i < 4096; ++i) REQUIRE(c[i] == 0);
            if (n > 4096) REQUIRE(c[n - 1] == 0);
        }
        add(p, n);
    }

    void free_one() {
        if (live_.empty()) {
            free(nullptr);
            return;
        }
        auto it = pick();
        verify(it->first, it->second);
        free(it->first);
        live_.erase(it);
    }

    void reallocated(void *p, const Block &b, void *q, size_t n) {
        if (!q) {
            if (n == 0) { // glibc's rule: freed, null returned
                live_.erase(p);
                return;
            }
            REQUIRE(errno == ENOMEM && n >= (size_t{1} << 40));
            verify(p, b);
            return;
        }
        live_.erase(p);
        const uint8_t *c = static_cast<const uint8_t *>(q);
        const size_t keep = b.size < n ? b.size : n;
        for (size_t i = 0; i < keep && i < 4096; ++i) REQUIRE(c[i] == b.fill);
        REQUIRE(reinterpret_cast<uintptr_t>(q) % 16 == 0 && malloc_usable_size(q) >= n);
        add(q, n);
    }

    void realloc_one(bool from_null) {
        const size_t n = in_.ConsumeIntegralInRange(0, 3) == 0 ? 0 : size_from(in_);
        errno = 0;
        if (from_null || live_.empty()) {
            void *q = realloc(nullptr, n);
            if (q || n < (size_t{1} << 40)) got(q, n, 16, false);
            return;
        }
        auto it = pick();
        void *p = it->first;
        const Block b = it->second;
        verify(p, b);
        reallocated(p, b, realloc(p, n), n);
    }

    FuzzedDataProvider &in_;
    std::map<void *, Block> live_;
    uint64_t fills_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    Run run(in);
    for (unsigned steps = 0; in.remaining_bytes() && steps < 300; ++steps) run.step();
    run.finish();
    return 0;
}
