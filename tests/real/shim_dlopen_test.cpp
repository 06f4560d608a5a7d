// SPDX-License-Identifier: MIT
//
// DOC: libkmem-malloc.so loaded with dlopen (label unit).
//
// A process that already runs on glibc's malloc dlopens the shim: it must
// load (its thread state is a few bytes of initial-exec TLS, which fits the
// static TLS surplus), serve its own functions called through dlsym from
// several threads, and pass glibc's pointers on to glibc's free.
#include <kmem_malloc.h>

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <thread>
#include <vector>

namespace {

struct Shim {
    void *handle = dlopen(KMEM_MALLOC_SO, RTLD_NOW | RTLD_LOCAL);
    template <class F> F fn(const char *name) { return reinterpret_cast<F>(dlsym(handle, name)); }
    ~Shim() {
        if (handle) dlclose(handle);
    }
};

TEST(MallocShimDlopen, LoadsAndServesThreads) {
    Shim shim;
    ASSERT_NE(shim.handle, nullptr) << dlerror();
    auto kmalloc = shim.fn<void *(*)(size_t)>("malloc");
    auto kfree = shim.fn<void (*)(void *)>("free");
    auto usable = shim.fn<size_t (*)(void *)>("malloc_usable_size");
    auto get_info = shim.fn<void (*)(kmem_malloc_info *)>("kmem_malloc_get_info");
    ASSERT_TRUE(kmalloc && kfree && usable && get_info);
    ASSERT_NE(reinterpret_cast<void *>(kmalloc), reinterpret_cast<void *>(&malloc));

    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([=] {
            std::vector<void *> v;
            for (size_t i = 1; i < 3000; ++i) {
                v.push_back(kmalloc(i * 7));
                ASSERT_GE(usable(v.back()), i * 7);
            }
            for (void *p : v) kfree(p);
        });
    for (auto &th : threads) th.join();

    void *glibc_block = malloc(100); // this process's malloc is glibc's
    kmem_malloc_info before;
    get_info(&before);
    kfree(glibc_block);
    kmem_malloc_info after;
    get_info(&after);
    EXPECT_EQ(after.foreign, before.foreign + 1);
    EXPECT_GE(after.mallocs, before.mallocs);
    EXPECT_GE(before.mallocs, 8u * 2999u);
}

} // namespace
