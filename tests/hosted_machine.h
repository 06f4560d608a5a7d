// The simulated machine of the tests (hosted platform): the one way a test
// builds one. SimMachine holds a memory map, built by hand or read from
// data/, and the simulated physical memory up to the top of its RAM, mapped
// window by window; one exists at a time (the hosted physical memory is a
// process-wide singleton) and its destructor tears everything down, after
// whatever the variations below built on it. The variations:
//   HostedMachine (here)  a PhysAllocator booted from the map: the buddy tests;
//   FlatMachine (here)    RAM at [0, ram), all mapped, [1 MiB, ram) online, no
//                         map: the page-table tests;
//   SlabMachine (slab_machine.h)  slab and kmalloc on top of a HostedMachine;
//   BootMachine (boot_machine.h)  MemorySystem's boot phases on a SimMachine.
#pragma once

#include <kmem/buddy.h>
#include <kmem/memmap.h>
#include <kmem/memmap_parse.h>

#include "page/page_map.h"
#include "platform/hosted/hosted.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace kmem::test {

inline constexpr uint64_t KiB = uint64_t{1} << 10;
inline constexpr uint64_t MiB = uint64_t{1} << 20;
inline constexpr uint64_t GiB = uint64_t{1} << 30;

// A range of RAM on a node, as the machines' constructors take them.
struct Ram {
    uint64_t start, end;
    uint16_t node;
};

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

// The base of every variation: the map and the simulated physical memory.
class SimMachine {
public:
    SimMachine() = default;
    ~SimMachine() { hosted::destroy_physical_memory(); }
    SimMachine(const SimMachine &) = delete;
    SimMachine &operator=(const SimMachine &) = delete;

    StaticMemoryMap<> &map() { return map_; }

    // Describe RAM by hand.
    void add_ram(uint64_t start, uint64_t end, uint16_t node = 0) {
        const Status s = map_.add(start, end, MemType::usable, node);
        ASSERT_TRUE(s.ok()) << s.reason();
    }
    void add_ram(std::initializer_list<Ram> ram) {
        for (const Ram &r : ram) add_ram(r.start, r.end, r.node);
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
    // Map every RAM range of the map (rounded out to pages), and nothing else.
    Status map_ram() const {
        for (const MemRange &r : map_)
            if (r.type == MemType::usable || r.type == MemType::kernel_reserved)
                KMEM_TRY(map_window(r.start & ~(kPageSize - 1), (r.end + kPageSize - 1) & ~(kPageSize - 1)));
        return {};
    }

    // Host pointer to physical address pa.
    static uint8_t *ptr(uint64_t pa) { return hosted::physical_memory_base() + pa; }

private:
    StaticMemoryMap<> map_;
};

// The buddy tests' machine: a SimMachine and a PhysAllocator booted from its map.
class HostedMachine : public SimMachine {
public:
    HostedMachine() : phys_(std::make_unique<PhysAllocator>()) {}

    PhysAllocator &a() { return *phys_; }

    // EarlyWindow: map [ws, we) (clipped to physical memory) and bootstrap.
    Status boot(uint64_t we = uint64_t{1} << 62, uint64_t ws = 0) {
        create();
        const uint64_t size = hosted::physical_memory_size();
        if (we > size) we = size;
        KMEM_TRY(map_window(ws, we));
        return phys_->bootstrap(map(), ws, we);
    }
    // EarlyWindow as on hardware: only RAM mapped, the window all of [0, top of RAM).
    Status boot_ram_mapped() {
        create();
        KMEM_TRY(map_ram());
        return phys_->bootstrap(map(), 0, ram_top());
    }
    // DirectMap: map every RAM range, online what is not online yet and
    // reserve the map's kernel_reserved ranges.
    Status online_rest() {
        KMEM_TRY(map_ram());
        KMEM_TRY(phys_->online_map_ranges(map(), 0, kMaxPhysMemory));
        return phys_->reserve_map_ranges(map(), 0, kMaxPhysMemory);
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

private:
    std::unique_ptr<PhysAllocator> phys_;
};

// The page-table tests' machine: `ram` bytes of simulated physical memory at
// [0, ram), all mapped, [1 MiB, ram) online (no memory map, no boot).
class FlatMachine : public HostedMachine {
public:
    explicit FlatMachine(uint64_t ram) {
        create(ram);
        EXPECT_TRUE(map_window(0, ram).ok());
        EXPECT_TRUE(a().online_range(MiB, ram, 0).ok());
    }
    // Pages the buddy could hand out (per-CPU lists drained first).
    uint64_t free_pages() {
        a().drain_local_pcp();
        const PhysTotals t = a().totals();
        return t.free + t.pcp;
    }
    // Take every free page (reserves too) but `left`, one page at a time, into held.
    void hold_all_but(unsigned left, std::vector<uint64_t> &held) {
        while (true) {
            auto r = a().alloc_pages(0, kAllocReserves);
            if (!r.ok()) break;
            held.push_back(r.value());
        }
        for (unsigned i = 0; i < left; ++i) {
            ASSERT_TRUE(a().free_pages(held.back(), 0).ok());
            held.pop_back();
        }
    }
};

} // namespace kmem::test
