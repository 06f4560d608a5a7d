// SPDX-License-Identifier: MIT
//
// DOC: the malloc shim's C semantics (label unit).
//
// This binary links libkmem-malloc.so, so the shim is the process allocator
// from the first allocation on, as under LD_PRELOAD; kmem_malloc_get_info()
// tells what it did. Covered: alignment and usable size of every size class,
// malloc(0), calloc/reallocarray overflow, realloc across slab, page and
// mmap sizes, the memalign family's argument checks, foreign pointers from
// glibc's own malloc, invalid and double frees, heap growth, more threads
// than CPU slots, fork with another thread allocating, C++ new/delete.
#include <kmem_malloc.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <malloc.h>
#include <new>
#include <stdlib.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

kmem_malloc_info info() {
    kmem_malloc_info i;
    kmem_malloc_get_info(&i);
    return i;
}

bool aligned(const void *p, size_t a) { return (reinterpret_cast<uintptr_t>(p) & (a - 1)) == 0; }

// Defeat the compiler's knowledge of malloc (it may fold malloc/free pairs
// and warns about frees and sizes it can see are wrong).
// One per thread: a shared one would hand one thread's pointer to another.
thread_local void *volatile g_sink;
volatile size_t g_huge = SIZE_MAX;
template <class T> T *launder(T *p) {
    g_sink = p;
    return static_cast<T *>(g_sink);
}

TEST(MallocShim, IsTheProcessAllocator) {
    const uint64_t before = info().mallocs;
    g_sink = malloc(100);
    free(g_sink);
    EXPECT_GT(info().mallocs, before);
    EXPECT_GE(info().online_bytes, uint64_t{1} << 30);
}

TEST(MallocShim, EverySizeIsAlignedAndUsable) {
    for (size_t n = 0; n <= 70000; n += (n < 9000 ? 1 : 997)) {
        auto *p = static_cast<unsigned char *>(malloc(n));
        ASSERT_NE(p, nullptr) << n;
        ASSERT_TRUE(aligned(p, 16)) << n;
        ASSERT_GE(malloc_usable_size(p), n);
        memset(p, 0xa5, malloc_usable_size(p));
        free(p);
    }
}

TEST(MallocShim, MallocZeroIsUniqueAndFreeable) {
    void *a = malloc(0), *b = malloc(0);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    free(a);
    free(b);
    free(nullptr);
}

TEST(MallocShim, ImpossibleSizesFailWithEnomem) {
    errno = 0;
    g_sink = malloc(g_huge);
    EXPECT_EQ(g_sink, nullptr);
    EXPECT_EQ(errno, ENOMEM);
    errno = 0;
    g_sink = malloc(g_huge / 2);
    EXPECT_EQ(g_sink, nullptr);
    EXPECT_EQ(errno, ENOMEM);
}

TEST(MallocShim, CallocOverflowsAndZeroes) {
    errno = 0;
    EXPECT_EQ(calloc(g_huge / 2, 4), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    for (size_t n : {1u, 24u, 200u, 5000u, 100000u, 6u << 20}) {
        for (int round = 0; round < 4; ++round) { // reuse dirty memory
            auto *d = static_cast<unsigned char *>(malloc(n));
            memset(d, 0xff, n);
            free(d);
            auto *p = static_cast<unsigned char *>(calloc(n, 1));
            ASSERT_NE(p, nullptr);
            for (size_t i = 0; i < n; ++i) ASSERT_EQ(p[i], 0) << n << " at " << i;
            free(p);
        }
    }
}

TEST(MallocShim, ReallocKeepsContentsAcrossEveryKind) {
    EXPECT_EQ(realloc(malloc(10), 0), nullptr); // glibc: frees, returns null
    auto *p = static_cast<unsigned char *>(realloc(nullptr, 8));
    ASSERT_NE(p, nullptr);
    size_t have = 8;
    for (size_t i = 0; i < have; ++i) p[i] = static_cast<unsigned char>(i * 7);
    for (size_t n : {100u, 9000u, 5u << 20, 20u << 20, 3u << 20, 100u, 8u}) {
        p = static_cast<unsigned char *>(realloc(p, n));
        ASSERT_NE(p, nullptr);
        ASSERT_TRUE(aligned(p, 16));
        const size_t keep = have < n ? have : n;
        for (size_t i = 0; i < keep; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i * 7)) << n;
        for (size_t i = keep; i < n; ++i) p[i] = static_cast<unsigned char>(i * 7);
        have = n;
    }
    free(p);
}

TEST(MallocShim, ReallocarrayOverflowLeavesTheBlock) {
    auto *p = static_cast<int *>(malloc(4 * sizeof(int)));
    p[3] = 42;
    errno = 0;
    EXPECT_EQ(reallocarray(launder(p), g_huge / 2, 4), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_EQ(launder(p)[3], 42);
    p = static_cast<int *>(reallocarray(launder(p), 1000, sizeof(int)));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p[3], 42);
    free(p);
}

// Found by fuzz_malloc: growing a page-level block to more than 2^63 bytes
// doubled its target size until it wrapped to 0, and looped forever.
TEST(MallocShim, ReallocOfAPageBlockToAnImpossibleSizeFails) {
    auto *p = static_cast<unsigned char *>(malloc(3 * 8192));
    ASSERT_NE(p, nullptr);
    p[100] = 7;
    for (size_t n : {size_t{g_huge}, size_t{g_huge / 2 + 2}}) {
        errno = 0;
        EXPECT_EQ(realloc(launder(p), n), nullptr);
        EXPECT_EQ(errno, ENOMEM);
        EXPECT_EQ(launder(p)[100], 7);
    }
    free(p);
}

TEST(MallocShim, PosixMemalignChecksItsArguments) {
    void *p = reinterpret_cast<void *>(0x1234);
    for (size_t bad : {size_t{0}, size_t{3}, size_t{4}, size_t{24}, size_t{100}}) {
        errno = 0;
        EXPECT_EQ(posix_memalign(&p, bad, 10), EINVAL) << bad;
        EXPECT_EQ(p, reinterpret_cast<void *>(0x1234)); // untouched on error
        EXPECT_EQ(errno, 0);
    }
    EXPECT_EQ(posix_memalign(&p, 64, g_huge / 2), ENOMEM);
    for (size_t a = sizeof(void *); a <= (size_t{8} << 20); a <<= 1)
        for (size_t n : {1u, 100u, 5000u, 70000u}) {
            ASSERT_EQ(posix_memalign(&p, a, n), 0) << a << " " << n;
            ASSERT_TRUE(aligned(p, a)) << a << " " << n;
            ASSERT_GE(malloc_usable_size(p), n);
            memset(p, 1, n);
            free(p);
        }
}

TEST(MallocShim, AlignedAllocMemalignVallocPvalloc) {
    errno = 0;
    EXPECT_EQ(aligned_alloc(24, 48), nullptr);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(aligned_alloc(0, 48), nullptr);
    EXPECT_EQ(errno, EINVAL);
    for (size_t a : {1u, 2u, 16u, 32u, 256u, 4096u, 65536u, 2u << 20}) {
        void *p = aligned_alloc(a, 3 * a);
        ASSERT_NE(p, nullptr);
        EXPECT_TRUE(aligned(p, a)) << a;
        free(p);
    }
    void *m = memalign(24, 10); // glibc rounds the alignment up to 32
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(aligned(m, 32));
    free(m);
    errno = 0;
    EXPECT_EQ(memalign(SIZE_MAX, 10), nullptr);
    EXPECT_EQ(errno, EINVAL);
    void *v = valloc(10);
    EXPECT_TRUE(aligned(v, 4096));
    free(v);
    void *pv = pvalloc(1);
    EXPECT_TRUE(aligned(pv, 4096));
    EXPECT_GE(malloc_usable_size(pv), 4096u);
    free(pv);
    pv = pvalloc(0);
    ASSERT_NE(pv, nullptr);
    free(pv);
    EXPECT_EQ(malloc_usable_size(nullptr), 0u);
}

TEST(MallocShim, LargeRequestsAreMappedAndUnmapped) {
    const uint64_t before = info().large;
    auto *p = static_cast<char *>(malloc(9u << 20));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(info().large, before + 1);
    EXPECT_GE(malloc_usable_size(p), 9u << 20);
    p[0] = p[(9u << 20) - 1] = 1;
    free(p);
}

// Resident memory of this process, from /proc/self/statm.
uint64_t resident_bytes() {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
        fclose(f);
    }
    return uint64_t{resident} * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Free memory past the policy's limit goes back to the OS by itself: 192 MiB
// of page blocks freed (more than kRetainBytes, 64 MiB, plus half of what is
// in use) are partly discarded, and the process's resident set shrinks.
TEST(MallocShim, FreedPageBlocksGoBackToTheOs) {
    const uint64_t before = info().returned_bytes;
    std::vector<char *> blocks;
    for (int i = 0; i < 192; ++i) {
        auto *p = launder(static_cast<char *>(malloc(1u << 20)));
        ASSERT_NE(p, nullptr);
        memset(p, 1, 1u << 20);
        blocks.push_back(p);
    }
    const uint64_t rss_full = resident_bytes();
    for (char *p : blocks) free(launder(p));
    EXPECT_GE(info().returned_bytes, before + (32u << 20)) << "the free path never gave memory back";
    EXPECT_LE(resident_bytes() + (32u << 20), rss_full);
    // What comes back out is zero (calloc) or as written: nothing live was discarded.
    auto *q = static_cast<unsigned char *>(calloc(32u << 20, 1));
    ASSERT_NE(q, nullptr);
    for (size_t i = 0; i < (32u << 20); i += 512) ASSERT_EQ(q[i], 0);
    free(q);
}

// malloc_trim gives back every free block (but its first page): 1 when it
// released something, and the memory is reusable after.
TEST(MallocShim, MallocTrimReturnsFreeMemory) {
    auto *p = launder(static_cast<char *>(malloc(3u << 20)));
    ASSERT_NE(p, nullptr);
    memset(p, 7, 3u << 20);
    auto *keep = launder(static_cast<char *>(malloc(100)));
    memset(keep, 5, 100);
    free(launder(p));
    const uint64_t before = info().returned_bytes;
    EXPECT_EQ(malloc_trim(0), 1);
    EXPECT_GE(info().returned_bytes, before + (2u << 20));
    for (int i = 0; i < 100; ++i) ASSERT_EQ(keep[i], 5) << "trim discarded live memory";
    free(keep);
    auto *q = launder(static_cast<char *>(malloc(3u << 20)));
    ASSERT_NE(q, nullptr);
    memset(q, 9, 3u << 20);
    EXPECT_EQ(q[(3u << 20) - 1], 9);
    free(q);
}

// mallinfo2 and mallinfo report kmem's books (glibc's would show its unused
// arenas): a page block in use raises uordblks and lowers it when freed, an
// mmap()ed block counts in hblks/hblkhd; mallopt changes nothing and says so.
TEST(MallocShim, MallinfoReportsKmemsHeap) {
    const struct mallinfo2 before = mallinfo2();
    EXPECT_GE(before.arena, size_t{1} << 30) << "the onlined heap";
    auto *p = launder(static_cast<char *>(malloc(2u << 20)));
    auto *big = launder(static_cast<char *>(malloc(9u << 20)));
    ASSERT_NE(p, nullptr);
    ASSERT_NE(big, nullptr);
    const struct mallinfo2 during = mallinfo2();
    EXPECT_GE(during.uordblks, before.uordblks + (11u << 20));
    EXPECT_EQ(during.hblks, before.hblks + 1);
    EXPECT_GE(during.hblkhd, before.hblkhd + (9u << 20));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    EXPECT_EQ(static_cast<size_t>(mallinfo().hblks), during.hblks); // the old interface, still called
#pragma GCC diagnostic pop
    free(launder(big));
    free(launder(p));
    const struct mallinfo2 after = mallinfo2();
    EXPECT_LE(after.uordblks + (11u << 20), during.uordblks);
    EXPECT_EQ(after.hblks, before.hblks);
    EXPECT_GT(after.fordblks, 0u);
    EXPECT_EQ(mallopt(M_MMAP_THRESHOLD, 1 << 20), 0);
    malloc_stats(); // one line on stderr; must not allocate through itself or crash
}

TEST(MallocShim, ForeignPointersGoToGlibc) {
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    ASSERT_NE(libc, nullptr);
    auto glibc_malloc = reinterpret_cast<void *(*)(size_t)>(dlsym(libc, "malloc"));
    ASSERT_NE(glibc_malloc, nullptr);
    ASSERT_NE(reinterpret_cast<void *>(glibc_malloc), reinterpret_cast<void *>(&malloc));
    const uint64_t before = info().foreign;
    void *f = glibc_malloc(100);
    EXPECT_GE(malloc_usable_size(f), 100u);
    free(f);
    EXPECT_EQ(info().foreign, before + 1);
    auto *g = static_cast<char *>(glibc_malloc(64));
    strcpy(g, "from glibc");
    auto *moved = static_cast<char *>(realloc(g, 5000)); // moves into kmem
    ASSERT_NE(moved, nullptr);
    EXPECT_STREQ(moved, "from glibc");
    EXPECT_EQ(info().foreign, before + 2);
    free(moved);
    EXPECT_EQ(info().foreign, before + 2);
    dlclose(libc);
}

TEST(MallocShimDeathTest, InvalidAndDoubleFreesAbort) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto *p = static_cast<char *>(malloc(64));
    EXPECT_DEATH(free(launder(p + 16)), "kmem-malloc: free");
    free(p);
    EXPECT_DEATH(
        {
            void *q = launder(malloc(200));
            void *again = launder(q);
            free(q);
            free(again);
        },
        "kmem-malloc: free");
}

TEST(MallocShim, GrowsBeyondTheFirstSection) {
    const kmem_malloc_info before = info();
    std::vector<void *> blocks;
    for (int i = 0; i < 700; ++i) { // 2.7 GiB of 4 MiB page blocks, never touched
        void *p = malloc(4u << 20);
        ASSERT_NE(p, nullptr) << i;
        blocks.push_back(p);
    }
    EXPECT_GT(info().grows, before.grows);
    EXPECT_GE(info().online_bytes, before.online_bytes + (uint64_t{1} << 30));
    for (void *p : blocks) free(p);
}

TEST(MallocShim, MoreThreadsThanCpuSlots) {
    constexpr int kThreads = 100; // the shim has 63 slots of its own
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::vector<void *>> handoff(kThreads);
    const uint64_t shared_before = info().shared_calls;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            g_sink = malloc(8); // claim a slot (or not) while all are alive
            free(g_sink);
            ++ready;
            while (!go) std::this_thread::yield();
            std::vector<void *> mine;
            for (int i = 0; i < 2000; ++i) {
                auto *p = static_cast<uint32_t *>(malloc(16 + (i * 37 + t) % 3000));
                *p = static_cast<uint32_t>(t);
                mine.push_back(p);
                if (i % 3 == 0) {
                    EXPECT_EQ(*static_cast<uint32_t *>(mine.front()), static_cast<uint32_t>(t));
                    free(mine.front());
                    mine.erase(mine.begin());
                }
            }
            handoff[t] = std::move(mine); // freed by another thread
        });
    while (ready < kThreads) std::this_thread::yield();
    go = true;
    for (auto &th : threads) th.join();
    EXPECT_GT(info().shared_calls, shared_before);
    std::thread freer([&] {
        for (auto &v : handoff)
            for (void *p : v) free(p);
    });
    freer.join();
    // The exited threads gave their slots back: new threads get their own.
    const uint64_t shared_after = info().shared_calls;
    for (int round = 0; round < 3; ++round) {
        std::vector<std::thread> more;
        for (int t = 0; t < 40; ++t)
            more.emplace_back([] {
                for (int i = 0; i < 100; ++i) {
                    g_sink = malloc(100);
                    free(g_sink);
                }
            });
        for (auto &th : more) th.join();
    }
    EXPECT_LT(info().shared_calls - shared_after, 40u); // at most a few at thread exit
}

TEST(MallocShim, ExitingThreadsFlushTheirCaches) {
    // 24 threads, alive together (so each has its own slot), fill slabs of
    // one class and free everything; each CPU's active slab would stay with
    // its slot unless the thread's exit flushed it.
    const uint64_t before = info().slab_bytes;
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 24; ++t)
        threads.emplace_back([&] {
            std::vector<void *> v;
            for (int i = 0; i < 200; ++i) v.push_back(launder(malloc(2000)));
            for (void *p : v) free(p);
            ++done;
            while (done < 24) std::this_thread::yield();
        });
    for (auto &th : threads) th.join();
    EXPECT_LT(info().slab_bytes, before + (256u << 10));
}

// Two threads allocate 224 MiB of small objects between them, then each
// frees the other's and exits: the slabs the frees emptied go back to the
// buddy (a slab a thread that has exited filled stays with the thread that
// freed into it), and at each exit the free memory kept resident is bounded
// by kExitRetainBytes (16 MiB) plus half of what is in use, not by the
// running bound of 64 MiB (docs/malloc.md).
TEST(MallocShim, CrossThreadFreesComeBackWhenTheThreadsExit) {
    const uint64_t rss_before = resident_bytes();
    constexpr size_t kObjects = 1u << 20;
    std::vector<void *> objects[2];
    for (auto &v : objects) v.reserve(kObjects);
    std::atomic<int> filled{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&, t] {
            for (size_t i = 0; i < kObjects; ++i) {
                auto *p = launder(static_cast<char *>(malloc(112)));
                p[0] = p[111] = char(i);
                objects[t].push_back(p);
            }
            ++filled;
            while (filled < 2) std::this_thread::yield();
            for (void *p : objects[1 - t]) free(p);
        });
    for (auto &th : threads) th.join();
    for (auto &v : objects) std::vector<void *>().swap(v);
    const uint64_t peak_part = 2 * kObjects * 112;
    EXPECT_LE(resident_bytes(), rss_before + (24u << 20))
        << "after " << (peak_part >> 20) << " MiB of objects were freed by the other thread";
}

TEST(MallocShim, ForkWhileAnotherThreadAllocates) {
    std::atomic<bool> stop{false};
    std::thread busy([&] {
        while (!stop) {
            void *p = malloc(300);
            g_sink = p;
            free(p);
            p = malloc(20000);
            free(p);
        }
    });
    for (int i = 0; i < 20; ++i) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            std::vector<void *> v;
            for (int k = 0; k < 1000; ++k) v.push_back(malloc(k + 1));
            for (void *p : v) free(p);
            std::thread t([] { g_sink = malloc(10); free(g_sink); });
            t.join();
            _exit(0);
        }
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    stop = true;
    busy.join();
}

struct alignas(256) Wide {
    char bytes[300];
};

TEST(MallocShim, CxxNewAndDeleteGoThroughTheShim) {
    const uint64_t before = info().mallocs;
    auto *a = launder(new int[1000]); // kept: an unused new/delete pair may be elided
    auto *w = new Wide;
    auto *ws = new Wide[3];
    EXPECT_TRUE(aligned(w, 256));
    EXPECT_TRUE(aligned(ws, 256));
    delete[] ws;
    delete w;
    delete[] a;
    auto *n = launder(new (std::nothrow) char[16]);
    delete[] n;
    EXPECT_GE(info().mallocs, before + 4);
}

const char *library_of(const char *symbol) {
    Dl_info where{};
    void *f = dlsym(RTLD_DEFAULT, symbol);
    return f && dladdr(f, &where) && where.dli_fname ? where.dli_fname : "?";
}

// Every form of operator new and delete is the shim's own, not libstdc++'s
// wrapper around malloc.
TEST(MallocShim, EveryOperatorNewAndDeleteIsTheShims) {
    for (const char *sym : {"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
                            "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZdlPv", "_ZdaPv",
                            "_ZdlPvm", "_ZdaPvm", "_ZdlPvSt11align_val_t", "_ZdlPvmSt11align_val_t",
                            "_ZdaPvmSt11align_val_t", "_ZdlPvRKSt9nothrow_t"})
        EXPECT_NE(std::strstr(library_of(sym), "libkmem-malloc"), nullptr) << sym << " is " << library_of(sym);
    // Sized and aligned forms on every path: slab, page and mapped sizes.
    for (size_t align : {size_t{8}, size_t{64}, size_t{4096}, size_t{16384}})
        for (size_t n : {size_t{24}, size_t{3000}, size_t{100000}, size_t{5} << 20}) {
            void *p = ::operator new(n, std::align_val_t(align));
            ASSERT_TRUE(aligned(p, align)) << n << " at " << align;
            std::memset(p, 0x5a, n);
            ::operator delete(p, n, std::align_val_t(align));
        }
}

int g_handler_calls = 0;
void give_up_handler() {
    ++g_handler_calls;
    std::set_new_handler(nullptr); // the next failure throws
}

TEST(MallocShim, OperatorNewCallsTheNewHandlerThenThrows) {
    const size_t impossible = g_huge / 2;
    EXPECT_EQ(::operator new(impossible, std::nothrow), nullptr);
    std::set_new_handler(give_up_handler);
    bool threw = false;
    try {
        g_sink = ::operator new(impossible);
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(g_handler_calls, 1);
    EXPECT_EQ(::operator new(impossible, std::align_val_t(64), std::nothrow), nullptr);
}

} // namespace
