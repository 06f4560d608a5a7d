// SPDX-License-Identifier: MIT
//
// Onlining: PhysAllocator::online_range of 1 TiB and 16 TiB into a fresh
// allocator on fresh simulated memory, next to Linux's minimum memmap cost
// for the same RAM (a memset of 64 bytes - one struct page - per 4 KiB page).
//
// The baseline is measured on 4 GiB of RAM (1 Mi pages: a 64 MiB memset into
// an already-faulted buffer) and scaled linearly to the size onlined. Every
// iteration creates the simulated memory, maps it and constructs a new
// PhysAllocator (not timed), then times online_range(start, start + size, node 0) alone
// (manual time), then destroys both (not timed).
#include <kmem/buddy.h>
#include <kmem/memmap.h>

#include "platform/hosted/hosted.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <vector>

namespace {

using namespace kmem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;
constexpr uint64_t kBaselineRam = 4 * kGiB;                  // RAM the baseline stands for
constexpr uint64_t kLinuxStructPage = 64;                    // bytes per 4 KiB page
constexpr uint64_t kBaselineBytes = kBaselineRam / kPageSize * kLinuxStructPage; // 64 MiB

double ns_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

uint64_t minor_faults() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<uint64_t>(ru.ru_minflt);
}

// A "memmap" (64 B per page) for `ram` bytes of RAM, faulted in once and kept.
uint8_t *memmap_buffer(uint64_t ram) {
    static uint8_t *small = nullptr, *large = nullptr;
    uint8_t *&buf = ram == kBaselineRam ? small : large;
    if (!buf) {
        const uint64_t bytes = ram / kPageSize * kLinuxStructPage;
        buf = static_cast<uint8_t *>(std::aligned_alloc(4096, bytes));
        if (buf) std::memset(buf, 0xff, bytes);
    }
    return buf;
}

double memmap_memset_once_ns(uint8_t *buf, uint64_t bytes) {
    const auto t0 = Clock::now();
    benchmark::DoNotOptimize(buf);
    std::memset(buf, 0, bytes);
    benchmark::ClobberMemory();
    return ns_since(t0);
}

// Median of nine 64 MiB memsets after three warm-up ones (ns): the 4 GiB baseline.
double memmap_baseline_ns() {
    uint8_t *buf = memmap_buffer(kBaselineRam);
    if (!buf) return 0;
    for (int i = 0; i < 3; ++i) (void)memmap_memset_once_ns(buf, kBaselineBytes); // warm up
    std::vector<double> v;
    for (int i = 0; i < 9; ++i) v.push_back(memmap_memset_once_ns(buf, kBaselineBytes));
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
}

void set_scaled_counters(benchmark::State &st, double base_ns) {
    st.counters["base_4GiB_ms"] = base_ns / 1e6;
    st.counters["scaled_1TiB_ms"] = base_ns * double(kTiB / kBaselineRam) / 1e6;
    st.counters["scaled_16TiB_ms"] = base_ns * double(16 * kTiB / kBaselineRam) / 1e6;
}

// ---- baseline: Linux's minimum memmap initialisation, 64 B per page.
// Arg = GiB of RAM the memmap stands for: 4 (64 MiB, the baseline the
// onlining figures use) and 64 (1 GiB, far beyond the caches: a check that
// scaling the 4 GiB figure linearly does not flatter Linux's side).

void BM_Baseline_MemmapMemset(benchmark::State &st) {
    const uint64_t ram = static_cast<uint64_t>(st.range(0)) * kGiB;
    const uint64_t bytes = ram / kPageSize * kLinuxStructPage;
    uint8_t *buf = memmap_buffer(ram);
    if (!buf) return st.SkipWithError("aligned_alloc failed");
    double total = 0;
    for (auto _ : st) total += memmap_memset_once_ns(buf, bytes);
    // Per-page cost scaled to 4 GiB, 1 TiB and 16 TiB of RAM.
    const double per_4gib = total / double(st.iterations()) * double(kBaselineRam) / double(ram);
    set_scaled_counters(st, per_4gib);
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * bytes));
}
BENCHMARK(BM_Baseline_MemmapMemset)->ArgName("RAM_GiB")->Arg(4)->Arg(64)->Unit(benchmark::kMillisecond);

// ---- online_range(start, start + size) into a fresh allocator

void BM_OnlineRange(benchmark::State &st) {
    const uint64_t bytes = static_cast<uint64_t>(st.range(0)) * kTiB;
    const uint64_t start = static_cast<uint64_t>(st.range(1)) * kGiB;
    const double base_ns = memmap_baseline_ns();
    const double scaled_ns = base_ns * double(bytes / kBaselineRam);
    double online_ns = 0;
    double touched = 0, faults = 0;
    uint64_t managed = 0, meta = 0, sections = 0;
    for (auto _ : st) {
        if (Status s = hosted::create_physical_memory(start + bytes); !s.ok())
            return st.SkipWithError(s.reason());
        if (Status s = hosted::map_physical_range(start, start + bytes); !s.ok()) {
            hosted::destroy_physical_memory();
            return st.SkipWithError(s.reason());
        }
        auto a = std::make_unique<PhysAllocator>(); // value-initialised: faulted in here
        const uint64_t rss0 = hosted::resident_bytes();
        const uint64_t f0 = minor_faults();

        const auto t0 = Clock::now();
        const Status s = a->online_range(start, start + bytes, 0);
        const double ns = ns_since(t0);

        const uint64_t f1 = minor_faults();
        const uint64_t rss1 = hosted::resident_bytes();
        st.SetIterationTime(ns / 1e9);
        if (!s.ok()) {
            a.reset();
            hosted::destroy_physical_memory();
            return st.SkipWithError(s.reason());
        }
        online_ns += ns;
        touched += double(rss1 > rss0 ? rss1 - rss0 : 0);
        faults += double(f1 - f0);
        if (!managed) { // first iteration: the books must balance (untimed)
            if (Status c = a->check(); !c.ok()) {
                a.reset();
                hosted::destroy_physical_memory();
                return st.SkipWithError(c.reason());
            }
            const PhysTotals t = a->totals();
            managed = t.managed;
            meta = t.metadata_bytes;
            sections = t.sections;
        }
        a.reset();
        hosted::destroy_physical_memory();
    }
    const double it = double(st.iterations());
    const double mean_ns = online_ns / it;
    st.counters["online_ms"] = mean_ns / 1e6;
    st.counters["base_4GiB_ms"] = base_ns / 1e6;
    st.counters["base_scaled_ms"] = scaled_ns / 1e6;
    st.counters["speedup"] = mean_ns > 0 ? scaled_ns / mean_ns : 0;
    st.counters["host_touched_KiB"] = touched / it / 1024;
    st.counters["minor_faults"] = faults / it;
    st.counters["managed_GiB"] = double(managed * kPageSize) / double(kGiB);
    st.counters["meta_MiB"] = double(meta) / double(1 << 20);
    st.counters["sections"] = double(sections);
}
// start_GiB = 0: RAM from physical 0 (DMA, DMA32 and Normal zones; the 16 MiB
// DMA zone is freed eagerly). start_GiB = 4: the same amount all in Normal.
BENCHMARK(BM_OnlineRange)
    ->ArgNames({"TiB", "start_GiB"})
    ->Args({1, 0})
    ->Args({16, 0})
    ->Args({1, 4})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

} // namespace
