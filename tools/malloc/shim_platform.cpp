// SPDX-License-Identifier: MIT
//
// DOC: the malloc shim's platform (shim_platform.h) and its heap.
//
// The out-of-line half of kmem::shim::Platform, and the memory and CPU
// slots behind it, without ever calling malloc, and with nothing that needs
// a constructor or a thread_local destructor.
//   - Physical memory: one MAP_NORESERVE reservation made once (1 TiB above
//     kHeapStart, halved until the kernel agrees); physical address pa lives
//     at g_physical_base + pa. Only address space is reserved: a page costs
//     memory when it is touched.
//   - The mapped window is [kHeapStart, g_mapped_end): heap_map_more() moves
//     its end up by one section before that section is onlined.
//   - CPU slots: a bitmap of slots 0..kSharedCpu-1 that threads claim; the
//     shim (shim_core.cpp) decides when, and releases a slot on thread exit.
//     Plat::cpu_id() outside a CpuScope would need a slot claimed behind the
//     shim's back: that is a bug, so it panics (cpu_outside_scope).
//   - No interrupts: POSIX lets no signal handler call malloc, so nothing
//     can interrupt kmem's per-CPU sections and irq_save/irq_restore compile
//     to nothing (they are inline in shim_platform.h).
#include "shim.h"

#include <atomic>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

namespace kmem::shim {

uint8_t *g_physical_base = nullptr;
constinit thread_local unsigned t_cpu = kMaxCpus;

void cpu_outside_scope() { panic("malloc shim: kmem asked for a CPU outside a CPU scope"); }

void panic(const char *message) {
    static const char prefix[] = "kmem-malloc: panic: ";
    size_t n = 0;
    while (message[n]) ++n;
    (void)!write(2, prefix, sizeof prefix - 1);
    (void)!write(2, message, n);
    (void)!write(2, "\n", 1);
    abort();
}

void console_write(const char *s, size_t n) { (void)!write(2, s, n); }

uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

} // namespace kmem::shim

namespace kmem::shim {
namespace {

uint64_t g_reserved_end = 0;                 // end of the reservation (physical)
std::atomic<uint64_t> g_mapped_end{kHeapStart}; // end of the onlined window
std::atomic<uint64_t> g_slots{0};            // claimed CPU slots

} // namespace

bool heap_reserve() {
    for (uint64_t heap = uint64_t{1} << 40; heap >= (uint64_t{4} << 30); heap >>= 1) {
        const uint64_t size = kHeapStart + heap;
        void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) continue;
        // The range below kHeapStart is never used: give the address space back.
        munmap(p, kHeapStart);
        g_physical_base = static_cast<uint8_t *>(p);
        g_reserved_end = size;
        return true;
    }
    return false;
}

bool heap_contains(const void *p) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    const uintptr_t base = reinterpret_cast<uintptr_t>(g_physical_base);
    return a - (base + kHeapStart) < g_mapped_end.load(std::memory_order_acquire) - kHeapStart;
}

bool heap_map_more(uint64_t *start) {
    const uint64_t end = g_mapped_end.load(std::memory_order_relaxed);
    if (end + kGrowStep > g_reserved_end) return false;
    *start = end;
    g_mapped_end.store(end + kGrowStep, std::memory_order_release);
    return true;
}

uint64_t heap_online_bytes() { return g_mapped_end.load(std::memory_order_relaxed) - kHeapStart; }

int claim_slot() {
    uint64_t slots = g_slots.load(std::memory_order_relaxed);
    constexpr uint64_t kAll = (uint64_t{1} << kSharedCpu) - 1;
    while ((slots & kAll) != kAll) {
        const unsigned id = static_cast<unsigned>(__builtin_ctzll(~slots));
        if (g_slots.compare_exchange_weak(slots, slots | (uint64_t{1} << id))) return static_cast<int>(id);
    }
    return -1;
}

void release_slot(unsigned id) { g_slots.fetch_and(~(uint64_t{1} << id)); }

void reset_slots_after_fork(unsigned keep) {
    g_slots.store(keep < kSharedCpu ? uint64_t{1} << keep : 0);
}

bool heap_range_mapped(uint64_t pa, uint64_t len) {
    if (len == 0) return true; // as the hosted platform: an empty access touches nothing
    return pa >= kHeapStart && pa + len >= pa && pa + len <= g_mapped_end.load(std::memory_order_acquire);
}

} // namespace kmem::shim
