/* SPDX-License-Identifier: MIT */
/* DOC: the shim's CMake test program: calls every generated part. */
#include <stdio.h>

#define PARTS X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)
#define X(i) unsigned long part##i(unsigned n);
PARTS
#undef X

int main(void) {
    unsigned long total = 0;
#define X(i) total += part##i(1000u * i);
    PARTS
#undef X
    printf("shimdemo: %lu\n", total);
    return 0;
}
