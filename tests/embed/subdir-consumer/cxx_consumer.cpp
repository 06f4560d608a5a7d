// SPDX-License-Identifier: MIT
//
// DOC: C++ against kmem's public C++ API and its hosted helpers, in a
// project that embeds kmem with add_subdirectory (tests/embed): parse a
// map, boot the four phases, kmalloc, check. Exit 0 on success.
#include <kmem/boot.h>
#include <kmem/hosted.h>
#include <kmem/memmap_parse.h>

#include <cstdio>
#include <cstring>
#include <memory>

namespace {

kmem::Status map_range(void *, uint64_t start, uint64_t end) { return kmem::hosted::map_physical_range(start, end); }

int fail(const char *what, const kmem::Status &s) {
    std::printf("cxx-consumer: %s: %s\n", what, s.reason());
    return 1;
}

} // namespace

int main() {
    static const char text[] = "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                               "BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable\n"
                               "BIOS-e820: [mem 0x0000000100000000-0x000000017fffffff] usable\n";
    kmem::StaticMemoryMap<> map;
    kmem::Status s = kmem::parse_linux_text(text, std::strlen(text), map);
    if (!s.ok()) return fail("parse", s);
    if (!(s = kmem::hosted::create_physical_memory(map.highest_address())).ok()) return fail("memory", s);
    auto sys = std::make_unique<kmem::MemorySystem>();
    if (!(s = sys->firmware_map(map)).ok()) return fail("firmware_map", s);
    if (!(s = kmem::hosted::map_physical_range(0, 1ull << 30)).ok()) return fail("window", s);
    if (!(s = sys->early_window(1ull << 30)).ok()) return fail("early_window", s);
    if (!(s = sys->direct_map(map_range, nullptr)).ok()) return fail("direct_map", s);
    if (!(s = sys->running()).ok()) return fail("running", s);
    void *p = sys->slab().kmalloc(1000);
    if (!p || !sys->slab().kfree(p).ok()) return fail("kmalloc", kmem::make_error(kmem::Errc::no_memory, "kmalloc"));
    if (!(s = sys->phys().check()).ok()) return fail("check", s);
    std::printf("cxx-consumer: booted, %llu MiB managed\n",
                static_cast<unsigned long long>(sys->phys().totals().managed * kmem::kPageSize >> 20));
    return 0;
}
