// SPDX-License-Identifier: MIT
//
// Page allocation through PhysAllocator, each figure next to its baseline:
// zeroing the block that is being handed out (memset of 4 KiB for order 0,
// 32 KiB for order 3). See docs/performance.md for what every variant does.
//
// Each benchmark run (Google Benchmark calls the function once per run:
// iteration-count probes and repetitions) boots a fresh simulated 16 GiB
// machine (node 0, the early window maps all of it), reuses it for every
// iteration of the run and tears it down afterwards. Set-up and teardown are
// outside the timed loop.
#include <kmem/buddy.h>
#include <kmem/memmap.h>

#include "platform/hosted/hosted.h"
#include "sim_machine.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

namespace {

using namespace kmem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kMachineBytes = 16 * kGiB;
constexpr uint64_t kBatchPages = 1000;
constexpr unsigned kDrainBatch = 32; // = the order-0 per-CPU batch (32 >> order)

double ns_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

// The simulated 16 GiB machine every run boots (sim_machine.h).
using bench::SimMachine;

void *va(uint64_t pa) { return hosted::physical_memory_base() + pa; }

// Median over rounds of the time of one memset of `bytes` at each of `ptrs`
// (so the result is ns per memset), memory hot in cache as it would be for
// a block just handed out by the allocator.
double memset_ns(const std::vector<void *> &ptrs, size_t bytes, unsigned passes) {
    for (void *p : ptrs) std::memset(p, 0, bytes); // touch
    std::vector<double> rounds;
    for (int r = 0; r < 15; ++r) {
        const auto t0 = Clock::now();
        for (unsigned i = 0; i < passes; ++i)
            for (void *p : ptrs) {
                benchmark::DoNotOptimize(p);
                std::memset(p, 0, bytes);
                benchmark::ClobberMemory();
            }
        rounds.push_back(ns_since(t0) / (double(passes) * double(ptrs.size())));
    }
    std::nth_element(rounds.begin(), rounds.begin() + rounds.size() / 2, rounds.end());
    return rounds[rounds.size() / 2];
}

// The baseline for one block of `order`: zero the block the allocator hands
// out next (allocated once, measured, freed; the loop then gets it again).
double block_memset_ns(PhysAllocator &a, unsigned order) {
    Result<uint64_t> r = a.alloc_pages(order);
    if (!r.ok()) return 0;
    const double ns = memset_ns({va(r.value())}, kPageSize << order, 2000 >> order);
    (void)a.free_pages(r.value(), order);
    return ns;
}

void report_ratio(benchmark::State &st, double per_op_ns, double base_ns) {
    st.counters["op_ns"] = per_op_ns;
    st.counters["memset_ns"] = base_ns;
    st.counters["ratio_vs_memset"] = base_ns > 0 ? per_op_ns / base_ns : 0;
}

#define KMEM_BENCH_MACHINE(st, m)                                                        \
    SimMachine m(kMachineBytes);                                                         \
    if (!m.ok()) {                                                                       \
        st.SkipWithError(m.error.c_str());                                               \
        return;                                                                          \
    }

// ---- baseline: zero the block being handed out

void BM_Baseline_ZeroBlock(benchmark::State &st) {
    const unsigned order = static_cast<unsigned>(st.range(0));
    KMEM_BENCH_MACHINE(st, m);
    Result<uint64_t> r = m.phys->alloc_pages(order);
    if (!r.ok()) return st.SkipWithError("alloc_pages failed");
    void *p = va(r.value());
    const size_t bytes = kPageSize << order;
    std::memset(p, 0, bytes);
    for (auto _ : st) {
        benchmark::DoNotOptimize(p);
        std::memset(p, 0, bytes);
        benchmark::ClobberMemory();
    }
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * bytes));
}
BENCHMARK(BM_Baseline_ZeroBlock)->ArgName("order")->Arg(0)->Arg(3);

// ---- (a) alloc + free through the per-CPU lists

void BM_AllocFree_Pcp(benchmark::State &st) {
    const unsigned order = static_cast<unsigned>(st.range(0));
    KMEM_BENCH_MACHINE(st, m);
    PhysAllocator &a = *m.phys;
    const double base = block_memset_ns(a, order); // also fills the per-CPU list
    const auto t0 = Clock::now();
    for (auto _ : st) {
        Result<uint64_t> r = a.alloc_pages(order);
        if (!r.ok()) [[unlikely]] return st.SkipWithError("alloc_pages failed");
        benchmark::DoNotOptimize(r.value());
        if (!a.free_pages(r.value(), order).ok()) [[unlikely]]
            return st.SkipWithError("free_pages failed");
    }
    report_ratio(st, ns_since(t0) / double(st.iterations()), base);
    if (!a.check().ok()) st.SkipWithError("check() failed after the run");
}
BENCHMARK(BM_AllocFree_Pcp)->ArgName("order")->Arg(0)->Arg(3);

// ---- (b) alloc with kAllocNoPcp + free_pages (which always puts orders
// 0..3 on the per-CPU list), then drain_local_pcp() after every N frees so
// every block goes back to the buddy lists: N = 1 is a full buddy round trip
// per pair; N = 32 batches the free side like the per-CPU drain does.

void BM_AllocFree_NoPcp(benchmark::State &st) {
    const unsigned order = static_cast<unsigned>(st.range(0));
    const int64_t drain_every = st.range(1);
    KMEM_BENCH_MACHINE(st, m);
    PhysAllocator &a = *m.phys;
    const double base = block_memset_ns(a, order);
    a.drain_local_pcp();
    int64_t n = 0;
    const auto t0 = Clock::now();
    for (auto _ : st) {
        Result<uint64_t> r = a.alloc_pages(order, kAllocNoPcp);
        if (!r.ok()) [[unlikely]] return st.SkipWithError("alloc_pages failed");
        benchmark::DoNotOptimize(r.value());
        if (!a.free_pages(r.value(), order).ok()) [[unlikely]]
            return st.SkipWithError("free_pages failed");
        if (++n == drain_every) {
            a.drain_local_pcp();
            n = 0;
        }
    }
    report_ratio(st, ns_since(t0) / double(st.iterations()), base);
    if (!a.check().ok()) st.SkipWithError("check() failed after the run");
}
BENCHMARK(BM_AllocFree_NoPcp)
    ->ArgNames({"order", "drain_every"})
    ->Args({0, 1})
    ->Args({0, kDrainBatch})
    ->Args({3, 1})
    ->Args({3, kDrainBatch});

// What drain_local_pcp() costs when there is nothing to drain (it walks
// every zone slot of the calling CPU): part of the N = 1 figures above.
void BM_DrainLocalPcp_Empty(benchmark::State &st) {
    KMEM_BENCH_MACHINE(st, m);
    PhysAllocator &a = *m.phys;
    a.drain_local_pcp();
    for (auto _ : st) a.drain_local_pcp();
}
BENCHMARK(BM_DrainLocalPcp_Empty);

// ---- batch: allocate 1000 order-0 pages, then free them all.
// pcp = 0: plain alloc_pages (refills of 32 from the zone) and free_pages
//          (drains of 32 above 128 cached); the list keeps what is left.
// pcp = 1: kAllocNoPcp on alloc, free_pages as is, then drain_local_pcp()
//          at the end of the batch so every page is back in the buddy.
// Baseline: zeroing each of the 1000 pages once (4 MB, not all in cache).

void BM_Batch1000(benchmark::State &st) {
    const bool nopcp = st.range(0) != 0;
    KMEM_BENCH_MACHINE(st, m);
    PhysAllocator &a = *m.phys;
    std::vector<uint64_t> pas(kBatchPages);
    double base = 0;
    {
        std::vector<void *> ptrs;
        for (uint64_t &pa : pas) {
            Result<uint64_t> r = a.alloc_pages(0);
            if (!r.ok()) return st.SkipWithError("alloc_pages failed");
            pa = r.value();
            ptrs.push_back(va(pa));
        }
        base = memset_ns(ptrs, kPageSize, 1);
        for (uint64_t pa : pas) (void)a.free_pages(pa, 0);
        if (nopcp) a.drain_local_pcp();
    }
    const uint32_t flags = nopcp ? uint32_t{kAllocNoPcp} : 0u;
    const auto t0 = Clock::now();
    for (auto _ : st) {
        for (uint64_t &pa : pas) {
            Result<uint64_t> r = a.alloc_pages(0, flags);
            if (!r.ok()) [[unlikely]] return st.SkipWithError("alloc_pages failed");
            pa = r.value();
        }
        benchmark::ClobberMemory();
        for (uint64_t pa : pas)
            if (!a.free_pages(pa, 0).ok()) [[unlikely]] return st.SkipWithError("free_pages failed");
        if (nopcp) a.drain_local_pcp();
    }
    report_ratio(st, ns_since(t0) / double(st.iterations() * kBatchPages), base);
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kBatchPages));
    if (!a.check().ok()) st.SkipWithError("check() failed after the run");
}
BENCHMARK(BM_Batch1000)->ArgName("nopcp")->Arg(0)->Arg(1);

} // namespace
