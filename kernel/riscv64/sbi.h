// SPDX-License-Identifier: MIT
//
// DOC: the SBI calls the RISC-V kernel makes into OpenSBI (M-mode): the
// base extension's probe, TIME's set_timer, HSM's hart_start, and the
// calling convention they share (ecall with a7 = extension, a6 = function;
// a0 = error, a1 = value).
#pragma once

#include <stdint.h>

namespace kx {

struct SbiResult {
    int64_t error; // 0: success; SBI_ERR_* (negative) otherwise
    uint64_t value;
};

inline constexpr uint64_t kSbiBase = 0x10, kSbiTime = 0x54494D45, kSbiHsm = 0x48534D; // "TIME", "HSM"
inline constexpr int64_t kSbiErrInvalidParam = -3, kSbiErrAlreadyAvailable = -6;

SbiResult sbi_call(uint64_t ext, uint64_t fn, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0);

// The base extension: whether `ext` is there (its probe value is not 0).
inline bool sbi_has(uint64_t ext) {
    const SbiResult r = sbi_call(kSbiBase, 3, ext);
    return r.error == 0 && r.value != 0;
}
// TIME: the next supervisor timer interrupt at `deadline` (time-CSR ticks);
// also clears the pending one.
inline void sbi_set_timer(uint64_t deadline) { (void)sbi_call(kSbiTime, 0, deadline); }
// HSM: start `hart` at physical `start` in S-mode with the MMU off, a0 = its
// hart id and a1 = `opaque`.
inline int64_t sbi_hart_start(uint64_t hart, uint64_t start, uint64_t opaque) {
    return sbi_call(kSbiHsm, 0, hart, start, opaque).error;
}

} // namespace kx
