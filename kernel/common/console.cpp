// SPDX-License-Identifier: MIT
//
// DOC: the demo kernels' printing over each architecture's print_n().
#include "console.h"

namespace kx {

void print(const char *s) {
    size_t n = 0;
    while (s[n]) ++n;
    print_n(s, n);
}

void print_u64(uint64_t v) {
    char b[24];
    int i = 23;
    b[i] = 0;
    do b[--i] = static_cast<char>('0' + v % 10);
    while ((v /= 10) && i > 0);
    print(b + i);
}

void print_hex(uint64_t v) {
    char b[19] = "0x";
    for (int i = 0; i < 16; ++i) b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    b[18] = 0;
    print(b);
}

} // namespace kx
