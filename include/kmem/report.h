// SPDX-License-Identifier: MIT
//
// DOC: reports in Linux's /proc formats, written to any sink.
//
// The same text goes to kmem-sim's stdout and to a bare-metal kernel's serial
// console: the core formats it (no libc) and hands it to a sink in pieces.
#pragma once

#include <kmem/buddy.h>
#include <kmem/report_sink.h>

#include <stddef.h>

namespace kmem {

// /proc/buddyinfo: free blocks per order, per node and zone (lazy runs count
// as free max-order blocks).
void report_buddyinfo(const PhysAllocator &a, ReportSink sink, void *ctx);
// /proc/zoneinfo, the subset that applies: free, watermarks, spanned,
// present, managed, per-CPU pages and kmem's own counters.
void report_zoneinfo(const PhysAllocator &a, ReportSink sink, void *ctx);
// /proc/meminfo, the memory lines that apply (MemTotal, MemFree, ...).
void report_meminfo(const PhysAllocator &a, ReportSink sink, void *ctx);

} // namespace kmem
