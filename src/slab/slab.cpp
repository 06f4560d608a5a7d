// SPDX-License-Identifier: MIT
//
// DOC: slabs - getting them from the buddy, the allocation and free paths.
//
// cache_alloc: pop the CPU's freelist (fast path). When it is empty the slow
// path takes, in turn, objects other CPUs freed into the active slab, a slab
// of the CPU's partial list, partial slabs of the node (several per lock
// hold), or a new slab from the buddy, and makes it the CPU's active slab. Debug caches, and requests for a node other than the
// active slab's, are served one object at a time straight from a node's
// slabs under the node lock.
//
// kfree/cache_free: an object of the CPU's active slab goes on the CPU's
// freelist (fast path); any other object goes on its slab's freelist by
// compare-and-swap. A full slab that gets a free object is frozen for the
// freeing CPU and kept on its partial list (SLUB's per-CPU partial slabs), so
// the refills that follow take no lock; the list goes back to the node when
// it grows past cpu_partial. Only a slab that empties while on the node's
// list takes the node lock: it is kept (min_partial empty slabs per node) or
// given back to the buddy. Debug caches do everything under the node lock.
#include "slab_internal.h"

namespace kmem {
namespace {

using SI = SlabInternals;

uint32_t zone_flags(const KmemCache *c) {
    if (c->flags & kCacheDma) return kAllocZoneDma;
    return (c->flags & kCacheDma32) ? uint32_t{kAllocZoneDma32} : 0u;
}

// A random number from the cache's state. CPUs make slabs of one cache
// concurrently, outside any lock: the state advances atomically (a Weyl
// sequence) and each value is mixed locally (splitmix64's finaliser).
uint64_t next_random(KmemCache *c) {
    constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;
    uint64_t z = __atomic_fetch_add(&c->rng, kGamma, __ATOMIC_RELAXED) + kGamma;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t gcd(uint64_t a, uint64_t b) {
    while (b) {
        const uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

// Ready an object for its caller.
void *hand_out(const SlabOptions &opts, KmemCache *c, void *obj, uint32_t flags) {
    if ((flags & kAllocZero) || opts.init_on_alloc) __builtin_memset(obj, 0, c->object_size);
    if (c->ctor) c->ctor(obj);
    return obj;
}

} // namespace

void SlabInternals::list_add(SlabHeader *&head, SlabHeader *s, SlabList which) {
    s->prev = nullptr;
    s->next = head;
    if (head) head->prev = s;
    head = s;
    s->list = which;
}

void SlabInternals::list_del(SlabHeader *&head, SlabHeader *s) {
    if (s->prev) s->prev->next = s->next;
    else head = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = nullptr;
    s->list = kListNone;
}

SlabHeader *SlabInternals::slab_of_slow(const SlabAllocator &sa, const void *p, const char **why) {
    const PhysAllocator &a = *sa.phys_;
    const uint64_t pfn = pfn_of(Plat::virt_to_phys(p));
    if ((*why = a.unreadable(pfn))) return nullptr;
    SlabHeader *s = slab_named(a, pfn);
    if (!s) {
        *why = "not memory the slab allocator handed out";
        return nullptr;
    }
    if (s->magic != kSlabMagic) {
        *why = "slab page without a valid slab header";
        return nullptr;
    }
    return s;
}

SlabHeader *SlabInternals::new_slab(SlabAllocator &sa, KmemCache *c, uint16_t node, uint32_t flags) {
    PhysAllocator &a = *sa.phys_;
    Result<uint64_t> r = a.alloc_pages(c->order, zone_flags(c) | (flags & (kAllocReserves | kAllocAtomic)), node);
    if (!r.ok()) return nullptr;
    const uint32_t offset = header_offset(c, pfn_of(r.value()));
    const Result<uint16_t> home = a.mark_slab(r.value(), c->order, offset); // just allocated: cannot fail
    if (!home.ok()) {
        (void)a.free_pages(r.value(), c->order);
        return nullptr;
    }
    auto *s = reinterpret_cast<SlabHeader *>(static_cast<uint8_t *>(Plat::phys_to_virt(r.value())) + offset);
    *s = SlabHeader{};
    s->cache = c;
    s->offset = offset;
    s->magic = kSlabMagic;
    s->node = home.value();
    // Fast caches with objects in address order carve them on demand (the
    // memory of objects never used is never written); debug caches poison
    // every object and shuffled freelists span the slab: chained now.
    if (c->fast && !sa.opts_.random_freelist) {
        set_state_word(s, {0, 0, false});
        return s;
    }
    s->carved = c->objects;

    // Chain the objects: in order, or visiting them with a random start and
    // a random stride coprime with the count (a cheap shuffle, no storage).
    const uint64_t n = c->objects;
    uint64_t start = 0, step = 1;
    if (sa.opts_.random_freelist && n > 1) {
        start = next_random(c) % n;
        step = 1 + next_random(c) % (n - 1);
        while (gcd(step, n) != 1) step = step % (n - 1) + 1;
    }
    void *prev = nullptr;
    for (uint64_t k = 0, i = start; k < n; ++k, i = i + step >= n ? i + step - n : i + step) {
        void *obj = object(c, s, static_cast<uint32_t>(i));
        if (c->flags & kCacheDebugFlags) poison_free(c, obj);
        if (prev) set_next(c, prev, obj);
        prev = obj;
    }
    set_next(c, prev, nullptr);
    set_state_word(s, {static_cast<uint32_t>(start + 1), 0, false});
    return s;
}

void SlabInternals::free_slab(SlabAllocator &sa, KmemCache *c, SlabHeader *s) {
    PhysAllocator &a = *sa.phys_;
    const uint64_t pa = Plat::virt_to_phys(base(s));
    __atomic_fetch_sub(&c->node[s->node].nr_slabs, 1, __ATOMIC_RELAXED);
    s->magic = 0;
    // The pages stop naming the header (slab_fast), then go back.
    (void)a.unmark_slab(pa, c->order);
    (void)a.free_pages(pa, c->order);
}

// Slab not frozen, not full. Frees without the lock may still lower the
// in-use count, but never to zero: that waits for the lock.
bool SlabInternals::settle(SlabAllocator &sa, KmemCache *c, CacheNode &cn, SlabHeader *s) {
    assert_held(cn.lock);
    const SlabState st = state(s);
    if (st.inuse == 0 && cn.nr_empty >= c->min_partial) {
        free_slab(sa, c, s);
        return true;
    }
    list_add(cn.partial, s, kListPartial);
    ++cn.nr_partial;
    if (st.inuse == 0) ++cn.nr_empty;
    return false;
}

void SlabInternals::emptied(SlabAllocator &sa, KmemCache *c, CacheNode &cn, SlabHeader *s) {
    assert_held(cn.lock);
    if (cn.nr_empty >= c->min_partial) {
        list_del(cn.partial, s);
        --cn.nr_partial;
        free_slab(sa, c, s);
    } else {
        ++cn.nr_empty;
    }
}

void SlabInternals::disown(SlabHeader *s) {
    s->home = owner(s);
    set_owner(s, 0);
    s->list = kListNone;
}

bool SlabInternals::thaw_locked(SlabAllocator &sa, KmemCache *c, CacheNode &cn, SlabHeader *s, void *list,
                                void *tail, uint32_t count) {
    assert_held(cn.lock);
    uint64_t old = load_state(s);
    SlabState st;
    uint32_t head;
    do {
        st = unpack(old);
        if (tail) set_next(c, tail, head_object(c, s, st.head));
        head = list ? head_value(c, s, list) : st.head;
    } while (!swap_state(s, old, {head, st.inuse - count, false}));
    // Full: on no list. From here a free may adopt it; it is not ours to touch.
    return head || uncarved(c, s) ? settle(sa, c, cn, s) : false;
}

bool SlabInternals::thaw(SlabAllocator &sa, KmemCache *c, SlabHeader *s, void *list, void *tail,
                         uint32_t count) {
    disown(s);
    if (!list && !uncarved(c, s)) { // full stays full and goes on no list: no lock
        uint64_t old = load_state(s);
        while (!unpack(old).head)
            if (swap_state(s, old, {0, c->objects, false})) return false;
    }
    CacheNode &cn = node_of(c, s);
    count_node_lock(sa);
    LockGuard<platform::SpinLock> g(cn.lock);
    return thaw_locked(sa, c, cn, s, list, tail, count);
}

bool SlabInternals::deactivate(SlabAllocator &sa, KmemCache *c, unsigned cpu) {
    KMEM_ASSERT_IRQS_OFF();
    CacheCpu &cc = c->cpu[cpu];
    SlabHeader *s = cc.slab;
    if (!s) return false;
    // The CPU's objects go in front of the slab's freelist.
    uint32_t count = 0;
    void *tail = nullptr;
    for (void *obj = cc.freelist; obj; obj = get_next(c, obj)) {
        tail = obj;
        ++count;
    }
    void *list = cc.freelist;
    cc.freelist = nullptr;
    cc.slab = nullptr;
    return thaw(sa, c, s, list, tail, count);
}

// Thaw a list of slabs taken off a CPU's partial list (linked by next),
// one lock hold per run of slabs of one node.
static void thaw_list(SlabAllocator &sa, KmemCache *c, SlabHeader *list) {
    using SI = SlabInternals;
    while (list) {
        CacheNode &cn = SI::node_of(c, list);
        SI::count_node_lock(sa);
        LockGuard<platform::SpinLock> g(cn.lock);
        for (SlabHeader *s; (s = list) && &SI::node_of(c, s) == &cn;) {
            list = s->next;
            s->next = nullptr;
            // The CPU's own frees to it go back with it.
            void *local = s->local_free, *tail = nullptr;
            for (void *obj = local; obj; obj = SI::get_next(c, obj)) tail = obj;
            const uint32_t count = s->local_count;
            s->local_free = nullptr;
            s->local_count = 0;
            SI::disown(s);
            (void)SI::thaw_locked(sa, c, cn, s, local, tail, count);
        }
    }
}

void SlabInternals::drain_partial(SlabAllocator &sa, KmemCache *c, unsigned cpu) {
    KMEM_ASSERT_IRQS_OFF();
    CacheCpu &cc = c->cpu[cpu];
    take_adopted(c, cpu, cpu);
    SlabHeader *list = cc.partial;
    cc.partial = cc.partial_tail = nullptr;
    cc.nr_partial = 0;
    cc.trim_at = 0;
    thaw_list(sa, c, list);
}

void SlabInternals::trim_partial(SlabAllocator &sa, KmemCache *c, unsigned cpu) {
    KMEM_ASSERT_IRQS_OFF();
    CacheCpu &cc = c->cpu[cpu];
    // Empty slabs beyond cpu_partial go back to the node. An empty frozen
    // slab: every object not on its slab's list is on its local list (only
    // frees change it now).
    SlabHeader *spill = nullptr;
    uint32_t kept_empty = 0;
    uint64_t kept_free = 0; // free objects on the slabs that stay
    for (SlabHeader *s = cc.partial, *next; s; s = next) {
        next = s->next;
        if (state(s).inuse == s->local_count && kept_empty++ >= c->cpu_partial) {
            partial_remove(cc, s);
            s->next = spill;
            spill = s;
        } else {
            kept_free += frozen_free(c, s);
        }
    }
    // Then the free objects the list holds are bounded (SLUB's cpu_partial,
    // in objects: cpu_partial slabs' worth): past it the oldest slabs, in
    // use or not, go to the node, where every CPU finds them.
    const uint64_t bound = uint64_t{c->cpu_partial} * c->objects;
    for (SlabHeader *s = cc.partial, *next; s && kept_free > bound; s = next) {
        next = s->next;
        kept_free -= frozen_free(c, s);
        partial_remove(cc, s);
        s->next = spill;
        spill = s;
    }
    thaw_list(sa, c, spill);
    // The next walk when the list has doubled: a constant cost per slab.
    cc.trim_at = 2 * cc.nr_partial > c->cpu_partial ? 2 * cc.nr_partial : c->cpu_partial;
}

void SlabInternals::hand_back(KmemCache *c, unsigned home, SlabHeader *s) {
    set_owner(s, home + 1);
    s->list = kListCpu;
    s->prev = nullptr;
    SlabHeader **top = &c->adopted[home];
    SlabHeader *head = __atomic_load_n(top, __ATOMIC_RELAXED);
    do {
        s->next = head;
    } while (!__atomic_compare_exchange_n(top, &head, s, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
}

// Pushes and this take-all never pop one entry, so the stack has no ABA.
void SlabInternals::take_adopted(KmemCache *c, unsigned from, unsigned cpu) {
    KMEM_ASSERT_IRQS_OFF();
    if (from >= kMaxCpus || !__atomic_load_n(&c->adopted[from], __ATOMIC_RELAXED)) return;
    SlabHeader *s = __atomic_exchange_n(&c->adopted[from], nullptr, __ATOMIC_ACQ_REL);
    while (s) {
        SlabHeader *next = s->next;
        push_partial(c, cpu, s); // frozen for `from` by hand_back; now for cpu
        s = next;
    }
}

void SlabInternals::push_partial(KmemCache *c, unsigned cpu, SlabHeader *s) {
    KMEM_ASSERT_IRQS_OFF();
    CacheCpu &cc = c->cpu[cpu];
    set_owner(s, cpu + 1);
    s->list = kListCpu;
    s->next = nullptr;
    s->prev = cc.partial_tail;
    if (cc.partial_tail) cc.partial_tail->next = s;
    else cc.partial = s;
    cc.partial_tail = s;
    ++cc.nr_partial;
}

void SlabInternals::adopt(SlabAllocator &sa, KmemCache *c, unsigned cpu, SlabHeader *s) {
    push_partial(c, cpu, s);
    if (c->cpu[cpu].nr_partial > c->cpu[cpu].trim_at) trim_partial(sa, c, cpu);
}

void *SlabInternals::take_freelist(KmemCache *c, SlabHeader *s) {
    uint64_t old = load_state(s);
    while (unpack(old).head && !swap_state(s, old, {0, carved(s), true})) {
    }
    return head_object(c, s, unpack(old).head);
}

// Objects up to the end of the page (kCarveBytes) holding the start of the
// first: a CPU writes the links of memory it is about to hand out, not of a
// whole slab (mimalloc's page extension).
void *SlabInternals::carve(KmemCache *c, SlabHeader *s) {
    constexpr uintptr_t kCarveBytes = kPageSize;
    const uint32_t first = carved(s);
    if (first >= c->objects) return nullptr;
    const uintptr_t begin = reinterpret_cast<uintptr_t>(object(c, s, first));
    const uintptr_t limit = (begin | (kCarveBytes - 1)) + 1;
    uint32_t n = static_cast<uint32_t>((limit - begin + c->stride - 1) / c->stride);
    if (n > c->objects - first) n = c->objects - first;
    for (uint32_t i = first; i + 1 < first + n; ++i) set_next(c, object(c, s, i), object(c, s, i + 1));
    set_next(c, object(c, s, first + n - 1), nullptr);
    // Frees may change the word meanwhile (compare-and-swap): add, do not
    // store. inuse + n <= objects, so nothing carries into the frozen bit.
    __atomic_fetch_add(&s->state, uint64_t{n} << 32, __ATOMIC_RELAXED);
    __atomic_store_n(&s->carved, first + n, __ATOMIC_RELEASE);
    return object(c, s, first);
}

// Take a slab off a node's partial list and freeze it.
// take: its whole freelist becomes the caller's (returned); else it keeps it.
static void *freeze(KmemCache *c, CacheNode &cn, SlabHeader *s, bool take) KMEM_REQUIRES(cn.lock) {
    SlabInternals::list_del(cn.partial, s);
    --cn.nr_partial;
    uint64_t old = SlabInternals::load_state(s);
    for (;;) {
        const SlabState st = SlabInternals::unpack(old);
        const SlabState nw = take ? SlabState{0, SlabInternals::carved(s), true} : SlabState{st.head, st.inuse, true};
        if (SlabInternals::swap_state(s, old, nw)) {
            if (st.inuse == 0) --cn.nr_empty;
            return SlabInternals::head_object(c, s, st.head);
        }
    }
}

bool SlabInternals::refill(SlabAllocator &sa, KmemCache *c, unsigned cpu, uint16_t node, uint16_t want,
                           uint32_t flags) {
    KMEM_ASSERT_IRQS_OFF();
    CacheCpu &cc = c->cpu[cpu];
    auto activate = [&](SlabHeader *s, void *freelist) {
        cc.freelist = freelist;
        cc.secret = c->secret;
        set_owner(s, cpu + 1);
        s->list = kListNone;
        cc.slab = s;
    };
    // Slabs other CPUs handed back, then the CPU's own partial slabs: frozen, so only frees changed them since.
    // The CPU's own frees to one become its freelist as they are (they are
    // counted in use already); else the slab's freelist is taken.
    if (node == kAnyNode) {
        take_adopted(c, cpu, cpu);
        if (cc.nr_partial > cc.trim_at) trim_partial(sa, c, cpu);
    }
    while (node == kAnyNode && cc.partial) {
        // The oldest slab, which had the longest to collect frees - unless
        // the newest is at least half free (a batch of frees just emptied
        // it, and its memory is the one in the cache).
        SlabHeader *s = cc.partial, *newest = cc.partial_tail;
        if (newest != s && 2 * (c->objects - state(newest).inuse + newest->local_count) >= c->objects) s = newest;
        partial_remove(cc, s);
        if (void *local = s->local_free) {
            s->local_free = nullptr;
            s->local_count = 0;
            activate(s, local);
            return true;
        }
        if (void *freelist = take_objects(c, s)) {
            activate(s, freelist);
            return true;
        }
        (void)thaw(sa, c, s, nullptr, nullptr, 0); // cannot happen: slabs here have a free object
    }
    // The node's: the first becomes active, more go to the CPU's partial list
    // (up to half its room) while the lock is held.
    {
        CacheNode &cn = c->node[want];
        count_node_lock(sa);
        LockGuard<platform::SpinLock> g(cn.lock);
        if (SlabHeader *s = cn.partial) {
            void *freelist = freeze(c, cn, s, true);
            activate(s, freelist ? freelist : carve(c, s));
            while ((s = cn.partial) && cc.nr_partial < c->cpu_partial / 2u) {
                (void)freeze(c, cn, s, false);
                push_partial(c, cpu, s);
            }
            return true;
        }
    }
    SlabHeader *s = new_slab(sa, c, node, flags);
    if (!s) return false;
    void *freelist = head_object(c, s, state(s).head);
    set_state_word(s, {0, carved(s), true}); // nobody else knows it yet
    __atomic_fetch_add(&node_of(c, s).nr_slabs, 1, __ATOMIC_RELAXED);
    activate(s, freelist ? freelist : carve(c, s));
    return true;
}

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
        LockGuard<platform::SpinLock> g(cn.lock);
        if (SlabHeader *s = cn.partial) return pop_debug(c, cn, s);
    }
    SlabHeader *s = SI::new_slab(sa, c, node, flags);
    if (!s) return nullptr;
    CacheNode &cn = SI::node_of(c, s);
    SI::count_node_lock(sa);
    LockGuard<platform::SpinLock> g(cn.lock);
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
            LockGuard<platform::SpinLock> g(cn.lock);
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
    LockGuard<platform::SpinLock> g(cn.lock);
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
