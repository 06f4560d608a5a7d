// SPDX-License-Identifier: MIT
//
// DOC: the raw UEFI memory map (EFI_MEMORY_DESCRIPTOR array).
//
// GetMemoryMap() hands over map_size bytes of descriptors, desc_size bytes
// apart, each (little-endian) laid out as
//
//   +0  u32 Type        +8  u64 PhysicalStart   +16 u64 VirtualStart
//   +4  u32 (padding)   +24 u64 NumberOfPages   +32 u64 Attribute
//
// which is 40 bytes; firmware may append fields, so the stride is always the
// reported desc_size (usually 48), never sizeof. Pages are 4 KiB whatever the
// CPU's page size. Types and attributes become MemTypes through
// efi_to_mem_type() (efi_types.h), the same mapping the parser of Linux's
// "efi: memNN" lines uses. Descriptors may come in any order and a zero-page
// descriptor describes nothing; MemoryMap sorts, merges and resolves overlaps.
#include <kmem/memmap_parse.h>

#include "byte_reader.h"
#include "efi_types.h"

namespace kmem {
namespace {

using detail::ByteReader;

constexpr uint64_t kEfiPageSize = 4096;

Error at_byte(Errc code, const char *reason, uint64_t off) {
    return make_error(code, reason, Where::byte, off);
}

Status check_layout(size_t map_size, size_t desc_size, uint32_t desc_version) {
    if (desc_size < kEfiDescriptorMinSize)
        return make_error(Errc::malformed,
                          "EFI descriptor size is smaller than EFI_MEMORY_DESCRIPTOR (40 bytes)");
    if (desc_size % 8 != 0)
        return make_error(Errc::malformed, "EFI descriptor size is not a multiple of 8");
    if (desc_version != kEfiDescriptorVersion)
        return make_error(Errc::unsupported_version, "EFI descriptor version is not 1");
    if (map_size == 0) return make_error(Errc::no_entries, "EFI memory map is empty");
    if (map_size % desc_size != 0)
        return at_byte(Errc::truncated, "EFI memory map ends inside a descriptor",
                       map_size - map_size % desc_size);
    return {};
}

Status add_descriptor(const ByteReader &r, size_t off, MemoryMap &out) {
    uint32_t type = 0;
    uint64_t start = 0, pages = 0, attr = 0;
    if (!r.le32(off, type) || !r.le64(off + 8, start) || !r.le64(off + 24, pages) ||
        !r.le64(off + 32, attr))
        return at_byte(Errc::truncated, "EFI memory map ends inside a descriptor", off);

    MemType mt;
    if (!detail::efi_to_mem_type(type, attr, mt))
        return at_byte(Errc::unknown_type, "EFI memory type is not defined by UEFI", off);
    if (start % kEfiPageSize != 0)
        return at_byte(Errc::malformed, "EFI PhysicalStart is not 4 KiB aligned", off);
    if (pages == 0) return {};
    if (pages > UINT64_MAX / kEfiPageSize)
        return at_byte(Errc::invalid_range, "EFI NumberOfPages overflows 64 bits", off);
    const uint64_t size = pages * kEfiPageSize;
    if (start > UINT64_MAX - size)
        return at_byte(Errc::invalid_range, "EFI range wraps past the top of the 64-bit space",
                       off);

    Status s = out.add_untrimmed(start, start + size, mt);
    if (!s.ok()) return at_byte(s.code(), s.reason(), off);
    return {};
}

Status parse_into(const void *buf, size_t map_size, size_t desc_size, uint32_t desc_version,
                  MemoryMap &out) {
    if (buf == nullptr && map_size != 0)
        return make_error(Errc::invalid_argument, "null EFI memory map buffer");
    KMEM_TRY(check_layout(map_size, desc_size, desc_version));
    const ByteReader r(buf, map_size);
    for (size_t off = 0; off < map_size; off += desc_size)
        KMEM_TRY(add_descriptor(r, off, out));
    out.trim_usable_to_pages();
    if (out.empty()) return make_error(Errc::no_entries, "EFI memory map describes no memory");
    return {};
}

} // namespace

Status parse_efi_memory_map(const void *buf, size_t map_size, size_t desc_size,
                            uint32_t desc_version, MemoryMap &out) {
    out.clear();
    Status s = parse_into(buf, map_size, desc_size, desc_version, out);
    if (!s.ok()) out.clear();
    return s;
}

} // namespace kmem
