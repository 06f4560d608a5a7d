// SPDX-License-Identifier: MIT
// kmem-workload: whole-program allocator workloads for bench/compare.
//
// Every workload calls plain malloc/free/realloc, so whichever allocator is
// preloaded (LD_PRELOAD) serves them. Each one is deterministic (fixed seeds,
// fixed hand-offs between threads) and ends by printing one line
//   workload=<name> ms=<timed part> checksum=<n> [key=value ...] peak_rss_kib=<n>
// whose checksum does not depend on addresses or thread timing, so the same
// workload prints the same checksum under every allocator.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace workload {

struct Options {
    int threads = 2;
    double scale = 1.0; // multiplies the amount of work
    std::string trace;  // boot-trace: the log file
    int reps = 0;       // boot-trace: replays (0: default)
};

// splitmix64: small, fast, deterministic.
struct Rng {
    std::uint64_t s;
    explicit Rng(std::uint64_t seed) : s(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // uniform in [lo, hi]
    std::size_t range(std::size_t lo, std::size_t hi) { return lo + next() % (hi - lo + 1); }
};

using Clock = std::chrono::steady_clock;
inline double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Scaled iteration count, at least 1.
// Run f(0) ... f(n - 1), each on its own thread, and wait for them all.
template <class F> void run_threads(int n, F f) {
    std::vector<std::thread> ts;
    ts.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        ts.emplace_back(f, i);
    for (auto &t : ts)
        t.join();
}

// run_threads, summing what each f(i) returns.
template <class F> std::uint64_t sum_threads(int n, F f) {
    std::atomic<std::uint64_t> total{0};
    run_threads(n, [&](int i) { total += f(i); });
    return total.load();
}

inline std::size_t scaled(const Options &o, std::size_t n) {
    double v = static_cast<double>(n) * o.scale;
    return v < 1.0 ? 1 : static_cast<std::size_t>(v);
}

// Resident set size now, KiB (/proc/self/statm).
std::size_t rss_kib();
// Peak resident set size of this process image, KiB (VmHWM).
std::size_t peak_rss_kib();

void report(const char *name, double ms, std::uint64_t checksum, const std::string &extra = "");

int larson(const Options &o);
int xmalloc(const Options &o);
int cache_scratch(const Options &o);
int size_sweep(const Options &o);
int realloc_growth(const Options &o);
int fragmentation(const Options &o);
int boot_trace(const Options &o);
int churn(const Options &o);
int churn_swap(const Options &o);
int malloc_thread(const Options &o);
int prodcons(const Options &o);
int mixed_realloc(const Options &o);
int aligned(const Options &o);
int cross_free(const Options &o);

} // namespace workload
