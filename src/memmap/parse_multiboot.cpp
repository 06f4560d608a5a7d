// SPDX-License-Identifier: MIT
//
// DOC: Multiboot 1 and Multiboot 2 memory maps.
//
// Multiboot 1 (spec 0.6.96, 3.3): the buffer at mmap_addr holds entries
//
//   +0 u32 size   +4 u64 base_addr   +12 u64 length   +20 u32 type
//
// where size counts the bytes after the size field itself (20 or more), so
// the next entry starts size + 4 bytes further on.
//
// Multiboot 2 (spec 2.0, 3.6.8): the memory-map tag is
//
//   +0 u32 type = 6   +4 u32 size   +8 u32 entry_size   +12 u32 entry_version = 0
//   +16 entries of entry_size bytes: u64 base_addr, u64 length, u32 type, u32 reserved
//
// and sits among other tags in the boot information structure: u32
// total_size, u32 reserved, then tags {u32 type, u32 size, ...}, each starting
// 8-byte aligned, ended by a tag of type 0.
//
// Both versions use the same type numbers (those of e820): 1 available,
// 3 ACPI reclaimable, 4 ACPI NVS, 5 bad RAM; anything else is reserved.
// Everything is little-endian (x86).
#include <kmem/memmap_parse.h>

#include "byte_reader.h"

namespace kmem {
namespace {

using detail::ByteReader;

constexpr uint32_t kMb2TagEnd = 0;
constexpr uint32_t kMb2TagMmap = 6;
constexpr size_t kMb1MinEntry = 20;   // base, length, type
constexpr size_t kMb2MmapHeader = 16; // type, size, entry_size, entry_version
constexpr size_t kMb2MinEntry = 24;   // base, length, type, reserved
constexpr size_t kMb2InfoHeader = 8;  // total_size, reserved
constexpr size_t kMb2TagHeader = 8;   // type, size

Error at_byte(Errc code, const char *reason, uint64_t off) {
    return make_error(code, reason, Where::byte, off);
}

MemType multiboot_type(uint32_t t) {
    switch (t) {
    case 1: return MemType::usable;
    case 3: return MemType::acpi_reclaimable;
    case 4: return MemType::acpi_nvs;
    case 5: return MemType::unusable;
    default: return MemType::reserved;
    }
}

// One (base, length, type) entry; `off` is its byte offset for errors.
Status add_entry(uint64_t base, uint64_t length, uint32_t type, uint64_t off, MemoryMap &out) {
    if (base > UINT64_MAX - length)
        return at_byte(Errc::invalid_range,
                       "multiboot range wraps past the top of the 64-bit space", off);
    Status s = out.add_untrimmed(base, base + length, multiboot_type(type));
    if (!s.ok()) return at_byte(s.code(), s.reason(), off);
    return {};
}

Status finish(MemoryMap &out) {
    out.trim_usable_to_pages();
    if (out.empty())
        return make_error(Errc::no_entries, "multiboot memory map describes no memory");
    return {};
}

Status mb1_into(const ByteReader &r, MemoryMap &out) {
    if (r.size() == 0) return make_error(Errc::no_entries, "multiboot memory map is empty");
    for (size_t off = 0; off < r.size();) {
        uint32_t size = 0, type = 0;
        uint64_t base = 0, length = 0;
        if (!r.le32(off, size))
            return at_byte(Errc::truncated, "multiboot buffer ends inside an entry's size field",
                           off);
        if (size < kMb1MinEntry)
            return at_byte(Errc::malformed, "multiboot entry size is below 20", off);
        if (!r.fits(off + 4, size))
            return at_byte(Errc::truncated, "multiboot buffer ends inside an entry", off);
        r.le64(off + 4, base);
        r.le64(off + 12, length);
        r.le32(off + 20, type);
        KMEM_TRY(add_entry(base, length, type, off, out));
        off += size_t{size} + 4; // fits() above: off + 4 + size <= r.size()
    }
    return finish(out);
}

// The tag at [base, base + r.size()) of some larger buffer; offsets in errors
// are relative to that buffer.
Status mb2_tag_into(const ByteReader &r, size_t base, MemoryMap &out) {
    uint32_t type = 0, size = 0, entry_size = 0, version = 0;
    if (!r.le32(0, type) || !r.le32(4, size))
        return at_byte(Errc::truncated, "buffer ends inside the multiboot2 memory-map tag header",
                       base);
    if (type != kMb2TagMmap)
        return at_byte(Errc::bad_magic, "not a multiboot2 memory-map tag (type is not 6)", base);
    if (size < kMb2MmapHeader)
        return at_byte(Errc::malformed, "multiboot2 memory-map tag size is below 16", base + 4);
    if (!r.le32(8, entry_size) || !r.le32(12, version))
        return at_byte(Errc::truncated, "buffer ends inside the multiboot2 memory-map tag header",
                       base);
    if (entry_size < kMb2MinEntry || entry_size % 8 != 0)
        return at_byte(Errc::malformed,
                       "multiboot2 memory-map entry_size is below 24 or not a multiple of 8",
                       base + 8);
    if (version != 0)
        return at_byte(Errc::unsupported_version, "multiboot2 memory-map entry_version is not 0",
                       base + 12);
    if (!r.fits(0, size))
        return at_byte(Errc::truncated, "buffer ends inside the multiboot2 memory-map tag", base);
    if (size == kMb2MmapHeader)
        return at_byte(Errc::no_entries, "multiboot2 memory-map tag has no entries", base);
    for (size_t off = kMb2MmapHeader; off < size; off += entry_size) {
        if (entry_size > size - off)
            return at_byte(Errc::truncated, "multiboot2 memory-map tag ends inside an entry",
                           base + off);
        uint64_t start = 0, length = 0;
        uint32_t t = 0;
        r.le64(off, start);
        r.le64(off + 8, length);
        r.le32(off + 16, t);
        KMEM_TRY(add_entry(start, length, t, base + off, out));
    }
    return finish(out);
}

Status mb2_info_into(const ByteReader &r, MemoryMap &out) {
    uint32_t total = 0, reserved = 0;
    if (!r.le32(0, total) || !r.le32(4, reserved))
        return at_byte(Errc::truncated, "buffer ends inside the multiboot2 boot information header",
                       0);
    if (total < kMb2InfoHeader)
        return at_byte(Errc::malformed, "multiboot2 total_size is below 8", 0);
    if (total > r.size())
        return at_byte(Errc::truncated, "buffer is shorter than the multiboot2 total_size", 0);

    bool found = false;
    size_t mmap_off = 0, mmap_size = 0;
    for (size_t off = kMb2InfoHeader; off < total;) {
        uint32_t type = 0, size = 0;
        if (total - off < kMb2TagHeader)
            return at_byte(Errc::malformed, "multiboot2 tag header runs past total_size", off);
        r.le32(off, type);
        r.le32(off + 4, size);
        if (size < kMb2TagHeader)
            return at_byte(Errc::malformed, "multiboot2 tag size is below 8", off);
        if (size > total - off)
            return at_byte(Errc::malformed, "multiboot2 tag runs past total_size", off);
        if (type == kMb2TagEnd) break;
        if (type == kMb2TagMmap && !found) {
            found = true;
            mmap_off = off;
            mmap_size = size;
        }
        off += (size_t{size} + 7) & ~size_t{7}; // size <= total, no overflow
    }
    if (!found)
        return make_error(Errc::no_entries, "multiboot2 boot information has no memory-map tag");
    const ByteReader tag(r.data() + mmap_off, mmap_size);
    return mb2_tag_into(tag, mmap_off, out);
}

using Parser = Status (*)(const ByteReader &, MemoryMap &);

Status run(Parser p, const void *buf, size_t len, MemoryMap &out) {
    out.clear();
    Status s = (buf == nullptr && len != 0)
                   ? Status(make_error(Errc::invalid_argument, "null multiboot buffer"))
                   : p(ByteReader(buf, len), out);
    if (!s.ok()) out.clear();
    return s;
}

Status mb2_tag_at_zero(const ByteReader &r, MemoryMap &out) { return mb2_tag_into(r, 0, out); }

} // namespace

Status parse_multiboot1_mmap(const void *buf, size_t len, MemoryMap &out) {
    return run(mb1_into, buf, len, out);
}

Status parse_multiboot2_mmap_tag(const void *buf, size_t len, MemoryMap &out) {
    return run(mb2_tag_at_zero, buf, len, out);
}

Status parse_multiboot2_info(const void *buf, size_t len, MemoryMap &out) {
    return run(mb2_info_into, buf, len, out);
}

} // namespace kmem
