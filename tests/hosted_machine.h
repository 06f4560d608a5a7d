// A simulated machine for buddy tests (hosted platform): a memory map built by
// hand or read from data/, simulated physical memory up to the top of RAM, a
// mapped window, and a PhysAllocator booted from the map. One machine exists
// at a time (the hosted physical memory is a process-wide singleton); the
// destructor tears everything down. FlatMachine, below, is the bare variant
// the page-table tests use.
#pragma once

#include <kmem/buddy.h>
#include <kmem/memmap.h>
#include <kmem/memmap_parse.h>

#include "page/page_map.h"
#include "platform/hosted/hosted.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace kmem::test {

inline constexpr uint64_t KiB = uint64_t{1} << 10;
inline constexpr uint64_t MiB = uint64_t{1} << 20;
inline constexpr uint64_t GiB = uint64_t{1} << 30;

// White box: the descriptor arrays placed inside online memory (pages
// [meta_begin, meta_end) of a section, not managed), as pfn ranges.
struct PfnRange {
    uint64_t start, end;
};
inline std::vector<PfnRange> in_place_meta(const PhysAllocator &a) {
    std::vector<PfnRange> out;
    for (size_t s = 0; s < kMaxSections; ++s) {
        const Section &sec = a.page_map().section_at(s);
        if (sec.descs && sec.meta_begin < sec.meta_end)
            out.push_back({section_start_pfn(s) + sec.meta_begin, section_start_pfn(s) + sec.meta_end});
    }
    return out;
}
inline uint64_t in_place_meta_pages(const PhysAllocator &a) {
    uint64_t n = 0;
    for (const PfnRange &r : in_place_meta(a)) n += r.end - r.start;
    return n;
}

class HostedMachine {
public:
    HostedMachine() : phys_(std::make_unique<PhysAllocator>()) {}
    ~HostedMachine() {
        phys_.reset();
        hosted::destroy_physical_memory();
    }
    HostedMachine(const HostedMachine &) = delete;
    HostedMachine &operator=(const HostedMachine &) = delete;

    PhysAllocator &a() { return *phys_; }
    MemoryMap &map() { return map_; }

    // Describe RAM by hand.
    void add_ram(uint64_t start, uint64_t end, uint16_t node = 0) {
        const Status s = map_.add(start, end, MemType::usable, node);
        ASSERT_TRUE(s.ok()) << s.reason();
    }
    // Read a firmware map from data/ (Linux console text).
    void load_map(const std::string &rel) {
        const std::string text = read_file(data_path(rel));
        const Status s = parse_linux_text(text.data(), text.size(), map_);
        ASSERT_TRUE(s.ok()) << rel << ":" << s.error().at << ": " << s.reason();
    }

    // End of the highest RAM range (usable or kernel_reserved).
    uint64_t ram_top() const {
        uint64_t top = 0;
        for (const MemRange &r : map_)
            if (r.type == MemType::usable || r.type == MemType::kernel_reserved) top = r.end;
        return top;
    }
    // Create simulated physical memory [0, max(size, top of RAM)) once.
    void create(uint64_t size = 0) {
        if (hosted::physical_memory_base()) return;
        const uint64_t top = ram_top();
        const Status s = hosted::create_physical_memory(size > top ? size : top);
        ASSERT_TRUE(s.ok()) << s.reason();
    }
    static Status map_window(uint64_t start, uint64_t end) {
        return hosted::map_physical_range(start, end);
    }
    // EarlyWindow: map [ws, we) (clipped to physical memory) and bootstrap.
    Status boot(uint64_t we = uint64_t{1} << 62, uint64_t ws = 0) {
        create();
        const uint64_t size = hosted::physical_memory_size();
        if (we > size) we = size;
        KMEM_TRY(map_window(ws, we));
        return phys_->bootstrap(map_, ws, we);
    }
    // DirectMap: map every RAM range, online what is not online yet and
    // reserve the map's kernel_reserved ranges.
    Status online_rest() {
        for (const MemRange &r : map_)
            if (r.type == MemType::usable || r.type == MemType::kernel_reserved)
                KMEM_TRY(map_window(r.start & ~(kPageSize - 1),
                                    (r.end + kPageSize - 1) & ~(kPageSize - 1)));
        KMEM_TRY(phys_->online_map_ranges(map_, 0, kMaxPhysMemory));
        return phys_->reserve_map_ranges(map_, 0, kMaxPhysMemory);
    }
    // Both phases with the whole of RAM in the window.
    void boot_all() {
        Status s = boot();
        ASSERT_TRUE(s.ok()) << s.reason();
        s = online_rest();
        ASSERT_TRUE(s.ok()) << s.reason();
        s = phys_->check();
        ASSERT_TRUE(s.ok()) << s.reason();
    }

    // Host pointer to physical address pa.
    static uint8_t *ptr(uint64_t pa) { return hosted::physical_memory_base() + pa; }

private:
    StaticMemoryMap<> map_;
    std::unique_ptr<PhysAllocator> phys_;
};

// A simpler machine for page-table tests: `ram` bytes of simulated physical
// memory at [0, ram), all mapped, [1 MiB, ram) online (no memory map, no boot).
struct FlatMachine {
    std::unique_ptr<PhysAllocator> phys = std::make_unique<PhysAllocator>();
    explicit FlatMachine(uint64_t ram) {
        EXPECT_TRUE(hosted::create_physical_memory(ram).ok());
        EXPECT_TRUE(hosted::map_physical_range(0, ram).ok());
        EXPECT_TRUE(phys->online_range(MiB, ram, 0).ok());
    }
    ~FlatMachine() {
        phys.reset();
        hosted::destroy_physical_memory();
    }
    FlatMachine(const FlatMachine &) = delete;
    FlatMachine &operator=(const FlatMachine &) = delete;
    // Pages the buddy could hand out (per-CPU lists drained first).
    uint64_t free_pages() {
        phys->drain_local_pcp();
        const PhysTotals t = phys->totals();
        return t.free + t.pcp;
    }
    // Take every free page (reserves too) but `left`, one page at a time, into held.
    void hold_all_but(unsigned left, std::vector<uint64_t> &held) {
        while (true) {
            auto r = phys->alloc_pages(0, kAllocReserves);
            if (!r.ok()) break;
            held.push_back(r.value());
        }
        for (unsigned i = 0; i < left; ++i) {
            ASSERT_TRUE(phys->free_pages(held.back(), 0).ok());
            held.pop_back();
        }
    }
};

} // namespace kmem::test
