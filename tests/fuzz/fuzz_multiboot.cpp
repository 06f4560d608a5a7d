// SPDX-License-Identifier: MIT
//
// libFuzzer target: the same bytes through all three Multiboot parsers (mb1
// mmap buffer, mb2 memory-map tag, mb2 boot information). A successful parse
// must leave a map that passes check(); a failed one must leave it empty and
// point at a byte (or be one of error_contract.h's).
#include <kmem/memmap_parse.h>

#include "error_contract.h"

#include <stddef.h>
#include <stdint.h>

namespace {

using Parser = kmem::Status (*)(const void *, size_t, kmem::MemoryMap &);

template <class Map> void run(Parser parse, const uint8_t *data, size_t size) {
    Map m;
    if (!m.add(0x1000, 0x2000, kmem::MemType::usable).ok()) __builtin_trap();
    kmem::Status s = parse(data, size, m);
    if (s.ok() ? !m.check().ok() || m.empty() : !m.empty()) __builtin_trap();
    if (!s.ok() && !kmem::fuzz::located(s, size, 0)) __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static constexpr Parser kParsers[] = {
        kmem::parse_multiboot1_mmap, kmem::parse_multiboot2_mmap_tag, kmem::parse_multiboot2_info};
    for (Parser p : kParsers) {
        run<kmem::StaticMemoryMap<>>(p, data, size);
        run<kmem::StaticMemoryMap<3>>(p, data, size); // capacity errors
    }
    return 0;
}
