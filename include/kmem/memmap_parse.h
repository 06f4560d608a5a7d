// SPDX-License-Identifier: MIT
//
// DOC: firmware memory-map parsers.
//
// Each parser reads one form in which firmware or a boot loader describes
// physical memory, straight from a buffer in memory (no files, no allocation),
// and fills a MemoryMap. On success the map is sanitized (see memmap.h). On
// failure the Status says why and where (line for text, byte offset for binary
// input) and the map is left empty: a broken map is never half-accepted.
//
// Forms:
//   - Linux console text: BIOS-e820 lines in every printk format Linux has
//     used, efi: memNN lines (old and new format), and NUMA lines (SRAT, NUMA:,
//     "node N: [mem ...]") that assign nodes. See parse_linux_text.cpp.
//   - /sys/firmware/memmap entries (start, end, type as the files hold them).
//   - UEFI: the raw EFI_MEMORY_DESCRIPTOR array from GetMemoryMap().
//   - Multiboot 1 mmap buffer; Multiboot 2 memory-map tag or whole boot info.
//   - Flattened device tree blobs (/memory, /reserved-memory, memreserve).
#pragma once

#include <kmem/memmap.h>

#include <stddef.h>
#include <stdint.h>

namespace kmem {

enum class MapFormat : uint8_t {
    unknown,
    linux_text,        // console text (dmesg)
    efi,               // raw EFI_MEMORY_DESCRIPTOR array
    multiboot1,        // Multiboot 1 mmap buffer (mmap_addr, mmap_length)
    multiboot2_tag,    // Multiboot 2 memory-map tag (type 6) alone
    multiboot2_info,   // Multiboot 2 boot information structure
    fdt,               // flattened device tree blob
    sysfs,             // /sys/firmware/memmap directory (read by the tools)
};

const char *map_format_name(MapFormat f);
// Parse a format name as accepted on the command line ("e820", "text", "efi",
// "mb1", "multiboot1", "mb2", "multiboot2", "fdt", "dtb", "sysfs").
MapFormat map_format_from_name(const char *name);

// Guess the format of a buffer from its content (magic numbers and structure).
// Never returns sysfs (a directory, not a buffer).
MapFormat detect_map_format(const void *buf, size_t len);

// What a text parse found, for reports.
struct TextMapInfo {
    enum class Source : uint8_t { none, e820, efi, node_ranges };
    Source source = Source::none; // which lines the map was built from
    uint32_t e820_lines = 0;      // BIOS-e820 entries seen (gaps excluded)
    uint32_t efi_lines = 0;       // efi: memNN entries seen
    uint32_t numa_ranges = 0;     // node affinity ranges applied
    uint32_t entries = 0;         // firmware entries the map was built from
};
const char *text_source_name(TextMapInfo::Source s);

Status parse_linux_text(const char *text, size_t len, MemoryMap &out,
                        TextMapInfo *info = nullptr);

// One /sys/firmware/memmap/N entry: the contents of its start, end (inclusive)
// and type files. Adds to `out` without page trimming; call
// out.trim_usable_to_pages() after the last entry. An error about one file
// sets *bad_file (if given) to it and points at a line of it; one about the
// entry as a whole (the map's capacity) sets SysfsFile::none.
enum class SysfsFile : uint8_t { none, start, end, type };
const char *sysfs_file_name(SysfsFile f); // "start", "end", "type" ("" for none)
Status add_sysfs_memmap_entry(MemoryMap &out, const char *start, size_t start_len,
                              const char *end, size_t end_len, const char *type,
                              size_t type_len, SysfsFile *bad_file = nullptr);

// UEFI memory map as GetMemoryMap() returns it.
inline constexpr uint32_t kEfiDescriptorVersion = 1;
inline constexpr size_t kEfiDescriptorMinSize = 40; // sizeof(EFI_MEMORY_DESCRIPTOR)
Status parse_efi_memory_map(const void *buf, size_t map_size, size_t desc_size,
                            uint32_t desc_version, MemoryMap &out);

// Multiboot 1: the buffer at mmap_addr, mmap_length bytes long.
Status parse_multiboot1_mmap(const void *buf, size_t len, MemoryMap &out);
// Multiboot 2: one memory-map tag (type 6), or the whole boot information
// structure (total_size, reserved, tags...) in which the tag is looked up.
Status parse_multiboot2_mmap_tag(const void *buf, size_t len, MemoryMap &out);
Status parse_multiboot2_info(const void *buf, size_t len, MemoryMap &out);

// What an FDT parse found, for reports.
struct FdtInfo {
    uint32_t version = 0;
    uint32_t memory_nodes = 0;       // nodes with device_type = "memory"
    uint32_t memory_regs = 0;        // (address, size) pairs in their reg
    uint32_t reserved_regions = 0;   // /reserved-memory children with reg
    uint32_t dynamic_reserved = 0;   // /reserved-memory children with only size
    uint32_t memreserve_entries = 0; // entries in the memory reservation block
};
Status parse_fdt(const void *blob, size_t len, MemoryMap &out, FdtInfo *info = nullptr);

// Parse a buffer in the given (or detected, for MapFormat::unknown) format.
// EFI needs its descriptor size and version, which are not in the buffer.
struct ParseOptions {
    MapFormat format = MapFormat::unknown;
    size_t efi_desc_size = 48;
    uint32_t efi_desc_version = kEfiDescriptorVersion;
};
Status parse_memory_map(const void *buf, size_t len, const ParseOptions &opts,
                        MemoryMap &out, MapFormat *used = nullptr);

} // namespace kmem
