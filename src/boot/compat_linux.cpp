// SPDX-License-Identifier: MIT
//
// DOC: the out-of-line half of include/kmem/compat/linux.h: errno-style
// results and panics on MemorySystem::current().
#include <kmem/compat/linux.h>

#include "platform/current.h"

namespace kmem::compat::detail {
namespace {

constexpr int kEnomem = 12, kEbusy = 16, kEinval = 22;

int to_errno(const Status &s) {
    if (s.ok()) return 0;
    if (s.code() == Errc::busy) return -kEbusy;
    if (s.code() == Errc::no_memory) return -kEnomem;
    return -kEinval;
}

} // namespace

void *alloc_virt(const BootRequest &r, bool panic_on_failure) {
    MemorySystem *m = MemorySystem::current();
    if (!m) {
        if (panic_on_failure) Plat::panic("bootmem allocation with no memory system");
        return nullptr;
    }
    Result<uint64_t> got = m->alloc(r);
    if (!got.ok()) {
        if (panic_on_failure) Plat::panic("bootmem allocation failed: out of memory or bad request");
        return nullptr;
    }
    return Plat::phys_to_virt(got.value());
}

phys_addr_t alloc_phys(const BootRequest &r) {
    MemorySystem *m = MemorySystem::current();
    if (!m) return 0;
    Result<uint64_t> got = m->alloc(r);
    return got.ok() ? got.value() : 0;
}

int reserve(phys_addr_t base, phys_addr_t size, bool exclusive, const char *caller) {
    MemorySystem *m = MemorySystem::current();
    return m ? to_errno(m->reserve(base, size, exclusive, caller)) : -kEinval;
}

int free_phys(phys_addr_t base, phys_addr_t size) {
    MemorySystem *m = MemorySystem::current();
    return m ? to_errno(m->free(base, size)) : -kEinval;
}

int free_virt(const void *ptr, size_t size) {
    if (!ptr) return 0;
    return free_phys(Plat::virt_to_phys(ptr), size);
}

unsigned long free_all() {
    MemorySystem *m = MemorySystem::current();
    return m && m->phase() >= Phase::early_window ? m->phys().totals().free : 0;
}

} // namespace kmem::compat::detail
