// SPDX-License-Identifier: MIT
//
// DOC: boot steps the demo kernels share (see boot_steps.h).
#include "boot_steps.h"

#include "console.h"

#include <kmem/compat/linux.h>

extern "C" char kernel_start[], kernel_end[];

namespace kx {

void check(const char *what, const kmem::Status &s) {
    if (s.ok()) return;
    print("kmem: ");
    print(what);
    print(": ");
    print(s.reason());
    print("\n");
    kmem_platform_panic(what);
}

void reserve_kernel_image(kmem::MemorySystem &sys) {
    const uint64_t start = reinterpret_cast<uint64_t>(kernel_start), end = reinterpret_cast<uint64_t>(kernel_end);
    check("reserve the kernel", sys.reserve(start, end - start, false, "kernel image"));
}

BootAllocations allocate_as_platform_code() {
    using namespace kmem::compat;
    void *cpumask = memblock_alloc(64, SMP_CACHE_BYTES);
    void *percpu_areas = alloc_bootmem_pages(4 * PAGE_SIZE);
    const phys_addr_t buffer = memblock_phys_alloc(64 * 1024, PAGE_SIZE);
    void *low = memblock_alloc_low(PAGE_SIZE, PAGE_SIZE);
    if (!cpumask || !percpu_areas || !buffer || !low) kmem_platform_panic("a boot allocation failed");
    return {buffer, 64 * 1024, low};
}

void free_after_boot(const BootAllocations &b) { kmem::compat::memblock_free(b.low_page, kmem::compat::PAGE_SIZE); }

} // namespace kx
