// SPDX-License-Identifier: MIT
//
// DOC: the replay engine behind `kmem-sim --replay` (see replay.h).
#include "replay.h"

#include "platform/hosted/hosted.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace kmem::tools {
namespace {

bool starts_with(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }

// A gfp_flags= text has this flag (tokens are separated by '|').
bool has_flag(const std::string &gfp, const char *flag) {
    const std::string f(flag);
    for (size_t at = 0; (at = gfp.find(f, at)) != std::string::npos; at += f.size()) {
        const bool left = at == 0 || gfp[at - 1] == '|';
        const bool right = at + f.size() == gfp.size() || gfp[at + f.size()] == '|';
        if (left && right) return true;
    }
    return false;
}

uint32_t alloc_flags(const std::string &gfp) {
    uint32_t f = 0;
    if (has_flag(gfp, "__GFP_ZERO")) f |= kAllocZero;
    if (has_flag(gfp, "GFP_DMA32") || has_flag(gfp, "__GFP_DMA32")) f |= kAllocZoneDma32;
    else if (has_flag(gfp, "GFP_DMA") || has_flag(gfp, "__GFP_DMA")) f |= kAllocZoneDma;
    return f;
}

// The memblock API a log line names (kmem's BootApi of the same name);
// plain memblock_alloc for any other.
BootApi api_of(const std::string &name) {
    constexpr auto first = static_cast<unsigned>(BootApi::memblock_alloc);
    constexpr auto last = static_cast<unsigned>(BootApi::memblock_phys_alloc_range);
    for (unsigned a = first; a <= last; ++a)
        if (name == boot_api_name(static_cast<BootApi>(a))) return static_cast<BootApi>(a);
    return BootApi::memblock_alloc;
}

struct MemblockAlloc {
    uint64_t linux_base = 0; // from the memblock_reserve Linux prints right after
    uint64_t size = 0;
    uint64_t kmem_pa = 0;
    bool known = false;
    bool failed = false;     // kmem could not serve it: its frees are skipped
};

struct LiveObject {
    void *p;
    KmemCache *cache; // null: kmalloc
    uint64_t bytes;   // what kmem spent on it
};

class Replayer {
public:
    Replayer(SimBoot &boot, ReplayResult &r) : boot_(boot), sys_(*boot.sys), r_(r) {}

    bool run(const LinuxLog &log, std::string &error) {
        const uint64_t t0 = hosted::monotonic_ns();
        for (const LogEvent &e : log.events)
            if (!step(e, error)) return false;
        if (!reach(Phase::running, error)) return false;
        r_.replay_ns = hosted::monotonic_ns() - t0;
        return true;
    }

private:
    void fail(const LogEvent &e, const std::string &what) {
        ++r_.failed;
        if (r_.failures.size() < 20) r_.failures.push_back("line " + std::to_string(e.line) + ": " + what);
    }
    bool reach(Phase p, std::string &error) {
        while (sys_.phase() < p) {
            const Phase next = static_cast<Phase>(static_cast<unsigned>(sys_.phase()) + 1);
            if (next == Phase::direct_map) tables_ = true;
            if (!enter_phase(boot_, next, error)) return false;
        }
        return true;
    }
    void live_add(uint64_t bytes) {
        live_ += bytes;
        r_.peak_live_bytes = std::max(r_.peak_live_bytes, live_);
    }

    bool step(const LogEvent &e, std::string &error) {
        switch (e.kind) {
        case LogEventKind::memblock_add: return true; // the machine comes from the log's e820 map
        case LogEventKind::memblock_reserve: return reserve(e, error);
        case LogEventKind::memblock_alloc: return memblock_alloc(e, error);
        case LogEventKind::memblock_free: return memblock_free(e);
        default: break;
        }
        // Linux's own slab and page allocators run from here: Running.
        if (sys_.phase() < Phase::running && !reach(Phase::running, error)) return false;
        switch (e.kind) {
        case LogEventKind::kmalloc: kmalloc(e); break;
        case LogEventKind::kmem_cache_alloc: cache_alloc(e); break;
        case LogEventKind::kfree:
        case LogEventKind::kmem_cache_free: object_free(e); break;
        case LogEventKind::page_alloc: page_alloc(e); break;
        case LogEventKind::page_free: page_free(e); break;
        default: break;
        }
        return true;
    }

    bool reserve(const LogEvent &e, std::string &error) {
        // Linux recording the allocation it just made: its address, not a
        // reservation; with no allocation line before it, an allocation that
        // printed none.
        if (starts_with(e.caller, "memblock_alloc_range_nid")) {
            if (memblock_.empty() || memblock_.back().known) return unprinted_alloc(e, error);
            memblock_.back().linux_base = e.base;
            memblock_.back().known = true;
            return true;
        }
        ++r_.memblock_reserves;
        if (Status s = sys_.reserve(e.base, e.size, false, e.caller.c_str()); !s.ok())
            fail(e, std::string("memblock_reserve: ") + s.reason());
        return true;
    }

    // Before the first page-table allocation: what came before it, and where it is.
    void before_tables(const LogEvent &e, uint64_t size) {
        ++r_.before_page_tables;
        r_.before_page_tables_bytes += size;
        r_.before_page_tables_callers.push_back(e.caller);
    }

    bool memblock_alloc(const LogEvent &e, std::string &error) {
        if (sys_.phase() < Phase::early_window && !reach(Phase::early_window, error)) return false;
        if (!tables_) {
            if (const char *arch = page_table_arch(e.caller)) {
                r_.page_tables_arch = arch;
                r_.page_tables_caller = e.caller;
                r_.page_tables_line = e.line;
                if (!reach(Phase::direct_map, error)) return false;
            } else {
                before_tables(e, e.size);
            }
        }
        const MemblockLimits limits = memblock_limits(e, ram_top(sys_.map()));
        BootRequest req;
        req.size = e.size;
        req.align = e.align;
        req.min = limits.min;
        req.max = limits.max;
        req.goal = limits.goal;
        req.nid = e.nid;
        req.exact_nid = e.exact_nid;
        req.raw = e.raw;
        req.api = api_of(e.api);
        req.caller = e.caller.c_str();
        ++r_.memblock_allocs;
        r_.memblock_bytes += e.size;
        Result<uint64_t> got = sys_.alloc(req);
        if (!got.ok()) fail(e, e.api + ": " + got.error().reason);
        memblock_.push_back({0, e.size, got.ok() ? got.value() : 0, false, !got.ok()});
        return true;
    }

    // memblock_alloc_range_nid called directly (memblock_phys_alloc_try_nid,
    // CMA) prints only the reservation: the same size, aligned as Linux's
    // address is (up to the size rounded up to a power of two), not zeroed.
    bool unprinted_alloc(const LogEvent &e, std::string &error) {
        if (sys_.phase() < Phase::early_window && !reach(Phase::early_window, error)) return false;
        if (!tables_) before_tables(e, e.size);
        BootRequest req;
        req.size = e.size;
        req.align = e.base ? e.base & (~e.base + 1) : kPageSize;
        if (e.size > 1) req.align = std::min(req.align, uint64_t{1} << (64 - __builtin_clzll(e.size - 1)));
        req.raw = true;
        req.api = BootApi::memblock_phys_alloc;
        req.caller = e.caller.c_str();
        ++r_.unprinted_allocs;
        r_.unprinted_bytes += e.size;
        Result<uint64_t> got = sys_.alloc(req);
        if (!got.ok()) fail(e, std::string("memblock_alloc_range_nid: ") + got.error().reason);
        memblock_.push_back({e.base, e.size, got.ok() ? got.value() : 0, true, !got.ok()});
        return true;
    }

    bool memblock_free(const LogEvent &e) {
        ++r_.memblock_frees;
        // A part of something Linux allocated lies where kmem put it; anything
        // else (reserved memory) is at the same address in both.
        uint64_t pa = e.base;
        for (auto it = memblock_.rbegin(); it != memblock_.rend(); ++it)
            if (it->known && e.base >= it->linux_base && e.base < it->linux_base + it->size) {
                if (it->failed) {
                    ++r_.frees_of_failed;
                    return true;
                }
                pa = it->kmem_pa + (e.base - it->linux_base);
                break;
            }
        if (Status s = sys_.free(pa, e.size); !s.ok()) fail(e, e.api + ": " + s.reason());
        return true;
    }

    void count_slab_alloc(const LogEvent &e, uint64_t kmem_bytes, bool kmalloc) {
        ++r_.slab_allocs;
        r_.bytes_requested += e.bytes_req;
        r_.bytes_allocated_linux += e.bytes_alloc;
        r_.bytes_allocated_kmem += kmem_bytes;
        if (kmalloc) {
            r_.kmalloc_bytes_requested += e.bytes_req;
            r_.kmalloc_bytes_linux += e.bytes_alloc;
            r_.kmalloc_bytes_kmem += kmem_bytes;
            ReplayClass &c = r_.kmalloc_classes[e.bytes_alloc];
            ++c.allocs;
            c.bytes_requested += e.bytes_req;
            c.bytes_linux += e.bytes_alloc;
            c.bytes_kmem += kmem_bytes;
        }
        live_add(kmem_bytes);
    }

    // A Linux pointer allocated again with no traced free: the old object
    // was freed where tracing did not see it.
    void forget(uint64_t linux_ptr) {
        auto it = objects_.find(linux_ptr);
        if (it == objects_.end()) return;
        ++r_.reused;
        (void)release(it->second); // freed where tracing did not see it
        objects_.erase(it);
    }
    Status release(const LiveObject &o) {
        live_ -= o.bytes;
        return o.cache ? boot_.slab().cache_free(o.cache, o.p) : boot_.slab().kfree(o.p);
    }

    void kmalloc(const LogEvent &e) {
        forget(e.ptr);
        const uint16_t node = e.node < 0 ? kAnyNode : static_cast<uint16_t>(e.node);
        void *p = boot_.slab().kmalloc_node(e.bytes_req, alloc_flags(e.gfp), node);
        if (!p) {
            fail(e, std::string("kmalloc: ") + boot_.slab().last_error().reason);
            failed_objects_.insert(e.ptr);
            return;
        }
        const uint64_t bytes = boot_.slab().ksize(p);
        objects_[e.ptr] = {p, nullptr, bytes};
        count_slab_alloc(e, bytes, true);
    }

    void cache_alloc(const LogEvent &e) {
        forget(e.ptr);
        // One cache per call site (its function) and object size, named after
        // them: "alloc_inode-632", as Linux names a cache for what it holds.
        const std::string site = e.caller.empty() ? "replay" : e.caller.substr(0, e.caller.find('+'));
        KmemCache *&c = caches_[{site, e.bytes_req}];
        if (!c) {
            const std::string size = "-" + std::to_string(e.bytes_req);
            const std::string name = site.substr(0, kCacheNameMax - 1 - size.size()) + size; // copied by cache_create
            Result<KmemCache *> made = boot_.slab().cache_create(name.c_str(), e.bytes_req);
            if (!made.ok()) {
                fail(e, std::string("kmem_cache_create: ") + made.error().reason);
                return;
            }
            c = made.value();
            ++r_.caches;
        }
        void *p = boot_.slab().cache_alloc(c, alloc_flags(e.gfp) & kAllocZero);
        if (!p) {
            fail(e, std::string("kmem_cache_alloc: ") + boot_.slab().last_error().reason);
            failed_objects_.insert(e.ptr);
            return;
        }
        objects_[e.ptr] = {p, c, c->stride};
        count_slab_alloc(e, c->stride, false);
    }

    void object_free(const LogEvent &e) {
        if (e.ptr <= 16) return; // kfree(NULL) and ZERO_SIZE_PTR are traced too
        auto it = objects_.find(e.ptr);
        if (it == objects_.end()) {
            if (failed_objects_.erase(e.ptr)) ++r_.frees_of_failed;
            else ++r_.unmatched_frees;
            return;
        }
        if (Status s = release(it->second); !s.ok()) fail(e, std::string("free: ") + s.reason());
        objects_.erase(it);
        ++r_.slab_frees;
    }

    void page_alloc(const LogEvent &e) {
        if (auto it = pages_.find(e.pfn); it != pages_.end()) {
            ++r_.reused;
            live_ -= kPageSize << it->second.second;
            (void)boot_.phys().free_pages(it->second.first, it->second.second);
            pages_.erase(it);
        }
        ++r_.page_allocs;
        Result<uint64_t> got = boot_.phys().alloc_pages(e.order, alloc_flags(e.gfp));
        if (!got.ok()) {
            fail(e, std::string("alloc_pages: ") + got.error().reason);
            failed_pages_.insert(e.pfn);
            return;
        }
        pages_[e.pfn] = {got.value(), e.order};
        live_add(kPageSize << e.order);
    }

    void page_free(const LogEvent &e) {
        auto it = pages_.find(e.pfn);
        if (it == pages_.end()) {
            if (failed_pages_.erase(e.pfn)) ++r_.frees_of_failed;
            else ++r_.unmatched_frees;
            return;
        }
        if (Status s = boot_.phys().free_pages(it->second.first, it->second.second); !s.ok())
            fail(e, std::string("free_pages: ") + s.reason());
        live_ -= kPageSize << it->second.second;
        pages_.erase(it);
        ++r_.page_frees;
    }

    SimBoot &boot_;
    MemorySystem &sys_;
    ReplayResult &r_;
    bool tables_ = false;
    uint64_t live_ = 0;
    std::vector<MemblockAlloc> memblock_;
    std::unordered_map<uint64_t, LiveObject> objects_;
    std::unordered_map<uint64_t, std::pair<uint64_t, unsigned>> pages_;
    std::unordered_set<uint64_t> failed_objects_, failed_pages_; // Linux ptr / pfn kmem could not serve
    std::map<std::pair<std::string, uint64_t>, KmemCache *> caches_; // by call site and size
};

} // namespace

bool replay_linux_boot(const LinuxLog &log, SimBoot &boot, ReplayResult &out, std::string &error) {
    out = ReplayResult{};
    if (!boot.sys || boot.sys->phase() != Phase::firmware_map) {
        error = "replay needs a machine in FirmwareMap";
        return false;
    }
    Replayer r(boot, out);
    return r.run(log, error);
}

} // namespace kmem::tools
