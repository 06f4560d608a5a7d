// SPDX-License-Identifier: MIT
//
// DOC: MemoryMap updates.
//
// Every update is one "paint" of a window [start, end) over the sorted range
// list: the current list is streamed into the spare buffer, ranges outside the
// window are copied, ranges inside are transformed by the operation, holes
// inside the window are filled (for add), and neighbours with equal attributes
// merge as they are written. Only when the whole new list fits is it published
// by swapping the buffers, so a failed update changes nothing. Each update is
// O(n) in the number of ranges, which is bounded and small.
#include <kmem/memmap.h>

namespace kmem {
namespace {

constexpr uint64_t page_down(uint64_t a) { return a & ~(kPageSize - 1); }
// Callers guarantee a <= kPhysAddrLimit, so this cannot overflow.
constexpr uint64_t page_up(uint64_t a) { return (a + kPageSize - 1) & ~(kPageSize - 1); }

constexpr bool same_attrs(const MemRange &a, const MemRange &b) {
    return a.type == b.type && a.node == b.node && a.why == b.why;
}

// Appends ranges in address order, merging equal neighbours and dropping
// empty ranges; remembers (instead of writing past the end) when out of room.
struct RangeWriter {
    MemRange *out;
    size_t capacity;
    size_t n = 0;
    bool overflow = false;

    void emit(const MemRange &r) {
        if (r.start >= r.end) return;
        if (n > 0 && out[n - 1].end == r.start && same_attrs(out[n - 1], r)) {
            out[n - 1].end = r.end;
            return;
        }
        if (n == capacity) {
            overflow = true;
            return;
        }
        out[n++] = r;
    }
};

MemRange clip(const MemRange &r, uint64_t s, uint64_t e) {
    MemRange p = r;
    p.start = r.start > s ? r.start : s;
    p.end = r.end < e ? r.end : e;
    return p;
}

Status validate(uint64_t start, uint64_t end) {
    if (end < start) return make_error(Errc::invalid_range, "range ends before it starts");
    if (end > kPhysAddrLimit)
        return make_error(Errc::invalid_range, "range ends above the 52-bit physical address limit");
    return {};
}

} // namespace

const char *mem_type_name(MemType t) {
    switch (t) {
    case MemType::usable: return "usable";
    case MemType::kernel_reserved: return "kernel reserved";
    case MemType::acpi_reclaimable: return "ACPI data";
    case MemType::acpi_nvs: return "ACPI NVS";
    case MemType::persistent: return "persistent";
    case MemType::unusable: return "unusable";
    case MemType::reserved: return "reserved";
    }
    return "?";
}

const char *mem_type_id(MemType t) {
    switch (t) {
    case MemType::usable: return "usable";
    case MemType::kernel_reserved: return "kernel_reserved";
    case MemType::acpi_reclaimable: return "acpi_reclaimable";
    case MemType::acpi_nvs: return "acpi_nvs";
    case MemType::persistent: return "persistent";
    case MemType::unusable: return "unusable";
    case MemType::reserved: return "reserved";
    }
    return "?";
}

const char *errc_name(Errc code) {
    switch (code) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid argument";
    case Errc::invalid_range: return "invalid range";
    case Errc::capacity: return "out of capacity";
    case Errc::truncated: return "truncated";
    case Errc::bad_magic: return "bad magic";
    case Errc::unsupported_version: return "unsupported version";
    case Errc::malformed: return "malformed";
    case Errc::unknown_type: return "unknown type";
    case Errc::no_entries: return "no entries";
    case Errc::no_memory: return "out of memory";
    case Errc::double_free: return "double free";
    case Errc::not_allocated: return "not allocated";
    case Errc::busy: return "busy";
    case Errc::wrong_phase: return "wrong boot phase";
    case Errc::wrong_context: return "wrong calling context";
    }
    return "?";
}

void MemoryMap::publish(size_t n) {
    MemRange *t = cur_;
    cur_ = next_;
    next_ = t;
    count_ = n;
}

Status MemoryMap::assign(const MemoryMap &other) {
    if (&other == this) return {};
    if (other.count_ > capacity_)
        return make_error(Errc::capacity, "memory map capacity exceeded");
    for (size_t i = 0; i < other.count_; ++i) cur_[i] = other.cur_[i];
    count_ = other.count_;
    return {};
}

Status MemoryMap::paint(uint64_t start, uint64_t end, Paint op, MemType type,
                        uint16_t node, const char *why) {
    KMEM_TRY(validate(start, end));
    if (node >= kMaxNodes) return make_error(Errc::invalid_argument, "NUMA node id too large");
    if (start == end) return {};

    RangeWriter w{next_, capacity_};
    uint64_t pos = start; // first address of the window not yet covered
    auto fill_gap = [&](uint64_t upto) { // holes in the window: only add fills them
        if (op == Paint::add && pos < upto) w.emit(MemRange{pos, upto, type, node, nullptr});
        if (upto > pos) pos = upto;
    };

    for (size_t i = 0; i < count_; ++i) {
        const MemRange &r = cur_[i];
        if (r.end <= start || r.start >= end) { // wholly outside the window
            if (r.start >= end) fill_gap(end);
            w.emit(r);
            continue;
        }
        fill_gap(r.start < end ? r.start : end);
        w.emit(clip(r, r.start, start)); // part before the window
        MemRange in = clip(r, start, end);
        switch (op) {
        case Paint::add:
            // A more restrictive type takes over; the memory keeps its node
            // (a carve-out inside node N's RAM is still node N's).
            if (type > in.type) in = MemRange{in.start, in.end, type, in.node, nullptr};
            w.emit(in);
            break;
        case Paint::reserve:
            if (in.type == MemType::usable) {
                in.type = MemType::kernel_reserved;
                in.why = why;
            }
            w.emit(in);
            break;
        case Paint::remove: break;
        case Paint::set_node:
            in.node = node;
            w.emit(in);
            break;
        }
        if (in.end > pos) pos = in.end;
        w.emit(clip(r, end, r.end)); // part after the window
    }
    fill_gap(end);

    if (w.overflow) return make_error(Errc::capacity, "memory map capacity exceeded");
    publish(w.n);
    return {};
}

Status MemoryMap::add_untrimmed(uint64_t start, uint64_t end, MemType type, uint16_t node) {
    if (static_cast<uint8_t>(type) >= kMemTypeCount)
        return make_error(Errc::unknown_type, "unknown memory type");
    return paint(start, end, Paint::add, type, node, nullptr);
}

Status MemoryMap::add(uint64_t start, uint64_t end, MemType type, uint16_t node) {
    KMEM_TRY(add_untrimmed(start, end, type, node));
    trim_usable_to_pages();
    return {};
}

Status MemoryMap::reserve(uint64_t start, uint64_t end, const char *why) {
    KMEM_TRY(validate(start, end));
    if (why == nullptr) why = "reserved by the kernel";
    return paint(page_down(start), page_up(end), Paint::reserve, MemType::kernel_reserved, 0,
                 why);
}

Status MemoryMap::remove(uint64_t start, uint64_t end) {
    return paint(start, end, Paint::remove, MemType::reserved, 0, nullptr);
}

Status MemoryMap::set_node(uint64_t start, uint64_t end, uint16_t node) {
    return paint(start, end, Paint::set_node, MemType::reserved, node, nullptr);
}

void MemoryMap::trim_usable_to_pages() {
    // Trimming only shrinks ranges, so it never needs more room than it has.
    // Usable ranges that touch form a run (they differ only by node: equal
    // neighbours are merged already). The run's two ends shrink to whole
    // pages; each boundary inside it moves up to the next page boundary, so
    // a page a node boundary cuts goes to the node holding its first byte
    // and the run loses no page.
    RangeWriter w{next_, capacity_};
    for (size_t i = 0; i < count_;) {
        if (cur_[i].type != MemType::usable) {
            w.emit(cur_[i++]);
            continue;
        }
        size_t j = i + 1;
        while (j < count_ && cur_[j].type == MemType::usable && cur_[j].start == cur_[j - 1].end) ++j;
        const uint64_t lo = page_up(cur_[i].start), hi = page_down(cur_[j - 1].end);
        const auto inside = [&](uint64_t a) { return a < lo ? lo : a > hi ? hi : a; };
        for (size_t k = i; k < j; ++k) {
            MemRange r = cur_[k];
            r.start = k == i ? lo : inside(page_up(r.start));
            r.end = k + 1 == j ? hi : inside(page_up(r.end));
            w.emit(r); // an empty range (a node left with no whole page) is dropped
        }
        i = j;
    }
    publish(w.n);
}

uint64_t MemoryMap::bytes(MemType t) const {
    uint64_t sum = 0;
    for (size_t i = 0; i < count_; ++i)
        if (cur_[i].type == t) sum += cur_[i].size();
    return sum;
}

uint64_t MemoryMap::bytes_in_node(uint16_t node, MemType t) const {
    uint64_t sum = 0;
    for (size_t i = 0; i < count_; ++i)
        if (cur_[i].type == t && cur_[i].node == node) sum += cur_[i].size();
    return sum;
}

unsigned MemoryMap::node_count() const {
    uint64_t seen = 0;
    static_assert(kMaxNodes <= 64, "node bitmap is one word");
    for (size_t i = 0; i < count_; ++i) seen |= uint64_t{1} << cur_[i].node;
    unsigned n = 0;
    for (; seen; seen &= seen - 1) ++n;
    return n ? n : 1;
}

const MemRange *MemoryMap::find(uint64_t addr) const {
    size_t lo = 0, hi = count_;
    while (lo < hi) { // first range whose end is above addr
        size_t mid = lo + (hi - lo) / 2;
        if (cur_[mid].end <= addr) lo = mid + 1;
        else hi = mid;
    }
    return lo < count_ && cur_[lo].contains(addr) ? &cur_[lo] : nullptr;
}

Status MemoryMap::check() const {
    if (count_ > capacity_) return make_error(Errc::malformed, "map holds more ranges than capacity");
    for (size_t i = 0; i < count_; ++i) {
        const MemRange &r = cur_[i];
        if (r.start >= r.end) return make_error(Errc::malformed, "empty or inverted range in map");
        if (r.end > kPhysAddrLimit)
            return make_error(Errc::malformed, "range above the physical address limit");
        if (static_cast<uint8_t>(r.type) >= kMemTypeCount)
            return make_error(Errc::malformed, "range with an unknown type");
        if (r.node >= kMaxNodes) return make_error(Errc::malformed, "range with a bad node id");
        if (r.type == MemType::usable && (r.start % kPageSize || r.end % kPageSize))
            return make_error(Errc::malformed, "usable range not page-aligned");
        if (i > 0) {
            const MemRange &p = cur_[i - 1];
            if (p.end > r.start) return make_error(Errc::malformed, "ranges overlap or unsorted");
            if (p.end == r.start && same_attrs(p, r))
                return make_error(Errc::malformed, "adjacent equal ranges not merged");
        }
    }
    return {};
}

} // namespace kmem
