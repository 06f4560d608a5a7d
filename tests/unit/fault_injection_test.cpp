// Fault injection (fail_nth_allocation, Linux's fail_page_alloc and
// failslab): the n-th allocation fails once, on the slow path the armed
// allocator forces, and the walk over every allocation of a simulated boot -
// the memblock phase of the shipped Linux boot, replayed on its machine up to
// Running - ends each time in a reported error or a successful fallback,
// never a crash or broken books.
#include <kmem/boot.h>
#include <kmem/memmap_parse.h>

#include "linux_log.h"
#include "replay.h"
#include "slab_machine.h"
#include "test_util.h"

#include <gtest/gtest.h>

namespace kmem {
namespace {

TEST(FaultInjection, NthPageAllocationFailsOnceFastPathIncluded) {
    Machine m({kNode0Low});
    PhysAllocator &a = m.phys();
    // Warm the per-CPU lists so the next allocations would be fast-path hits.
    Result<uint64_t> warm = a.alloc_pages(0);
    ASSERT_TRUE(warm.ok());
    ASSERT_TRUE(a.free_pages(warm.value(), 0).ok());
    ASSERT_TRUE(a.fail_nth_allocation(3).ok());
    Result<uint64_t> p1 = a.alloc_pages(0), p2 = a.alloc_pages(1), p3 = a.alloc_pages(0), p4 = a.alloc_pages(0);
    EXPECT_TRUE(p1.ok());
    EXPECT_TRUE(p2.ok());
    ASSERT_FALSE(p3.ok());
    EXPECT_EQ(p3.code(), Errc::no_memory);
    EXPECT_STREQ(p3.error().reason, "injected failure (fail_nth_allocation)");
    EXPECT_TRUE(p4.ok()) << "once only";
    EXPECT_EQ(a.injected_failures(), 1u);
    for (auto [r, o] : {std::pair{p1, 0u}, {p2, 1u}, {p4, 0u}}) ASSERT_TRUE(a.free_pages(r.value(), o).ok());
    // alloc_reserved and exact allocations count too; 0 disarms.
    ASSERT_TRUE(a.fail_nth_allocation(1).ok());
    EXPECT_EQ(a.alloc_reserved(8192, 4096, 0, 0, kAnyNode, "t").code(), Errc::no_memory);
    ASSERT_TRUE(a.fail_nth_allocation(1).ok());
    EXPECT_EQ(a.alloc_pages_exact(3).code(), Errc::no_memory);
    ASSERT_TRUE(a.fail_nth_allocation(5).ok());
    ASSERT_TRUE(a.fail_nth_allocation(0).ok());
    Result<uint64_t> again = a.alloc_pages(0);
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(a.free_pages(again.value(), 0).ok());
    EXPECT_EQ(a.injected_failures(), 3u);
    m.expect_books_agree();
}

TEST(FaultInjection, NthSlabAllocationFailsOnceFastPathIncluded) {
    Machine m({kNode0Low});
    SlabAllocator &s = m.slab();
    void *warm = s.kmalloc(64); // an active slab with a CPU freelist: fast path from here
    ASSERT_NE(warm, nullptr);
    s.fail_nth_allocation(2);
    void *a = s.kmalloc(64);
    void *b = s.kmalloc(64);
    void *c = s.kmalloc(64);
    EXPECT_NE(a, nullptr);
    EXPECT_EQ(b, nullptr);
    EXPECT_EQ(s.last_error().code, Errc::no_memory);
    EXPECT_NE(c, nullptr);
    EXPECT_EQ(s.injected_failures(), 1u);
    for (void *p : {warm, a, c}) ASSERT_TRUE(s.kfree(p).ok());
    m.expect_books_agree();
}

// The memblock phase of the shipped boot: every event before Linux's own
// slab and page allocators start.
tools::LinuxLog boot_phase_of_the_shipped_log(std::string &text) {
    text = test::read_file(test::data_path("linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log"));
    tools::LinuxLog log, cut;
    std::string error;
    EXPECT_TRUE(tools::parse_linux_log(text, log, error, true)) << error;
    for (const tools::LogEvent &e : log.events) {
        if (e.kind >= tools::LogEventKind::kmalloc) break;
        cut.events.push_back(e);
    }
    return cut;
}

enum class Target { pages, slab };

// How a boot with a fault ended.
struct Outcomes {
    int stopped = 0;   // a phase could not be entered: the boot stopped with a reported error
    int reported = 0;  // a replayed call failed with the injected error, the boot went on
    int fell_back = 0; // the failure was absorbed (another way to the memory was found)
};

// One simulated boot with the n-th allocation of `target` failing. Returns
// whether the failure fired (false: n is past the boot's last allocation).
bool boot_with_fault(Target target, uint64_t n, const StaticMemoryMap<> &map, const tools::LinuxLog &log,
                     Outcomes &out) {
    SCOPED_TRACE((target == Target::pages ? "page allocation " : "slab allocation ") + std::to_string(n));
    tools::SimBoot boot;
    std::string error;
    EXPECT_TRUE(tools::start_machine(map, tools::kDefaultEarlyWindow, boot, error)) << error;
    if (target == Target::pages) EXPECT_TRUE(boot.phys().fail_nth_allocation(n).ok());
    else boot.slab().fail_nth_allocation(n);
    tools::ReplayResult r;
    const bool completed = tools::replay_linux_boot(log, boot, r, error);
    const uint64_t fired = target == Target::pages ? boot.phys().injected_failures() : boot.slab().injected_failures();
    if (fired) ++(!completed ? out.stopped : r.failed ? out.reported : out.fell_back);
    if (!completed) {
        EXPECT_EQ(fired, 1u) << "a boot that stops must have been stopped by the fault: " << error;
        EXPECT_FALSE(error.empty()); // e.g. "DirectMap failed: no page for a page table"
    } else {
        EXPECT_EQ(boot.sys->phase(), Phase::running);
        EXPECT_LE(r.failed, fired) << "only the injected failure may fail";
        for (const std::string &f : r.failures) EXPECT_NE(f.find("injected"), std::string::npos) << f;
    }
    if (boot.sys->phase() >= Phase::early_window) {
        const Status b = boot.phys().check();
        EXPECT_TRUE(b.ok()) << b.reason();
        const Status s = boot.slab().check();
        EXPECT_TRUE(s.ok()) << s.reason();
    }
    tools::release_machine(boot);
    return fired != 0;
}

TEST(FaultInjection, WalkEveryAllocationOfASimulatedBoot) {
    std::string text;
    const tools::LinuxLog log = boot_phase_of_the_shipped_log(text);
    ASSERT_GT(log.events.size(), 50u);
    StaticMemoryMap<> map;
    TextMapInfo info;
    ASSERT_TRUE(parse_linux_text(text.data(), text.size(), map, &info).ok());
    for (Target t : {Target::pages, Target::slab}) {
        uint64_t n = 1;
        Outcomes o;
        while (boot_with_fault(t, n, map, log, o) && !::testing::Test::HasFatalFailure()) ++n;
        // Every allocation of the boot was made to fail once; the walk ends
        // at the first n past the last one.
        EXPECT_GT(n, t == Target::pages ? 20u : 5u);
        EXPECT_EQ(o.stopped + o.reported + o.fell_back, static_cast<int>(n - 1));
        std::printf("fault walk: %s allocations 1..%llu each failed once: %d stopped the boot with an error, "
                    "%d reported and the boot went on, %d absorbed by a fallback\n",
                    t == Target::pages ? "page" : "slab", static_cast<unsigned long long>(n - 1), o.stopped,
                    o.reported, o.fell_back);
    }
}

} // namespace
} // namespace kmem
