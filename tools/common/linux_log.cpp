// SPDX-License-Identifier: MIT
//
// DOC: the Linux boot-log event parser (memblock debug and kmem trace lines),
// and what the replay needs to read them as Linux meant them: memblock's
// special limits and each architecture's page-table allocator.
//
// One pass over the text, one line at a time, string_view and from_chars
// only. A line is split into prefix (log level, timestamp, caller id) and
// message; the message's first word, up to ':', picks the event format from
// a small table, and the rest is read as that format's fields.
#include "linux_log.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>

namespace kmem::tools {
namespace {

using sv = std::string_view;

enum class Format : uint8_t {
    range,      // "[0xSTART-0xEND] [nid=N flags=F] caller" (memblock)
    alloc,      // "N bytes align=0x.. [nid=N] from=0x.. max_addr=0x.. caller" (memblock)
    obj_alloc,  // "call_site=.. ptr=.. bytes_req=.. bytes_alloc=.. gfp_flags=.. [node=..]"
    obj_free,   // "call_site=.. ptr=.. [name=..]"
    page,       // "page=.. pfn=0x.. order=.. [migratetype=.. gfp_flags=..]"
};

struct Known {
    sv name;
    LogEventKind kind;
    Format format;
};

constexpr Known kKnown[] = {
    {"kmem_cache_alloc", LogEventKind::kmem_cache_alloc, Format::obj_alloc},
    {"kmalloc", LogEventKind::kmalloc, Format::obj_alloc},
    {"kfree", LogEventKind::kfree, Format::obj_free},
    {"kmem_cache_free", LogEventKind::kmem_cache_free, Format::obj_free},
    {"mm_page_alloc", LogEventKind::page_alloc, Format::page},
    {"mm_page_free", LogEventKind::page_free, Format::page},
    {"memblock_reserve", LogEventKind::memblock_reserve, Format::range},
    {"memblock_add", LogEventKind::memblock_add, Format::range},
    {"memblock_add_node", LogEventKind::memblock_add, Format::range},
    {"memblock_phys_free", LogEventKind::memblock_free, Format::range},
    {"memblock_free", LogEventKind::memblock_free, Format::range},
    {"memblock_free_late", LogEventKind::memblock_free, Format::range},
    // Pre-6.0 kernels' names for the same events.
    {"kmalloc_node", LogEventKind::kmalloc, Format::obj_alloc},
    {"kmem_cache_alloc_node", LogEventKind::kmem_cache_alloc, Format::obj_alloc},
    {"mm_page_free_batched", LogEventKind::page_free, Format::page},
};

const Known *lookup(sv name) {
    for (const Known &k : kKnown)
        if (k.name == name) return &k;
    // Every memblock allocator prints the same "N bytes align=..." line.
    static constexpr Known alloc{"", LogEventKind::memblock_alloc, Format::alloc};
    if (name.starts_with("memblock_alloc") || name.starts_with("memblock_phys_alloc")) return &alloc;
    return nullptr;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t'; }

sv trim_left(sv s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    return s;
}

sv trim_right(sv s) {
    while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Whole-string numbers: decimal (signed or not) and hex with optional 0x.
template <typename T> bool parse_dec(sv s, T &v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool parse_hex(sv s, uint64_t &v) {
    if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool parse_ptr(sv s, uint64_t &v) {
    if (s != "(null)") return parse_hex(s, v);
    v = 0;
    return true;
}

// "[    12.345678]" at the start of s: sets ns and the length consumed.
bool parse_timestamp(sv s, uint64_t &ns, size_t &len) {
    size_t i = 1;
    while (i < s.size() && s[i] == ' ') i++;
    size_t sec_start = i;
    while (i < s.size() && is_digit(s[i])) i++;
    if (i == sec_start || i - sec_start > 10 || i >= s.size() || s[i] != '.') return false;
    uint64_t sec = 0;
    std::from_chars(s.data() + sec_start, s.data() + i, sec);
    size_t frac_start = ++i;
    uint64_t frac = 0, scale = 1000000000;
    while (i < s.size() && is_digit(s[i])) {
        if (scale > 1) frac = frac * 10 + uint64_t(s[i] - '0'), scale /= 10;
        i++;
    }
    if (i == frac_start || i >= s.size() || s[i] != ']') return false;
    ns = sec * 1000000000 + frac * scale;
    len = i + 1;
    return true;
}

// Strip "<N>", anything up to a "[ s.us]" timestamp, and a "[  T1]"/"[  C0]"
// caller id; returns the message and sets ns (0 when there is no timestamp).
sv message_of(sv line, uint64_t &ns) {
    ns = 0;
    if (line.starts_with('<')) {
        size_t i = 1;
        while (i < line.size() && is_digit(line[i])) i++;
        if (i > 1 && i < line.size() && line[i] == '>') line.remove_prefix(i + 1);
    }
    for (size_t p = line.find('['); p != sv::npos; p = line.find('[', p + 1)) {
        size_t len;
        if (!parse_timestamp(line.substr(p), ns, len)) continue;
        line = trim_left(line.substr(p + len));
        // CONFIG_PRINTK_CALLER: "[     T1]" or "[    C0]".
        size_t i = 1;
        while (i < line.size() && line[i] == ' ') i++;
        if (line.starts_with('[') && i < line.size() && (line[i] == 'T' || line[i] == 'C')) {
            size_t digits = ++i;
            while (i < line.size() && is_digit(line[i])) i++;
            if (i > digits && i < line.size() && line[i] == ']') line = trim_left(line.substr(i + 1));
        }
        break;
    }
    return line;
}

// Splits "key=value" tokens off the front of s; a token with no '=' ends
// the run and s is left at it (memblock's trailing caller).
struct KeyValues {
    sv rest;
    bool next(sv &key, sv &value) {
        rest = trim_left(rest);
        size_t end = std::min(rest.find(' '), rest.size());
        sv tok = rest.substr(0, end);
        size_t eq = tok.find('=');
        if (tok.empty() || eq == sv::npos) return false;
        key = tok.substr(0, eq);
        value = tok.substr(eq + 1);
        rest.remove_prefix(end);
        return true;
    }
};

std::string bad(sv key, sv value) {
    return "bad " + std::string(key) + "= value '" + std::string(value) + "'";
}

bool parse_range(sv body, LogEvent &ev, std::string &why) {
    size_t dash = body.find('-'), close = body.find(']');
    uint64_t start, end;
    if (!body.starts_with('[') || dash == sv::npos || close == sv::npos || dash > close ||
        !parse_hex(body.substr(1, dash - 1), start) ||
        !parse_hex(body.substr(dash + 1, close - dash - 1), end)) {
        why = "expected '[0xSTART-0xEND]'";
        return false;
    }
    // Inclusive end; a size-0 call prints end = start - 1 (mod 2^64).
    if (end < start && end + 1 != start) {
        why = "range end below its start";
        return false;
    }
    ev.base = start;
    ev.size = end - start + 1;
    KeyValues kv{body.substr(close + 1)};
    sv key, value;
    while (kv.next(key, value))
        if (key == "nid" && !parse_dec(value, ev.nid)) return why = bad(key, value), false;
    ev.caller = kv.rest;
    return true;
}

bool parse_alloc(sv body, LogEvent &ev, std::string &why) {
    size_t sp = body.find(' ');
    if (sp == sv::npos || !parse_dec(body.substr(0, sp), ev.size) ||
        !body.substr(sp).starts_with(" bytes")) {
        why = "expected 'N bytes'";
        return false;
    }
    KeyValues kv{body.substr(sp + 6)};
    sv key, value;
    while (kv.next(key, value)) {
        bool ok = key == "align"      ? parse_hex(value, ev.align)
                  : key == "from"     ? parse_hex(value, ev.min)
                  : key == "max_addr" ? parse_hex(value, ev.max)
                  : key == "nid"      ? parse_dec(value, ev.nid)
                                      : true;
        if (!ok) return why = bad(key, value), false;
    }
    ev.caller = kv.rest;
    ev.raw = ev.api.ends_with("_raw");
    ev.exact_nid = ev.api == "memblock_alloc_exact_nid_raw";
    return true;
}

// The kmem trace formats: all "key=value"; a word with no '=' continues the
// value before it ("call_site=foo+0x1/0x2 [module]").
bool parse_kmem(Format format, sv body, LogEvent &ev, std::string &why) {
    struct Field {
        sv name, value;
        bool seen = false;
    };
    Field call_site{"call_site"}, ptr{"ptr"}, req{"bytes_req"}, alloc{"bytes_alloc"},
        gfp{"gfp_flags"}, node{"node"}, pfn{"pfn"}, order{"order"};
    Field *all[] = {&call_site, &ptr, &req, &alloc, &gfp, &node, &pfn, &order};
    Field *last = nullptr;
    for (sv rest = trim_left(body); !rest.empty(); rest = trim_left(rest)) {
        size_t end = std::min(rest.find(' '), rest.size());
        sv tok = rest.substr(0, end);
        rest.remove_prefix(end);
        size_t eq = tok.find('=');
        if (eq == sv::npos) {
            if (!last) return why = "expected key=value, got '" + std::string(tok) + "'", false;
            last->value = sv(last->value.data(), size_t(tok.data() + tok.size() - last->value.data()));
            continue;
        }
        last = nullptr;
        for (Field *f : all)
            if (f->name == tok.substr(0, eq)) last = f;
        if (last) last->value = tok.substr(eq + 1), last->seen = true;
    }
    auto need = [&](std::initializer_list<const Field *> fields) {
        for (const Field *f : fields)
            if (!f->seen) return why = "missing " + std::string(f->name) + "=", false;
        return true;
    };
    auto check = [&](const Field &f, bool ok) { return ok || (why = bad(f.name, f.value), false); };
    if (format == Format::page) {
        if (!need({&pfn, &order}) || !check(pfn, parse_hex(pfn.value, ev.pfn)) ||
            !check(order, parse_dec(order.value, ev.order)))
            return false;
        ev.gfp = gfp.value;
        return true;
    }
    if (!need({&call_site, &ptr}) || !check(ptr, parse_ptr(ptr.value, ev.ptr))) return false;
    ev.caller = call_site.value;
    if (format == Format::obj_free) return true;
    if (!need({&req, &alloc, &gfp}) || !check(req, parse_dec(req.value, ev.bytes_req)) ||
        !check(alloc, parse_dec(alloc.value, ev.bytes_alloc)) ||
        (node.seen && !check(node, parse_dec(node.value, ev.node))))
        return false;
    ev.gfp = gfp.value;
    return true;
}

} // namespace

std::string_view caller_function(std::string_view caller) {
    return caller.substr(0, std::min({caller.find('+'), caller.find(' '), caller.size()}));
}

MemblockLimits memblock_limits(const LogEvent &e, uint64_t ram_top) {
    MemblockLimits l;
    const bool limit = e.max > 1 && e.max != ~uint64_t{0};
    l.max = limit ? e.max : 0;
    if (e.api.starts_with("memblock_phys_alloc")) l.min = e.min;
    else if (e.min < (limit && e.max < ram_top ? e.max : ram_top)) l.goal = e.min;
    return l;
}

const char *page_table_arch(std::string_view caller) {
    struct Allocator {
        sv function;
        const char *arch;
    };
    static constexpr Allocator kPageTableAllocators[] = {
        {"init_mem_mapping", "x86_64"},   {"early_pgtable_alloc", "arm64"}, {"alloc_pte_fixmap", "riscv64"},
        {"alloc_pmd_fixmap", "riscv64"}, {"alloc_pud_fixmap", "riscv64"},  {"alloc_p4d_fixmap", "riscv64"},
    };
    const sv function = caller_function(caller);
    for (const Allocator &a : kPageTableAllocators)
        if (a.function == function) return a.arch;
    return nullptr;
}

bool parse_linux_log(std::string_view text, LinuxLog &out, std::string &error, bool strict) {
    out = LinuxLog{};
    out.events.reserve(text.size() / 160);
    std::string why;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        sv line = trim_right(text.substr(0, nl));
        text.remove_prefix(nl == sv::npos ? text.size() : nl + 1);
        out.lines++;

        uint64_t ns;
        sv msg = message_of(line, ns);
        size_t colon = 0;
        while (colon < msg.size() && (msg[colon] == '_' || is_digit(msg[colon]) ||
                                      (msg[colon] >= 'a' && msg[colon] <= 'z')))
            colon++;
        if (colon == 0 || colon == msg.size() || msg[colon] != ':' ||
            (colon + 1 < msg.size() && msg[colon + 1] != ' '))
            continue;
        sv name = msg.substr(0, colon);
        const Known *known = lookup(name);
        if (!known) continue;

        LogEvent ev{};
        ev.kind = known->kind;
        ev.line = uint32_t(out.lines);
        ev.ns = ns;
        if (known->format == Format::range || known->format == Format::alloc) ev.api = name;
        sv body = trim_left(msg.substr(colon + 1));
        bool ok = known->format == Format::range   ? parse_range(body, ev, why)
                  : known->format == Format::alloc ? parse_alloc(body, ev, why)
                                                   : parse_kmem(known->format, body, ev, why);
        if (ok) {
            out.events.push_back(std::move(ev));
        } else if (strict) {
            error = "line " + std::to_string(out.lines) + ": " + std::string(name) + ": " + why;
            return false;
        } else {
            out.skipped_trace_lines++;
        }
    }
    return true;
}

} // namespace kmem::tools
