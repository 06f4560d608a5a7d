// Helpers for the tests of the binary map parsers (EFI, multiboot, detection).
#pragma once

#include <kmem/memmap.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace kmem::test {

using Bytes = std::vector<uint8_t>;

// Little-endian stores into a buffer being built.
inline void put32(Bytes &b, size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void put64(Bytes &b, size_t off, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

inline Bytes read_bytes(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    EXPECT_TRUE(f.good()) << "cannot open " << path;
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Fill a map with something, so a test can see that a failed parse empties it.
inline void prefill(MemoryMap &m) { ASSERT_TRUE(m.add(0x1000, 0x2000, MemType::usable).ok()); }

// A parse failed with `code` at byte `at`, and left the map empty.
inline void expect_byte_error(const Status &s, Errc code, uint64_t at, const MemoryMap &m) {
    EXPECT_EQ(s.code(), code) << s.reason();
    EXPECT_EQ(s.error().where, Where::byte);
    EXPECT_EQ(s.error().at, at);
    EXPECT_TRUE(m.empty());
}

} // namespace kmem::test
