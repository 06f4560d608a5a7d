// SPDX-License-Identifier: MIT
//
// DOC: the platform of a kernel that embeds kmem.
//
// Each hook is an extern "C" function the kernel defines (the bare-metal demo
// kernels under kernel/ do), declared in the public C header
// <kmem/platform_hooks.h>. These are the only symbols the freestanding core
// may leave undefined, besides memcpy/memmove/memset/memcmp
// (scripts/check-freestanding enforces it).
#pragma once

#include <kmem/platform.h>
#include <kmem/platform_hooks.h>

#include <kmem/spinlock.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem::platform {

struct Extern {
    using SpinLock = platform::SpinLock;
    static void *phys_to_virt(uint64_t pa) { return kmem_platform_phys_to_virt(pa); }
    static uint64_t virt_to_phys(const void *va) { return kmem_platform_virt_to_phys(va); }
    static bool is_mapped(uint64_t pa, uint64_t len) { return kmem_platform_is_mapped(pa, len); }
    static unsigned cpu_id() { return kmem_platform_cpu_id(); }
    static unsigned cpu_slot() { return kmem_platform_cpu_id(); }
    static unsigned long irq_save() { return kmem_platform_irq_save(); }
    static void irq_restore(unsigned long flags) { kmem_platform_irq_restore(flags); }
    static bool irqs_enabled() { return kmem_platform_irqs_enabled(); }
    static bool in_interrupt() { return kmem_platform_in_interrupt(); }
    static uint64_t now_ns() { return kmem_platform_now_ns(); }
    static void console_write(const char *s, size_t n) { kmem_platform_console_write(s, n); }
    [[noreturn]] static void panic(const char *msg) { kmem_platform_panic(msg); }
};
static_assert(kmem::Platform<Extern>);

} // namespace kmem::platform
