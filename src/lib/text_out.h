// SPDX-License-Identifier: MIT
//
// DOC: TextOut - printf-free text formatting for reports (private).
//
// Collects a line in a small buffer and hands it to a ReportSink when the
// buffer fills or the text is flushed; numbers are formatted by hand.
#pragma once

#include <kmem/report.h>

#include <stdint.h>

namespace kmem {

class TextOut {
public:
    TextOut(ReportSink sink, void *ctx) : sink_(sink), ctx_(ctx) {}
    ~TextOut() { flush(); }
    TextOut(const TextOut &) = delete;
    TextOut &operator=(const TextOut &) = delete;

    TextOut &str(const char *s) {
        while (*s) put(*s++);
        return *this;
    }
    // s right-aligned in `width` columns.
    TextOut &str_right(const char *s, unsigned width) {
        unsigned len = 0;
        while (s[len]) ++len;
        for (; len < width; ++len) put(' ');
        return str(s);
    }
    // v in decimal, right-aligned in `width` columns.
    TextOut &num(uint64_t v, unsigned width = 0) {
        char digits[21];
        unsigned n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v);
        for (unsigned i = n; i < width; ++i) put(' ');
        while (n) put(digits[--n]);
        return *this;
    }
    TextOut &hex(uint64_t v) {
        str("0x");
        bool started = false;
        for (int shift = 60; shift >= 0; shift -= 4) {
            const unsigned d = (v >> shift) & 0xf;
            if (d || started || shift == 0) {
                put(static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10));
                started = true;
            }
        }
        return *this;
    }
    TextOut &nl() {
        put('\n');
        flush();
        return *this;
    }
    void flush() {
        if (n_) sink_(ctx_, buf_, n_);
        n_ = 0;
    }

private:
    void put(char c) {
        if (n_ == sizeof buf_) flush();
        buf_[n_++] = c;
    }
    ReportSink sink_;
    void *ctx_;
    char buf_[128];
    unsigned n_ = 0;
};

} // namespace kmem
