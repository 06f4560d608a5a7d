// SPDX-License-Identifier: MIT
//
// DOC: libFuzzer target: the buddy allocator's API as random operation
// sequences, check() after every one.
//
// Each input is a program of up to 64 steps for a fresh PhysAllocator
// (fuzz_machine.h), a step one call or a run of up to 100 of one kind:
// allocations of every order, flag set, node and address window; exact-size
// allocations; memblock-style reserved allocations; reserve and unreserve
// of ranges; frees of live blocks, of addresses that are no block head, and
// double frees; per-CPU drains; fault injection; onlining the rest of RAM.
// A model of the live blocks and reserved ranges checks that blocks lie in
// online RAM inside what was asked for, never overlap one another or a
// reserved range, keep the stamps written into them, come zeroed with
// kAllocZero and answer head_of with kAllocTails; that every wrong free
// fails and changes nothing; and that, everything given back, the books
// return to where they were.
#include "fuzz_machine.h"

#include "page/page_map.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstring>
#include <vector>

namespace {

using namespace kmem;
using fuzz::Machine;

#define REQUIRE(cond) \
    do {              \
        if (!(cond)) __builtin_trap(); \
    } while (0)

struct Block {
    uint64_t pa, bytes;
    unsigned order; // buddy order, or ~0u for alloc_pages_exact blocks
    uint64_t stamp;
};
struct Reserved {
    uint64_t start, end;
};

bool overlaps(uint64_t a, uint64_t b, uint64_t c, uint64_t d) { return a < d && c < b; }

void stamp(const Block &b) {
    std::memcpy(Machine::ptr(b.pa), &b.stamp, 8);
    std::memcpy(Machine::ptr(b.pa + b.bytes - 8), &b.stamp, 8);
}
void check_stamp(const Block &b) {
    uint64_t head, tail;
    std::memcpy(&head, Machine::ptr(b.pa), 8);
    std::memcpy(&tail, Machine::ptr(b.pa + b.bytes - 8), 8);
    REQUIRE(head == b.stamp && tail == b.stamp);
}

bool in_online_ram(const PhysAllocator &a, uint64_t pa, uint64_t bytes) {
    const MemRange *r = a.online_map().find(pa);
    return r && pa + bytes <= r->end;
}

struct Books {
    uint64_t free, allocated, reserved;
};
Books books(const PhysAllocator &a) {
    const PhysTotals t = a.totals();
    return {t.free + t.pcp, t.allocated, t.reserved};
}
bool same(const Books &x, const Books &y) {
    return x.free == y.free && x.allocated == y.allocated && x.reserved == y.reserved;
}

uint32_t flags_from(FuzzedDataProvider &in) {
    static constexpr uint32_t kFlags[] = {kAllocZoneDma, kAllocZoneDma32, kAllocExactNode, kAllocNoPcp,
                                          kAllocZero,    kAllocReserves,  kAllocTails,     kAllocAtomic};
    uint32_t f = 0;
    const uint8_t bits = in.ConsumeIntegral<uint8_t>();
    for (unsigned i = 0; i < 8; ++i)
        if (bits & (1u << i) && (i < 2 || in.ConsumeBool())) f |= kFlags[i];
    return f;
}

uint16_t node_from(FuzzedDataProvider &in) {
    const uint8_t n = in.ConsumeIntegralInRange<uint8_t>(0, 3);
    return n == 3 ? kAnyNode : n; // node 2 has no memory
}

// White box: the descriptor arrays kept inside the memory they describe.
// They are online but never free, so reserve_range passes over them and
// unreserve_range refuses a range that holds them: the model keeps its
// reservations off them.
std::vector<Reserved> in_place_arrays(const PhysAllocator &a) {
    std::vector<Reserved> out;
    for (size_t s = 0; s < (fuzz::kTop >> kSectionShift) + 1; ++s) {
        const Section &sec = a.page_map().section_at(s);
        if (sec.descs && sec.meta_begin < sec.meta_end)
            out.push_back({(section_start_pfn(s) + sec.meta_begin) << kPageShift,
                           (section_start_pfn(s) + sec.meta_end) << kPageShift});
    }
    return out;
}

class Run {
public:
    Run(FuzzedDataProvider &in, Machine &m) : in_(in), m_(m), a_(m.boot()) {
        baseline_ = books(a_);
        arrays_ = in_place_arrays(a_);
        REQUIRE(a_.check().ok());
    }

    void step() {
        switch (in_.ConsumeIntegralInRange(0, 14)) {
        case 0:
        case 1: { // one block, or a run of them of one kind
            const unsigned order = in_.ConsumeIntegralInRange<unsigned>(0, kMaxOrder);
            const uint32_t flags = flags_from(in_);
            const uint16_t node = node_from(in_);
            for (unsigned n = in_.ConsumeBool() ? 1 : in_.ConsumeIntegralInRange(2, 100); n--;) {
                const Result<uint64_t> r = a_.alloc_pages(order, flags, node);
                if (r.ok()) got({r.value(), kPageSize << order, order, 0}, flags, node, 0, 0);
            }
            break;
        }
        case 2: {
            const uint64_t count = in_.ConsumeIntegralInRange<uint64_t>(0, kMaxBlockPages + 1);
            const uint32_t flags = flags_from(in_) & ~kAllocTails;
            const Result<uint64_t> r = a_.alloc_pages_exact(count, flags);
            if (count == 0 || count > kMaxBlockPages) REQUIRE(!r.ok());
            if (r.ok()) got({r.value(), count * kPageSize, ~0u, 0}, flags, kAnyNode, 0, 0);
            break;
        }
        case 3: {
            const unsigned order = in_.ConsumeIntegralInRange<unsigned>(0, kMaxOrder);
            const uint64_t lo = in_.ConsumeIntegralInRange<uint64_t>(0, fuzz::kTop);
            const uint64_t hi = in_.ConsumeIntegralInRange<uint64_t>(0, fuzz::kTop);
            const uint32_t flags = flags_from(in_);
            const Result<uint64_t> r = a_.alloc_pages_range(order, lo, hi, flags);
            if (r.ok()) got({r.value(), kPageSize << order, order, 0}, flags, kAnyNode, lo, hi);
            break;
        }
        case 4:
        case 5:
            for (unsigned n = in_.ConsumeBool() ? 1 : in_.ConsumeIntegralInRange(2, 100); n--;) free_live();
            break;
        case 6: wrong_free(); break;
        case 7: reserve(); break;
        case 8: unreserve(); break;
        case 9: alloc_reserved(); break;
        case 10: a_.drain_local_pcp(); break;
        case 11: {
            const uint64_t n = in_.ConsumeIntegralInRange<uint64_t>(0, 8);
            const Status s = a_.fail_nth_allocation(n);
            REQUIRE(s.ok());
            break;
        }
        case 12: {
            // Onlining borrows pages for descriptor arrays: not with a fault armed.
            REQUIRE(a_.fail_nth_allocation(0).ok());
            const Books before = books(a_);
            REQUIRE(m_.online_rest().ok());
            const Books after = books(a_);
            // The new memory is free, but for descriptor arrays borrowed
            // from the buddy (allocated pages now).
            baseline_.free += after.free - before.free;
            baseline_.allocated += after.allocated - before.allocated;
            baseline_.reserved += after.reserved - before.reserved;
            arrays_ = in_place_arrays(a_);
            break;
        }
        case 13: { // an unknown flag is refused
            const Result<uint64_t> r = a_.alloc_pages(0, kAllocKnownFlags + 1 + in_.ConsumeIntegral<uint8_t>());
            REQUIRE(!r.ok() && r.code() == Errc::invalid_argument);
            break;
        }
        case 14: head_of_inside(); break;
        }
        REQUIRE(a_.check().ok());
    }

    // Give everything back: the books must be what they were after boot.
    void finish() {
        (void)a_.fail_nth_allocation(0);
        while (!live_.empty()) release(live_.size() - 1);
        for (const Reserved &r : reserved_) REQUIRE(a_.unreserve_range(r.start, r.end).ok());
        reserved_.clear();
        a_.drain_local_pcp();
        REQUIRE(a_.check().ok());
        REQUIRE(same(books(a_), baseline_));
    }

private:
    void got(Block b, uint32_t flags, uint16_t node, uint64_t lo, uint64_t hi) {
        REQUIRE(b.pa % kPageSize == 0);
        if (b.order != ~0u) REQUIRE(b.pa % (kPageSize << b.order) == 0);
        REQUIRE(in_online_ram(a_, b.pa, b.bytes));
        if (flags & kAllocZoneDma) REQUIRE(b.pa + b.bytes <= kZoneDmaEnd);
        if (flags & kAllocZoneDma32) REQUIRE(b.pa + b.bytes <= kZoneDma32End);
        if ((flags & kAllocExactNode) && node != kAnyNode) REQUIRE(a_.online_map().find(b.pa)->node == node);
        if (hi > lo && hi != 0) REQUIRE(b.pa >= lo && b.pa + b.bytes <= hi);
        for (const Block &o : live_) REQUIRE(!overlaps(b.pa, b.pa + b.bytes, o.pa, o.pa + o.bytes));
        for (const Reserved &r : reserved_) REQUIRE(!overlaps(b.pa, b.pa + b.bytes, r.start, r.end));
        if (flags & kAllocZero) {
            for (uint64_t off = 0; off < b.bytes; off += kPageSize) REQUIRE(Machine::ptr(b.pa + off)[8] == 0);
        }
        if ((flags & kAllocTails) && b.order != ~0u) {
            const Result<uint64_t> h = a_.head_of((b.pa + b.bytes - 1) >> kPageShift);
            REQUIRE(h.ok() && h.value() == b.pa >> kPageShift);
        }
        b.stamp = ++stamps_ * 0x9e3779b97f4a7c15ull;
        stamp(b);
        live_.push_back(b);
    }

    void release(size_t i) {
        const Block b = live_[i];
        check_stamp(b);
        live_[i] = live_.back();
        live_.pop_back();
        const Status s = b.order == ~0u ? a_.free_pages_exact(b.pa, b.bytes / kPageSize) : a_.free_pages(b.pa, b.order);
        REQUIRE(s.ok());
        last_freed_ = b;
    }

    void free_live() {
        if (live_.empty()) return;
        release(in_.ConsumeIntegralInRange<size_t>(0, live_.size() - 1));
    }

    // A double free, a free inside a block, of a wrong order or of memory
    // never handed out: refused, and nothing changes.
    void wrong_free() {
        const Books before = books(a_);
        uint64_t pa = 0;
        unsigned order = in_.ConsumeIntegralInRange<unsigned>(0, kMaxOrder);
        switch (in_.ConsumeIntegralInRange(0, 2)) {
        case 0:
            if (!last_freed_ || last_freed_->order == ~0u) return;
            for (const Block &o : live_) // reallocated since: not a double free
                if (overlaps(o.pa, o.pa + o.bytes, last_freed_->pa, last_freed_->pa + last_freed_->bytes)) return;
            pa = last_freed_->pa;
            order = last_freed_->order;
            break;
        case 1: {
            if (live_.empty()) return;
            const Block &b = live_[in_.ConsumeIntegralInRange<size_t>(0, live_.size() - 1)];
            if (b.order == ~0u) return;
            if (b.bytes > kPageSize && in_.ConsumeBool()) { // a page inside, not the head
                pa = b.pa + kPageSize * in_.ConsumeIntegralInRange<uint64_t>(1, b.bytes / kPageSize - 1);
            } else { // the head with another order
                pa = b.pa;
                if (order == b.order) order = (order + 1) % (kMaxOrder + 1);
            }
            break;
        }
        default: { // a hole, or a page of a reserved range (other RAM may be the allocator's own)
            pa = in_.ConsumeIntegralInRange<uint64_t>(0, fuzz::kTop) & ~(kPageSize - 1);
            bool reserved = false;
            for (const Reserved &r : reserved_) reserved |= overlaps(pa, pa + 1, r.start, r.end);
            if (!reserved && a_.online_map().find(pa)) return;
            break;
        }
        }
        REQUIRE(!a_.free_pages(pa, order).ok());
        REQUIRE(same(books(a_), before));
    }

    void reserve() {
        const uint64_t start = in_.ConsumeIntegralInRange<uint64_t>(0, fuzz::kTop);
        const uint64_t end = start + in_.ConsumeIntegralInRange<uint64_t>(1, 8 * fuzz::kMiB);
        const uint64_t s = start & ~(kPageSize - 1), e = (end + kPageSize - 1) & ~(kPageSize - 1);
        for (const Reserved &r : reserved_)
            if (overlaps(s, e, r.start, r.end)) return; // one reservation per page, or unreserve would not pair up
        for (const Reserved &r : arrays_)
            if (overlaps(s, e, r.start, r.end)) return;
        const Books before = books(a_);
        const Status st = a_.reserve_range(start, end, "fuzz");
        bool holds_live = false;
        for (const Block &o : live_) holds_live |= overlaps(s, e, o.pa, o.pa + o.bytes);
        if (holds_live) REQUIRE(!st.ok());
        if (!st.ok()) {
            REQUIRE(same(books(a_), before));
            return;
        }
        reserved_.push_back({s, e});
    }

    void unreserve() {
        if (reserved_.empty()) return;
        const size_t i = in_.ConsumeIntegralInRange<size_t>(0, reserved_.size() - 1);
        REQUIRE(a_.unreserve_range(reserved_[i].start, reserved_[i].end).ok());
        reserved_[i] = reserved_.back();
        reserved_.pop_back();
    }

    void alloc_reserved() {
        const uint64_t bytes = in_.ConsumeIntegralInRange<uint64_t>(0, 2 * fuzz::kMiB);
        const uint64_t align = uint64_t{1} << in_.ConsumeIntegralInRange(0, 22);
        const uint64_t lo = in_.ConsumeIntegralInRange<uint64_t>(0, fuzz::kTop);
        const uint64_t hi = in_.ConsumeBool() ? 0 : in_.ConsumeIntegralInRange<uint64_t>(0, fuzz::kTop);
        const Result<uint64_t> r = a_.alloc_reserved(bytes, align, lo, hi, node_from(in_), "fuzz");
        if (bytes == 0) REQUIRE(!r.ok());
        if (!r.ok()) return;
        const uint64_t s = r.value(), e = (s + bytes + kPageSize - 1) & ~(kPageSize - 1);
        REQUIRE(s % align == 0 && s >= lo && (hi == 0 || s + bytes <= hi));
        for (const Block &o : live_) REQUIRE(!overlaps(s, e, o.pa, o.pa + o.bytes));
        for (const Reserved &x : reserved_) REQUIRE(!overlaps(s, e, x.start, x.end));
        reserved_.push_back({s, e});
    }

    void head_of_inside() {
        if (live_.empty()) return;
        const Block &b = live_[in_.ConsumeIntegralInRange<size_t>(0, live_.size() - 1)];
        const Result<uint64_t> h = a_.head_of(b.pa >> kPageShift);
        if (b.order != ~0u) REQUIRE(h.ok() && h.value() == b.pa >> kPageShift);
    }

    FuzzedDataProvider &in_;
    Machine &m_;
    PhysAllocator &a_;
    Books baseline_;
    std::vector<Block> live_;
    std::vector<Reserved> reserved_, arrays_;
    std::optional<Block> last_freed_;
    uint64_t stamps_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    Run run(in, fuzz::machine());
    for (unsigned steps = 0; in.remaining_bytes() && steps < 64; ++steps) run.step();
    run.finish();
    return 0;
}
