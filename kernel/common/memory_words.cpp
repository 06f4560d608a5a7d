// SPDX-License-Identifier: MIT
//
// DOC: memcpy and memset for the AArch64 and RISC-V kernels: 8-byte word
// loops when the addresses and the length are all 8-byte aligned, byte loops
// otherwise (AArch64 builds with -mstrict-align, so a byte loop is safe before
// the MMU is on; rv64imac has no misaligned-access guarantee either). The
// x86_64 kernel has its own (rep movsb / rep stosb, kernel/x86_64/runtime.cpp).
#include <stddef.h>
#include <stdint.h>

extern "C" {

void *memcpy(void *dst, const void *src, size_t n) {
    auto *d = static_cast<unsigned char *>(dst);
    const auto *s = static_cast<const unsigned char *>(src);
    if (!((reinterpret_cast<uintptr_t>(d) | reinterpret_cast<uintptr_t>(s) | n) & 7)) {
        for (size_t i = 0; i < n; i += 8) *reinterpret_cast<uint64_t *>(d + i) = *reinterpret_cast<const uint64_t *>(s + i);
        return dst;
    }
    for (size_t i = 0; i < n; ++i) d[i] = s[i];
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    auto *d = static_cast<unsigned char *>(dst);
    if (!((reinterpret_cast<uintptr_t>(d) | n) & 7)) {
        const uint64_t v = 0x0101010101010101ull * static_cast<uint8_t>(c);
        for (size_t i = 0; i < n; i += 8) *reinterpret_cast<uint64_t *>(d + i) = v;
        return dst;
    }
    for (size_t i = 0; i < n; ++i) d[i] = static_cast<unsigned char>(c);
    return dst;
}

}
