// SPDX-License-Identifier: MIT
//
// DOC: memory maps from Linux console text (dmesg, serial logs, mail quotes).
//
// Linux prints the firmware memory map it was handed, and the NUMA layout it
// found, in several formats that changed over 25 years. This parser reads all
// of them from a buffer of text, line by line, ignoring every other line:
//
//   BIOS-e820: [mem 0x<start>-0x<last>] <type>          3.x-6.x, end inclusive
//   BIOS-e820: [mem 0x<start>-0x<last>]  System RAM     2025+ wording
//   BIOS-e820: [gap 0x<start>-0x<last>]                 2025+, informational
//   BIOS-e820: <start> - <end> (<type>)                 2.4-3.x, end exclusive
//   BIOS-e820: <size> @ <start> (<type>)                early 2.4
//   efi: memNN: type=N, attr=0x.., range=[0x..-0x..)    end exclusive
//   efi: memNN: [Name|flags|..] range=[0x..-0x..]       end inclusive
//   SRAT: Node N PXM M [mem 0x..-0x..]                  NUMA affinity
//   NUMA: Node N [mem 0x..-0x..] (+ [mem ..] -> [mem ..])
//   node   N: [mem 0x..-0x..]                           memblock node ranges
//
// with or without "[ seconds]" timestamps and "<N>" log levels. The map comes
// from one source: the e820 lines if there are any (that is what the kernel
// used), else the EFI lines, else the node ranges (device-tree machines print
// no firmware table, only the memory the kernel found). NUMA lines of every
// kind then assign nodes to whatever they cover.
#include <kmem/memmap_parse.h>

#include "efi_types.h"
#include "text_scan.h"

namespace kmem {
namespace {

using detail::LineCursor;
using Source = TextMapInfo::Source;

Error line_error(Errc code, const char *reason, uint64_t line) {
    return make_error(code, reason, Where::line, line);
}

struct Span {
    uint64_t start;
    uint64_t end; // exclusive
};

// [a, b] with b the last byte, as an exclusive span. Linux prints a
// zero-size entry as [a, a - 1]: an empty span, dropped like any other.
Status inclusive(uint64_t a, uint64_t b, Span &out, uint64_t line) {
    if (a != 0 && b == a - 1) {
        out = {a, a};
        return {};
    }
    if (b < a) return line_error(Errc::invalid_range, "range ends before it starts", line);
    if (b == UINT64_MAX)
        return line_error(Errc::invalid_range, "range wraps past the top of the 64-bit space",
                          line);
    out = {a, b + 1};
    return {};
}

// "0x<first>-0x<last>" with an inclusive last byte, as in "[mem ...]".
Status inclusive_span(LineCursor &c, Span &out, uint64_t line) {
    uint64_t a, b;
    if (!c.hex(a) || !c.literal("-") || !c.hex(b))
        return line_error(Errc::malformed, "expected <start>-<end> hex addresses", line);
    return inclusive(a, b, out, line);
}

// "[mem 0x..-0x..]"
Status mem_span(LineCursor &c, Span &out, uint64_t line) {
    c.skip_spaces();
    if (!c.literal("[mem")) return line_error(Errc::malformed, "expected [mem ...]", line);
    c.skip_spaces();
    KMEM_TRY(inclusive_span(c, out, line));
    if (!c.literal("]")) return line_error(Errc::malformed, "expected ] after range", line);
    return {};
}

// Linux's e820 type names, old and new wording.
bool e820_type_from_name(const char *b, const char *e, MemType &t) {
    using detail::text_equals;
    using detail::text_starts_with;
    if (text_equals(b, e, "usable") || text_equals(b, e, "System RAM")) t = MemType::usable;
    else if (text_equals(b, e, "reserved") || text_equals(b, e, "device reserved") ||
             text_equals(b, e, "soft reserved"))
        t = MemType::reserved;
    else if (text_equals(b, e, "ACPI data")) t = MemType::acpi_reclaimable;
    else if (text_equals(b, e, "ACPI NVS")) t = MemType::acpi_nvs;
    else if (text_equals(b, e, "unusable")) t = MemType::unusable;
    else if (text_starts_with(b, e, "persistent")) t = MemType::persistent;
    else return false;
    return true;
}

// "type N": the numeric types Linux prints when it has no name for them.
// Linux treats every type it does not know as reserved, and so does kmem.
MemType e820_type_from_number(uint64_t n) {
    switch (n) {
    case 1: return MemType::usable;
    case 3: return MemType::acpi_reclaimable;
    case 4: return MemType::acpi_nvs;
    case 5: return MemType::unusable;
    case 7:
    case 12: return MemType::persistent;
    default: return MemType::reserved;
    }
}

Status e820_type(const char *b, const char *e, MemType &t, uint64_t line) {
    LineCursor c(b, e);
    uint64_t n;
    if (c.literal("type ") && c.dec(n) && c.at_end()) {
        t = e820_type_from_number(n);
        return {};
    }
    if (e820_type_from_name(b, e, t)) return {};
    return line_error(Errc::unknown_type, "unknown e820 memory type", line);
}

// A "BIOS-e820: [gap ...]" line (2025+): says where nothing is, describes nothing.
bool is_e820_gap(LineCursor c) {
    c.skip_spaces();
    return c.literal("[gap");
}

// The part of a BIOS-e820 line after the marker. Sets `gap` for [gap] lines.
Status parse_e820(LineCursor c, Span &span, MemType &type, bool &gap, uint64_t line) {
    c.skip_spaces();
    const char *tb, *te;
    if ((gap = is_e820_gap(c))) return {};
    if (c.peek() == '[') {
        KMEM_TRY(mem_span(c, span, line));
        c.skip_spaces();
        c.word_until('\0', tb, te);
        return e820_type(tb, te, type, line);
    }
    uint64_t a, b;
    if (!c.hex(a)) return line_error(Errc::malformed, "unrecognised BIOS-e820 line", line);
    c.skip_spaces();
    if (c.literal("-")) { // <start> - <end> (type), end exclusive
        c.skip_spaces();
        if (!c.hex(b)) return line_error(Errc::malformed, "expected end address", line);
        if (b < a) return line_error(Errc::invalid_range, "range ends before it starts", line);
        span = {a, b};
    } else if (c.literal("@")) { // <size> @ <start> (type)
        c.skip_spaces();
        if (!c.hex(b)) return line_error(Errc::malformed, "expected start address", line);
        if (a > UINT64_MAX - b)
            return line_error(Errc::invalid_range,
                              "range wraps past the top of the 64-bit space", line);
        span = {b, b + a};
    } else {
        return line_error(Errc::malformed, "unrecognised BIOS-e820 line", line);
    }
    c.skip_spaces();
    if (!c.literal("(")) return line_error(Errc::malformed, "expected (type)", line);
    c.word_until(')', tb, te);
    if (!c.literal(")")) return line_error(Errc::malformed, "unterminated (type)", line);
    return e820_type(tb, te, type, line);
}

// Names in Linux's newer "efi: memNN: [Name|...]" lines (both generations).
uint32_t efi_type_from_name(const char *b, const char *e) {
    static constexpr struct {
        const char *name;
        uint32_t type;
    } names[] = {
        {"Reserved", 0},        {"Loader Code", 1},        {"Loader Data", 2},
        {"Boot Code", 3},       {"Boot Data", 4},          {"Runtime Code", 5},
        {"Runtime Data", 6},    {"Conventional", 7},       {"Conventional Memory", 7},
        {"Unusable", 8},        {"Unusable Memory", 8},    {"ACPI Reclaim", 9},
        {"ACPI Reclaim Memory", 9}, {"ACPI Mem NVS", 10},  {"ACPI Memory NVS", 10},
        {"MMIO", 11},           {"Memory Mapped I/O", 11}, {"MMIO Port", 12},
        {"MMIO Port Space", 12}, {"PAL Code", 13},         {"Persistent", 14},
        {"Persistent Memory", 14}, {"Unaccepted", 15},
    };
    for (const auto &n : names)
        if (detail::text_equals(b, e, n.name)) return n.type;
    return UINT32_MAX;
}

// "[Name|RUN|MR|..|WB|WT|WC|UC]": type and the two attributes kmem reads.
Status efi_bracket(LineCursor &c, uint32_t &type, uint64_t &attr, uint64_t line) {
    const char *b, *e;
    c.word_until('|', b, e);
    LineCursor name(b, e);
    uint64_t n;
    if (name.literal("type=") && name.dec(n) && n <= UINT32_MAX) type = static_cast<uint32_t>(n);
    else type = efi_type_from_name(b, e);
    if (type == UINT32_MAX) return line_error(Errc::unknown_type, "unknown EFI memory type", line);
    attr = 0;
    while (c.literal("|")) {
        c.skip_spaces();
        c.word_until('|', b, e);
        if (detail::text_equals(b, e, "RUN")) attr |= detail::kEfiAttrRuntime;
        if (detail::text_equals(b, e, "SP")) attr |= detail::kEfiAttrSpecificPurpose;
    }
    return {};
}

// The part of an "efi: memNN:" line after the colon.
Status parse_efi(LineCursor c, Span &span, MemType &mt, uint64_t line) {
    uint32_t type;
    uint64_t attr;
    c.skip_spaces();
    if (c.literal("[")) {
        LineCursor head(c.pos(), c.limit());
        if (!c.skip_past("]")) return line_error(Errc::malformed, "unterminated [type|attr]", line);
        LineCursor bracket(head.pos(), c.pos() - 1); // without the closing ]
        KMEM_TRY(efi_bracket(bracket, type, attr, line));
    } else {
        uint64_t t;
        if (!c.literal("type=") || !c.dec(t) || t > UINT32_MAX || !c.literal(","))
            return line_error(Errc::malformed, "expected type=N,", line);
        c.skip_spaces();
        if (!c.literal("attr=") || !c.hex(attr) || !c.literal(","))
            return line_error(Errc::malformed, "expected attr=0x..,", line);
        type = static_cast<uint32_t>(t);
    }
    c.skip_spaces();
    if (!c.literal("range=[")) return line_error(Errc::malformed, "expected range=[", line);
    uint64_t a, b;
    if (!c.hex(a) || !c.literal("-") || !c.hex(b))
        return line_error(Errc::malformed, "expected <start>-<end> hex addresses", line);
    if (c.literal(")")) { // old format: end exclusive
        if (b < a) return line_error(Errc::invalid_range, "range ends before it starts", line);
        span = {a, b};
    } else if (c.literal("]")) {
        KMEM_TRY(inclusive(a, b, span, line));
    } else {
        return line_error(Errc::malformed, "unterminated range=[...", line);
    }
    if (!detail::efi_to_mem_type(type, attr, mt))
        return line_error(Errc::unknown_type, "EFI memory type not defined by UEFI", line);
    return {};
}

enum class LineKind : uint8_t { other, e820, efi, srat, numa, node_range };

// Recognise a line by its marker (any case); on success `c` is just past the
// marker. One pass over the line: a marker is only tried where its first
// letter is.
LineKind classify(LineCursor &c) {
    for (const char *p = c.pos(); p < c.limit(); ++p) {
        LineCursor t(p, c.limit());
        uint64_t n;
        switch (detail::lower(*p)) {
        case 'b':
            if (t.literal("BIOS-e820:")) {
                c = t;
                return LineKind::e820;
            }
            break;
        case 'e':
            if (t.literal("efi:")) {
                t.skip_spaces();
                if (t.literal("mem") && t.dec(n) && t.literal(":")) {
                    c = t;
                    return LineKind::efi;
                }
            }
            break;
        case 's':
            if (t.literal("SRAT: Node ")) {
                c = t;
                return LineKind::srat;
            }
            break;
        case 'n':
            if (t.literal("NUMA: Node ")) {
                c = t;
                return LineKind::numa;
            }
            if (t.literal("node ")) {
                t.skip_spaces();
                const LineCursor num = t;
                if (t.dec(n) && t.literal(":")) {
                    t.skip_spaces();
                    if (t.literal("[mem")) {
                        c = num;
                        return LineKind::node_range;
                    }
                }
            }
            break;
        default: break;
        }
    }
    return LineKind::other;
}

Status node_id(LineCursor &c, uint16_t &node, uint64_t line) {
    uint64_t n;
    if (!c.dec(n)) return line_error(Errc::malformed, "expected a node number", line);
    if (n >= kMaxNodes) return line_error(Errc::invalid_argument, "NUMA node id too large", line);
    node = static_cast<uint16_t>(n);
    return {};
}

// A NUMA line's node and its first span; more spans may follow ("+ [mem]").
Status numa_head(LineKind kind, LineCursor &c, uint16_t &node, Span &span, uint64_t line) {
    KMEM_TRY(node_id(c, node, line));
    if (kind == LineKind::srat) {
        c.skip_spaces();
        uint64_t pxm;
        if (!c.literal("PXM") || (c.skip_spaces(), !c.dec(pxm)))
            return line_error(Errc::malformed, "expected PXM N", line);
    } else if (kind == LineKind::node_range) {
        c.literal(":");
    }
    return mem_span(c, span, line);
}

// Calls f(kind, cursor, line_number) for each recognised line; stops at the
// first error f returns.
template <class F> Status for_each_line(const char *text, size_t len, F &&f) {
    const char *p = text, *end = text + len;
    uint64_t line = 0;
    while (p < end) {
        const char *nl = p;
        while (nl < end && *nl != '\n') ++nl;
        ++line;
        LineCursor c(p, nl);
        LineKind kind = classify(c);
        if (kind != LineKind::other) KMEM_TRY(f(kind, c, line));
        p = nl < end ? nl + 1 : end;
    }
    return {};
}

Status with_line(Status s, uint64_t line) {
    if (s.ok()) return s;
    Error e = s.error();
    e.where = Where::line;
    e.at = line;
    return e;
}

Status parse_into(const char *text, size_t len, MemoryMap &out, TextMapInfo &info) {
    // Pass 1: which sources does the text hold?
    uint32_t numa_lines = 0;
    KMEM_TRY(for_each_line(text, len, [&](LineKind kind, LineCursor &c, uint64_t) -> Status {
        if (kind == LineKind::e820 && !is_e820_gap(c)) ++info.e820_lines; // a gap is no entry
        if (kind == LineKind::efi) ++info.efi_lines;
        if (kind == LineKind::srat || kind == LineKind::numa || kind == LineKind::node_range)
            ++numa_lines;
        if (kind == LineKind::node_range && info.source == Source::none)
            info.source = Source::node_ranges;
        return {};
    }));
    if (info.e820_lines) info.source = Source::e820;
    else if (info.efi_lines) info.source = Source::efi;
    if (info.source == Source::none)
        return make_error(Errc::no_entries,
                          "no memory map in the text (no BIOS-e820, efi: memNN or node lines)");
    info.e820_lines = info.efi_lines = 0;

    // Pass 2: the entries of the chosen source.
    KMEM_TRY(for_each_line(text, len, [&](LineKind kind, LineCursor &c, uint64_t line) -> Status {
        Span span{};
        MemType type = MemType::reserved;
        uint16_t node = 0;
        if (kind == LineKind::e820) {
            bool gap;
            KMEM_TRY(parse_e820(c, span, type, gap, line));
            if (gap || info.source != Source::e820) return {};
            ++info.e820_lines;
        } else if (kind == LineKind::efi) {
            KMEM_TRY(parse_efi(c, span, type, line));
            ++info.efi_lines;
            if (info.source != Source::efi) return {};
        } else if (kind == LineKind::node_range && info.source == Source::node_ranges) {
            KMEM_TRY(numa_head(kind, c, node, span, line));
            type = MemType::usable;
        } else {
            return {};
        }
        ++info.entries;
        return with_line(out.add_untrimmed(span.start, span.end, type, node), line);
    }));

    // Pass 3: NUMA affinity of every kind assigns nodes to what is described.
    if (numa_lines) KMEM_TRY(for_each_line(text, len, [&](LineKind kind, LineCursor &c, uint64_t line) -> Status {
        if (kind != LineKind::srat && kind != LineKind::numa && kind != LineKind::node_range)
            return {};
        uint16_t node;
        Span span;
        LineCursor probe = c;
        // "NUMA: Node" lines without a range say something else (distances...).
        if (kind == LineKind::numa && !probe.skip_past("[mem")) return {};
        KMEM_TRY(numa_head(kind, c, node, span, line));
        for (;;) {
            KMEM_TRY(with_line(out.set_node(span.start, span.end, node), line));
            ++info.numa_ranges;
            c.skip_spaces();
            if (!c.literal("+") && !c.literal("->")) break;
            KMEM_TRY(mem_span(c, span, line));
        }
        return {};
    }));
    out.trim_usable_to_pages();
    return {};
}

} // namespace

Status parse_linux_text(const char *text, size_t len, MemoryMap &out, TextMapInfo *info) {
    TextMapInfo local;
    TextMapInfo &i = info ? *info : local;
    i = TextMapInfo{};
    out.clear();
    if (text == nullptr && len != 0)
        return make_error(Errc::invalid_argument, "null text buffer");
    Status s = parse_into(text, len, out, i);
    if (!s.ok()) out.clear();
    return s;
}

} // namespace kmem
