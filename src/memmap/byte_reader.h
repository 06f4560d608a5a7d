// SPDX-License-Identifier: MIT
//
// DOC: bounds-checked reads from untrusted binary buffers (private to memmap/).
//
// Firmware and boot-loader structures are read byte by byte, never through a
// cast pointer: the buffer may be unaligned, truncated or hostile. Every read
// says whether it fit; callers turn a miss into Errc::truncated with the byte
// offset of the structure that did not fit.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kmem::detail {

class ByteReader {
public:
    constexpr ByteReader(const void *buf, size_t len)
        : p_(static_cast<const uint8_t *>(buf)), len_(buf ? len : 0) {}

    constexpr size_t size() const { return len_; }
    const uint8_t *data() const { return p_; }
    // True if [off, off + n) lies inside the buffer (overflow-safe).
    constexpr bool fits(size_t off, size_t n) const { return off <= len_ && n <= len_ - off; }

    bool le32(size_t off, uint32_t &v) const { return read<uint32_t>(off, v, false); }
    bool le64(size_t off, uint64_t &v) const { return read<uint64_t>(off, v, false); }
    bool be32(size_t off, uint32_t &v) const { return read<uint32_t>(off, v, true); }
    bool be64(size_t off, uint64_t &v) const { return read<uint64_t>(off, v, true); }

    // Length of the NUL-terminated string at off, if it ends inside [off, limit).
    bool cstr(size_t off, size_t limit, size_t &n) const {
        if (limit > len_) limit = len_;
        for (size_t i = off; i < limit; ++i)
            if (p_[i] == 0) {
                n = i - off;
                return true;
            }
        return false;
    }

private:
    template <class T> bool read(size_t off, T &v, bool big) const {
        if (!fits(off, sizeof(T))) return false;
        T x = 0;
        for (size_t i = 0; i < sizeof(T); ++i) {
            size_t idx = big ? i : sizeof(T) - 1 - i;
            x = static_cast<T>((x << 8) | p_[off + idx]);
        }
        v = x;
        return true;
    }

    const uint8_t *p_;
    size_t len_;
};

} // namespace kmem::detail
