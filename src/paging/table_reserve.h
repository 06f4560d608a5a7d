// SPDX-License-Identifier: MIT
//
// DOC: what the page-table builders share (private to src/paging/): a table
// page's address through the direct map, the root table every init() takes,
// and the reserve of table pages the
// AArch64 and RISC-V builders' map() takes from the buddy before it writes a
// single entry - so a mapping is all or nothing, and a failed one gives every
// page back.
#pragma once

#include <kmem/buddy.h>

#include "platform/current.h"

#include <stdint.h>

namespace kmem::paging {

inline uint64_t *table_virt(uint64_t pa) {
    KMEM_CHECK_MAPPED(pa, kPageSize);
    return static_cast<uint64_t *>(Plat::phys_to_virt(pa));
}

// A builder's init(): once only, a zeroed root table from `phys` (`no_page`:
// the error when there is none), and the builder bound to `phys`.
inline Status take_root(PhysAllocator *&bound, PhysAllocator &phys, uint64_t &root, uint64_t &table_pages,
                        const char *no_page) {
    if (bound) return make_error(Errc::wrong_phase, "page tables are already initialised");
    Result<uint64_t> r = phys.alloc_pages(0, kAllocZero);
    if (!r.ok()) return make_error(Errc::no_memory, no_page);
    bound = &phys;
    root = r.value();
    table_pages = 1;
    return {};
}

// Zeroed table pages, linked through their first word (the rest of each
// page is zero already; pop() zeroes the link again).
class TableReserve {
public:
    // Take `pages` zeroed pages from the buddy; on failure give back what
    // was taken and say `no_page`.
    Status take(PhysAllocator &phys, uint64_t pages, const char *no_page) {
        for (uint64_t i = 0; i < pages; ++i) {
            Result<uint64_t> r = phys.alloc_pages(0, kAllocZero);
            if (!r.ok()) {
                release(phys);
                return make_error(Errc::no_memory, no_page);
            }
            push(r.value());
        }
        return {};
    }
    // The next page; `arch` names the builder in the panic a counting bug
    // (more pops than pages taken) ends in.
    uint64_t pop(const char *arch) {
        if (count_ == 0) Plat::panic(arch);
        const uint64_t pa = head_;
        uint64_t *t = table_virt(pa);
        head_ = t[0];
        t[0] = 0;
        --count_;
        return pa;
    }
    uint64_t count() const { return count_; }

private:
    void push(uint64_t pa) {
        table_virt(pa)[0] = head_;
        head_ = pa;
        ++count_;
    }
    void release(PhysAllocator &phys) {
        while (count_) (void)phys.free_pages(pop("paging: table reserve"), 0);
    }
    uint64_t head_ = 0, count_ = 0;
};

} // namespace kmem::paging
