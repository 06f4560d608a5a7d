// libFuzzer target for parse_fdt: any input must either parse into a map that
// passes check(), or fail and leave the map empty. Never crash, never read
// outside the buffer (ASan), never hit undefined behaviour (UBSan).
#include <kmem/memmap_parse.h>

#include <stddef.h>
#include <stdint.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static kmem::StaticMemoryMap<> map; // static: keep the 2 x 256 ranges off the stack
    kmem::FdtInfo info;
    const kmem::Status s = kmem::parse_fdt(data, size, map, &info);
    if (s.ok()) {
        if (!map.check().ok()) __builtin_trap();
    } else {
        if (!map.empty()) __builtin_trap();
        if (s.reason() == nullptr || s.reason()[0] == '\0') __builtin_trap();
        if (s.error().where != kmem::Where::byte && s.code() != kmem::Errc::invalid_argument)
            __builtin_trap();
        if (s.error().where == kmem::Where::byte && s.error().at > size) __builtin_trap();
    }
    return 0;
}
