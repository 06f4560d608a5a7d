// SPDX-License-Identifier: MIT
// boot-trace: the Linux boot trace in data/linux-boot replayed as
// malloc/free calls. The log's `kmalloc:` and `kmem_cache_alloc:` lines give
// ptr= and bytes_req=, `kfree:` and `kmem_cache_free:` lines give ptr=;
// frees are paired with allocations by pointer, and a free of a pointer not
// seen allocated (or already freed) is skipped. The log is parsed once into a
// vector of events before the clock starts; only the replays are timed.
// Objects still live at the end of a replay are freed after it (timed).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "workload.h"

namespace workload {

namespace {

struct Event {
    std::uint32_t slot;
    std::uint32_t size; // 0: free
};

std::string read_file(const std::string &path) {
    std::string data;
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) return data;
    char buf[1 << 16];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
        data.append(buf, n);
    std::fclose(f);
    return data;
}

// The value after `key` in `line` (hex or decimal), false if absent.
bool field(std::string_view line, std::string_view key, int base, std::uint64_t &out) {
    std::size_t at = line.find(key);
    if (at == std::string_view::npos) return false;
    std::uint64_t v = 0;
    std::size_t i = at + key.size();
    std::size_t digits = 0;
    for (; i < line.size(); ++i, ++digits) {
        char c = line[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else
            break;
        v = v * static_cast<unsigned>(base) + d;
    }
    out = v;
    return digits > 0;
}

} // namespace

int boot_trace(const Options &o) {
    std::vector<Event> events;
    std::uint32_t slots = 0;
    {
        std::string text = read_file(o.trace);
        if (text.empty()) {
            std::fprintf(stderr, "kmem-workload: cannot read %s\n", o.trace.c_str());
            return 1;
        }
        std::unordered_map<std::uint64_t, std::uint32_t> live; // kernel pointer -> slot
        std::string_view all(text);
        for (std::size_t pos = 0; pos < all.size();) {
            std::size_t end = all.find('\n', pos);
            if (end == std::string_view::npos) end = all.size();
            std::string_view line = all.substr(pos, end - pos);
            pos = end + 1;
            bool alloc = line.find("] kmalloc: ") != std::string_view::npos ||
                         line.find("] kmem_cache_alloc: ") != std::string_view::npos;
            bool release = !alloc && (line.find("] kfree: ") != std::string_view::npos ||
                                      line.find("] kmem_cache_free: ") != std::string_view::npos);
            if (!alloc && !release) continue;
            std::uint64_t ptr = 0;
            if (!field(line, " ptr=", 16, ptr)) continue;
            if (alloc) {
                std::uint64_t req = 0;
                // Null and ZERO_SIZE_PTR results, and zero-byte requests, are no allocation.
                if (!field(line, " bytes_req=", 10, req) || req == 0 || ptr < 4096) continue;
                live[ptr] = slots; // an unfreed earlier holder stays live to the end
                events.push_back({slots++, static_cast<std::uint32_t>(req)});
            } else {
                auto it = live.find(ptr);
                if (it == live.end()) continue;
                events.push_back({it->second, 0});
                live.erase(it);
            }
        }
    }
    std::size_t allocs = slots, frees = events.size() - slots;
    const std::size_t reps = o.reps > 0 ? static_cast<std::size_t>(o.reps) : scaled(o, 150);
    std::vector<unsigned char *> ptr(slots, nullptr);
    std::uint64_t s = 0;
    auto t0 = Clock::now();
    for (std::size_t r = 0; r < reps; ++r) {
        for (const Event &e : events) {
            if (e.size) {
                auto *p = static_cast<unsigned char *>(std::malloc(e.size));
                p[0] = static_cast<unsigned char>(e.slot);
                p[e.size - 1] = static_cast<unsigned char>(e.size);
                ptr[e.slot] = p;
            } else {
                unsigned char *p = ptr[e.slot];
                s += p[0];
                std::free(p);
                ptr[e.slot] = nullptr;
            }
        }
        for (auto &p : ptr) {
            if (!p) continue;
            s += p[0];
            std::free(p);
            p = nullptr;
        }
    }
    double ms = ms_since(t0);
    report("boot-trace", ms, s,
           "reps=" + std::to_string(reps) + " allocs=" + std::to_string(allocs) +
               " frees=" + std::to_string(frees));
    return 0;
}

} // namespace workload
