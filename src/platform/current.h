// SPDX-License-Identifier: MIT
//
// DOC: the platform this build of the library is compiled against.
//
// Three ways to choose it, tried in this order:
//   - KMEM_PLATFORM_HEADER and KMEM_PLATFORM_TYPE both defined: an
//     embedder's own platform type. The header (a header name, quotes or
//     angle brackets included, e.g. -DKMEM_PLATFORM_HEADER='"my_platform.h"')
//     is included and the type (e.g. -DKMEM_PLATFORM_TYPE=my::Platform)
//     becomes kmem::Plat; the concept below checks it. The malloc shim is
//     built this way (tools/malloc/shim_platform.h, kmem::shim::Platform).
//   - KMEM_PLATFORM_HOSTED: the hosted platform (tools, tests, benches).
//   - neither: the extern "C" hooks of the embedding kernel.
// Library code names only kmem::Plat, so every build shares every line below.
// Also here: the two guards every per-CPU section (IrqGuard) and every lock
// (LockGuard) goes through, and the debug assertion tier (KMEM_ASSERT).
#pragma once

// What this header needs whichever platform is chosen (an embedder's header
// only has to define its type).
#include <kmem/platform.h>
#include <kmem/result.h>
#include <kmem/spinlock.h>

#if defined(KMEM_PLATFORM_HEADER) && defined(KMEM_PLATFORM_TYPE)
#include KMEM_PLATFORM_HEADER
namespace kmem {
using Plat = KMEM_PLATFORM_TYPE;
}
#elif defined(KMEM_PLATFORM_HEADER) || defined(KMEM_PLATFORM_TYPE)
#error "kmem: define both KMEM_PLATFORM_HEADER and KMEM_PLATFORM_TYPE, or neither"
#elif defined(KMEM_PLATFORM_HOSTED)
#include "hosted/hosted.h"
namespace kmem {
using Plat = hosted::Platform;
}
#else
#include "extern/extern_platform.h"
namespace kmem {
using Plat = platform::Extern;
}
#endif

namespace kmem {

static_assert(Platform<Plat>);
// The lock every lock of the core is: the public structures (Zone locks,
// CacheNode, the cache list) embed it by value, so a platform's SpinLock is
// kmem::platform::SpinLock (include/kmem/spinlock.h) or the build stops
// here. Code takes locks through LockGuard, whatever their type.
static_assert(same_as<Plat::SpinLock, platform::SpinLock>,
              "the platform's SpinLock must be kmem::platform::SpinLock: the public structures embed it");

// ---- the debug assertion tier (KMEM_DEBUG: debug and sanitizer builds, the
// demo kernels' -debug variants). A failed assertion is a bug in kmem or a
// broken calling-context rule (docs/porting.md): it panics, naming the rule.
#define KMEM_STRINGIFY_(x) #x
#define KMEM_STRINGIFY(x) KMEM_STRINGIFY_(x)
#if defined(KMEM_DEBUG)
inline constexpr bool kDebugChecks = true;
#define KMEM_ASSERT(cond, rule)                                                                     \
    do {                                                                                             \
        if (!(cond)) [[unlikely]]                                                                    \
            ::kmem::Plat::panic("kmem: " __FILE__ ":" KMEM_STRINGIFY(__LINE__) ": " rule);           \
    } while (0)
#else
inline constexpr bool kDebugChecks = false;
#define KMEM_ASSERT(cond, rule) ((void)0)
#endif
// A CPU's own lists are changed only with its interrupts off (IrqGuard).
#define KMEM_ASSERT_IRQS_OFF() KMEM_ASSERT(!::kmem::Plat::irqs_enabled(), "a per-CPU list changed with interrupts on")

// What an interrupt handler may not call fails with Errc::wrong_context
// (docs/porting.md, "Calling contexts"); `what` names the call.
#define KMEM_NOT_IN_INTERRUPT(what)                                                                        \
    do {                                                                                                   \
        if (::kmem::Plat::in_interrupt()) [[unlikely]]                                                     \
            return ::kmem::make_error(::kmem::Errc::wrong_context, what ": not allowed in an interrupt handler"); \
    } while (0)
// An allocation in an interrupt handler must be atomic (kAllocAtomic): debug
// builds panic; other builds serve it as atomic.
#define KMEM_ASSERT_ATOMIC_IN_INTERRUPT(flags)                                                             \
    KMEM_ASSERT(!::kmem::Plat::in_interrupt() || ((flags) & ::kmem::kAllocAtomic),                          \
                "an allocation in an interrupt handler without kAllocAtomic")

// Who takes a lock: this CPU (plus one) where debug checks look, else 1.
// cpu_id(), not cpu_slot(): a hosted thread without a CPU yet gets one now,
// so its tag is its own and stays the same while it holds the lock.
inline uint32_t lock_holder_tag() { return kDebugChecks ? Plat::cpu_id() + 1 : 1; }

// Local interrupts off for the guard's lifetime (Linux's local_irq_save): a
// CPU's own lists (slab freelists and partial slabs, per-CPU page lists) are
// changed only inside one, so an interrupt handler on the same CPU never
// finds them half-changed. The CPU id is read inside it.
class IrqGuard {
public:
    IrqGuard() : flags_(Plat::irq_save()) {}
    ~IrqGuard() { Plat::irq_restore(flags_); }
    IrqGuard(const IrqGuard &) = delete;
    IrqGuard &operator=(const IrqGuard &) = delete;

private:
    unsigned long flags_;
};

// Plat::irq_restore(flags), then `return make()`: how the fast paths end
// their interrupts-off section. A platform may restore with a tail call on
// its rare path (the hosted one runs a pending interrupt there), so a fast
// path that ends here keeps no stack frame for it; others restore, then
// return. The value is made where it is returned (a Status passed through
// by value costs a dozen instructions to repack).
template <class P, class Make>
concept RestoresThen = requires(unsigned long flags, Make make) { P::irq_restore_then(flags, make); };
template <class Make, class P = Plat> [[gnu::always_inline]] inline auto irq_restore_then(unsigned long flags, Make make) {
    if constexpr (RestoresThen<P, Make>) {
        return P::irq_restore_then(flags, make);
    } else {
        P::irq_restore(flags);
        return make();
    }
}
[[gnu::always_inline]] inline void *irq_restore_return(unsigned long flags, void *p) {
    return irq_restore_then(flags, [p] { return p; });
}
[[gnu::always_inline]] inline Status irq_restore_ok(unsigned long flags) {
    return irq_restore_then(flags, [] { return Status{}; });
}

// Interrupts off and the lock held for the guard's lifetime: every lock in
// the core is taken through one, so a handler on the same CPU can take any
// of them (Linux's spin_lock_irqsave). Debug builds catch a CPU taking a
// lock it holds already (it would spin forever).
template <class Lock> class KMEM_SCOPED_CAPABILITY LockGuard {
public:
    explicit LockGuard(Lock &l) KMEM_ACQUIRE(l) : lock_(l), flags_(Plat::irq_save()) {
        const uint32_t me = lock_holder_tag();
        KMEM_ASSERT(!kDebugChecks || lock_.holder() != me, "a CPU takes a lock it already holds");
        lock_.lock(me);
    }
    ~LockGuard() KMEM_RELEASE() {
        lock_.unlock();
        Plat::irq_restore(flags_);
    }
    LockGuard(const LockGuard &) = delete;
    LockGuard &operator=(const LockGuard &) = delete;

private:
    Lock &lock_;
    unsigned long flags_;
};

// Debug builds: the caller of a `_locked` function holds the lock it needs.
template <class Lock> inline void assert_held(const Lock &l) KMEM_ASSERT_CAPABILITY(l) {
    KMEM_ASSERT(!kDebugChecks || l.holder() == lock_holder_tag(), "a _locked function called without its lock");
    (void)l;
}

#if defined(KMEM_DEBUG)
// Debug builds: metadata access outside the mapped window is a bug that would
// fault on real hardware; catch it here.
#define KMEM_CHECK_MAPPED(pa, len)                                                       \
    do {                                                                                 \
        if (!::kmem::Plat::is_mapped((pa), (len)))                                       \
            ::kmem::Plat::panic("metadata access outside the mapped window");            \
    } while (0)
#else
#define KMEM_CHECK_MAPPED(pa, len) ((void)0)
#endif

} // namespace kmem
