// SPDX-License-Identifier: MIT
//
// DOC: boot steps both demo kernels take the same way (boot_steps.cpp).
#pragma once

#include <kmem/boot.h>

#include <stdint.h>

namespace kx {

// Stop with "kmem: what: reason" unless s is ok.
void check(const char *what, const kmem::Status &s);

// Reserve the kernel image, [kernel_start, kernel_end) of the linker script.
void reserve_kernel_image(kmem::MemorySystem &sys);

// What boot code allocates in EarlyWindow, through the Linux names as
// platform code always has (kmem/compat/linux.h); the 64 KiB buffer is given
// back late by the self-tests (free_bootmem_late).
struct BootAllocations {
    uint64_t buffer_pa, buffer_size;
    void *low_page;
};
BootAllocations allocate_as_platform_code();
// In Running: what boot code frees once the machine is up.
void free_after_boot(const BootAllocations &b);

} // namespace kx
