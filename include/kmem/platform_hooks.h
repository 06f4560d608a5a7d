/* SPDX-License-Identifier: MIT
 *
 * DOC: the platform hooks a kernel that embeds kmem implements (C and C++).
 *
 * The freestanding build of kmem (the kmem-freestanding-<arch> archives,
 * or the core sources compiled with a kernel's flags) calls these eleven
 * functions for everything it needs from the machine; besides them it needs
 * only memcpy, memmove, memset and memcmp (scripts/check-freestanding checks
 * it). The hosted library (kmem::core) brings its own platform and needs
 * none of them. What each must guarantee, and in which calling contexts
 * kmem calls them, is in docs/porting.md ("The platform", "Calling
 * contexts"); kernel/x86_64/platform.cpp and kernel/common/platform_hooks.cpp
 * are worked examples, tests/embed/freestanding_hooks.c one in C.
 */
#ifndef KMEM_PLATFORM_HOOKS_H
#define KMEM_PLATFORM_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define KMEM_HOOK_NORETURN [[noreturn]]
extern "C" {
#else
#include <stdbool.h>
#define KMEM_HOOK_NORETURN _Noreturn
#endif

/* Translation: the virtual address of mapped physical memory, and back. */
void *kmem_platform_phys_to_virt(uint64_t pa);
uint64_t kmem_platform_virt_to_phys(const void *va);
/* Is [pa, pa + len) mapped right now? (debug builds check metadata accesses) */
bool kmem_platform_is_mapped(uint64_t pa, uint64_t len);
/* The calling CPU's number, dense, below 64 (kmem::kMaxCpus). */
unsigned kmem_platform_cpu_id(void);
/* Local interrupts off / back as they were (nesting pairs). */
unsigned long kmem_platform_irq_save(void);
void kmem_platform_irq_restore(unsigned long flags);
/* Are local interrupts enabled? Is this CPU in an interrupt handler? */
bool kmem_platform_irqs_enabled(void);
bool kmem_platform_in_interrupt(void);
/* Monotonic nanoseconds (boot phase timing). */
uint64_t kmem_platform_now_ns(void);
/* Write n bytes of text to the console. */
void kmem_platform_console_write(const char *s, size_t n);
/* Report and stop; never returns. */
KMEM_HOOK_NORETURN void kmem_platform_panic(const char *message);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KMEM_PLATFORM_HOOKS_H */
