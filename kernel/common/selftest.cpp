// SPDX-License-Identifier: MIT
//
// DOC: the self-tests (see selftest.h).
#include "selftest.h"

#include "console.h"
#include "cpus.h"

#include <kmem/compat/linux.h>

namespace kx {
namespace {

constexpr unsigned kObjectsPerCpu = 1500;
constexpr unsigned kTickHz = 4000;
// The last phase runs until every CPU's handler has run this often (or the
// time below has passed: an emulator on a busy host drops ticks).
constexpr uint64_t kTicksPerCpu = 250;
constexpr uint64_t kSoakLimitNs = 3000000000ull;
constexpr unsigned kSoakBatch = 64;

struct Shared {
    kmem::MemorySystem *sys;
    uint64_t pages = 0, blocks = 0, objects = 0, remote = 0, errors = 0; // __atomic_* only
    void **objs[kmem::kMaxCpus];   // each CPU's objects, freed by the next CPU
    bool failure_claimed = false;  // __atomic_* only: first_failure is being written
    SlabFailure first_failure;
};

uint64_t free_pages(kmem::MemorySystem &sys) {
    const kmem::PhysTotals t = sys.phys().totals();
    return t.free + t.pcp;
}

// Every CPU's slabs back to their nodes, every empty slab and every per-CPU
// page list back to the buddy (the other CPUs are idle), then the free pages.
uint64_t settled_free_pages(kmem::MemorySystem &sys) {
    (void)sys.slab().shrink_all();
    for (unsigned cpu = 0; cpu < kmem::kMaxCpus; ++cpu) sys.phys().drain_cpu_pcp(cpu);
    return free_pages(sys);
}

// A CPU's blocks: a list through their first bytes (one touched page per block).
struct Block {
    Block *next;
    uint64_t order;
};

void fail(Shared &s, const SlabFailure &f);

void pages_until_out(unsigned cpu, void *ctx) {
    auto &s = *static_cast<Shared *>(ctx);
    kmem::PhysAllocator &a = s.sys->phys();
    Block *mine = nullptr;
    uint64_t pages = 0, blocks = 0;
    for (unsigned order = kmem::kMaxOrder + 1; order-- > 0;) {
        for (;;) {
            kmem::Result<uint64_t> r = a.alloc_pages(order, kmem::kAllocReserves);
            if (!r.ok()) break;
            auto *b = static_cast<Block *>(kmem_platform_phys_to_virt(r.value()));
            *b = {mine, order};
            mine = b;
            pages += uint64_t{1} << order;
            ++blocks;
        }
    }
    __atomic_fetch_add(&s.pages, pages, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s.blocks, blocks, __ATOMIC_RELAXED);
    barrier(); // every CPU has run out
    while (mine) {
        Block *next = mine->next;
        const kmem::Status st = a.free_pages(kmem_platform_virt_to_phys(mine), static_cast<unsigned>(mine->order));
        if (!st.ok()) fail(s, {st.reason(), cpu, cpu, 0, uint64_t{4096} << mine->order});
        mine = next;
    }
}

// Object i of CPU cpu: its size, and the byte it holds at offset k. Every
// byte a mark covers has one expected value, so marks of a 1-byte object
// cannot disagree.
size_t object_size(unsigned cpu, unsigned i) { return (cpu * 7919u + i * 104729u) % 3000 + 1; }
uint8_t mark_byte(unsigned cpu, unsigned i, size_t k) { return static_cast<uint8_t>(cpu * 151u + i * 7u + k * 31u + 1); }

// The marks: the first 8 bytes (fewer in a smaller object) and the last one.
void mark(uint8_t *p, unsigned cpu, unsigned i, size_t n) {
    for (size_t k = 0; k < n && k < 8; ++k) p[k] = mark_byte(cpu, i, k);
    p[n - 1] = mark_byte(cpu, i, n - 1);
}
bool marks_ok(const uint8_t *p, unsigned cpu, unsigned i, size_t n) {
    for (size_t k = 0; k < n && k < 8; ++k)
        if (p[k] != mark_byte(cpu, i, k)) return false;
    return p[n - 1] == mark_byte(cpu, i, n - 1);
}

void fail(Shared &s, const SlabFailure &f) {
    __atomic_fetch_add(&s.errors, 1, __ATOMIC_RELAXED);
    if (!__atomic_exchange_n(&s.failure_claimed, true, __ATOMIC_ACQ_REL)) s.first_failure = f;
}

void slab_traffic(unsigned cpu, void *ctx) {
    auto &s = *static_cast<Shared *>(ctx);
    kmem::SlabAllocator &sa = s.sys->slab();
    void **objs = s.objs[cpu];
    for (unsigned i = 0; i < kObjectsPerCpu; ++i) {
        const size_t n = object_size(cpu, i);
        auto *p = static_cast<uint8_t *>(sa.kmalloc(n));
        objs[i] = p;
        if (!p) {
            fail(s, {"kmalloc returned null", cpu, cpu, i, n});
            continue;
        }
        mark(p, cpu, i, n);
    }
    __atomic_fetch_add(&s.objects, kObjectsPerCpu, __ATOMIC_RELAXED);
    barrier();
    // Free the next CPU's objects (the last CPU frees the first's).
    const unsigned n = cpus_running(), owner = (cpu + 1) % n;
    for (unsigned i = 0; i < kObjectsPerCpu; ++i) {
        auto *p = static_cast<uint8_t *>(s.objs[owner][i]);
        if (!p) continue;
        const size_t size = object_size(owner, i);
        if (!marks_ok(p, owner, i, size)) {
            fail(s, {"its marks changed while it was allocated (not freed)", cpu, owner, i, size});
            continue;
        }
        if (const kmem::Status st = sa.kfree(p); !st.ok()) fail(s, {st.reason(), cpu, owner, i, size});
        if (owner != cpu) __atomic_fetch_add(&s.remote, 1, __ATOMIC_RELAXED);
    }
}

// Allocate and free batches of mixed sizes (marks checked) until this CPU's
// timer handler has run kTicksPerCpu times: interrupts land in kmalloc's
// and kfree's fast and slow paths.
void soak(unsigned cpu, void *ctx) {
    auto &s = *static_cast<Shared *>(ctx);
    kmem::SlabAllocator &sa = s.sys->slab();
    uint8_t *batch[kSoakBatch];
    const uint64_t deadline = now_ns() + kSoakLimitNs;
    for (unsigned round = 0; irq_handled(cpu) < kTicksPerCpu && now_ns() < deadline; ++round) {
        for (unsigned k = 0; k < kSoakBatch; ++k) {
            const unsigned i = round * kSoakBatch + k;
            batch[k] = static_cast<uint8_t *>(sa.kmalloc(object_size(cpu, i)));
            if (batch[k]) mark(batch[k], cpu, i, object_size(cpu, i));
            else fail(s, {"kmalloc returned null", cpu, cpu, i, object_size(cpu, i)});
        }
        for (unsigned k = 0; k < kSoakBatch; ++k) {
            const unsigned i = round * kSoakBatch + k;
            if (!batch[k]) continue;
            if (!marks_ok(batch[k], cpu, i, object_size(cpu, i)))
                fail(s, {"its marks changed while it was allocated (not freed)", cpu, cpu, i, object_size(cpu, i)});
            else if (const kmem::Status st = sa.kfree(batch[k]); !st.ok())
                fail(s, {st.reason(), cpu, cpu, i, object_size(cpu, i)});
        }
    }
}

void start_ticks(unsigned, void *) { timer_start(kTickHz); }

void stop_ticks(unsigned cpu, void *) {
    timer_stop();
    irq_work_drain(cpu);
}

} // namespace

SelfTestResult run_self_tests(kmem::MemorySystem &sys, uint64_t boot_buffer_pa, uint64_t boot_buffer_size) {
    SelfTestResult r;
    static Shared s;
    s.sys = &sys;
    const unsigned n = cpus_running();
    r.free_before = settled_free_pages(sys);

    // The timers run through both tests; their handlers allocate and free.
    kmem::Status c = irq_work_init(sys);
    r.tick_hz = kTickHz;
    if (c.ok()) run_on_all_cpus(start_ticks, nullptr);
    for (unsigned cpu = 0; cpu < n; ++cpu)
        s.objs[cpu] = static_cast<void **>(sys.slab().kmalloc(sizeof(void *) * kObjectsPerCpu));

    run_on_all_cpus(pages_until_out, &s);
    r.pages_allocated = __atomic_load_n(&s.pages, __ATOMIC_ACQUIRE);
    r.blocks_allocated = __atomic_load_n(&s.blocks, __ATOMIC_ACQUIRE);

    run_on_all_cpus(slab_traffic, &s);
    r.slab_objects = __atomic_load_n(&s.objects, __ATOMIC_ACQUIRE);
    r.cross_cpu_frees = __atomic_load_n(&s.remote, __ATOMIC_ACQUIRE);
    for (unsigned cpu = 0; cpu < n; ++cpu) (void)sys.slab().kfree(s.objs[cpu]);
    if (c.ok()) run_on_all_cpus(soak, &s);

    run_on_all_cpus(stop_ticks, nullptr);
    if (c.ok()) c = irq_work_finish();
    r.interrupts = irq_counts();
    r.min_cpu_interrupts = ~uint64_t{0};
    for (unsigned cpu = 0; cpu < n; ++cpu)
        if (irq_handled(cpu) < r.min_cpu_interrupts) r.min_cpu_interrupts = irq_handled(cpu);
    r.free_after = settled_free_pages(sys);

    // A buffer allocated during boot (memblock), given back long after.
    const uint64_t before = free_pages(sys);
    kmem::compat::free_bootmem_late(boot_buffer_pa, boot_buffer_size);
    r.late_freed_pages = free_pages(sys) - before;

    r.slab_errors = __atomic_load_n(&s.errors, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s.failure_claimed, __ATOMIC_ACQUIRE)) r.first_failure = s.first_failure;
    if (c.ok()) c = sys.phys().check();
    if (c.ok()) c = sys.slab().check();
    r.check = c.ok() ? "ok" : c.reason();
    r.ok = c.ok() && r.slab_errors == 0 && r.free_after == r.free_before && r.pages_allocated > 0 &&
           r.late_freed_pages == boot_buffer_size / 4096 && r.interrupts.errors == 0 &&
           r.min_cpu_interrupts > 0 && r.interrupts.allocations > 0;
    return r;
}

} // namespace kx
