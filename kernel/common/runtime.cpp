// SPDX-License-Identifier: MIT
//
// DOC: the C and C++ runtime pieces every demo kernel needs beside memcpy and
// memset (kernel/x86_64/runtime.cpp, kernel/common/memory_words.cpp):
// memmove, memcmp, and what the compiler calls for static objects and pure
// virtuals.
#include "console.h"

extern "C" {

void *memcpy(void *dst, const void *src, size_t n);

void *memmove(void *dst, const void *src, size_t n) {
    auto *d = static_cast<unsigned char *>(dst);
    const auto *s = static_cast<const unsigned char *>(src);
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    while (n--) d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const auto *x = static_cast<const unsigned char *>(a), *y = static_cast<const unsigned char *>(b);
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

void __cxa_pure_virtual() { kmem_platform_panic("pure virtual call"); }
int __cxa_atexit(void (*)(void *), void *, void *) { return 0; } // the kernels never exit normally
void *__dso_handle = nullptr;
}
