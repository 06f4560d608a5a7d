// SPDX-License-Identifier: MIT
//
// DOC: libFuzzer target: the Linux boot-log event parser behind kmem-sim
// --replay (tools/common/linux_log.cpp), strict and lenient.
//
// Lenient parsing never fails; strict parsing fails exactly when lenient
// skipped a line, with "line N: reason" naming a line of the input, and
// otherwise finds the same events. Events come in line order and name lines
// that exist.
#include "linux_log.h"

#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    kmem::tools::LinuxLog lenient, strict;
    std::string error;
    if (!kmem::tools::parse_linux_log(text, lenient, error, false)) __builtin_trap();
    uint32_t last = 0;
    for (const kmem::tools::LogEvent &e : lenient.events) {
        if (e.line < last || e.line == 0 || e.line > lenient.lines) __builtin_trap();
        last = e.line;
    }
    const bool ok = kmem::tools::parse_linux_log(text, strict, error, true);
    if (ok != (lenient.skipped_trace_lines == 0)) __builtin_trap();
    if (ok && strict.events.size() != lenient.events.size()) __builtin_trap();
    if (!ok) {
        if (error.rfind("line ", 0) != 0) __builtin_trap();
        const uint64_t line = std::stoull(error.substr(5));
        if (line == 0 || line > lenient.lines || error.find(": ") == std::string::npos) __builtin_trap();
    }
    return 0;
}
