// SPDX-License-Identifier: MIT
//
// DOC: the platform this build of the library is compiled against.
//
// KMEM_PLATFORM_HOSTED selects the hosted platform (tools, tests, benches);
// otherwise the extern "C" hooks of the embedding kernel are used. Library
// code names only kmem::Plat, so both builds share every line above this.
#pragma once

#if defined(KMEM_PLATFORM_HOSTED)
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

// Interrupts off and the lock held for the guard's lifetime.
template <class Lock> class LockGuard {
public:
    explicit LockGuard(Lock &l) : lock_(l), flags_(Plat::irq_save()) { lock_.lock(); }
    ~LockGuard() {
        lock_.unlock();
        Plat::irq_restore(flags_);
    }
    LockGuard(const LockGuard &) = delete;
    LockGuard &operator=(const LockGuard &) = delete;

private:
    Lock &lock_;
    unsigned long flags_;
};

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
