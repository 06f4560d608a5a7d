// SPDX-License-Identifier: MIT
//
// DOC: the SBI ecall (see sbi.h).
#include "sbi.h"

namespace kx {

SbiResult sbi_call(uint64_t ext, uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2) {
    register uint64_t r0 asm("a0") = a0;
    register uint64_t r1 asm("a1") = a1;
    register uint64_t r2 asm("a2") = a2;
    register uint64_t r6 asm("a6") = fn;
    register uint64_t r7 asm("a7") = ext;
    asm volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
    return {static_cast<int64_t>(r0), r1};
}

} // namespace kx
