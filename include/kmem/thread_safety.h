// SPDX-License-Identifier: MIT
//
// DOC: Clang's thread-safety annotations (-Wthread-safety), as macros.
//
// The core's locks are capabilities: a SpinLock is one, LockGuard acquires
// one for its scope, data a lock protects is KMEM_GUARDED_BY it, and a
// function whose caller must hold a lock (the `_locked` functions) says so
// with KMEM_REQUIRES. Clang checks every acquire, release and access at
// compile time; the build runs that check over the whole core (the
// `kmem-thread-safety` target, src/CMakeLists.txt). Other compilers see
// empty macros.
#pragma once

#if defined(__clang__)
#define KMEM_TSA(x) __attribute__((x))
#else
#define KMEM_TSA(x)
#endif

#define KMEM_CAPABILITY(name) KMEM_TSA(capability(name))
#define KMEM_SCOPED_CAPABILITY KMEM_TSA(scoped_lockable)
#define KMEM_GUARDED_BY(lock) KMEM_TSA(guarded_by(lock))
#define KMEM_ACQUIRE(...) KMEM_TSA(acquire_capability(__VA_ARGS__))
#define KMEM_RELEASE(...) KMEM_TSA(release_capability(__VA_ARGS__))
#define KMEM_TRY_ACQUIRE(...) KMEM_TSA(try_acquire_capability(__VA_ARGS__))
#define KMEM_REQUIRES(...) KMEM_TSA(requires_capability(__VA_ARGS__))
#define KMEM_EXCLUDES(...) KMEM_TSA(locks_excluded(__VA_ARGS__))
#define KMEM_RETURN_CAPABILITY(lock) KMEM_TSA(lock_returned(lock))
#define KMEM_ASSERT_CAPABILITY(lock) KMEM_TSA(assert_capability(lock))
// For the few functions whose locking the analysis cannot follow (each says why).
#define KMEM_NO_THREAD_SAFETY_ANALYSIS KMEM_TSA(no_thread_safety_analysis)
