// Replays the kmalloc traffic of a real boot: every `kmalloc:` line of the
// Linux 6.1 boot log in data/linux-boot (15 644 requests, 8 794 129 bytes
// asked for; SLUB allocated 11 892 640 bytes for them) goes through kmem's
// kmalloc on a simulated 1 GiB machine booted from the same log's e820 map.
// The log's `kfree:` lines free the matching allocation (Linux pointer ->
// ours), so the live set evolves as it did in the real boot.
//
// Proves: kmem serves the whole boot; its total usable size (ksize) over the
// requests is at most 0.85 x SLUB's (the measured figure is recorded
// below); the books agree at the end and every page comes back.
#include <kmem/buddy.h>
#include <kmem/memmap.h>
#include <kmem/memmap_parse.h>
#include <kmem/slab.h>

#include "slab_machine.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kmem {
namespace {

constexpr const char *kLog = "linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log";

// The value of `key=` in a trace line (up to the next space), or empty.
std::string_view field(std::string_view line, std::string_view key) {
    size_t at = 0;
    while ((at = line.find(key, at)) != std::string_view::npos) {
        if (at == 0 || line[at - 1] == ' ') break;
        at += key.size();
    }
    if (at == std::string_view::npos) return {};
    line.remove_prefix(at + key.size());
    return line.substr(0, line.find(' '));
}

bool number(std::string_view s, uint64_t &v, int base = 10) {
    return !s.empty() && std::from_chars(s.data(), s.data() + s.size(), v, base).ec == std::errc{};
}

// The event name of a trace line "[ time] name: ...", or empty.
std::string_view event(std::string_view line) {
    const size_t close = line.find("] ");
    if (line.empty() || line[0] != '[' || close == std::string_view::npos) return {};
    line.remove_prefix(close + 2);
    const size_t colon = line.find(": ");
    return colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
}

TEST(KmallocReplay, LinuxBootThroughKmalloc) {
    const std::string text = test::read_file(test::data_path(kLog));

    // The machine: the log's own e820 map, all RAM mapped and onlined.
    test::SlabMachine m;
    TextMapInfo info;
    ASSERT_TRUE(parse_linux_text(text.data(), text.size(), m.map(), &info).ok());
    ASSERT_EQ(info.source, TextMapInfo::Source::e820);
    ASSERT_EQ(m.map().usable_bytes(), 1073213440u); // as kmem-sim reads it
    const Status booted = m.boot_with_slab({}, 0);
    ASSERT_TRUE(booted.ok()) << booted.reason();
    SlabAllocator &sa = m.slab();
    PhysAllocator &a = m.phys();
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) a.drain_cpu_pcp(cpu);
    const PhysTotals start = a.totals();

    struct Ours {
        void *p;
        uint64_t req;
    };
    std::unordered_map<uint64_t, Ours> by_linux_ptr;
    uint64_t requests = 0, req_bytes = 0, slub_bytes = 0, kmem_bytes = 0;
    uint64_t kfrees = 0, kfrees_matched = 0, reused_unseen = 0, zeroed = 0;
    uint64_t live_kmem = 0, peak_kmem = 0, live_slub = 0, peak_slub = 0;
    std::unordered_map<uint64_t, uint64_t> slub_size; // Linux ptr -> bytes_alloc

    std::string_view rest(text);
    while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        const std::string_view ev = event(line);
        if (ev == "kmalloc") {
            uint64_t ptr, req, alloc;
            ASSERT_TRUE(number(field(line, "ptr="), ptr, 16) && number(field(line, "bytes_req="), req) &&
                        number(field(line, "bytes_alloc="), alloc))
                << line;
            const bool zero = field(line, "gfp_flags=").find("__GFP_ZERO") != std::string_view::npos;
            ++requests;
            req_bytes += req;
            slub_bytes += alloc;
            if (auto it = by_linux_ptr.find(ptr); it != by_linux_ptr.end()) {
                // Linux handed this pointer out again: it was freed in a way
                // the trace does not show as kfree (e.g. inside a krealloc).
                live_kmem -= sa.ksize(it->second.p);
                ASSERT_TRUE(sa.kfree(it->second.p).ok());
                by_linux_ptr.erase(it);
                live_slub -= slub_size[ptr];
                ++reused_unseen;
            }
            void *p = sa.kmalloc(req, zero ? uint32_t{kAllocZero} : 0u);
            ASSERT_NE(p, nullptr) << "request " << requests << " (" << req << " bytes): " << sa.last_error().reason;
            const size_t k = sa.ksize(p);
            ASSERT_GE(k, req);
            if (zero) {
                for (size_t i = 0; i < k; i += 61) ASSERT_EQ(static_cast<uint8_t *>(p)[i], 0);
                ++zeroed;
            }
            kmem_bytes += k;
            by_linux_ptr[ptr] = {p, req};
            slub_size[ptr] = alloc;
            live_kmem += k;
            live_slub += alloc;
            peak_kmem = std::max(peak_kmem, live_kmem);
            peak_slub = std::max(peak_slub, live_slub);
        } else if (ev == "kfree") {
            uint64_t ptr;
            ASSERT_TRUE(number(field(line, "ptr="), ptr, 16)) << line;
            ++kfrees;
            auto it = by_linux_ptr.find(ptr);
            if (it == by_linux_ptr.end()) continue; // kmem_cache objects, NULL, bootmem...
            live_kmem -= sa.ksize(it->second.p);
            live_slub -= slub_size[ptr];
            const Status s = sa.kfree(it->second.p);
            ASSERT_TRUE(s.ok()) << s.reason();
            by_linux_ptr.erase(it);
            ++kfrees_matched;
        }
    }

    // The whole trace, as the docs count it.
    EXPECT_EQ(requests, 15644u);
    EXPECT_EQ(req_bytes, 8794129u);
    EXPECT_EQ(slub_bytes, 11892640u);
    // kmem's usable bytes over the same requests: measured 9 262 904 bytes,
    // 0.779 x SLUB (the figure docs/slab.md quotes). The ceiling the design
    // promises is 0.85 x SLUB; the exact figure pins the size classes.
    EXPECT_LE(static_cast<double>(kmem_bytes), 0.85 * static_cast<double>(slub_bytes));
    EXPECT_EQ(kmem_bytes, 9262904u);
    std::printf("replay: %llu kmalloc requests, %llu bytes asked, SLUB %llu, kmem %llu (%.3f x SLUB); "
                "%llu kfree lines, %llu matched, %llu pointers reused without a traced free; "
                "peak live: SLUB %llu, kmem %llu\n",
                (unsigned long long)requests, (unsigned long long)req_bytes, (unsigned long long)slub_bytes,
                (unsigned long long)kmem_bytes, static_cast<double>(kmem_bytes) / static_cast<double>(slub_bytes),
                (unsigned long long)kfrees, (unsigned long long)kfrees_matched, (unsigned long long)reused_unseen,
                (unsigned long long)peak_slub, (unsigned long long)peak_kmem);
    EXPECT_GT(kfrees_matched, 5000u); // the live set really evolved
    EXPECT_GT(zeroed, 10000u);
    EXPECT_LE(peak_kmem, peak_slub);

    // The books after the boot, and every page back after freeing the rest.
    Status s = sa.check();
    ASSERT_TRUE(s.ok()) << s.reason();
    s = a.check();
    ASSERT_TRUE(s.ok()) << s.reason();
    for (auto &[ptr, ours] : by_linux_ptr) ASSERT_TRUE(sa.kfree(ours.p).ok());
    sa.flush_all_cpus();
    EXPECT_EQ(sa.totals().active_objects, 0u);
    EXPECT_EQ(sa.totals().large_pages, 0u);
    for (const KmemCache *c = sa.first_cache(); c; c = c->next) sa.cache_shrink(const_cast<KmemCache *>(c));
    for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) a.drain_cpu_pcp(cpu);
    EXPECT_EQ(a.totals().free, start.free);
    s = sa.check();
    EXPECT_TRUE(s.ok()) << s.reason();
    s = a.check();
    EXPECT_TRUE(s.ok()) << s.reason();
}

} // namespace
} // namespace kmem
