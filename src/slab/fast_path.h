// SPDX-License-Identifier: MIT
//
// DOC: the slab's fast-path contract, for a caller that holds a CPU itself
// (the malloc shim, tools/malloc/shim.cpp).
//
// kmalloc and kfree run their fast paths inside their own interrupts-off
// section on the CPU they look up. A caller that already has a CPU to itself
// for the whole call - the malloc shim's CpuScope - can run the same paths
// inline, with the CPU it holds, and keep them free of calls (mimalloc's
// rule: the fast path inline, one branch to the slow path out of line).
// This header is all of the slab a caller outside slab/ may use for that
// (docs/design.md, "Layering, checked", exports it; slab_internal.h stays
// private). Three calls:
//
//   kmalloc_fast(sa, size, cpu): an object of the kmalloc class for size
//     from CPU cpu's freelist, or null - then sa.kmalloc_node(size, 0,
//     kAnyNode) (or kmalloc) decides, with no state left behind.
//   free_local(sa, p, cpu, s): the CPU-local part of kfree(p). 0: done.
//     Anything else (kFreeSlow, or an object index + 1) must be handed, with
//     the slab it found in s (null: none), to free_rest(sa, p, s, r), which
//     repeats no lookup and returns kfree's Status (an invalid pointer or a
//     double free: not ok, with the reason).
//   free_rest(sa, p, s, r): the rest of that free, out of line.
//
// What the caller guarantees, on every call:
//   - sa is initialised (SlabAllocator::init succeeded);
//   - cpu is a CPU slot (< kMaxCpus) the calling thread holds for the whole
//     call and that nothing else uses meanwhile - on a kernel, its own CPU
//     with preemption off; in the shim, the slot its CpuScope gave it;
//   - interrupts that could call kmem on that CPU are off for the whole call
//     (Plat::irq_save), or the platform has none (the shim: POSIX lets no
//     signal handler call malloc);
//   - free_local: p is neither null nor kZeroSizePtr. Any other address is
//     fine: one outside online memory reads nothing and finds no slab (s is
//     null, the answer kFreeSlow), so the caller needs no test that p is
//     kmem's before asking;
//   - free_rest: called for a non-zero answer of free_local, with the same
//     sa, p and s, in the same call (the CPU still held).
// Nothing here takes a lock, calls the buddy or counts statistics; the slow
// paths (kmalloc_node, free_rest) do what kmalloc and kfree do.
#pragma once

#include <kmem/slab.h>

#include "slab/slab_internal.h"

#include <stddef.h>
#include <stdint.h>

namespace kmem::fast_path {

// free_local's answer when the slow path must decide (no slab, a cache that
// is not plain, a possible double free).
inline constexpr uint32_t kFreeSlow = SlabInternals::kFreeSlow;

// An object for size (1 .. kKmallocMaxCacheSize) from CPU cpu's freelist of
// its kmalloc class, or null (no object there, another size, or kmalloc's
// caches are not plain): the caller goes on to kmalloc_node.
[[gnu::always_inline]] inline void *kmalloc_fast(SlabAllocator &sa, size_t size, unsigned cpu) {
    return SlabInternals::kmalloc_fast(sa, size, cpu);
}

// The CPU-local part of kfree(p) on CPU cpu: 0 when done; otherwise the
// answer to pass to free_rest, with s the slab found (null: none).
[[gnu::always_inline]] inline uint32_t free_local(SlabAllocator &sa, const void *p, unsigned cpu, SlabHeader *&s) {
    return SlabInternals::free_local(sa, p, cpu, s);
}

// The rest of a free free_local did not finish (r: its answer, s: its slab).
inline Status free_rest(SlabAllocator &sa, const void *p, SlabHeader *s, uint32_t r) {
    return SlabInternals::free_rest(sa, p, s, r);
}

} // namespace kmem::fast_path
