// SPDX-License-Identifier: MIT
//
// DOC: MemoryMap - the sanitized physical memory map.
//
// A MemoryMap is the single description of physical memory that every later
// layer of kmem starts from. It holds sorted, non-overlapping, typed ranges,
// each with a NUMA node, in bounded storage that belongs to the map itself
// (no allocator exists yet when it is built). Capacity is a compile-time
// parameter of StaticMemoryMap<N>; running out of it is an error, never a
// silent truncation.
//
// Sanitizing follows Linux's e820 sanitizer:
//   - where ranges overlap, the more restrictive type wins (MemType is ordered
//     from least to most restrictive) and the memory keeps the node it had;
//   - zero-length ranges are dropped;
//   - adjacent ranges with the same type, node and reason merge;
//   - usable ranges shrink to whole 4 KiB pages (a partial page is not RAM the
//     allocator can hand out; the sliver simply leaves the map). Usable
//     ranges split only by node keep every whole page: a page a node
//     boundary cuts goes to the node that holds its first byte.
//
// Every update is all-or-nothing: the map is double-buffered, a new version is
// written beside the current one and only published when it is complete, so an
// error (capacity, bad range) leaves the map exactly as it was.
#pragma once

#include <kmem/result.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kPageShift = 12;
// x86_64 (5-level paging) and AArch64 (LPA) both stop at 52 physical address
// bits; a firmware range above that is a broken map, not a machine.
inline constexpr uint64_t kPhysAddrLimit = uint64_t{1} << 52;
// Highest NUMA node id + 1 that kmem accepts (Linux's MAX_NUMNODES default).
inline constexpr uint16_t kMaxNodes = 64;
// Default capacity of a memory map (Linux's memblock uses 128 regions).
inline constexpr size_t kDefaultMapCapacity = 256;

// Types, ordered from least to most restrictive: on overlap the larger wins.
enum class MemType : uint8_t {
    usable = 0,           // RAM the allocator may manage
    kernel_reserved,      // RAM the kernel has set aside itself (image, initrd, ...)
    acpi_reclaimable,     // ACPI tables; RAM once the tables are parsed
    acpi_nvs,             // ACPI non-volatile storage; preserve across sleep
    persistent,           // persistent memory (e820 types 7 and 12, EFI 14)
    unusable,             // RAM with errors (e820 type 5, EFI 8)
    reserved,             // anything else the firmware keeps for itself
};
inline constexpr int kMemTypeCount = 7;

// Linux-style name ("usable", "reserved", "ACPI data", ...).
const char *mem_type_name(MemType t);
// Short identifier for JSON and tests ("usable", "acpi_nvs", ...).
const char *mem_type_id(MemType t);

struct MemRange {
    uint64_t start = 0;       // first byte
    uint64_t end = 0;         // one past the last byte
    MemType type = MemType::reserved;
    uint16_t node = 0;        // NUMA node
    const char *why = nullptr; // for kernel_reserved: who reserved it (static string)

    constexpr uint64_t size() const { return end - start; }
    constexpr bool contains(uint64_t addr) const { return addr >= start && addr < end; }
};

class MemoryMap {
public:
    MemoryMap(const MemoryMap &) = delete;
    MemoryMap &operator=(const MemoryMap &) = delete;

    size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    size_t capacity() const { return capacity_; }
    const MemRange &operator[](size_t i) const { return cur_[i]; }
    const MemRange *begin() const { return cur_; }
    const MemRange *end() const { return cur_ + count_; }

    void clear() { count_ = 0; }
    // Replace this map's contents by another's (fails if it does not fit).
    Status assign(const MemoryMap &other);

    // Add firmware-described memory; overlaps resolve to the more restrictive type.
    Status add(uint64_t start, uint64_t end, MemType type, uint16_t node = 0);
    // Mark usable RAM in [start, end) as kernel_reserved (rounded out to whole
    // pages). Other types and holes inside the range are left as they are.
    Status reserve(uint64_t start, uint64_t end, const char *why);
    // Take [start, end) out of the map whatever it holds.
    Status remove(uint64_t start, uint64_t end);
    // Assign NUMA node `node` to everything described inside [start, end).
    Status set_node(uint64_t start, uint64_t end, uint16_t node);

    // Batch building for parsers: add entries without page-trimming them one by
    // one (so a page split across two firmware entries survives), then trim once.
    Status add_untrimmed(uint64_t start, uint64_t end, MemType type, uint16_t node = 0);
    void trim_usable_to_pages();

    // Totals.
    uint64_t bytes(MemType t) const;
    uint64_t usable_bytes() const { return bytes(MemType::usable); }
    uint64_t reserved_bytes() const { return bytes(MemType::reserved); }
    uint64_t bytes_in_node(uint16_t node, MemType t) const;
    // Number of distinct NUMA nodes the map mentions (1 for an empty map).
    unsigned node_count() const;
    // End of the highest range (0 when empty).
    uint64_t highest_address() const { return count_ ? cur_[count_ - 1].end : 0; }
    // The range containing addr, or null.
    const MemRange *find(uint64_t addr) const;

    // Iteration by type and node: f(const MemRange&) for each match.
    template <class F> void for_each(MemType t, F &&f) const {
        for (size_t i = 0; i < count_; ++i)
            if (cur_[i].type == t) f(cur_[i]);
    }
    template <class F> void for_each(MemType t, uint16_t node, F &&f) const {
        for (size_t i = 0; i < count_; ++i)
            if (cur_[i].type == t && cur_[i].node == node) f(cur_[i]);
    }

    // Verify the invariants: sorted, non-overlapping, non-empty, merged,
    // usable ranges page-aligned, below kPhysAddrLimit, nodes < kMaxNodes.
    Status check() const;

protected:
    constexpr MemoryMap(MemRange *a, MemRange *b, size_t capacity)
        : cur_(a), next_(b), capacity_(capacity) {}
    // Give a map built with no storage (LazyMemoryMap) its buffers; once.
    void bind_storage(MemRange *a, MemRange *b, size_t capacity) {
        if (cur_) return;
        cur_ = a;
        next_ = b;
        capacity_ = capacity;
    }

private:
    enum class Paint : uint8_t { add, reserve, remove, set_node };
    Status paint(uint64_t start, uint64_t end, Paint op, MemType type, uint16_t node,
                 const char *why);
    void publish(size_t n);

    MemRange *cur_;
    MemRange *next_;
    size_t capacity_;
    size_t count_ = 0;
};

// A memory map with its storage inside: N ranges, double-buffered.
template <size_t N = kDefaultMapCapacity> class StaticMemoryMap : public MemoryMap {
    static_assert(N > 0, "a memory map needs room for at least one range");

public:
    constexpr StaticMemoryMap() : MemoryMap(a_, b_, N) {}

private:
    MemRange a_[N];
    MemRange b_[N];
};

// The same, all zero until bind(): empty, with no room. A static object of
// it is zero-initialised, so it (and whatever holds it - PhysAllocator) can
// live in .bss instead of carrying its own pointers into .data, where the
// loader maps a process's copy of the whole object from the file.
template <size_t N = kDefaultMapCapacity> class LazyMemoryMap : public MemoryMap {
    static_assert(N > 0, "a memory map needs room for at least one range");

public:
    constexpr LazyMemoryMap() : MemoryMap(nullptr, nullptr, 0) {}
    void bind() {
        bind_storage(__builtin_launder(reinterpret_cast<MemRange *>(a_)),
                     __builtin_launder(reinterpret_cast<MemRange *>(b_)), N);
    }

private:
    // Raw bytes (MemRange's defaults are not all zero); the map writes whole
    // MemRange values into them (an implicit-lifetime type) before reading.
    alignas(MemRange) unsigned char a_[N * sizeof(MemRange)]{};
    alignas(MemRange) unsigned char b_[N * sizeof(MemRange)]{};
};

} // namespace kmem
