// SPDX-License-Identifier: MIT
//
// libFuzzer target: format detection and parse_memory_map() with automatic
// detection, i.e. whatever parser the bytes steer it to. A successful parse
// must leave a map that passes check(); a failed one must leave it empty and
// say where (error_contract.h); the format reported as used must be the one
// detected.
#include <kmem/memmap_parse.h>

#include "error_contract.h"

#include <stddef.h>
#include <stdint.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const kmem::MapFormat detected = kmem::detect_map_format(data, size);
    if (detected == kmem::MapFormat::sysfs) __builtin_trap();
    if (kmem::map_format_from_name(kmem::map_format_name(detected)) != detected) __builtin_trap();

    static kmem::StaticMemoryMap<> m; // 16 KiB: keep it off the fuzzer's stack
    if (!m.add(0x1000, 0x2000, kmem::MemType::usable).ok()) __builtin_trap();
    kmem::MapFormat used = kmem::MapFormat::sysfs;
    kmem::Status s = kmem::parse_memory_map(data, size, kmem::ParseOptions{}, m, &used);
    if (used != detected) __builtin_trap();
    if (s.ok() ? !m.check().ok() : !m.empty()) __builtin_trap();
    if (!s.ok() && !kmem::fuzz::located(s, size, kmem::fuzz::count_lines(data, size))) __builtin_trap();
    m.clear();
    return 0;
}
