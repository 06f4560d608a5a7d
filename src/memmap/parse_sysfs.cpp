// SPDX-License-Identifier: MIT
//
// DOC: /sys/firmware/memmap entries.
//
// Linux exports the raw firmware map (before any kernel edits) as one
// directory per entry, each with three files: start and end (hex, end
// inclusive) and type (a name such as "System RAM"). Reading the directory is
// the tool's job; this turns one entry's three strings into a map range.
#include <kmem/memmap_parse.h>

#include "text_scan.h"

namespace kmem {
namespace {

using detail::text_equals;

bool sysfs_type(const char *b, const char *e, MemType &t) {
    // drivers/firmware/memmap.c and e820_type_to_string() name them so.
    if (text_equals(b, e, "System RAM")) t = MemType::usable;
    else if (text_equals(b, e, "ACPI Tables")) t = MemType::acpi_reclaimable;
    else if (text_equals(b, e, "ACPI Non-volatile Storage")) t = MemType::acpi_nvs;
    else if (text_equals(b, e, "Unusable memory")) t = MemType::unusable;
    else if (text_equals(b, e, "Persistent Memory (legacy)") ||
             text_equals(b, e, "Persistent Memory"))
        t = MemType::persistent;
    else if (text_equals(b, e, "Reserved") || text_equals(b, e, "reserved") ||
             text_equals(b, e, "Soft Reserved") || text_equals(b, e, "Unknown E820 type"))
        t = MemType::reserved;
    else return false;
    return true;
}

// The whole file must be one hex number (a trailing newline is fine). On
// failure `line` is the 1-based line of the first byte that is not.
bool sysfs_hex(const char *s, size_t len, uint64_t &v, uint64_t &line) {
    line = 1;
    if (!s) return false;
    detail::LineCursor c(s, s + len);
    c.skip_spaces();
    if (!c.hex(v)) return false;
    for (const char *p = c.pos(); p < s + len; ++p) {
        if (!detail::is_space(*p) && *p != '\n') return false;
        if (*p == '\n') ++line;
    }
    return true;
}

Error in_file(SysfsFile f, SysfsFile *bad_file, Errc code, const char *reason, uint64_t line = 1) {
    if (bad_file) *bad_file = f;
    return make_error(code, reason, Where::line, line);
}

} // namespace

const char *sysfs_file_name(SysfsFile f) {
    switch (f) {
    case SysfsFile::start: return "start";
    case SysfsFile::end: return "end";
    case SysfsFile::type: return "type";
    case SysfsFile::none: break;
    }
    return "";
}

Status add_sysfs_memmap_entry(MemoryMap &out, const char *start, size_t start_len,
                              const char *end, size_t end_len, const char *type,
                              size_t type_len, SysfsFile *bad_file) {
    if (bad_file) *bad_file = SysfsFile::none;
    uint64_t a, b, line;
    if (!sysfs_hex(start, start_len, a, line))
        return in_file(SysfsFile::start, bad_file, Errc::malformed, "sysfs start is not a hex number", line);
    if (!sysfs_hex(end, end_len, b, line))
        return in_file(SysfsFile::end, bad_file, Errc::malformed, "sysfs end is not a hex number", line);
    // end is inclusive: start - 1 is an empty entry (dropped), as in the text forms.
    if (b < a && b + 1 != a)
        return in_file(SysfsFile::end, bad_file, Errc::invalid_range, "range ends before it starts");
    if (b == UINT64_MAX)
        return in_file(SysfsFile::end, bad_file, Errc::invalid_range,
                       "range wraps past the top of the 64-bit space");
    if (b >= kPhysAddrLimit)
        return in_file(SysfsFile::end, bad_file, Errc::invalid_range,
                       "range ends above the 52-bit physical address limit");
    const char *tb = type, *te = type ? type + type_len : type;
    while (te > tb && (te[-1] == '\n' || detail::is_space(te[-1]))) --te;
    MemType t;
    if (!tb || !sysfs_type(tb, te, t))
        return in_file(SysfsFile::type, bad_file, Errc::unknown_type, "unknown sysfs memmap type");
    return out.add_untrimmed(a, b + 1, t);
}

} // namespace kmem
