/* SPDX-License-Identifier: MIT
 *
 * DOC: kmem's freestanding archive in a program with no libc at all, its
 * platform hooks (<kmem/platform_hooks.h>) and memory functions written in
 * C11. x86_64 Linux: raw system calls stand for the console, the clock and
 * the exit; a 64 MiB array stands for physical memory, and the map is an
 * e820 table as a BIOS returns it. It boots kmem through its four phases
 * with the C API (kmem/kmem.h), allocates with memblock, kmalloc, a
 * kmem_cache and whole pages, checks kmem's books, prints /proc/meminfo and
 * exits 0 - or prints what went wrong and exits 1 (a kmem panic: 3).
 * Linked by tests/embed/CMakeLists.txt (in-tree) and
 * tests/embed/freestanding-consumer/ (against an installed kmem).
 */
#include <kmem/kmem.h>
#include <kmem/platform_hooks.h>

#include <stddef.h>
#include <stdint.h>

#define MiB (UINT64_C(1) << 20)
#define PHYS_SIZE (64 * MiB)

/* ---- the machine: raw Linux system calls */

static long sys3(long n, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}
static void write_out(const char *s, size_t n) {
    while (n > 0) {
        long w = sys3(1 /* write */, 1, (long)s, (long)n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}
static _Noreturn void exit_with(int code) {
    for (;;) sys3(231 /* exit_group */, code, 0, 0);
}
static size_t length(const char *s) {
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}
static void print(const char *s) { write_out(s, length(s)); }
static void print_u64(uint64_t v) {
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do buf[--i] = (char)('0' + v % 10); while ((v /= 10) != 0);
    print(buf + i);
}

/* ---- what compilers may call */

void *memcpy(void *dst, const void *src, size_t n) {
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}
void *memset(void *dst, int c, size_t n) {
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}
void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d <= s || d >= s + n) return memcpy(dst, src, n);
    while (n-- > 0) d[n] = s[n];
    return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    size_t i;
    for (i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* ---- the platform hooks */

static unsigned char phys[PHYS_SIZE] __attribute__((aligned(4096)));
static unsigned long irq_depth; /* "interrupts off" sections open */

void *kmem_platform_phys_to_virt(uint64_t pa) { return phys + pa; }
uint64_t kmem_platform_virt_to_phys(const void *va) { return (uint64_t)((const unsigned char *)va - phys); }
bool kmem_platform_is_mapped(uint64_t pa, uint64_t len) { return pa <= PHYS_SIZE && len <= PHYS_SIZE - pa; }
unsigned kmem_platform_cpu_id(void) { return 0; }
unsigned long kmem_platform_irq_save(void) { return irq_depth++; }
void kmem_platform_irq_restore(unsigned long flags) { irq_depth = flags; }
bool kmem_platform_irqs_enabled(void) { return irq_depth == 0; }
bool kmem_platform_in_interrupt(void) { return false; }
uint64_t kmem_platform_now_ns(void) {
    struct {
        long sec, nsec;
    } ts = {0, 0};
    sys3(228 /* clock_gettime */, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0);
    return (uint64_t)ts.sec * 1000000000u + (uint64_t)ts.nsec;
}
void kmem_platform_console_write(const char *s, size_t n) { write_out(s, n); }
_Noreturn void kmem_platform_panic(const char *message) {
    print("freestanding-hooks: kmem panic: ");
    print(message);
    print("\n");
    exit_with(3);
}

/* ---- the "kernel" */

static int failures;
static void step(int ok, const char *what, const kmem_error *err) {
    print(ok ? "ok   " : "FAIL ");
    print(what);
    if (!ok && err && err->code != KMEM_OK) {
        print(": ");
        print(err->reason);
    }
    print("\n");
    if (!ok) ++failures;
}

/* What BIOS INT 15h E820 returns: base, length, type (1 RAM, 2 reserved). */
struct e820_entry {
    uint64_t base, length;
    uint32_t type;
} __attribute__((packed));
static const struct e820_entry e820[] = {
    {0, 0x9fc00, 1},
    {0x9fc00, 0x400, 2},
    {0xf0000, 0x10000, 2},
    {1 * MiB, PHYS_SIZE - 1 * MiB, 1},
};

static unsigned ranges_mapped;
static kmem_errc mapped(void *ctx, uint64_t start, uint64_t end) {
    (void)ctx;
    /* The whole array is reachable already: nothing to switch to. */
    if (end > PHYS_SIZE || start >= end) return KMEM_INVALID_RANGE;
    ++ranges_mapped;
    return KMEM_OK;
}

static void to_console(void *ctx, const char *text, size_t len) {
    (void)ctx;
    write_out(text, len);
}

static int kernel_main(void) {
    kmem_error err;
    kmem_totals t;
    kmem_cache *cache;
    void *objs[64];
    void *table, *p;
    uint64_t pa = 0;
    int n, i;

    step(kmem_boot_phase() == KMEM_PHASE_OFF && kmalloc(16, 0) == NULL, "before boot kmalloc returns NULL", 0);
    step(kmem_map_parse_e820(e820, sizeof e820 / sizeof e820[0], sizeof e820[0], &err) == KMEM_OK,
         "the e820 table", &err);
    step(kmem_map_bytes(KMEM_MEM_USABLE) == 0x9f000 + PHYS_SIZE - 1 * MiB, "usable bytes as the table says", 0);
    step(kmem_boot_firmware_map(&err) == KMEM_OK, "Off -> FirmwareMap", &err);
    step(kmem_boot_reserve(1 * MiB, 1 * MiB, 1, "kernel image", &err) == KMEM_OK, "reserve the kernel image", &err);
    step(kmem_boot_early_window(0, 32 * MiB, 0, &err) == KMEM_OK, "FirmwareMap -> EarlyWindow [0, 32 MiB)", &err);
    table = memblock_alloc(16384, 4096);
    step(table != NULL && kmem_virt_to_phys(table) < 32 * MiB, "memblock_alloc in the early window", 0);
    p = kmalloc(200, KMEM_GFP_KERNEL);
    step(p != NULL && ksize(p) >= 200 && kfree(p) == KMEM_OK, "kmalloc and kfree in the early window", 0);
    step(kmem_boot_direct_map(mapped, NULL, KMEM_DIRECT_MAP_DEFAULT, &err) == KMEM_OK && ranges_mapped == 3,
         "EarlyWindow -> DirectMap: three RAM ranges (the image between), each through the C callback", &err);
    step(kmem_boot_running(&err) == KMEM_OK, "DirectMap -> Running", &err);

    cache = kmem_cache_create("c-hooks", 96, 0, 0, NULL);
    for (n = 0; cache && n < 64 && (objs[n] = kmem_cache_alloc(cache, 0)) != NULL; ++n) {
    }
    step(cache != NULL && n == 64, "kmem_cache_create and 64 objects", 0);
    for (i = 0; i < n; ++i) (void)kmem_cache_free(cache, objs[i]);
    step(kmem_cache_destroy(cache) == KMEM_OK, "kmem_cache_destroy", 0);
    step(kmem_alloc_pages(4, KMEM_ALLOC_ATOMIC, KMEM_ANY_NODE, &pa, &err) == KMEM_OK &&
             kmem_free_pages(pa, 4, &err) == KMEM_OK,
         "kmem_alloc_pages(order 4) and back", &err);
    step(kmem_free_pages(pa, 4, &err) == KMEM_DOUBLE_FREE, "a double free is refused", 0);
    memblock_free(table, 16384);
    step(kmem_check(&err) == KMEM_OK, "kmem_check", &err);
    step(kmem_get_totals(&t, &err) == KMEM_OK && t.managed > 0, "kmem_get_totals", &err);
    print("managed pages: ");
    print_u64(t.managed);
    print(", free pages: ");
    print_u64(t.free + t.pcp);
    print("\n");
    step(kmem_report(KMEM_REPORT_MEMINFO, to_console, NULL, &err) == KMEM_OK, "/proc/meminfo (above)", &err);
    print(failures ? "freestanding-hooks: FAILED\n" : "freestanding-hooks: all steps passed\n");
    return failures ? 1 : 0;
}

void c_start(void);
void c_start(void) { exit_with(kernel_main()); }

/* The process starts here: no libc, so no crt1.o - align the stack, call C. */
__asm__(".globl _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  and $-16, %rsp\n"
        "  call c_start\n"
        "  hlt\n");
