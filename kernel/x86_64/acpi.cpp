// SPDX-License-Identifier: MIT
//
// DOC: ACPI table reading for the demo kernel (see acpi.h). Every table is
// checksummed before it is trusted.
#include "acpi.h"

#include "arch.h"

namespace kx {
namespace {

struct [[gnu::packed]] SdtHeader {
    char signature[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_revision, creator, creator_revision;
};
static_assert(sizeof(SdtHeader) == 36);

bool sum_ok(const void *p, size_t n) {
    uint8_t s = 0;
    for (size_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + static_cast<const uint8_t *>(p)[i]);
    return s == 0;
}

bool same(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

template <class T> T read(const uint8_t *p) {
    T v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

// The RSDP in [from, to) of low memory (identity-mapped by the boot tables).
uint64_t scan_rsdp(uint64_t from, uint64_t to) {
    for (uint64_t a = from; a + 20 <= to; a += 16) {
        const auto *p = reinterpret_cast<const char *>(a);
        if (same(p, "RSD PTR ", 8) && sum_ok(p, 20)) return a;
    }
    return 0;
}

const SdtHeader *map_table(uint64_t pa) {
    const auto *h = static_cast<const SdtHeader *>(early_map(pa, sizeof(SdtHeader)));
    if (!h || h->length < sizeof(SdtHeader) || h->length > (1u << 20)) return nullptr;
    h = static_cast<const SdtHeader *>(early_map(pa, h->length));
    return h && sum_ok(h, h->length) ? h : nullptr;
}

void read_madt(const SdtHeader *t, AcpiInfo &out) {
    const auto *p = reinterpret_cast<const uint8_t *>(t);
    out.lapic = read<uint32_t>(p + 36);
    for (uint32_t off = 44; off + 2 <= t->length;) {
        const uint8_t type = p[off], len = p[off + 1];
        if (len < 2 || off + len > t->length) break;
        if (type == 0 && len >= 8) { // processor local APIC
            const uint32_t flags = read<uint32_t>(p + off + 4);
            if ((flags & 1) && out.cpus < kmem::kMaxCpus) out.apic_id[out.cpus++] = p[off + 3];
        } else if (type == 5 && len >= 12) { // local APIC address override
            out.lapic = read<uint64_t>(p + off + 4);
        }
        off += len;
    }
}

void read_srat(const SdtHeader *t, AcpiInfo &out) {
    const auto *p = reinterpret_cast<const uint8_t *>(t);
    for (uint32_t off = 48; off + 2 <= t->length;) {
        const uint8_t type = p[off], len = p[off + 1];
        if (len < 2 || off + len > t->length) break;
        if (type == 0 && len >= 16 && (read<uint32_t>(p + off + 4) & 1)) { // CPU affinity
            const uint32_t domain = p[off + 2] | (uint32_t{p[off + 9]} << 8) | (uint32_t{p[off + 10]} << 16) |
                                    (uint32_t{p[off + 11]} << 24);
            for (unsigned c = 0; c < out.cpus; ++c)
                if (out.apic_id[c] == p[off + 3]) out.cpu_domain[c] = static_cast<int32_t>(domain);
        } else if (type == 1 && len >= 40 && (read<uint32_t>(p + off + 28) & 1) && out.memory_count < 64) {
            out.memory[out.memory_count++] = {read<uint64_t>(p + off + 8), read<uint64_t>(p + off + 16),
                                              read<uint32_t>(p + off + 2)};
        }
        off += len;
    }
}

} // namespace

bool acpi_read(AcpiInfo &out) {
    for (int32_t &d : out.cpu_domain) d = -1;
    uint16_t ebda_segment; // the BIOS data area (0x40e) says where the EBDA is
    asm volatile("movzwl 0x40e, %k0" : "=r"(ebda_segment));
    const uint64_t ebda = uint64_t{ebda_segment} << 4;
    uint64_t rsdp = ebda >= 0x80000 && ebda < 0xa0000 ? scan_rsdp(ebda, ebda + 1024) : 0;
    if (!rsdp) rsdp = scan_rsdp(0xe0000, 0x100000);
    if (!rsdp) return false;
    out.found = true;
    out.rsdp = rsdp;
    const auto *r = reinterpret_cast<const uint8_t *>(rsdp);
    const bool xsdt = r[15] >= 2 && sum_ok(r, read<uint32_t>(r + 20)) && read<uint64_t>(r + 24);
    const uint64_t root_pa = xsdt ? read<uint64_t>(r + 24) : read<uint32_t>(r + 16);
    const SdtHeader *root = map_table(root_pa);
    if (!root) return true;
    const unsigned entry = xsdt ? 8 : 4, n = (root->length - 36) / entry;
    uint64_t entries[32];
    unsigned count = 0;
    for (unsigned i = 0; i < n && count < 32; ++i) {
        const auto *e = reinterpret_cast<const uint8_t *>(root) + 36 + i * entry;
        entries[count++] = xsdt ? read<uint64_t>(e) : read<uint32_t>(e);
    }
    const SdtHeader *madt = nullptr, *srat = nullptr;
    for (unsigned i = 0; i < count; ++i) {
        const SdtHeader *t = map_table(entries[i]);
        if (!t) continue;
        if (out.table_count < 32) {
            AcpiInfo::Table &d = out.tables[out.table_count++];
            d.pa = entries[i];
            d.length = t->length;
            for (int k = 0; k < 4; ++k) d.signature[k] = t->signature[k];
            d.signature[4] = 0;
        }
        if (same(t->signature, "APIC", 4)) madt = t;
        if (same(t->signature, "SRAT", 4)) srat = t;
    }
    if (madt) read_madt(madt, out);
    if (srat) read_srat(srat, out);
    return true;
}

} // namespace kx
