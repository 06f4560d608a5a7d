// libFuzzer: Linux console text, and sysfs entries cut from the same input.
// Any input must either parse into a map that passes check(), or fail, leave
// the map empty and say where (error_contract.h).
#include <kmem/memmap_parse.h>

#include "error_contract.h"

#include <stddef.h>
#include <stdint.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static kmem::StaticMemoryMap<> map;
    const char *text = reinterpret_cast<const char *>(data);
    kmem::TextMapInfo info;
    kmem::Status s = kmem::parse_linux_text(text, size, map, &info);
    if (s.ok() ? !map.check().ok() : !map.empty()) __builtin_trap();
    if (s.ok() && info.entries == 0) __builtin_trap();
    if (!s.ok() && !kmem::fuzz::located(s, size, kmem::fuzz::count_lines(data, size))) __builtin_trap();

    // The same bytes as the three files of a sysfs entry, split in thirds.
    static kmem::StaticMemoryMap<8> entry;
    entry.clear();
    const size_t third = size / 3;
    kmem::SysfsFile bad = kmem::SysfsFile::none;
    s = kmem::add_sysfs_memmap_entry(entry, text, third, text + third, third,
                                     text + 2 * third, size - 2 * third, &bad);
    entry.trim_usable_to_pages();
    if (!entry.check().ok()) __builtin_trap();
    if (!s.ok() && !entry.empty()) __builtin_trap();
    // A sysfs refusal names one of the entry's files and a line of it, or
    // (the map's capacity) the entry as a whole.
    if (!s.ok() && (bad == kmem::SysfsFile::none) != (s.error().where == kmem::Where::none)) __builtin_trap();
    return 0;
}
