// SPDX-License-Identifier: MIT
//
// libFuzzer target: parse_efi_memory_map() on arbitrary bytes. The first two
// input bytes are the descriptor size and version (so 40, 48, 56, odd sizes
// and wrong versions are all explored); the rest is the descriptor array.
// A successful parse must leave a map that passes check(); a failed one must
// leave it empty and point at a byte (or be one of error_contract.h's).
#include <kmem/memmap_parse.h>

#include "error_contract.h"

#include <stddef.h>
#include <stdint.h>

namespace {

template <class Map> void run(const uint8_t *map, size_t len, size_t desc_size, uint32_t version) {
    Map m;
    if (!m.add(0x1000, 0x2000, kmem::MemType::usable).ok()) __builtin_trap();
    kmem::Status s = kmem::parse_efi_memory_map(map, len, desc_size, version, m);
    if (s.ok() ? !m.check().ok() || m.empty() : !m.empty()) __builtin_trap();
    if (!s.ok() && !kmem::fuzz::located(s, len, 0)) __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const size_t desc_size = data[0];
    const uint32_t version = data[1];
    run<kmem::StaticMemoryMap<>>(data + 2, size - 2, desc_size, version);
    run<kmem::StaticMemoryMap<3>>(data + 2, size - 2, desc_size, version); // capacity errors
    return 0;
}
