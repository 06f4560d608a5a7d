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

struct Shared {
    kmem::MemorySystem *sys;
    uint64_t pages = 0, blocks = 0, objects = 0, remote = 0, errors = 0; // __atomic_* only
    void **objs[kmem::kMaxCpus];   // each CPU's objects, freed by the next CPU
    uint64_t free_before = 0;
};

uint64_t free_pages(kmem::MemorySystem &sys) {
    const kmem::PhysTotals t = sys.phys().totals();
    return t.free + t.pcp;
}

// A CPU's blocks: a list through their first bytes (one touched page per block).
struct Block {
    Block *next;
    uint64_t order;
};

void pages_until_out(unsigned, void *ctx) {
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
        if (!a.free_pages(kmem_platform_virt_to_phys(mine), static_cast<unsigned>(mine->order)).ok())
            __atomic_fetch_add(&s.errors, 1, __ATOMIC_RELAXED);
        mine = next;
    }
}

void slab_traffic(unsigned cpu, void *ctx) {
    auto &s = *static_cast<Shared *>(ctx);
    kmem::SlabAllocator &sa = s.sys->slab();
    void **objs = s.objs[cpu];
    for (unsigned i = 0; i < kObjectsPerCpu; ++i) {
        const size_t n = (cpu * 7919u + i * 104729u) % 3000 + 1;
        auto *p = static_cast<uint8_t *>(sa.kmalloc(n));
        if (!p) {
            __atomic_fetch_add(&s.errors, 1, __ATOMIC_RELAXED);
            objs[i] = nullptr;
            continue;
        }
        p[0] = static_cast<uint8_t>(cpu);
        p[n - 1] = static_cast<uint8_t>(i);
        objs[i] = p;
    }
    __atomic_fetch_add(&s.objects, kObjectsPerCpu, __ATOMIC_RELAXED);
    barrier();
    // Free the next CPU's objects (the last CPU frees the first's).
    const unsigned n = cpus_running(), owner = (cpu + 1) % n;
    for (unsigned i = 0; i < kObjectsPerCpu; ++i) {
        auto *p = static_cast<uint8_t *>(s.objs[owner][i]);
        if (!p) continue;
        if (p[0] != owner || !sa.kfree(p).ok()) __atomic_fetch_add(&s.errors, 1, __ATOMIC_RELAXED);
        if (owner != cpu) __atomic_fetch_add(&s.remote, 1, __ATOMIC_RELAXED);
    }
}

} // namespace

SelfTestResult run_self_tests(kmem::MemorySystem &sys, uint64_t boot_buffer_pa, uint64_t boot_buffer_size) {
    SelfTestResult r;
    static Shared s;
    s.sys = &sys;
    const unsigned n = cpus_running();
    for (unsigned c = 0; c < n; ++c)
        s.objs[c] = static_cast<void **>(sys.slab().kmalloc(sizeof(void *) * kObjectsPerCpu));

    r.free_before = free_pages(sys);
    run_on_all_cpus(pages_until_out, &s);
    r.free_after = free_pages(sys);
    r.pages_allocated = __atomic_load_n(&s.pages, __ATOMIC_ACQUIRE);
    r.blocks_allocated = __atomic_load_n(&s.blocks, __ATOMIC_ACQUIRE);

    run_on_all_cpus(slab_traffic, &s);
    r.slab_objects = __atomic_load_n(&s.objects, __ATOMIC_ACQUIRE);
    r.cross_cpu_frees = __atomic_load_n(&s.remote, __ATOMIC_ACQUIRE);
    for (unsigned c = 0; c < n; ++c) (void)sys.slab().kfree(s.objs[c]);

    // A buffer allocated during boot (memblock), given back long after.
    const uint64_t before = free_pages(sys);
    kmem::compat::free_bootmem_late(boot_buffer_pa, boot_buffer_size);
    r.late_freed_pages = free_pages(sys) - before;

    r.slab_errors = __atomic_load_n(&s.errors, __ATOMIC_ACQUIRE);
    kmem::Status c = sys.phys().check();
    if (c.ok()) c = sys.slab().check();
    r.check = c.ok() ? "ok" : c.reason();
    r.ok = c.ok() && r.slab_errors == 0 && r.free_after == r.free_before && r.pages_allocated > 0 &&
           r.late_freed_pages == boot_buffer_size / 4096;
    return r;
}

} // namespace kx
