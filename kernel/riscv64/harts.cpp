// SPDX-License-Identifier: MIT
//
// DOC: reading the harts from the device tree (see harts.h).
#include "harts.h"

#include "fdt.h"

namespace kx {
namespace {

// A string property equal to `want` (NUL-terminated within len).
bool equals(const uint8_t *v, uint32_t len, const char *want) {
    uint32_t i = 0;
    for (; want[i]; ++i)
        if (i >= len || v[i] != static_cast<uint8_t>(want[i])) return false;
    return i < len && v[i] == 0;
}

// An ISA string "rv64imafdc_zicsr_..._sstc" lists the multi-letter extension `ext`.
bool isa_has(const uint8_t *v, uint32_t len, const char *ext) {
    uint32_t i = 0;
    while (i < len && v[i] && v[i] != '_') ++i; // the single-letter part
    while (i < len && v[i] == '_') {
        const uint32_t start = ++i;
        while (i < len && v[i] && v[i] != '_') ++i;
        uint32_t k = 0;
        while (ext[k] && start + k < i && v[start + k] == static_cast<uint8_t>(ext[k])) ++k;
        if (!ext[k] && start + k == i) return true;
    }
    return false;
}

// The command line (/chosen bootargs) has the word `word`.
bool bootargs_have(const uint8_t *dtb, const char *word) {
    FdtNode chosen;
    uint32_t len = 0;
    const uint8_t *v = fdt_find_node(dtb, "chosen", chosen) ? fdt_prop(dtb, chosen, "bootargs", len) : nullptr;
    for (uint32_t i = 0; v && i < len;) {
        while (i < len && (v[i] == ' ' || v[i] == 0)) ++i;
        const uint32_t start = i;
        while (i < len && v[i] != ' ' && v[i] != 0) ++i;
        uint32_t k = 0;
        while (word[k] && start + k < i && v[start + k] == static_cast<uint8_t>(word[k])) ++k;
        if (!word[k] && start + k == i && i > start) return true;
    }
    return false;
}

Harts g_harts;

} // namespace

const Harts &harts() { return g_harts; }

bool read_harts(const uint8_t *dtb, uint64_t boot_hart) {
    Harts &out = g_harts;
    out = Harts{};
    bool boot_seen = false;
    FdtNode cpu;
    for (unsigned n = 0; fdt_find_compatible(dtb, "riscv", cpu, n); ++n) {
        uint64_t id, size;
        if (!fdt_reg(cpu, 0, id, size)) return false;
        uint32_t len = 0;
        const uint8_t *status = fdt_prop(dtb, cpu, "status", len);
        if (status && !equals(status, len, "okay")) continue;
        const uint8_t *node = fdt_prop(dtb, cpu, "numa-node-id", len);
        const Hart h{id, static_cast<uint16_t>(node && len == 4 ? fdt_cells(node, 1) : 0)};
        if (id != boot_hart) {
            if (out.count + !boot_seen >= kmem::kMaxCpus) continue; // slot 0 stays the boot hart's
            out.hart[out.count + !boot_seen] = h;
            ++out.count;
            continue;
        }
        boot_seen = true;
        out.hart[0] = h;
        ++out.count;
        const uint8_t *mmu = fdt_prop(dtb, cpu, "mmu-type", len);
        if (mmu && (equals(mmu, len, "riscv,sv48") || equals(mmu, len, "riscv,sv57")))
            out.mode = kmem::RiscvMode::sv48;
        const uint8_t *isa = fdt_prop(dtb, cpu, "riscv,isa", len);
        out.svpbmt = isa && isa_has(isa, len, "svpbmt");
        out.sstc = isa && isa_has(isa, len, "sstc");
    }
    if (bootargs_have(dtb, "sv39")) out.mode = kmem::RiscvMode::sv39;
    return boot_seen;
}

} // namespace kx
