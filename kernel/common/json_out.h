// SPDX-License-Identifier: MIT
//
// DOC: a JSON writer onto the serial console, for the report's KMEM-JSON
// line (no heap: keys and values go out as they come; commas tracked per
// nesting level).
#pragma once

#include "console.h"

namespace kx {

class JsonOut {
public:
    JsonOut &begin_object(const char *key = nullptr) { return open(key, '{'); }
    JsonOut &end_object() { return close('}'); }
    JsonOut &begin_array(const char *key = nullptr) { return open(key, '['); }
    JsonOut &end_array() { return close(']'); }
    JsonOut &num(const char *key, uint64_t v) {
        name(key);
        print_u64(v);
        return *this;
    }
    // A number under a numeric key: {"0": v} (a JSON object keyed by node).
    JsonOut &num_at(uint64_t key, uint64_t v) {
        name(nullptr);
        print("\"");
        print_u64(key);
        print("\":");
        print_u64(v);
        return *this;
    }
    // num / den with `digits` decimals, rounded down, in integers only (the
    // kernels use no floating point): ratio("x", 2, 3, 3) writes 0.666.
    JsonOut &ratio(const char *key, uint64_t num, uint64_t den, unsigned digits) {
        name(key);
        if (den == 0) {
            print("0");
            return *this;
        }
        print_u64(num / den);
        print(".");
        uint64_t rest = num % den;
        for (unsigned i = 0; i < digits; ++i) {
            rest *= 10;
            const char d = static_cast<char>('0' + rest / den);
            print_n(&d, 1);
            rest %= den;
        }
        return *this;
    }
    JsonOut &inum(const char *key, int64_t v) {
        name(key);
        if (v < 0) print("-");
        print_u64(static_cast<uint64_t>(v < 0 ? -v : v));
        return *this;
    }
    JsonOut &boolean(const char *key, bool v) {
        name(key);
        print(v ? "true" : "false");
        return *this;
    }
    // A string; `v2` (if any) is written right after `v`, as one string.
    JsonOut &str(const char *key, const char *v, const char *v2 = nullptr) {
        name(key);
        print("\"");
        chars(v);
        if (v2) chars(v2);
        print("\"");
        return *this;
    }

private:
    void chars(const char *v) {
        for (const char *c = v; *c; ++c) {
            if (*c == '"' || *c == '\\') print_n("\\", 1);
            if (static_cast<unsigned char>(*c) < 0x20) continue;
            print_n(c, 1);
        }
    }
    JsonOut &open(const char *key, char c) {
        name(key);
        print_n(&c, 1);
        first_[++depth_] = true;
        return *this;
    }
    JsonOut &close(char c) {
        print_n(&c, 1);
        --depth_;
        return *this;
    }
    void name(const char *key) {
        if (depth_ > 0 && !first_[depth_]) print(",");
        if (depth_ > 0) first_[depth_] = false;
        if (key) {
            print("\"");
            print(key);
            print("\":");
        }
    }
    bool first_[16] = {};
    int depth_ = 0;
};

} // namespace kx
