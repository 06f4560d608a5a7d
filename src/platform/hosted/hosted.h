// SPDX-License-Identifier: MIT
//
// DOC: the hosted platform (tools, tests, benchmarks).
//
// Simulated physical memory is one anonymous MAP_NORESERVE mapping from
// physical address 0 up to the machine's highest address, so a 16 TiB machine
// costs only the pages that are touched. The mapped window is the set of
// physical ranges the simulated page tables map right now; in debug builds
// (KMEM_DEBUG) kmem checks every metadata access against it, so a hosted test
// catches what would fault on real hardware. CPUs are threads: a thread
// claims a free CPU slot the first time it asks for its id and gives it back
// when it exits.
#pragma once

#include <kmem/platform.h>
#include <kmem/result.h>

#include <kmem/spinlock.h>

#include <stddef.h>
#include <stdint.h>

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

extern uint8_t *g_physical_base; // read on every translation; set by create_physical_memory
extern constinit thread_local unsigned t_cpu; // this thread's CPU slot, or kMaxCpus

struct Platform {
    using SpinLock = platform::SpinLock;
    static void *phys_to_virt(uint64_t pa) { return g_physical_base + pa; }
    static uint64_t virt_to_phys(const void *va) {
        return static_cast<uint64_t>(static_cast<const uint8_t *>(va) - g_physical_base);
    }
    static bool is_mapped(uint64_t pa, uint64_t len) { return is_physical_range_mapped(pa, len); }
    static unsigned cpu_id() {
        const unsigned c = t_cpu;
        return c < kMaxCpus ? c : claim_cpu();
    }
    static unsigned cpu_slot() { return t_cpu; }
    static unsigned long irq_save() { return 0; }
    static void irq_restore(unsigned long) {}
    static uint64_t now_ns() { return monotonic_ns(); }
    static void console_write(const char *s, size_t n) { hosted::console_write(s, n); }
    [[noreturn]] static void panic(const char *msg) { hosted::panic(msg); }
};
static_assert(kmem::Platform<Platform>);

} // namespace kmem::hosted
