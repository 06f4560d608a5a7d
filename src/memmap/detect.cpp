// SPDX-License-Identifier: MIT
//
// DOC: map formats - names, detection from content, and the generic parse.
//
// detect_map_format() looks at a buffer and guesses which form of memory map
// it holds, trying the forms with the strongest evidence first:
//
//   1. FDT            magic 0xd00dfeed (big-endian) at offset 0
//   2. multiboot2     total_size == len, reserved == 0, a well-formed first tag
//   3. multiboot2 tag type 6, 16 <= size <= len, entry_size 24
//   4. multiboot1     a chain of entries (size >= 20) that ends exactly at len
//   5. EFI            len a multiple of 48; every descriptor has a type UEFI
//                     defines (or an OEM/OS one) and a 4 KiB-aligned start
//   6. text           no NUL bytes; nearly all bytes printable or UTF-8
//
// Binary forms come before text because text never contains the zero bytes
// their small integers need. parse_memory_map() parses a buffer in a given
// format, or the detected one, by calling the format's own parser.
#include <kmem/memmap_parse.h>

#include "byte_reader.h"
#include "efi_types.h"

namespace kmem {
namespace {

using detail::ByteReader;

constexpr uint32_t kFdtMagic = 0xd00dfeed;
constexpr size_t kEfiDetectStride = 48; // what firmware reports in practice

bool str_eq(const char *a, const char *b) {
    for (; *a && *a == *b; ++a, ++b) {
    }
    return *a == *b;
}

bool is_fdt(const ByteReader &r) {
    uint32_t magic = 0;
    return r.be32(0, magic) && magic == kFdtMagic;
}

bool is_mb2_info(const ByteReader &r) {
    uint32_t total = 0, reserved = 0, size = 0;
    if (r.size() < 16 || !r.le32(0, total) || !r.le32(4, reserved) || !r.le32(12, size))
        return false;
    return total == r.size() && reserved == 0 && size >= 8 && size <= r.size() - 8;
}

bool is_mb2_tag(const ByteReader &r) {
    uint32_t type = 0, size = 0, entry_size = 0;
    if (!r.le32(0, type) || !r.le32(4, size) || !r.le32(8, entry_size)) return false;
    return type == 6 && size >= 16 && size <= r.size() && entry_size == 24;
}

bool is_mb1(const ByteReader &r) {
    size_t off = 0;
    while (off < r.size()) {
        uint32_t size = 0;
        if (!r.le32(off, size) || size < 20 || !r.fits(off + 4, size)) return false;
        off += size_t{size} + 4;
    }
    return r.size() > 0;
}

bool is_efi(const ByteReader &r) {
    if (r.size() == 0 || r.size() % kEfiDetectStride != 0) return false;
    for (size_t off = 0; off < r.size(); off += kEfiDetectStride) {
        uint32_t type = 0;
        uint64_t start = 0;
        r.le32(off, type);
        r.le64(off + 8, start);
        if (type >= detail::kEfiTypeCount && type < detail::kEfiOemFirst) return false;
        if (start % 4096 != 0) return false;
    }
    return true;
}

// Length of the well-formed UTF-8 sequence at i (0 if there is none).
size_t utf8_len(const ByteReader &r, size_t i) {
    const uint8_t *p = r.data();
    const uint8_t c = p[i];
    const size_t n = c >= 0xc2 && c <= 0xdf   ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
    if (n == 0 || !r.fits(i, n)) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((p[i + k] & 0xc0) != 0x80) return 0;
    return n;
}

// No NUL, and at most one byte in 16 neither printable ASCII, whitespace nor
// part of well-formed UTF-8 (mail quotes carry dashes; logs carry escapes).
bool is_text(const ByteReader &r) {
    if (r.size() == 0) return false;
    size_t odd = 0;
    for (size_t i = 0; i < r.size();) {
        const uint8_t c = r.data()[i];
        if (c == 0) return false;
        const bool space = c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v';
        if (c >= 0x80) {
            const size_t n = utf8_len(r, i);
            if (n != 0) {
                i += n;
                continue;
            }
            ++odd;
        } else if ((c < 0x20 && !space) || c == 0x7f) {
            ++odd;
        }
        ++i;
    }
    return odd * 16 <= r.size();
}

Status parse_as(MapFormat f, const void *buf, size_t len, const ParseOptions &opts,
                MemoryMap &out) {
    switch (f) {
    case MapFormat::linux_text: return parse_linux_text(static_cast<const char *>(buf), len, out);
    case MapFormat::efi:
        return parse_efi_memory_map(buf, len, opts.efi_desc_size, opts.efi_desc_version, out);
    case MapFormat::multiboot1: return parse_multiboot1_mmap(buf, len, out);
    case MapFormat::multiboot2_tag: return parse_multiboot2_mmap_tag(buf, len, out);
    case MapFormat::multiboot2_info: {
        uint32_t first = 0;
        if (ByteReader(buf, len).le32(0, first) && first == 6)
            return parse_multiboot2_mmap_tag(buf, len, out);
        return parse_multiboot2_info(buf, len, out);
    }
    case MapFormat::fdt: return parse_fdt(buf, len, out);
    case MapFormat::sysfs:
        return make_error(Errc::invalid_argument,
                          "sysfs is a directory, not a buffer (read its entries instead)");
    case MapFormat::unknown: break;
    }
    if (len == 0) return make_error(Errc::no_entries, "empty input holds no memory map");
    return make_error(Errc::bad_magic, "input is not a memory map format kmem recognizes");
}

} // namespace

const char *map_format_name(MapFormat f) {
    switch (f) {
    case MapFormat::unknown: return "unknown";
    case MapFormat::linux_text: return "text";
    case MapFormat::efi: return "efi";
    case MapFormat::multiboot1: return "multiboot1";
    case MapFormat::multiboot2_tag: return "multiboot2-tag";
    case MapFormat::multiboot2_info: return "multiboot2";
    case MapFormat::fdt: return "fdt";
    case MapFormat::sysfs: return "sysfs";
    }
    return "unknown";
}

MapFormat map_format_from_name(const char *name) {
    struct Alias {
        const char *name;
        MapFormat format;
    };
    static constexpr Alias kAliases[] = {
        {"text", MapFormat::linux_text},
        {"e820", MapFormat::linux_text},
        {"linux", MapFormat::linux_text},
        {"dmesg", MapFormat::linux_text},
        {"efi", MapFormat::efi},
        {"uefi", MapFormat::efi},
        {"mb1", MapFormat::multiboot1},
        {"multiboot1", MapFormat::multiboot1},
        {"mb2", MapFormat::multiboot2_info},
        {"multiboot2", MapFormat::multiboot2_info},
        {"mb2-tag", MapFormat::multiboot2_tag},
        {"multiboot2-tag", MapFormat::multiboot2_tag},
        {"fdt", MapFormat::fdt},
        {"dtb", MapFormat::fdt},
        {"sysfs", MapFormat::sysfs},
        {"auto", MapFormat::unknown},
    };
    if (name == nullptr) return MapFormat::unknown;
    for (const Alias &a : kAliases)
        if (str_eq(name, a.name)) return a.format;
    return MapFormat::unknown;
}

const char *text_source_name(TextMapInfo::Source s) {
    switch (s) {
    case TextMapInfo::Source::none: return "none";
    case TextMapInfo::Source::e820: return "e820";
    case TextMapInfo::Source::efi: return "efi";
    case TextMapInfo::Source::node_ranges: return "node ranges";
    }
    return "none";
}

MapFormat detect_map_format(const void *buf, size_t len) {
    const ByteReader r(buf, len);
    if (is_fdt(r)) return MapFormat::fdt;
    if (is_mb2_info(r)) return MapFormat::multiboot2_info;
    if (is_mb2_tag(r)) return MapFormat::multiboot2_tag;
    if (is_mb1(r)) return MapFormat::multiboot1;
    if (is_efi(r)) return MapFormat::efi;
    if (is_text(r)) return MapFormat::linux_text;
    return MapFormat::unknown;
}

Status parse_memory_map(const void *buf, size_t len, const ParseOptions &opts, MemoryMap &out,
                        MapFormat *used) {
    out.clear();
    if (buf == nullptr && len != 0) {
        if (used) *used = opts.format;
        return make_error(Errc::invalid_argument, "null memory map buffer");
    }
    const MapFormat f =
        opts.format == MapFormat::unknown ? detect_map_format(buf, len) : opts.format;
    if (used) *used = f;
    Status s = parse_as(f, buf, len, opts, out);
    if (!s.ok()) out.clear();
    return s;
}

} // namespace kmem
