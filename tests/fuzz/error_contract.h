// SPDX-License-Identifier: MIT
//
// DOC: the parsers' error contract as the fuzz targets check it: a refusal
// points into the input (a line of text, a byte of a binary buffer) unless
// it concerns the input as a whole or the caller's arguments - the reasons
// listed here, and in docs/memmap.md ("Errors").
#pragma once

#include <kmem/result.h>

#include <cstring>

namespace kmem::fuzz {

inline bool whole_input_reason(const char *reason) {
    static const char *const kWhole[] = {
        // the input as a whole
        "no memory map in the text (no BIOS-e820, efi: memNN or node lines)",
        "EFI memory map is empty",
        "EFI memory map describes no memory",
        "multiboot memory map is empty",
        "multiboot memory map describes no memory",
        "multiboot2 boot information has no memory-map tag",
        "empty input holds no memory map",
        "input is not a memory map format kmem recognizes",
        // the caller's arguments (the EFI layout is not in the buffer)
        "EFI descriptor size is smaller than EFI_MEMORY_DESCRIPTOR (40 bytes)",
        "EFI descriptor size is not a multiple of 8",
        "EFI descriptor version is not 1",
    };
    for (const char *w : kWhole)
        if (std::strcmp(reason, w) == 0) return true;
    return false;
}

// A failed parse of `size` bytes of `lines` lines says where, or why it cannot.
inline bool located(const Status &s, size_t size, size_t lines) {
    const Error &e = s.error();
    if (e.reason == nullptr || e.reason[0] == '\0') return false;
    switch (e.where) {
    case Where::line: return e.at >= 1 && e.at <= lines;
    case Where::byte: return e.at <= size;
    case Where::none: return whole_input_reason(e.reason);
    }
    return false;
}

// Lines of text as the parsers count them (a last line without '\n' counts).
inline size_t count_lines(const uint8_t *data, size_t size) {
    size_t n = 0;
    for (size_t i = 0; i < size; ++i) n += data[i] == '\n';
    return n + (size && data[size - 1] != '\n');
}

} // namespace kmem::fuzz
