// SPDX-License-Identifier: MIT
//
// DOC: the page map's slow paths - installing and growing descriptor
// arrays, the readability word, the reason table, and why a page has no
// descriptor.
#include "page/page_map.h"

#include <kmem/memmap.h>

namespace kmem {
namespace {

bool same_text(const char *a, const char *b) {
    if (a == b) return true;
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

const char *const kReasonTableFull = "reserved (reason table full)";

} // namespace

uint32_t PageMap::reason_index(const char *why) {
    if (!why) return 0;
    for (uint32_t i = 0; i < reason_count_; ++i)
        if (same_text(reasons_[i], why)) return i + 1;
    if (reason_count_ + 1 < kMaxReasons) {
        reasons_[reason_count_] = why;
        return ++reason_count_;
    }
    reasons_[kMaxReasons - 1] = kReasonTableFull;
    reason_count_ = kMaxReasons;
    return kMaxReasons;
}

const char *PageMap::reason(uint32_t index) const {
    return index && index <= reason_count_ ? reasons_[index - 1] : nullptr;
}

bool PageMap::coverage_for(size_t sn, uint32_t lo, uint32_t hi, Coverage &out) const {
    const Section &s = sections_[sn];
    const bool cuts_gap = lo < s.gap_end && hi > s.gap_begin;
    if (s.descs && hi <= s.cov_end && !cuts_gap) return false;
    const uint32_t cover = s.descs && s.cov_end > hi ? s.cov_end : hi;
    out = {cover, cover, cover};
    auto consider = [&](uint32_t b, uint32_t e) {
        if (e > b && e - b > out.gap_end - out.gap_begin) out.gap_begin = b, out.gap_end = e;
    };
    if (!s.descs) {
        consider(0, lo); // nothing below the first part is online
    } else {
        // The current gap, less [lo, hi); the blocks between the current
        // cover and a part above it. Neither holds an online page.
        consider(s.gap_begin, s.gap_end < lo ? s.gap_end : lo);
        consider(s.gap_begin > hi ? s.gap_begin : hi, s.gap_end);
        consider(s.cov_end, lo);
    }
    return true;
}

PageDesc *PageMap::install_array(size_t sn, PageDesc *array, const Coverage &c, uint32_t meta_begin,
                                 uint32_t meta_end) {
    Section &sec = sections_[sn];
    const Section was = sec;
    sec.descs = array;
    // Pages [gap_end, cov_end) follow [0, gap_begin) in the array.
    sec.descs_hi = reinterpret_cast<PageDesc *>(reinterpret_cast<uintptr_t>(array) -
                                                uintptr_t{c.gap_end - c.gap_begin} * sizeof(PageDesc));
    sec.cov_end = c.cover;
    sec.gap_begin = c.gap_begin;
    sec.gap_end = c.gap_end;
    sec.meta_begin = meta_begin;
    sec.meta_end = meta_end;
    // Lazy runs, the old gap and the old array itself have no descriptors
    // worth copying (the new gap lies outside everything else it covered).
    for (uint32_t i = 0; was.descs && i < was.cov_end; ++i)
        if ((i < was.lazy_begin || i >= was.lazy_end) && (i < was.meta_begin || i >= was.meta_end) &&
            (i < was.gap_begin || i >= was.gap_end))
            page::desc_in(sec, i)->set_word(page::desc_in(was, i)->word());
    array_bytes_ += array_pages(c.pages()) * kPageSize;
    if (was.descs) array_bytes_ -= array_pages(covered_pages(was)) * kPageSize;
    else ++sections_used_;
    return was.descs;
}

void PageMap::zero_descs(uint64_t pfn, uint64_t count) {
    // Callers stay inside one section; an empty range may start where the
    // next section begins, which may have no descriptors yet.
    // The pages' descriptors are contiguous: a range of pages never spans
    // the gap, which holds whole blocks with no online page.
    if (count == 0) return;
    PageDesc *d = page::raw_desc(*this, pfn);
    KMEM_CHECK_MAPPED(Plat::virt_to_phys(d), count * sizeof(PageDesc));
    KMEM_ASSERT(d + count - 1 == page::raw_desc(*this, pfn + count - 1), "zero_descs across a section's gap");
    for (uint64_t i = 0; i < count; ++i) d[i].clear();
}

void PageMap::publish_readable(size_t sn) {
    Section &s = sections_[sn];
    uint32_t begin = 0, size = 0;
    // Wholly online, so no gap (vouched_desc relies on it).
    if (s.online == kPagesPerSection && s.descs && s.gap_begin == s.gap_end) {
        struct Hole {
            uint32_t begin, end;
        };
        Hole lo{s.lazy_begin, s.lazy_end}, hi{s.meta_begin, s.meta_end};
        if (lo.begin == lo.end) lo = {hi.begin, hi.begin}; // an empty hole adds none
        if (hi.begin == hi.end) hi = {lo.begin, lo.begin};
        if (hi.begin < lo.begin) {
            const Hole t = lo;
            lo = hi;
            hi = t;
        }
        const uint32_t lo_end = lo.end, hi_end = hi.end > lo.end ? hi.end : lo.end;
        const Hole stretches[3] = {{0, lo.begin}, {lo_end, hi.begin > lo_end ? hi.begin : lo_end},
                                   {hi_end, kPagesPerSection}};
        for (const Hole &h : stretches)
            if (h.end - h.begin > size) begin = h.begin, size = h.end - h.begin;
    }
    __atomic_store_n(&s.readable, uint64_t{begin} | uint64_t{size} << 32, __ATOMIC_RELEASE);
}

const char *PageMap::unreadable_slow(uint64_t pfn, const MemoryMap &online) const {
    if (pfn >= kMaxPfn) return "address beyond the 64 TiB kmem manages";
    const Section &s = sections_[section_of(pfn)];
    if (!s.descs) return "page is not online";
    if (!s.online) return "page is not online";
    if (page::in_lazy(s, pfn)) return "page is free (never allocated)";
    if (page::in_meta(s, pfn)) return "page holds page descriptors";
    if (s.online != kPagesPerSection && !online.find(pa_of(pfn))) return "page is not online";
    return nullptr;
}

} // namespace kmem
