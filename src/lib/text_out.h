// SPDX-License-Identifier: MIT
//
// DOC: TextOut - printf-free text formatting for reports (private).
//
// Collects a line in a small buffer and hands it to a ReportSink when the
// buffer fills or the text is flushed; numbers are formatted by hand.
#pragma once

#include <kmem/report_sink.h>

#include <stddef.h>
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
    // s left-aligned in `width` columns.
    TextOut &str_left(const char *s, unsigned width) {
        unsigned len = 0;
        for (; s[len]; ++len) put(s[len]);
        for (; len < width; ++len) put(' ');
        return *this;
    }
    // prefix followed by v in decimal, into buf (always NUL-terminated).
    static void format_into(char *buf, size_t size, const char *prefix, uint64_t v) {
        size_t n = 0;
        for (; prefix[n] && n + 1 < size; ++n) buf[n] = prefix[n];
        char digits[21];
        unsigned d = 0;
        do {
            digits[d++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v);
        while (d && n + 1 < size) buf[n++] = digits[--d];
        buf[n] = '\0';
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
