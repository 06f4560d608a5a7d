// SPDX-License-Identifier: MIT
//
// kmem-bench entry point. Every other bench/*.cpp only registers benchmarks;
// this file is the one main() (see docs/performance.md for what they measure).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
