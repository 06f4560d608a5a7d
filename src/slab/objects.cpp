// SPDX-License-Identifier: MIT
//
// DOC: the object paths - cache_alloc and cache_free (kmalloc and kfree end
// here too).
//
// cache_alloc: pop the CPU's freelist (fast path). When it is empty the slow
// path takes, in turn, objects other CPUs freed into the active slab, a slab
// of the CPU's partial list, partial slabs of the node (several per lock
// hold), or a new slab from the buddy, and makes it the CPU's active slab
// (cpu_slabs.cpp). Debug caches, and requests for a node other than the
// active slab's, are served one object at a time straight from a node's
// slabs under the node lock.
//
// kfree/cache_free: an object of the CPU's active slab goes on the CPU's
// freelist, one of a slab on its partial list on that slab's local
// freelist (fast paths); any other object goes on its slab's freelist by
// compare-and-swap. A full slab that gets a free object is frozen for a CPU
// and kept on its partial list, so the refills that follow take no lock.
// Only a slab that empties while on the node's list takes the node lock: it
// is kept (min_partial empty slabs per node) or given back to the buddy.
// Debug caches do everything under the node lock.
#include "slab_internal.h"

namespace kmem {
namespace {

using SI = SlabInternals;

// Ready an object for its caller.
void *hand_out(const SlabOptions &opts, KmemCache *c, void *obj, uint32_t flags) {
    if ((flags & kAllocZero) || opts.init_on_alloc) __builtin_memset(obj, 0, c->object_size);
    if (c->ctor) c->ctor(obj);
    return obj;
}

} // namespace

// Debug caches: pop one object of slab s, on node cn's partial list (full
// slabs go on the node's full list).
static void *pop_debug(KmemCache *c, CacheNode &cn, SlabHeader *s) KMEM_REQUIRES(cn.lock) {
    using SI = SlabInternals;
    const SlabState st = SI::state(s);
    void *obj = SI::head_object(c, s, st.head);
    const uint32_t next_head = SI::head_value(c, s, SI::get_next(c, obj));
    SI::set_state_word(s, {next_head, st.inuse + 1, false});
    if (st.inuse == 0) --cn.nr_empty;
    if (!next_head) {
        SI::list_del(cn.partial, s);
        --cn.nr_partial;
        SI::list_add(cn.full, s, kListFull);
    }
    return obj;
}

// Debug caches: one object at a time, straight from the node's slabs, under
// the node lock (debug caches free under it too); a new slab is made with no
// lock held.
static void *alloc_debug(SlabAllocator &sa, KmemCache *c, uint16_t node, uint16_t want, uint32_t flags) {
    using SI = SlabInternals;
    {
        CacheNode &cn = c->node[want];
        SI::count_node_lock(sa);
        LockGuard g(cn.lock);
        if (SlabHeader *s = cn.partial) return pop_debug(c, cn, s);
    }
    SlabHeader *s = SI::new_slab(sa, c, node, flags);
    if (!s) return nullptr;
    CacheNode &cn = SI::node_of(c, s);
    SI::count_node_lock(sa);
    LockGuard g(cn.lock);
    __atomic_fetch_add(&cn.nr_slabs, 1, __ATOMIC_RELAXED);
    SI::list_add(cn.partial, s, kListPartial);
    ++cn.nr_partial;
    ++cn.nr_empty;
    return pop_debug(c, cn, s);
}

void *SlabAllocator::alloc_slow(KmemCache *c, uint32_t flags, uint16_t node) {
    IrqGuard irq;
    if (!phys_) {
        SI::fail(*this, Errc::wrong_phase, "slab is not initialised");
        return nullptr;
    }
    if (flags & ~(kAllocZero | kAllocReserves | kAllocAtomic)) {
        SI::fail(*this, Errc::invalid_argument, "unsupported flag for a cache allocation");
        return nullptr;
    }
    KMEM_ASSERT_ATOMIC_IN_INTERRUPT(flags);
    if (Plat::in_interrupt()) flags |= kAllocAtomic; // what a handler asks for is atomic
    if (node != kAnyNode && node >= kMaxNodes) {
        SI::fail(*this, Errc::invalid_argument, "NUMA node id too large");
        return nullptr;
    }
    if (fail_countdown_ && --fail_countdown_ == 0) [[unlikely]] {
        ++injected_failures_;
        SI::fail(*this, Errc::no_memory, "injected failure (fail_nth_allocation)");
        return nullptr;
    }
    // A node without memory cannot be served; treat the request as any-node
    // (else every such request would make a new slab on the fallback node).
    if (node != kAnyNode && !phys_->zone(node, ZoneType::dma).present &&
        !phys_->zone(node, ZoneType::dma32).present && !phys_->zone(node, ZoneType::normal).present)
        node = kAnyNode;
    const unsigned cpu = Plat::cpu_id();
    CacheCpu &cc = c->cpu[cpu];
    const uint16_t want = node != kAnyNode ? node : phys_->cpu_node(cpu);

    if (!c->fast) {
        void *obj = alloc_debug(*this, c, node, want, flags);
        if (!obj) {
            SI::fail(*this, Errc::no_memory, "no memory for a new slab");
            return nullptr;
        }
        if (const char *why = SI::verify_free(c, obj)) SI::fail(*this, Errc::malformed, why);
        SI::mark_allocated(c, obj);
        ++cc.alloc_slow;
        return hand_out(opts_, c, obj, flags);
    }
    // A node request the active slab cannot serve: the slab goes back (SLUB's node mismatch).
    if (node != kAnyNode && cc.slab && cc.slab->node != node) SI::deactivate(*this, c, cpu);
    // Objects other CPUs freed into the active slab, taken without the lock
    // while the slab stays frozen - only once the CPU's own freelist is empty
    // (node requests and kAllocReserves arrive here with objects still on it).
    if (SlabHeader *s = cc.freelist ? nullptr : cc.slab) {
        if (void *freelist = SI::take_objects(c, s)) {
            cc.freelist = freelist;
        } else { // full: it goes on no list
            cc.slab = nullptr;
            (void)SI::thaw(*this, c, s, nullptr, nullptr, 0);
        }
    }
    if (!cc.freelist && !SI::refill(*this, c, cpu, node, want, flags)) {
        SI::fail(*this, Errc::no_memory, "no memory for a new slab");
        return nullptr;
    }
    void *obj = cc.freelist;
    cc.freelist = SI::get_next(c, obj);
    ++cc.alloc_slow;
    // Armed fault injection: nothing stays on the CPU's freelist, so every
    // allocation comes back here to be counted.
    if (fail_countdown_) [[unlikely]] SI::deactivate(*this, c, cpu);
    return hand_out(opts_, c, obj, flags);
}

void *SlabAllocator::cache_alloc(KmemCache *c, uint32_t flags, uint16_t node) {
    KMEM_ASSERT_ATOMIC_IN_INTERRUPT(flags);
    if (node == kAnyNode && !(flags & ~(kAllocZero | kAllocAtomic))) [[likely]] {
        const unsigned long irq = Plat::irq_save();
        if (void *obj = SI::pop_local(c->cpu[Plat::cpu_slot()])) [[likely]] {
            if (c->plain && !(flags & kAllocZero)) return irq_restore_return(irq, obj);
            Plat::irq_restore(irq);
            return hand_out(opts_, c, obj, flags);
        }
        Plat::irq_restore(irq);
    }
    return alloc_slow(c, flags, node);
}

Status SlabAllocator::free_slow(KmemCache *c, SlabHeader *s, void *obj) {
    const uint32_t i = SI::index_of(c, s, obj);
    if (i == UINT32_MAX) {
        if (SI::slot_of(c, s, obj, c->objects) != UINT32_MAX)
            return make_error(Errc::not_allocated, "an object the slab never handed out");
        return make_error(Errc::invalid_argument, "pointer into the middle of an object or the slab header");
    }
    Status result;
    if (c->flags & kCacheDebugFlags) {
        // Red zones say "free": never handed out since. (Poison alone cannot
        // tell: an allocated object nobody wrote is still poisoned.)
        if ((c->flags & kCacheRedZone) && !SI::verify_free(c, obj))
            return make_error(Errc::double_free, "double free: the object is already free");
        if (const char *why = SI::verify_allocated(c, obj))
            result = make_error(Errc::malformed, why); // freed anyway; the damage is reported
        SI::poison_free(c, obj);
    } else if (opts_.init_on_free) {
        // Not the first 8 bytes: on a double free they are a live freelist link.
        __builtin_memset(static_cast<uint8_t *>(obj) + sizeof(void *), 0, c->object_size - sizeof(void *));
    }
    const uint32_t mine = i + 1; // its head value
    return (c->flags & kCacheDebugFlags) ? free_debug(c, s, obj, mine, result) : free_shared(c, s, obj, mine);
}

// Fast caches. Without the lock unless the slab empties while on the node's
// partial list: a frozen slab (its CPU picks the object up) or one that stays
// partial takes a compare-and-swap; a full one is frozen by this free and
// goes on this CPU's partial list. The slab's freelist head, or a slab with
// every object free already, is a double free.
Status SlabAllocator::free_shared(KmemCache *c, SlabHeader *s, void *obj, uint32_t mine) {
    // A slab on this CPU's partial list: its local freelist, no atomic operation.
    const unsigned self = Plat::cpu_id();
    if (SI::owner(s) == self + 1 && s != c->cpu[self].slab) {
        const SlabState st = SI::state(s);
        if (obj == s->local_free || st.head == mine || st.inuse == s->local_count)
            return make_error(Errc::double_free, "double free: the object is already free");
        SI::set_next(c, obj, s->local_free);
        s->local_free = obj;
        ++s->local_count;
        return {};
    }
    CacheNode &cn = SI::node_of(c, s);
    for (uint64_t old = SI::load_state(s);;) {
        const uint64_t seen = old;
        const SlabState st = SI::unpack(old);
        if (st.head == mine || st.inuse == 0)
            return make_error(Errc::double_free, "double free: the object is already free");
        const bool adopt = !st.frozen && st.head == 0 && !SI::uncarved(c, s);
        if (!st.frozen && !adopt && st.inuse == 1) {
            // The last object of a slab on the node's partial list: it
            // empties there, under the node lock.
            SI::count_node_lock(*this);
            LockGuard g(cn.lock);
            old = SI::load_state(s); // refills may have frozen it meanwhile
            if (old != seen) continue;
            SI::set_next(c, obj, SI::head_object(c, s, st.head));
            if (!SI::swap_state(s, old, {mine, 0, false})) continue; // not reached: nothing else changes it now
            ++c->cpu[self].free_slow;
            SI::emptied(*this, c, cn, s);
            return {};
        }
        SI::set_next(c, obj, SI::head_object(c, s, st.head));
        if (!SI::swap_state(s, old, {mine, st.inuse - 1, st.frozen || adopt})) continue;
        ++c->cpu[self].free_slow;
        if (adopt) { // back to the CPU that filled it, if that is another one and online
            const unsigned home = s->home ? s->home - 1u : self;
            if (home != self && home < kMaxCpus && !cpu_offline(home)) {
                SI::hand_back(c, home, s);
                // It went offline meanwhile: what its flush may have missed is ours.
                if (cpu_offline(home)) [[unlikely]] SI::take_adopted(c, home, self);
            } else {
                SI::adopt(*this, c, self, s);
            }
        }
        return {};
    }
}

// Debug caches: every change under the node lock, taken here.
Status SlabAllocator::free_debug(KmemCache *c, SlabHeader *s, void *obj, uint32_t mine, Status result) {
    CacheNode &cn = SI::node_of(c, s);
    SI::count_node_lock(*this);
    LockGuard g(cn.lock);
    const SlabState st = SI::state(s);
    if (st.head == mine || st.inuse == 0)
        return make_error(Errc::double_free, "double free: the object is already free");
    uint32_t n = 0; // debug caches have only this freelist: search it
    for (void *f = SI::head_object(c, s, st.head); f && n++ < c->objects && SI::index_of(c, s, f) != UINT32_MAX;
         f = SI::get_next(c, f))
        if (f == obj) return make_error(Errc::double_free, "double free: the object is already free");
    SI::set_next(c, obj, SI::head_object(c, s, st.head));
    SI::set_state_word(s, {mine, st.inuse - 1, false});
    ++c->cpu[Plat::cpu_id()].free_slow;
    if (s->list == kListFull) {
        SI::list_del(cn.full, s);
        SI::settle(*this, c, cn, s);
    } else if (st.inuse == 1) { // now empty
        SI::emptied(*this, c, cn, s);
    }
    return result;
}

Status SlabInternals::free_rest_restoring(SlabAllocator &sa, const void *p, SlabHeader *s, uint32_t r,
                                          unsigned long irq) {
    const Status st = free_rest(sa, p, s, r);
    Plat::irq_restore(irq);
    return st;
}

Status SlabAllocator::free_object(KmemCache *c, SlabHeader *s, void *obj) {
    CacheCpu &cc = c->cpu[Plat::cpu_id()];
    if (s == cc.slab) {
        if (obj == cc.freelist) return make_error(Errc::double_free, "double free: the object is already free");
        if (SI::index_of(c, s, obj) != UINT32_MAX) {
            if (opts_.init_on_free) __builtin_memset(obj, 0, c->object_size);
            SI::set_next(c, obj, cc.freelist);
            cc.freelist = obj;
            return {};
        }
    }
    return free_slow(c, s, obj);
}

Status SlabAllocator::cache_free(KmemCache *c, void *obj) {
    if (!obj) return {};
    if (!phys_) return make_error(Errc::wrong_phase, "slab is not initialised");
    const char *why;
    SlabHeader *s = SI::slab_of(*this, obj, &why);
    if (!s) return make_error(Errc::not_allocated, why);
    if (s->cache != c) return make_error(Errc::invalid_argument, "object belongs to another cache");
    const uint32_t i = c->plain ? SI::index_of(c, s, obj) : UINT32_MAX;
    const unsigned long irq = Plat::irq_save();
    const uint32_t r = i != UINT32_MAX ? SI::push_local_at(c, Plat::cpu_slot(), s, obj, i) : SI::kFreeSlow;
    if (r == 0) [[likely]] return irq_restore_ok(irq);
    return SI::free_rest_restoring(*this, obj, s, r, irq);
}

} // namespace kmem
