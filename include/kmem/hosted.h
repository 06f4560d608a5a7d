/* SPDX-License-Identifier: MIT
 *
 * DOC: the hosted platform's helpers - what a program that runs kmem in a
 * process (kmem::core, libkmem.a) calls to give it a machine.
 *
 * The hosted library simulates physical memory as one MAP_NORESERVE
 * mapping from physical address 0 to the top of RAM (a 16 TiB machine costs
 * only the pages it touches), with a "mapped window": the physical ranges
 * the simulated page tables map now (debug builds check every metadata
 * access against it). CPUs are threads, each claiming a CPU slot the first
 * time kmem asks for its id. A hosted boot: create the memory (the top of
 * RAM), map the early window, then the phases; the direct map's callback
 * maps each range (kmem_hosted_mapped does). Not in the freestanding
 * archives: a kernel supplies <kmem/platform_hooks.h> instead.
 *
 * C: the kmem_hosted_* functions. C++: namespace kmem::hosted, the same and
 * more (CPU slots, emulated interrupts - src/platform/hosted/hosted.h says
 * how they behave).
 */
#ifndef KMEM_HOSTED_H
#define KMEM_HOSTED_H

#include <kmem/kmem.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Simulated physical memory [0, size): replaces any earlier machine. */
kmem_errc kmem_hosted_create_memory(uint64_t size, kmem_error *err);
void kmem_hosted_destroy_memory(void);
/* Host address of physical address 0 (NULL: no machine). */
uint8_t *kmem_hosted_memory_base(void);
/* Add [start, end) to the mapped window (what the boot code maps). */
kmem_errc kmem_hosted_map(uint64_t start, uint64_t end, kmem_error *err);
/* A kmem_mapped_fn for kmem_boot_direct_map: maps each range as its page
 * tables are built (ctx unused). */
kmem_errc kmem_hosted_mapped(void *ctx, uint64_t start, uint64_t end);
/* Host memory the simulation uses (resident pages), in bytes. */
uint64_t kmem_hosted_resident_bytes(void);

#ifdef __cplusplus
} /* extern "C" */

#include <kmem/result.h>

namespace kmem::hosted {

// The simulated machine's physical memory: [0, size) bytes.
Status create_physical_memory(uint64_t size);
void destroy_physical_memory();
uint64_t physical_memory_size();
uint8_t *physical_memory_base();
// Give the host back the pages of [start, end) (they read as zero again).
void discard_physical_range(uint64_t start, uint64_t end);
// Host memory the simulation actually uses (resident pages), in bytes.
uint64_t resident_bytes();

// The mapped window.
Status map_physical_range(uint64_t start, uint64_t end);
void unmap_all_physical();
bool is_physical_range_mapped(uint64_t pa, uint64_t len);

// CPU slots.
unsigned claim_cpu();              // the calling thread's slot (claims one if needed)
void bind_cpu(unsigned id);        // pin the calling thread to slot id (tests)
void release_cpu();                // give the calling thread's slot back

// Panic: the handler (if any) runs first; if it returns, the process aborts.
using PanicHandler = void (*)(const char *message);
PanicHandler set_panic_handler(PanicHandler h);
[[noreturn]] void panic(const char *message);
void console_write(const char *s, size_t n);
uint64_t monotonic_ns();

// Emulated interrupts. The handler a thread's interrupts run (null: none;
// deliver_interrupt ignores the signal), with its context.
using InterruptHandler = void (*)(void *ctx);
void set_interrupt_handler(InterruptHandler h, void *ctx);
// The interrupt arrives on the calling thread (async-signal-safe: call it
// from a signal handler).
void deliver_interrupt();
// Interrupts that arrived on this thread and were deferred because they
// were off (run later by irq_restore).
uint64_t deferred_interrupts();

} // namespace kmem::hosted
#endif /* __cplusplus */

#endif /* KMEM_HOSTED_H */
