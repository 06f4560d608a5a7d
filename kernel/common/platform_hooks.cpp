// SPDX-License-Identifier: MIT
//
// DOC: the kmem platform hooks (src/platform/extern) that read the same on
// every demo kernel: the direct map at kx::kDirectMap (each architecture's
// arch.h sets where it lies; the kernel image itself is identity-mapped),
// time and console over console.h, and panic. The hooks that differ by
// architecture (is_mapped, cpu_id, irq_save/restore) stay in
// kernel/<arch>/platform.cpp.
#include "arch.h" // this kernel's own: kDirectMap, qemu_exit

extern "C" {

void *kmem_platform_phys_to_virt(uint64_t pa) { return reinterpret_cast<void *>(kx::kDirectMap + pa); }

uint64_t kmem_platform_virt_to_phys(const void *va) {
    const uint64_t v = reinterpret_cast<uint64_t>(va);
    return v >= kx::kDirectMap ? v - kx::kDirectMap : v; // the kernel image is identity-mapped
}

uint64_t kmem_platform_now_ns(void) { return kx::now_ns(); }

void kmem_platform_console_write(const char *s, size_t n) { kx::print_n(s, n); }

// QEMU's exit status: 1 on AArch64 (semihosting) and RISC-V (sifive_test
// FINISHER_FAIL with code 1), 3 on x86_64 (isa-debug-exit).
[[noreturn]] void kmem_platform_panic(const char *message) {
    kx::print("\nkmem: PANIC: ");
    kx::print(message);
    kx::print("\n");
    kx::qemu_exit(1);
}

} // extern "C"
