// SPDX-License-Identifier: MIT
//
// DOC: the hosted platform's state: simulated physical memory (mmap), the
// mapped window, CPU slots for threads, emulated interrupts, panic and
// console.
#include "platform/current.h"

#include <kmem/memmap.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kmem::hosted {

uint8_t *g_physical_base = nullptr;
constinit thread_local unsigned t_cpu = kMaxCpus;
constinit thread_local IrqState t_irq{};

namespace {

uint64_t g_size = 0;
platform::SpinLock g_window_lock;
StaticMemoryMap<1024> g_window; // mapped physical ranges
std::atomic<uint64_t> g_cpu_slots{0};
std::atomic<PanicHandler> g_panic_handler{nullptr};

// Gives the thread's CPU slot back when the thread exits: a pthread key's
// destructor (a thread_local object with one would make the library need
// the C++ runtime, so that a C program could not link it alone).
pthread_key_t g_release_key;
pthread_once_t g_release_once = PTHREAD_ONCE_INIT;
void release_at_exit(void *) { release_cpu(); }
void make_release_key() { pthread_key_create(&g_release_key, release_at_exit); }
void release_when_thread_exits() {
    pthread_once(&g_release_once, make_release_key);
    pthread_setspecific(g_release_key, &g_release_key); // not null: the destructor runs
}

constinit thread_local InterruptHandler t_irq_handler = nullptr;
constinit thread_local void *t_irq_ctx = nullptr;
constinit thread_local uint64_t t_deferred = 0;

// Run the handler, marked as in an interrupt with interrupts off (no section
// open; the pending interrupt, if any, is the one taken), until no interrupt
// waits: one that arrives meanwhile is deferred to the end, and several
// count as one, as on an edge-triggered line.
void dispatch() {
    do {
        __atomic_store_n(&t_irq.off, 1u, __ATOMIC_RELAXED);
        __atomic_store_n(&t_irq.depth, t_irq.depth + 1, __ATOMIC_RELAXED);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (InterruptHandler h = t_irq_handler) h(t_irq_ctx);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        __atomic_store_n(&t_irq.depth, t_irq.depth - 1, __ATOMIC_RELAXED);
    } while (--t_irq.off != 0); // kIrqPending left: another one arrived
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

} // namespace

Status create_physical_memory(uint64_t size) {
    destroy_physical_memory();
    if (size == 0 || size > kPhysAddrLimit)
        return make_error(Errc::invalid_argument, "simulated memory size out of range");
    size = (size + kPageSize - 1) & ~(kPageSize - 1);
    void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return make_error(Errc::capacity, "cannot reserve host address space for the machine");
    g_physical_base = static_cast<uint8_t *>(p);
    g_size = size;
    return {};
}

void destroy_physical_memory() {
    if (g_physical_base) munmap(g_physical_base, g_size);
    g_physical_base = nullptr;
    g_size = 0;
    unmap_all_physical();
}

uint64_t physical_memory_size() { return g_size; }
uint8_t *physical_memory_base() { return g_physical_base; }

void discard_physical_range(uint64_t start, uint64_t end) {
    start = (start + kPageSize - 1) & ~(kPageSize - 1);
    end &= ~(kPageSize - 1);
    if (g_physical_base && start < end && end <= g_size)
        madvise(g_physical_base + start, end - start, MADV_DONTNEED);
}

uint64_t resident_bytes() {
    // /proc/self/statm: size resident shared text lib data dt (in pages)
    unsigned long long size = 0, resident = 0;
    if (FILE *statm = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(statm, "%llu %llu", &size, &resident) != 2) resident = 0;
        std::fclose(statm);
    }
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// The window's lock is taken from interrupt handlers too (debug builds
// check metadata accesses against the window): with interrupts off.
Status map_physical_range(uint64_t start, uint64_t end) {
    if (end > g_size) return make_error(Errc::invalid_range, "mapping beyond simulated memory");
    LockGuard<platform::SpinLock> g(g_window_lock);
    return g_window.add(start, end, MemType::usable);
}

void unmap_all_physical() {
    LockGuard<platform::SpinLock> g(g_window_lock);
    g_window.clear();
}

bool is_physical_range_mapped(uint64_t pa, uint64_t len) {
    if (len == 0) return true;
    LockGuard<platform::SpinLock> g(g_window_lock);
    const MemRange *r = g_window.find(pa);
    return r && pa + len <= r->end && pa + len > pa;
}

void set_interrupt_handler(InterruptHandler h, void *ctx) {
    const unsigned long flags = Platform::irq_save(); // no interrupt sees half of it
    t_irq_handler = h;
    t_irq_ctx = ctx;
    Platform::irq_restore(flags);
}

void deliver_interrupt() {
    if (!t_irq_handler) return;
    if (__atomic_load_n(&t_irq.off, __ATOMIC_RELAXED)) {
        __atomic_store_n(&t_irq.off, t_irq.off + kIrqPending, __ATOMIC_RELAXED);
        ++t_deferred;
        return;
    }
    dispatch();
}

void run_pending_interrupts() {
    const unsigned off = __atomic_load_n(&t_irq.off, __ATOMIC_RELAXED);
    if (off && !(off & kIrqDepthMask)) dispatch(); // all sections closed, something waits
}

uint64_t deferred_interrupts() { return t_deferred; }

unsigned claim_cpu() {
    if (t_cpu < kMaxCpus) return t_cpu;
    uint64_t slots = g_cpu_slots.load();
    for (;;) {
        if (~slots == 0) panic("hosted: more threads than kMaxCpus CPU slots");
        const unsigned id = static_cast<unsigned>(__builtin_ctzll(~slots));
        if (g_cpu_slots.compare_exchange_weak(slots, slots | (uint64_t{1} << id))) {
            t_cpu = id;
            release_when_thread_exits();
            return id;
        }
    }
}

void bind_cpu(unsigned id) {
    if (id >= kMaxCpus) panic("hosted: bind_cpu: CPU id out of range");
    release_cpu();
    g_cpu_slots.fetch_or(uint64_t{1} << id);
    t_cpu = id;
    release_when_thread_exits();
}

void release_cpu() {
    if (t_cpu >= kMaxCpus) return;
    g_cpu_slots.fetch_and(~(uint64_t{1} << t_cpu));
    t_cpu = kMaxCpus;
}

PanicHandler set_panic_handler(PanicHandler h) { return g_panic_handler.exchange(h); }

void panic(const char *message) {
    if (PanicHandler h = g_panic_handler.load()) h(message);
    std::fprintf(stderr, "kmem: panic: %s\n", message);
    std::abort();
}

void console_write(const char *s, size_t n) { std::fwrite(s, 1, n, stdout); }

uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

} // namespace kmem::hosted
