// SPDX-License-Identifier: MIT
// kmem-workload: sub-command per workload (see workload.h), plus --check,
// which prints the shared object that malloc, free and realloc resolve to,
// so bench/compare can verify that an LD_PRELOAD really took effect.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "workload.h"

#ifndef KMEM_WORKLOAD_TRACE
#define KMEM_WORKLOAD_TRACE "data/linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log"
#endif

namespace workload {

std::size_t rss_kib() {
    std::FILE *f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    if (n != 2) return 0;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

// Peak resident set size of this process image, KiB (VmHWM of
// /proc/self/status). Unlike the parent's ru_maxrss of the child, it does not
// include the memory of the process that forked it before the exec.
std::size_t peak_rss_kib() {
    std::FILE *f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    unsigned long kib = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmHWM: %lu kB", &kib) == 1) break;
    std::fclose(f);
    return kib;
}

void report(const char *name, double ms, std::uint64_t checksum, const std::string &extra) {
    std::printf("workload=%s ms=%.3f checksum=%llu%s%s peak_rss_kib=%zu\n", name, ms,
                static_cast<unsigned long long>(checksum), extra.empty() ? "" : " ", extra.c_str(),
                peak_rss_kib());
    std::fflush(stdout);
}

} // namespace workload

namespace {

const char *library_of(const char *symbol) {
    void *sym = dlsym(RTLD_DEFAULT, symbol);
    Dl_info info{};
    if (!sym || !dladdr(sym, &info) || !info.dli_fname) return "?";
    return info.dli_fname;
}

int check() {
    // Also make a call through each, so a broken preload shows here.
    void *p = std::malloc(100);
    p = std::realloc(p, 200);
    std::free(p);
    std::printf("malloc=%s\nfree=%s\nrealloc=%s\n", library_of("malloc"), library_of("free"),
                library_of("realloc"));
    return 0;
}

void usage() {
    std::fprintf(
        stderr,
        "usage: kmem-workload WORKLOAD [--threads N] [--scale X] [--trace FILE] [--reps N]\n"
        "       kmem-workload --check\n"
        "workloads: larson xmalloc cache-scratch size-sweep realloc-growth fragmentation "
        "boot-trace churn churn-swap malloc-thread prodcons mixed-realloc aligned cross-free\n");
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        usage();
        return 2;
    }
    std::string name = argv[1];
    if (name == "--check") return check();
    workload::Options o;
    o.trace = KMEM_WORKLOAD_TRACE;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        const char *v = argv[++i];
        if (a == "--threads")
            o.threads = std::atoi(v);
        else if (a == "--scale")
            o.scale = std::atof(v);
        else if (a == "--trace")
            o.trace = v;
        else if (a == "--reps")
            o.reps = std::atoi(v);
        else {
            usage();
            return 2;
        }
    }
    if (o.threads < 1 || !(o.scale > 0)) {
        usage();
        return 2;
    }
    if (name == "larson") return workload::larson(o);
    if (name == "xmalloc") return workload::xmalloc(o);
    if (name == "cache-scratch") return workload::cache_scratch(o);
    if (name == "size-sweep") return workload::size_sweep(o);
    if (name == "realloc-growth") return workload::realloc_growth(o);
    if (name == "fragmentation") return workload::fragmentation(o);
    if (name == "boot-trace") return workload::boot_trace(o);
    if (name == "churn") return workload::churn(o);
    if (name == "churn-swap") return workload::churn_swap(o);
    if (name == "malloc-thread") return workload::malloc_thread(o);
    if (name == "prodcons") return workload::prodcons(o);
    if (name == "mixed-realloc") return workload::mixed_realloc(o);
    if (name == "aligned") return workload::aligned(o);
    if (name == "cross-free") return workload::cross_free(o);
    usage();
    return 2;
}
