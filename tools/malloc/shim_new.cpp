// SPDX-License-Identifier: MIT
//
// DOC: C++ operator new and delete for libkmem-malloc.so, every form: plain,
// array, nothrow, aligned (std::align_val_t), sized and aligned-sized delete
// (C++14/17). They go straight to the shim's malloc and free paths (inlined
// by link-time optimisation), as mimalloc's and tcmalloc's libraries do,
// instead of through libstdc++'s operator new, which loops around malloc.
//
// Out of memory: the throwing forms call the program's new-handler until it
// gives memory or throws, and throw std::bad_alloc when there is none - the
// two libstdc++ functions are looked up with dlsym only then, so a C
// program that preloads the shim does not load libstdc++. The nothrow forms
// return null.
#include "shim.h"

#include <dlfcn.h>
#include <new>
#include <stdlib.h>

#define KMEM_EXPORT __attribute__((visibility("default")))

namespace {

using kmem::shim::free_entry;
using kmem::shim::malloc_entry;
using kmem::shim::memalign_entry;

// The program's new-handler (null: none), or null when no libstdc++ is loaded.
std::new_handler current_new_handler() {
    auto get = reinterpret_cast<std::new_handler (*)()>(dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv"));
    return get ? get() : nullptr;
}

[[noreturn]] void throw_bad_alloc() {
    auto thrower = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv"));
    if (thrower) thrower(); // throws std::bad_alloc
    abort();                // no C++ runtime: nothing could catch it
}

// The throwing forms' slow path: the new-handler until memory comes.
[[gnu::noinline]] void *new_slow(size_t n, size_t align) {
    for (;;) {
        std::new_handler h = current_new_handler();
        if (!h) throw_bad_alloc();
        h();
        if (void *p = align ? memalign_entry(align, n) : malloc_entry(n)) return p;
    }
}

inline void *new_plain(size_t n) {
    if (void *p = malloc_entry(n)) [[likely]] return p;
    return new_slow(n, 0);
}

inline void *new_aligned(size_t n, std::align_val_t a) {
    const size_t align = static_cast<size_t>(a);
    if (void *p = align <= 16 ? malloc_entry(n) : memalign_entry(align, n)) [[likely]] return p;
    return new_slow(n, align <= 16 ? 0 : align);
}

inline void *new_nothrow(size_t n, size_t align) {
    return align <= 16 ? malloc_entry(n) : memalign_entry(align, n);
}

} // namespace

KMEM_EXPORT void *operator new(size_t n) { return new_plain(n); }
KMEM_EXPORT void *operator new[](size_t n) { return new_plain(n); }
KMEM_EXPORT void *operator new(size_t n, const std::nothrow_t &) noexcept { return new_nothrow(n, 0); }
KMEM_EXPORT void *operator new[](size_t n, const std::nothrow_t &) noexcept { return new_nothrow(n, 0); }
KMEM_EXPORT void *operator new(size_t n, std::align_val_t a) { return new_aligned(n, a); }
KMEM_EXPORT void *operator new[](size_t n, std::align_val_t a) { return new_aligned(n, a); }
KMEM_EXPORT void *operator new(size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
    return new_nothrow(n, static_cast<size_t>(a));
}
KMEM_EXPORT void *operator new[](size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
    return new_nothrow(n, static_cast<size_t>(a));
}

// Every delete is a free: kmem finds the size and alignment itself.
KMEM_EXPORT void operator delete(void *p) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete[](void *p) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete(void *p, size_t) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete[](void *p, size_t) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete(void *p, std::align_val_t) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete[](void *p, std::align_val_t) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete(void *p, size_t, std::align_val_t) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete[](void *p, size_t, std::align_val_t) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete(void *p, const std::nothrow_t &) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete[](void *p, const std::nothrow_t &) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept { free_entry(p); }
KMEM_EXPORT void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { free_entry(p); }
