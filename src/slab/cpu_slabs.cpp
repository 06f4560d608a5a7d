// SPDX-License-Identifier: MIT
//
// DOC: which CPU owns a slab - freezing, thawing, the per-CPU partial
// lists, adoption and refills.
//
// A frozen slab belongs to one CPU: its active slab or one on its partial
// list (SLUB's per-CPU partials), a queue the CPU changes with its
// interrupts off and no lock. A full slab that gets its first free from
// another CPU is frozen for the CPU that filled it while that CPU is online
// (hand_back onto its adopted stack, which it takes whole), else for the
// freeing CPU (adopt). thaw/deactivate/drain_partial give slabs back to
// their nodes, one lock hold per run of one node; trim_partial keeps a
// CPU's list under its bound. refill gives a CPU a new active slab: its own
// partial slabs first, then the node's (several per lock hold), then a new
// one; take_freelist and carve hand the objects of a frozen slab to it.
#include "slab_internal.h"

namespace kmem {
namespace {

using SI = SlabInternals;

} // namespace

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
    LockGuard g(cn.lock);
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

namespace {
// Thaw a list of slabs taken off a CPU's partial list (linked by next),
// one lock hold per run of slabs of one node.
void thaw_list(SlabAllocator &sa, KmemCache *c, SlabHeader *list) {
    while (list) {
        CacheNode &cn = SI::node_of(c, list);
        SI::count_node_lock(sa);
        LockGuard g(cn.lock);
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
} // namespace

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

namespace {
// Take a slab off a node's partial list and freeze it.
// take: its whole freelist becomes the caller's (returned); else it keeps it.
void *freeze(KmemCache *c, CacheNode &cn, SlabHeader *s, bool take) KMEM_REQUIRES(cn.lock) {
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
} // namespace

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
        LockGuard g(cn.lock);
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

} // namespace kmem
