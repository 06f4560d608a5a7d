// Interrupt handlers that allocate (label irq). Each test thread is a CPU of
// the hosted platform with its own timer signal (timer_create, 20 kHz, sent
// to that thread); the signal handler is the CPU's interrupt: the hosted
// platform runs kmem's interrupt handler at once, or defers it while the
// thread has interrupts off (lazy masking, src/platform/hosted/hosted.h), as
// a kernel sees interrupts. The handlers kmalloc and kfree mixed sizes,
// allocate from and free to a shared kmem_cache, take and free pages, and
// free objects and pages other CPUs' handlers and threads allocated (through
// an exchange), while the threads run a model workload of their own with
// the same calls. Every object carries marks that are checked before it is
// freed. After at least a million handler operations: every CPU's caches
// back, every layer's check() clean, and every page back in the buddy.
//
// Also here: the calling-context contract (docs/porting.md) - what a
// handler may not call fails with Errc::wrong_context, an allocation in a
// handler is atomic - and the emulation itself (deferred interrupts run
// when interrupts come back on).
#include <kmem/buddy.h>
#include <kmem/slab.h>

#include "platform/current.h"
#include "slab/slab_internal.h"
#include "slab_machine.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>
#include <sys/syscall.h>
#include <unistd.h>

namespace kmem {
namespace {

using test::Rng;

// ---- marks: word 0 the tag, word 1 the size and kind, the last word ~tag

enum Kind : uint64_t { kKmalloc = 0, kCacheObj = 1, kPageBlock = 2 };
constexpr uint64_t kKindShift = 56;

void put_marks(void *p, uint64_t bytes, Kind kind, uint64_t tag) {
    auto *w = static_cast<uint64_t *>(p);
    w[0] = tag;
    w[1] = bytes | uint64_t{kind} << kKindShift;
    if (bytes >= 24) w[bytes / 8 - 1] = ~tag;
}

// The marks of a live object (tag 0: any tag) are intact; its size and kind.
bool marks_ok(const void *p, uint64_t tag, uint64_t &bytes, Kind &kind) {
    const auto *w = static_cast<const uint64_t *>(p);
    bytes = w[1] & ((uint64_t{1} << kKindShift) - 1);
    kind = static_cast<Kind>(w[1] >> kKindShift);
    if ((tag && w[0] != tag) || bytes < 16 || bytes % 8 || kind > kPageBlock) return false;
    return bytes < 24 || w[bytes / 8 - 1] == ~w[0];
}

// ---- what every CPU shares

constexpr size_t kExchange = 256;
constexpr uint64_t kPoolBytes = 448 * MiB;

struct Shared {
    Machine *m = nullptr;
    KmemCache *cache = nullptr;           // 200-byte objects
    std::atomic<void *> exchange[kExchange] = {};
    std::atomic<uint64_t> handler_ops{0}, handler_errors{0}, handler_failed{0}, thread_errors{0};
    std::atomic<uint64_t> remote_frees{0};
    std::atomic<bool> stop{false};
    const char *first_error = nullptr;    // set once (atomic exchange on error_claimed)
    std::atomic<bool> error_claimed{false};
    void error(std::atomic<uint64_t> &counter, const char *why) {
        counter.fetch_add(1, std::memory_order_relaxed);
        if (!error_claimed.exchange(true)) first_error = why;
    }
};

// Free an object or page block whose marks say what it is (tag 0: any tag,
// an object from the exchange); errors count on `errors`.
void free_marked(Shared &sh, void *p, uint64_t tag, std::atomic<uint64_t> &errors, uint64_t &ops) {
    uint64_t bytes;
    Kind kind;
    if (!marks_ok(p, tag, bytes, kind)) return sh.error(errors, "an object's marks changed while it was allocated");
    Status s;
    if (kind == kPageBlock) {
        const unsigned order = static_cast<unsigned>(__builtin_ctzll(bytes / kPageSize));
        s = sh.m->phys().free_pages(Plat::virt_to_phys(p), order);
    } else if (kind == kCacheObj) {
        s = sh.m->slab().cache_free(sh.cache, p);
    } else {
        s = sh.m->slab().kfree(p);
    }
    ++ops;
    if (!s.ok()) sh.error(errors, s.reason());
}

// An object someone else put in the exchange, freed by this CPU.
void free_exchanged(Shared &sh, void *p, std::atomic<uint64_t> &errors, uint64_t &ops) {
    free_marked(sh, p, 0, errors, ops);
    sh.remote_frees.fetch_add(1, std::memory_order_relaxed);
}

// ---- the interrupt handler's work (one per CPU; runs in signal context:
// kmem calls and atomics only)

constexpr unsigned kRing = 32;
constexpr uint32_t kHandlerSizes[] = {16, 24, 48, 64, 96, 136, 200, 256, 520, 1024, 2040, 4096, 8192, 12288};

struct Live {
    void *p = nullptr;
    uint64_t tag = 0;
};

struct CpuState {
    Shared *sh = nullptr;
    unsigned cpu = 0;
    uint64_t ticks = 0, ops = 0;
    Live ring[kRing];
    Rng rng{1};
};

void *handler_alloc(CpuState &c, uint64_t &tag) {
    SlabAllocator &sa = c.sh->m->slab();
    const uint64_t pick = c.rng.next();
    tag = (pick | 1) ^ (uint64_t{c.cpu} << 40);
    void *p;
    uint64_t bytes;
    Kind kind;
    switch (pick % 8) {
    case 0:
        bytes = 200;
        kind = kCacheObj;
        p = sa.cache_alloc(c.sh->cache, kAllocAtomic);
        break;
    case 1: {
        const unsigned order = static_cast<unsigned>(pick >> 8) % 3;
        Result<uint64_t> r = c.sh->m->phys().alloc_pages(order, kAllocAtomic);
        bytes = kPageSize << order;
        kind = kPageBlock;
        p = r.ok() ? Plat::phys_to_virt(r.value()) : nullptr;
        break;
    }
    default:
        bytes = kHandlerSizes[(pick >> 8) % (sizeof kHandlerSizes / sizeof kHandlerSizes[0])];
        kind = kKmalloc;
        p = sa.kmalloc(bytes, kAllocAtomic);
    }
    ++c.ops;
    if (!p) {
        c.sh->handler_failed.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    put_marks(p, bytes, kind, tag);
    return p;
}


void on_interrupt(void *ctx) {
    auto &c = *static_cast<CpuState *>(ctx);
    if (!Plat::in_interrupt() || Plat::irqs_enabled())
        c.sh->error(c.sh->handler_errors, "a handler ran outside an interrupt or with interrupts on");
    const uint64_t before = c.ops;
    for (int k = 0; k < 2; ++k) {
        Live &slot = c.ring[(c.ticks * 2 + k) % kRing];
        if (slot.p) free_marked(*c.sh, slot.p, slot.tag, c.sh->handler_errors, c.ops);
        slot.p = handler_alloc(c, slot.tag);
    }
    if (c.ticks % 2 == 0) { // swap one with the exchange: another CPU frees it
        Live &slot = c.ring[(c.ticks * 7) % kRing];
        if (slot.p) {
            void *old = c.sh->exchange[c.rng.next() % kExchange].exchange(slot.p, std::memory_order_acq_rel);
            slot.p = nullptr;
            if (old) free_exchanged(*c.sh, old, c.sh->handler_errors, c.ops);
        }
    }
    ++c.ticks;
    c.sh->handler_ops.fetch_add(c.ops - before, std::memory_order_relaxed);
}

void drain_ring(CpuState &c) {
    for (Live &slot : c.ring) {
        if (slot.p) free_marked(*c.sh, slot.p, slot.tag, c.sh->handler_errors, c.ops);
        slot.p = nullptr;
    }
}

// ---- per-thread timer signals

extern "C" void interrupt_signal(int) { hosted::deliver_interrupt(); }

class ThreadTimer {
public:
    explicit ThreadTimer(long period_ns) {
        sigevent ev{};
        ev.sigev_notify = SIGEV_THREAD_ID;
        ev.sigev_signo = SIGRTMIN;
        ev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
        ok_ = timer_create(CLOCK_MONOTONIC, &ev, &timer_) == 0;
        itimerspec spec{};
        spec.it_interval.tv_nsec = spec.it_value.tv_nsec = period_ns;
        ok_ = ok_ && timer_settime(timer_, 0, &spec, nullptr) == 0;
    }
    ~ThreadTimer() {
        if (ok_) timer_delete(timer_);
    }
    bool ok() const { return ok_; }

private:
    timer_t timer_{};
    bool ok_ = false;
};

void install_signal_handler() {
    struct sigaction sa {};
    sa.sa_handler = interrupt_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ASSERT_EQ(sigaction(SIGRTMIN, &sa, nullptr), 0);
}

// ---- the threads' own workload

struct Owned {
    void *p = nullptr;
    uint64_t tag = 0;
    uint64_t bytes = 0;
    Kind kind = kKmalloc;
    unsigned order = 0;
};

void thread_free(Shared &sh, Owned &o, uint64_t &ops) {
    uint64_t bytes;
    Kind kind;
    if (!marks_ok(o.p, o.tag, bytes, kind) || bytes != o.bytes || kind != o.kind)
        return sh.error(sh.thread_errors, "a thread's object marks changed");
    Status s;
    if (o.kind == kPageBlock) s = sh.m->phys().free_pages(Plat::virt_to_phys(o.p), o.order);
    else if (o.kind == kCacheObj) s = sh.m->slab().cache_free(sh.cache, o.p);
    else s = sh.m->slab().kfree(o.p);
    if (!s.ok()) sh.error(sh.thread_errors, s.reason());
    ++ops;
    o.p = nullptr;
}

void thread_alloc(Shared &sh, Owned &o, Rng &rng, uint64_t &ops) {
    const uint64_t pick = rng.next();
    o.tag = pick | 1;
    ++ops;
    switch (pick % 10) {
    case 0:
        o.kind = kCacheObj;
        o.bytes = 200;
        o.p = sh.m->slab().cache_alloc(sh.cache);
        break;
    case 1: {
        o.kind = kPageBlock;
        o.order = static_cast<unsigned>(pick >> 8) % 4;
        o.bytes = kPageSize << o.order;
        Result<uint64_t> r = sh.m->phys().alloc_pages(o.order);
        o.p = r.ok() ? Plat::phys_to_virt(r.value()) : nullptr;
        break;
    }
    default: {
        o.kind = kKmalloc;
        const uint64_t r = pick >> 8;
        o.bytes = (r % 16 == 0 ? 16 + r % 16384 : 16 + r % 1024) & ~uint64_t{7};
        o.p = (pick >> 40) % 4 == 0 ? sh.m->slab().kzalloc(o.bytes) : sh.m->slab().kmalloc(o.bytes);
    }
    }
    if (!o.p) return sh.error(sh.thread_errors, "a thread's allocation failed with memory free");
    put_marks(o.p, o.bytes, o.kind, o.tag);
}

void cpu_thread(Shared &sh, unsigned cpu, std::atomic<unsigned> &ready) {
    hosted::bind_cpu(cpu);
    CpuState state;
    state.sh = &sh;
    state.cpu = cpu;
    state.rng = Rng(0x1234 + cpu);
    hosted::set_interrupt_handler(on_interrupt, &state);
    std::vector<Owned> owned(512);
    Rng rng(0xabc + cpu);
    uint64_t ops = 0;
    {
        ThreadTimer timer(50'000); // 20 kHz
        if (!timer.ok()) sh.error(sh.thread_errors, "timer_create failed");
        ready.fetch_add(1);
        while (!sh.stop.load(std::memory_order_relaxed)) {
            Owned &o = owned[rng.next() % owned.size()];
            if (o.p) {
                if (rng.next() % 8 == 0) { // hand it to whoever takes the slot next
                    void *old = sh.exchange[rng.next() % kExchange].exchange(o.p, std::memory_order_acq_rel);
                    o.p = nullptr;
                    if (old) free_exchanged(sh, old, sh.thread_errors, ops);
                } else {
                    thread_free(sh, o, ops);
                }
            } else {
                thread_alloc(sh, o, rng, ops);
            }
        }
    } // the timer is gone: no interrupt after this
    hosted::set_interrupt_handler(nullptr, nullptr);
    for (Owned &o : owned)
        if (o.p) thread_free(sh, o, ops);
    drain_ring(state);
    sh.m->phys().drain_local_pcp();
    hosted::release_cpu();
}

uint64_t free_pages(PhysAllocator &a) {
    const PhysTotals t = a.totals();
    return t.free + t.pcp;
}

TEST(Interrupts, HandlersAllocateAndFreeWhileEveryCpuDoes) {
    install_signal_handler();
    Machine m({{1 * MiB, 1 * MiB + kPoolBytes, 0}});
    Shared sh;
    sh.m = &m;
    (void)m.slab().shrink_all();
    const uint64_t free_before = free_pages(m.phys());
    Result<KmemCache *> c = m.slab().cache_create("irq-test", 200);
    ASSERT_TRUE(c.ok()) << c.error().reason;
    sh.cache = c.value();

    constexpr unsigned kCpus = 3;
    std::atomic<unsigned> ready{0};
    std::vector<std::thread> threads;
    for (unsigned cpu = 0; cpu < kCpus; ++cpu) threads.emplace_back(cpu_thread, std::ref(sh), cpu, std::ref(ready));
    const uint64_t t0 = hosted::monotonic_ns();
    constexpr uint64_t kWant = 1'000'000;
    uint64_t seen = 0, seen_at = t0;
    while (sh.handler_ops.load() < kWant && hosted::monotonic_ns() - t0 < 240'000'000'000ull &&
           sh.handler_errors.load() + sh.thread_errors.load() == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        // A CPU whose handler spins on a lock its own CPU holds never comes
        // back: say so instead of hanging in join().
        if (const uint64_t ops = sh.handler_ops.load(); ops != seen) {
            seen = ops;
            seen_at = hosted::monotonic_ns();
        } else if (hosted::monotonic_ns() - seen_at > 20'000'000'000ull) {
            std::fprintf(stderr, "irq: no handler made progress for 20 s: a CPU is stuck (a handler spinning "
                                 "on a lock its own CPU holds?)\n");
            std::abort();
        }
    }
    sh.stop = true;
    for (std::thread &t : threads) t.join();
    const double seconds = static_cast<double>(hosted::monotonic_ns() - t0) / 1e9;
    for (auto &e : sh.exchange) {
        uint64_t ops = 0;
        if (void *p = e.exchange(nullptr)) free_marked(sh, p, 0, sh.thread_errors, ops);
    }

    std::printf("irq: %.1f s, %llu handler operations (%llu refused), %llu frees of other CPUs' memory\n", seconds,
                static_cast<unsigned long long>(sh.handler_ops.load()),
                static_cast<unsigned long long>(sh.handler_failed.load()),
                static_cast<unsigned long long>(sh.remote_frees.load()));
    EXPECT_GE(sh.handler_ops.load(), kWant);
    EXPECT_EQ(sh.handler_errors.load(), 0u) << (sh.first_error ? sh.first_error : "");
    EXPECT_EQ(sh.thread_errors.load(), 0u) << (sh.first_error ? sh.first_error : "");
    EXPECT_EQ(sh.handler_failed.load(), 0u) << "atomic allocations refused with most memory free";
    EXPECT_GT(sh.remote_frees.load(), 0u);
    EXPECT_TRUE(m.slab().cache_destroy(sh.cache).ok());
    (void)m.slab().shrink_all();
    m.expect_books_agree();
    EXPECT_EQ(free_pages(m.phys()), free_before) << "every page came back";
}

// ---- the contract, one interrupt at a time (delivered by the thread itself)

struct ContractProbe {
    Machine *m;
    KmemCache *cache;
    bool in_irq = false, irqs_on = true;
    Errc create = Errc::ok, destroy = Errc::ok, check = Errc::ok, phys_check = Errc::ok, online = Errc::ok,
         reserve = Errc::ok;
    void *atomic_obj = nullptr, *plain_obj = nullptr;
    uint64_t runs = 0;
};

void probe(void *ctx) {
    auto &p = *static_cast<ContractProbe *>(ctx);
    ++p.runs;
    p.in_irq = Plat::in_interrupt();
    p.irqs_on = Plat::irqs_enabled();
    p.create = p.m->slab().cache_create("in-irq", 64).code();
    p.destroy = p.m->slab().cache_destroy(p.cache).code();
    p.check = p.m->slab().check().code();
    p.phys_check = p.m->phys().check().code();
    p.online = p.m->phys().online_range(600 * MiB, 601 * MiB, 0).code();
    p.reserve = p.m->phys().reserve_range(2 * MiB, 3 * MiB, "in-irq").code();
    p.atomic_obj = p.m->slab().kmalloc(100, kAllocAtomic);
    if (!kDebugChecks) p.plain_obj = p.m->slab().kmalloc(100); // served as atomic
}

TEST(InterruptContract, WhatAHandlerMayNotCallFailsWithWrongContext) {
    Machine m({kNode0Low});
    Result<KmemCache *> c = m.slab().cache_create("victim", 64);
    ASSERT_TRUE(c.ok());
    ContractProbe p{&m, c.value()};
    const PhysTotals t0 = m.phys().totals();
    hosted::set_interrupt_handler(probe, &p);
    hosted::deliver_interrupt(); // interrupts are on: it runs now
    hosted::set_interrupt_handler(nullptr, nullptr);
    ASSERT_EQ(p.runs, 1u);
    EXPECT_TRUE(p.in_irq);
    EXPECT_FALSE(p.irqs_on);
    EXPECT_FALSE(Plat::in_interrupt());
    EXPECT_TRUE(Plat::irqs_enabled());
    for (Errc e : {p.create, p.destroy, p.check, p.phys_check, p.online, p.reserve})
        EXPECT_EQ(e, Errc::wrong_context) << errc_name(e);
    EXPECT_NE(p.atomic_obj, nullptr);
    EXPECT_TRUE(m.slab().kfree(p.atomic_obj).ok());
    if (!kDebugChecks) {
        EXPECT_NE(p.plain_obj, nullptr);
        EXPECT_TRUE(m.slab().kfree(p.plain_obj).ok());
    }
    // Nothing the refused calls would have changed did: the cache is alive.
    void *o = m.slab().cache_alloc(c.value());
    EXPECT_NE(o, nullptr);
    EXPECT_TRUE(m.slab().cache_free(c.value(), o).ok());
    EXPECT_TRUE(m.slab().cache_destroy(c.value()).ok());
    EXPECT_EQ(m.phys().totals().reserved, t0.reserved);
    m.expect_books_agree();
}

void count_run(void *ctx) { ++*static_cast<int *>(ctx); }

TEST(InterruptEmulation, AnInterruptWhileTheyAreOffRunsWhenTheyComeBackOn) {
    int runs = 0;
    hosted::set_interrupt_handler(count_run, &runs);
    const uint64_t deferred = hosted::deferred_interrupts();
    {
        IrqGuard outer;
        {
            IrqGuard inner;
            hosted::deliver_interrupt();
            hosted::deliver_interrupt(); // still one pending interrupt, as one line
            EXPECT_EQ(runs, 0);
        }
        EXPECT_EQ(runs, 0) << "the outer section still has them off";
    }
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(hosted::deferred_interrupts(), deferred + 2);
    hosted::deliver_interrupt();
    EXPECT_EQ(runs, 2);
    hosted::set_interrupt_handler(nullptr, nullptr);
    hosted::deliver_interrupt(); // no handler: ignored
    EXPECT_EQ(runs, 2);
}

#if defined(KMEM_DEBUG)
// The debug assertion tier (KMEM_DEBUG builds: debug, asan): a broken rule panics, naming it.
void plain_kmalloc_in_handler(void *ctx) { (void)static_cast<Machine *>(ctx)->slab().kmalloc(64); }

TEST(InterruptContractDeathTest, APlainAllocationInAHandlerPanicsInDebugBuilds) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            Machine m({kNode0Low});
            hosted::set_interrupt_handler(plain_kmalloc_in_handler, &m);
            hosted::deliver_interrupt();
        },
        "without kAllocAtomic");
}

TEST(InterruptContractDeathTest, ACpuTakingALockItHoldsPanicsInDebugBuilds) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            Machine m({kNode0Low});
            Result<KmemCache *> c = m.slab().cache_create("held", 64);
            c.value()->node[0].lock.lock(lock_holder_tag()); // as if this CPU were inside a locked section
            (void)m.slab().cache_shrink(c.value());
        },
        "takes a lock it already holds");
}

TEST(InterruptContractDeathTest, APerCpuListChangedWithInterruptsOnPanicsInDebugBuilds) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            CacheCpu cc{};
            (void)SlabInternals::pop_local(cc); // a fast path without its IrqGuard
        },
        "interrupts on");
}
#endif

} // namespace
} // namespace kmem
