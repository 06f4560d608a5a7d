// SPDX-License-Identifier: MIT
//
// DOC: K/M/G/T sizes for the command line (size_arg.h).
#include "size_arg.h"

#include <cctype>

namespace kmem::tools {
namespace {

constexpr char kUnits[] = "KMGT";

std::string not_a_size(std::string_view text, const char *why) {
    return "'" + std::string(text) + "' is not a size: " + why +
           " (bytes, or a number with K, M, G or T: 2G, 512M, 0x40000000)";
}

} // namespace

bool parse_size(std::string_view text, uint64_t &out, std::string &error) {
    size_t i = 0;
    unsigned base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        i = 2;
    }
    uint64_t value = 0;
    const size_t digits_begin = i;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (base == 16 && std::isxdigit(static_cast<unsigned char>(c)))
            d = static_cast<unsigned>(std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
        else
            break;
        if (value > (UINT64_MAX - d) / base) {
            error = not_a_size(text, "too large");
            return false;
        }
        value = value * base + d;
    }
    if (i == digits_begin) {
        error = not_a_size(text, "no number");
        return false;
    }
    // The suffix: none, B, or K/M/G/T with an optional "B" or "iB".
    std::string suffix;
    for (; i < text.size(); ++i)
        suffix += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    unsigned shift = 0;
    if (!suffix.empty() && suffix != "B") {
        const size_t unit = std::string_view(kUnits).find(suffix[0]);
        const std::string tail = suffix.substr(1);
        if (unit == std::string_view::npos || !(tail.empty() || tail == "B" || tail == "IB")) {
            error = not_a_size(text, "unknown unit");
            return false;
        }
        shift = 10 * static_cast<unsigned>(unit + 1);
    }
    if (shift && value > (UINT64_MAX >> shift)) {
        error = not_a_size(text, "too large");
        return false;
    }
    out = value << shift;
    return true;
}

std::string size_text(uint64_t bytes) {
    unsigned u = 0;
    while (u < 4 && bytes && bytes % 1024 == 0) {
        bytes /= 1024;
        ++u;
    }
    return std::to_string(bytes) + (u ? std::string(1, kUnits[u - 1]) : std::string());
}

} // namespace kmem::tools
