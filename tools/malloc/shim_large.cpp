// SPDX-License-Identifier: MIT
//
// DOC: allocations kmem does not serve: private mmap()s in a fixed table.
//
// Requests above 4 MiB (what alloc_pages_exact can give) and alignments above
// one page go straight to mmap, rounded to whole pages, and munmap gives them
// back to the OS at free. Instead of a header in front of the block, each
// mapping is recorded in a static open-addressing table (65 536 entries,
// linear probing, backward-shift deletion) under a mutex: free() of a
// pointer outside the heap asks the table, so a foreign pointer is never
// mistaken for one of these. realloc of a large block uses mremap.
#include "shim.h"

#include <pthread.h>
#include <sys/mman.h>

namespace kmem::shim {
namespace {

struct Entry {
    uintptr_t addr; // 0: empty
    size_t len;     // bytes mapped at addr (whole pages)
};

constexpr size_t kEntries = size_t{1} << 16;
Entry g_table[kEntries];
size_t g_used = 0;
size_t g_bytes = 0; // mapped by the entries
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

size_t slot_of(uintptr_t a) { return ((a >> 12) * 0x9e3779b97f4a7c15ull >> 48) & (kEntries - 1); }

Entry *find(uintptr_t a) {
    for (size_t i = slot_of(a);; i = (i + 1) & (kEntries - 1)) {
        if (g_table[i].addr == a) return &g_table[i];
        if (!g_table[i].addr) return nullptr;
    }
}

bool insert(uintptr_t a, size_t len) {
    if (g_used + 1 >= kEntries * 3 / 4) return false;
    size_t i = slot_of(a);
    while (g_table[i].addr) i = (i + 1) & (kEntries - 1);
    g_table[i] = {a, len};
    ++g_used;
    g_bytes += len;
    return true;
}

void erase(Entry *e) {
    g_bytes -= e->len;
    size_t i = static_cast<size_t>(e - g_table);
    for (size_t j = i;;) {
        j = (j + 1) & (kEntries - 1);
        if (!g_table[j].addr) break;
        const size_t k = slot_of(g_table[j].addr);
        // Move j back into the hole at i unless its home k lies in (i, j].
        const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            g_table[i] = g_table[j];
            i = j;
        }
    }
    g_table[i].addr = 0;
    --g_used;
}

size_t page_round(size_t n) { return (n + kPageSize - 1) & ~(kPageSize - 1); }

} // namespace

void *large_alloc(size_t size, size_t align) {
    if (size == 0) size = 1;
    if (size > (SIZE_MAX >> 2) || align > (SIZE_MAX >> 2)) return nullptr;
    const size_t len = page_round(size);
    const size_t extra = align > kPageSize ? align : 0;
    void *m = mmap(nullptr, len + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    uintptr_t a = reinterpret_cast<uintptr_t>(m);
    if (extra) { // trim to the aligned part
        const uintptr_t aligned = (a + align - 1) & ~(uintptr_t{align} - 1);
        if (aligned > a) munmap(m, aligned - a);
        if (aligned + len < a + len + extra) munmap(reinterpret_cast<void *>(aligned + len), a + extra - aligned);
        a = aligned;
    }
    pthread_mutex_lock(&g_lock);
    const bool ok = insert(a, len);
    pthread_mutex_unlock(&g_lock);
    if (!ok) {
        munmap(reinterpret_cast<void *>(a), len);
        return nullptr;
    }
    count(kLarge);
    return reinterpret_cast<void *>(a);
}

bool large_free(void *p) {
    pthread_mutex_lock(&g_lock);
    Entry *e = find(reinterpret_cast<uintptr_t>(p));
    size_t len = 0;
    if (e) {
        len = e->len;
        erase(e);
    }
    pthread_mutex_unlock(&g_lock);
    if (e) munmap(p, len);
    return e != nullptr;
}

size_t large_usable(const void *p) {
    pthread_mutex_lock(&g_lock);
    const Entry *e = find(reinterpret_cast<uintptr_t>(p));
    const size_t len = e ? e->len : 0;
    pthread_mutex_unlock(&g_lock);
    return len;
}

void *large_realloc(void *p, size_t size) {
    if (size > (SIZE_MAX >> 2)) return nullptr;
    const size_t len = page_round(size);
    pthread_mutex_lock(&g_lock);
    Entry *e = find(reinterpret_cast<uintptr_t>(p));
    void *q = e ? mremap(p, e->len, len, MREMAP_MAYMOVE) : MAP_FAILED;
    if (q != MAP_FAILED) {
        erase(e);
        (void)insert(reinterpret_cast<uintptr_t>(q), len); // a slot was just freed
    }
    pthread_mutex_unlock(&g_lock);
    return q == MAP_FAILED ? nullptr : q;
}

void large_totals(size_t &count, size_t &bytes) {
    pthread_mutex_lock(&g_lock);
    count = g_used;
    bytes = g_bytes;
    pthread_mutex_unlock(&g_lock);
}

void large_lock() { pthread_mutex_lock(&g_lock); }
void large_unlock() { pthread_mutex_unlock(&g_lock); }

} // namespace kmem::shim
