// SPDX-License-Identifier: MIT
//
// DOC: a cursor over one line of text (private to memmap/).
//
// The console-text and sysfs parsers read numbers and words with this cursor
// instead of libc (the core is freestanding). Every scan either consumes what
// it matched and returns true, or leaves the cursor where it was and returns
// false, so alternatives can be tried in turn.
//
// Words match whatever their case (ASCII): these forms are Linux's printk
// output as people copy it ("bios-e820:", "Usable", "USABLE" in old mailing
// list reports), not bytes a program wrote. A number ends where its digits
// do, and must not run into a letter ("0x3fffzfff" is no number).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kmem::detail {

constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool same_letter(char a, char b) { return lower(a) == lower(b); }
constexpr int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class LineCursor {
public:
    constexpr LineCursor(const char *p, const char *end) : p_(p), end_(end) {}

    bool at_end() const { return p_ >= end_; }
    const char *pos() const { return p_; }
    const char *limit() const { return end_; }
    char peek() const { return p_ < end_ ? *p_ : '\0'; }

    void skip_spaces() {
        while (p_ < end_ && is_space(*p_)) ++p_;
    }
    // Consume `lit` (any case) if the text continues with it.
    bool literal(const char *lit) {
        const char *q = p_;
        for (; *lit; ++lit, ++q)
            if (q >= end_ || !same_letter(*q, *lit)) return false;
        p_ = q;
        return true;
    }
    // Move just past the first occurrence of `lit` on the rest of the line.
    bool skip_past(const char *lit) {
        for (const char *s = p_; s < end_; ++s) {
            LineCursor c(s, end_);
            if (c.literal(lit)) {
                p_ = c.p_;
                return true;
            }
        }
        return false;
    }
    // Hex number, with or without 0x; fails on overflow past 64 bits and
    // when a letter follows the digits.
    bool hex(uint64_t &v) {
        const char *q = p_;
        if (end_ - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) q += 2;
        uint64_t x = 0;
        const char *digits = q;
        for (; q < end_ && hex_value(*q) >= 0; ++q) {
            if (x >> 60) return false;
            x = (x << 4) | static_cast<uint64_t>(hex_value(*q));
        }
        if (q == digits || (q < end_ && is_letter(*q))) return false;
        v = x;
        p_ = q;
        return true;
    }
    // Decimal number; fails on overflow past 64 bits and when a letter
    // follows the digits.
    bool dec(uint64_t &v) {
        const char *q = p_;
        uint64_t x = 0;
        for (; q < end_ && is_digit(*q); ++q) {
            uint64_t d = static_cast<uint64_t>(*q - '0');
            if (x > (UINT64_MAX - d) / 10) return false;
            x = x * 10 + d;
        }
        if (q == p_ || (q < end_ && is_letter(*q))) return false;
        v = x;
        p_ = q;
        return true;
    }
    // The rest of the line up to `stop` (or the end), trailing spaces trimmed.
    void word_until(char stop, const char *&b, const char *&e) {
        b = p_;
        while (p_ < end_ && *p_ != stop) ++p_;
        e = p_;
        while (e > b && is_space(e[-1])) --e;
    }

private:
    const char *p_;
    const char *end_;
};

// [b, e) is the NUL-terminated literal, whatever the case.
constexpr bool text_equals(const char *b, const char *e, const char *lit) {
    for (; b < e; ++b, ++lit)
        if (*lit == '\0' || !same_letter(*b, *lit)) return false;
    return *lit == '\0';
}

// [b, e) starts with the literal, whatever the case.
constexpr bool text_starts_with(const char *b, const char *e, const char *lit) {
    for (; *lit; ++b, ++lit)
        if (b >= e || !same_letter(*b, *lit)) return false;
    return true;
}

} // namespace kmem::detail
