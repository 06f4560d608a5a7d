// SPDX-License-Identifier: MIT
//
// DOC: a walk over the device tree's structure block (see fdt.h): tokens,
// each node's #address-cells/#size-cells for its children, and the node asked
// for - by a compatible string or by name. Bounded by the header's sizes; a
// malformed tree ends the walk with "not found".
#include "fdt.h"

namespace kx {
namespace {

constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4; // and 9: the end
constexpr unsigned kMaxDepth = 16;

uint32_t be32(const uint8_t *p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }
uint32_t align4(uint32_t v) { return (v + 3) & ~3u; }

bool same(const char *a, const char *b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

// A node name "name@unit" is `want` when the part before '@' is.
bool named(const char *node, const char *want) {
    while (*want && *node == *want) ++node, ++want;
    return !*want && (!*node || *node == '@');
}

// A compatible property: NUL-separated strings, `len` bytes in all.
bool lists(const uint8_t *value, uint32_t len, const char *want) {
    for (uint32_t i = 0; i < len;) {
        const char *s = reinterpret_cast<const char *>(value + i);
        uint32_t n = 0;
        while (i + n < len && s[n]) ++n;
        if (i + n == len) return false; // not NUL-terminated
        if (same(s, want)) return true;
        i += n + 1;
    }
    return false;
}

// What a walk looks for: the nth node listing `compatible`, or the first named `name`.
struct Want {
    const char *compatible;
    const char *name;
    unsigned nth;
};

bool find(const uint8_t *dtb, const Want &want, FdtNode &out) {
    const uint8_t *st = dtb + be32(dtb + 8);
    const char *strings = reinterpret_cast<const char *>(dtb + be32(dtb + 12));
    const uint32_t end = be32(dtb + 36); // size_dt_struct
    uint32_t cells[kMaxDepth][2];        // each open node's #address-cells, #size-cells
    int depth = -1;
    FdtNode cur;
    bool match = false;
    unsigned seen = 0;
    for (uint32_t off = 0; off + 4 <= end;) {
        const uint32_t token = be32(st + off);
        off += 4;
        if (token == kBeginNode || token == kEndNode) {
            if (match && seen++ == want.nth) { // a child starts or the node ends: every property is read
                out = cur;
                return true;
            }
            match = false;
            if (token == kEndNode) {
                if (--depth < -1) return false;
                continue;
            }
            if (++depth >= static_cast<int>(kMaxDepth)) return false;
            cells[depth][0] = 2;
            cells[depth][1] = 1;
            cur = {};
            if (depth > 0) {
                cur.address_cells = cells[depth - 1][0];
                cur.size_cells = cells[depth - 1][1];
            }
            const char *name = reinterpret_cast<const char *>(st + off);
            while (off < end && st[off]) ++off;
            off = align4(off + 1);
            cur.props = off;
            match = want.name && named(name, want.name);
        } else if (token == kProp) {
            if (depth < 0 || off + 8 > end) return false;
            const uint32_t len = be32(st + off), name = be32(st + off + 4);
            const uint8_t *value = st + off + 8;
            off = align4(off + 8 + len);
            if (off > end) return false;
            const char *n = strings + name;
            if (same(n, "#address-cells") && len == 4) cells[depth][0] = be32(value);
            else if (same(n, "#size-cells") && len == 4) cells[depth][1] = be32(value);
            else if (same(n, "compatible") && want.compatible) match = lists(value, len, want.compatible);
            else if (same(n, "reg")) cur.reg = value, cur.reg_len = len;
            else if (same(n, "interrupts")) cur.interrupts = value, cur.interrupts_len = len;
        } else if (token != kNop) {
            return false; // the end token, or not a token
        }
    }
    return false;
}

} // namespace

uint64_t fdt_cells(const uint8_t *p, uint32_t n) { return n == 2 ? uint64_t{be32(p)} << 32 | be32(p + 4) : be32(p); }

bool fdt_reg(const FdtNode &node, unsigned i, uint64_t &base, uint64_t &size) {
    const uint32_t a = node.address_cells, s = node.size_cells, entry = 4 * (a + s);
    if (a < 1 || a > 2 || s > 2 || uint64_t{i + 1} * entry > node.reg_len) return false;
    const uint8_t *p = node.reg + i * entry;
    base = fdt_cells(p, a);
    size = s ? fdt_cells(p + 4 * a, s) : 0;
    return true;
}

bool fdt_find_compatible(const uint8_t *dtb, const char *compatible, FdtNode &out, unsigned nth) {
    return find(dtb, {compatible, nullptr, nth}, out);
}

bool fdt_find_node(const uint8_t *dtb, const char *name, FdtNode &out) { return find(dtb, {nullptr, name, 0}, out); }

const uint8_t *fdt_prop(const uint8_t *dtb, const FdtNode &node, const char *name, uint32_t &len) {
    const uint8_t *st = dtb + be32(dtb + 8);
    const char *strings = reinterpret_cast<const char *>(dtb + be32(dtb + 12));
    const uint32_t end = be32(dtb + 36);
    for (uint32_t off = node.props; off + 4 <= end;) {
        const uint32_t token = be32(st + off);
        off += 4;
        if (token == kNop) continue;
        if (token != kProp || off + 8 > end) return nullptr; // the node's properties are over
        const uint32_t l = be32(st + off);
        const char *n = strings + be32(st + off + 4);
        const uint8_t *value = st + off + 8;
        off = align4(off + 8 + l);
        if (off > end) return nullptr;
        if (same(n, name)) {
            len = l;
            return value;
        }
    }
    return nullptr;
}

} // namespace kx
