// SPDX-License-Identifier: MIT
//
// DOC: ReportSink - where a report's text goes (a console, a file, a string).
//
// The core formats reports without libc and hands the text to a sink in
// pieces; this header is all a formatter needs of it (src/lib/text_out.h),
// so the formatting helpers depend on no allocator layer.
#pragma once

#include <stddef.h>

namespace kmem {

using ReportSink = void (*)(void *ctx, const char *text, size_t len);

} // namespace kmem
