/* SPDX-License-Identifier: MIT
 *
 * DOC: examples/c-hosted - kmem from C11, against an installed kmem.
 *
 * Boots kmem on a simulated machine (the hosted library, kmem::core) from
 * the firmware map shipped beside this file, through the four boot phases,
 * allocates the way a C kernel would (memblock and bootmem in the early
 * window, then kmalloc, a kmem_cache, whole pages), shows what a refused
 * call says, checks kmem's books and prints /proc/meminfo and the
 * early-allocation record. Every step prints one line; the exit status is 0
 * when every step did what it should, 1 otherwise.
 */
#include <kmem/hosted.h>
#include <kmem/kmem.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

static int failures;

/* One step: its outcome, and why when it failed. */
static void step(int ok, const char *what, const kmem_error *err) {
    printf("%-4s %s", ok ? "ok" : "FAIL", what);
    if (!ok && err && err->code != KMEM_OK) printf(": %s (%s)", err->reason, kmem_errc_name(err->code));
    printf("\n");
    if (!ok) ++failures;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static void to_stdout(void *ctx, const char *text, size_t len) {
    (void)ctx;
    fwrite(text, 1, len, stdout);
}

struct counter {
    unsigned constructed;
};
static struct counter objects_made;
static void make_object(void *obj) {
    memset(obj, 0x5a, 48);
    ++objects_made.constructed;
}

/* Platform code in the early window allocates as Linux's always has. */
static void *early_setup(uint64_t *buffer_pa) {
    void *table = memblock_alloc(64 * 1024, 4096);
    void *pages = alloc_bootmem_pages(8192);
    step(table != NULL && pages != NULL, "memblock_alloc(64 KiB) and alloc_bootmem_pages(8 KiB) in the early window",
         NULL);
    *buffer_pa = memblock_phys_alloc(64 * 1024, 4096);
    step(*buffer_pa != 0, "memblock_phys_alloc(64 KiB): a buffer kept until Running", NULL);
    return table;
}

int main(int argc, char **argv) {
    const char *map_path = argc > 1 ? argv[1] : C_HOSTED_MAP;
    kmem_error err;
    size_t len = 0, i;
    uint64_t top = 0, window_end, buffer_pa = 0, pa = 0, exact = 0;
    char *text = read_file(map_path, &len);
    char line[160];

    if (!text) {
        fprintf(stderr, "c-hosted: cannot read %s\n", map_path);
        return 1;
    }

    /* FirmwareMap: parse the map, make the machine, hand the map over. */
    step(kmem_map_parse(text, len, KMEM_MAP_DETECT, &err) == KMEM_OK, "parse the firmware map", &err);
    free(text);
    for (i = 0; i < kmem_map_count(); ++i) {
        kmem_mem_range r;
        if (kmem_map_range(i, &r) == KMEM_OK && (r.type == KMEM_MEM_USABLE || r.type == KMEM_MEM_KERNEL_RESERVED))
            top = r.end;
    }
    snprintf(line, sizeof line, "%s: %zu ranges, %" PRIu64 " MiB usable, RAM ends at %#" PRIx64, map_path,
             kmem_map_count(), kmem_map_bytes(KMEM_MEM_USABLE) / MiB, top);
    step(top != 0, line, NULL);
    step(kmem_hosted_create_memory(top, &err) == KMEM_OK, "simulated physical memory up to the top of RAM", &err);
    step(kmem_boot_firmware_map(&err) == KMEM_OK, "Off -> FirmwareMap", &err);
    step(kmem_boot_reserve(1 * MiB, 4 * MiB, 1, "kernel image", &err) == KMEM_OK,
         "reserve [1 MiB, 5 MiB) for the kernel image", &err);

    /* EarlyWindow: what the boot code mapped (the first 1 GiB here). */
    window_end = top < GiB ? top : GiB;
    step(kmem_hosted_map(0, window_end, &err) == KMEM_OK, "map the early window [0, 1 GiB)", &err);
    step(kmem_boot_early_window(0, window_end, NULL, &err) == KMEM_OK, "FirmwareMap -> EarlyWindow: kmalloc works",
         &err);
    {
        void *table = early_setup(&buffer_pa);
        void *p = kmalloc(100, KMEM_GFP_KERNEL);
        step(p != NULL && ksize(p) >= 100, "kmalloc(100) before the direct map exists", NULL);
        step(kfree(p) == KMEM_OK && table != NULL, "kfree", NULL);
    }

    /* DirectMap: page tables of all RAM from the buddy; the callback makes
     * each range reachable (here: maps the simulated memory). */
    step(kmem_boot_direct_map(kmem_hosted_mapped, NULL, KMEM_DIRECT_MAP_DEFAULT, &err) == KMEM_OK,
         "EarlyWindow -> DirectMap: every RAM range mapped and onlined", &err);
    step(kmem_boot_running(&err) == KMEM_OK, "DirectMap -> Running", &err);
    step(kmem_boot_running(&err) == KMEM_WRONG_PHASE, "a second kmem_boot_running() is refused", NULL);
    printf("     refused with %s: %s\n", kmem_errc_name(err.code), err.reason);

    /* The kmalloc family. */
    {
        unsigned char *a = kzalloc(3000, KMEM_GFP_KERNEL);
        uint64_t *v = kcalloc(512, sizeof *v, KMEM_GFP_KERNEL);
        int zeroed = a != NULL && v != NULL;
        size_t k;
        for (k = 0; zeroed && k < 3000; ++k) zeroed = a[k] == 0;
        for (k = 0; zeroed && k < 512; ++k) zeroed = v[k] == 0;
        step(zeroed, "kzalloc(3000) and kcalloc(512, 8) are zeroed", NULL);
        v = krealloc(v, 64 * 1024, KMEM_GFP_KERNEL);
        step(v != NULL && ksize(v) >= 64 * 1024, "krealloc to 64 KiB (whole pages from the buddy)", NULL);
        step(kfree(a) == KMEM_OK && kfree(v) == KMEM_OK, "kfree both", NULL);
        step(kfree(a) == KMEM_DOUBLE_FREE, "a second kfree of the same pointer is refused: double free", NULL);
    }

    /* A kmem_cache, as in Linux. */
    {
        kmem_cache *c = kmem_cache_create("c-hosted-object", 48, 0, KMEM_CACHE_HWALIGN, make_object);
        void *objs[100];
        int n = 0, k;
        if (c)
            for (n = 0; n < 100 && (objs[n] = kmem_cache_alloc(c, KMEM_GFP_KERNEL)) != NULL; ++n) {
            }
        snprintf(line, sizeof line, "kmem_cache_create(\"%s\", 48): %d objects, %u constructed",
                 c ? kmem_cache_name(c) : "?", n, objects_made.constructed);
        step(c != NULL && n == 100 && objects_made.constructed >= 100, line, NULL);
        step(kmem_cache_destroy(c) == KMEM_BUSY, "kmem_cache_destroy with objects in use is refused: busy", NULL);
        for (k = 0; k < n; ++k) (void)kmem_cache_free(c, objs[k]);
        step(kmem_cache_destroy(c) == KMEM_OK, "kmem_cache_destroy once they are back", NULL);
    }

    /* Whole pages. */
    step(kmem_alloc_pages(3, KMEM_ALLOC_ZERO, KMEM_ANY_NODE, &pa, &err) == KMEM_OK, "kmem_alloc_pages(order 3)",
         &err);
    step(kmem_free_pages(pa, 3, &err) == KMEM_OK, "kmem_free_pages", &err);
    step(kmem_free_pages(pa, 3, &err) == KMEM_DOUBLE_FREE, "freeing it again is refused", NULL);
    printf("     refused with %s: %s\n", kmem_errc_name(err.code), err.reason);
    step(kmem_alloc_pages_exact(5, 0, &exact, &err) == KMEM_OK && kmem_free_pages_exact(exact, 5, &err) == KMEM_OK,
         "kmem_alloc_pages_exact(5 pages) and back", &err);

    /* The boot buffer goes back to the buddy, as free_bootmem_late does. */
    free_bootmem_late(buffer_pa, 64 * 1024);

    /* Books, reports. */
    step(kmem_check(&err) == KMEM_OK, "kmem_check: the buddy's and every cache's books are consistent", &err);
    {
        kmem_totals t;
        step(kmem_get_totals(&t, &err) == KMEM_OK, "kmem_get_totals", &err);
        printf("     %" PRIu64 " MiB managed, %" PRIu64 " MiB free, %" PRIu64 " slab caches, %" PRIu64
               " KiB of page descriptors\n",
               t.managed * 4096 / MiB, (t.free + t.pcp) * 4096 / MiB, t.caches, t.metadata_bytes / 1024);
    }
    printf("early allocations (%zu):\n", kmem_early_count());
    for (i = 0; i < kmem_early_count(); ++i) {
        kmem_early_alloc e;
        if (kmem_early_record(i, &e) != KMEM_OK) continue;
        printf("     %-22s %8" PRIu64 " bytes at %#10" PRIx64 "  %-12s %s\n", e.api, e.size, e.pa,
               kmem_phase_name(e.phase), e.caller ? e.caller : "");
    }
    step(kmem_early_count() >= 4, "the early allocations are on record with their callers", NULL);
    step(kmem_report(KMEM_REPORT_MEMINFO, to_stdout, NULL, &err) == KMEM_OK, "/proc/meminfo (above)", &err);

    kmem_hosted_destroy_memory();
    printf("c-hosted: %s (%d failed)\n", failures ? "FAILED" : "all steps passed", failures);
    return failures ? 1 : 0;
}
