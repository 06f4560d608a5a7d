// SPDX-License-Identifier: MIT
//
// DOC: the CPUs' rendezvous (see cpus.h): a generation counter the others
// wait on, a done counter, and a reusable barrier.
#include "cpus.h"

#include "console.h"

namespace kx {
namespace {

unsigned g_up = 1;
uint64_t g_generation = 0;
unsigned g_done = 0;
unsigned g_barrier_count = 0;
unsigned g_barrier_round = 0;
CpuWork g_work = nullptr;
void *g_ctx = nullptr;

template <class T> T load(const T &v) { return __atomic_load_n(&v, __ATOMIC_ACQUIRE); }

} // namespace

void cpu_online() { __atomic_fetch_add(&g_up, 1, __ATOMIC_ACQ_REL); }

unsigned cpus_running() { return load(g_up); }

void wait_for_cpu(unsigned before, const char *what) {
    const uint64_t deadline = now_ns() + 1000000000ull;
    while (cpus_running() == before && now_ns() < deadline) cpu_relax();
    if (cpus_running() == before) kmem_platform_panic(what);
}

[[noreturn]] void cpu_work_loop(unsigned cpu) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen;
        while ((gen = load(g_generation)) == seen) cpu_relax();
        seen = gen;
        g_work(cpu, g_ctx);
        __atomic_fetch_add(&g_done, 1, __ATOMIC_ACQ_REL);
    }
}

void run_on_all_cpus(CpuWork fn, void *ctx) {
    const unsigned n = load(g_up);
    g_work = fn;
    g_ctx = ctx;
    __atomic_store_n(&g_done, 0, __ATOMIC_RELEASE);
    __atomic_fetch_add(&g_generation, 1, __ATOMIC_ACQ_REL);
    fn(0, ctx);
    while (load(g_done) != n - 1) cpu_relax();
}

void barrier() {
    const unsigned n = load(g_up);
    const unsigned round = load(g_barrier_round);
    if (__atomic_fetch_add(&g_barrier_count, 1, __ATOMIC_ACQ_REL) + 1 == n) {
        __atomic_store_n(&g_barrier_count, 0, __ATOMIC_RELAXED);
        __atomic_fetch_add(&g_barrier_round, 1, __ATOMIC_RELEASE);
        return;
    }
    while (load(g_barrier_round) == round) cpu_relax();
}

} // namespace kx
