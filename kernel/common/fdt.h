// SPDX-License-Identifier: MIT
//
// DOC: the little of the device tree the device-tree kernels (AArch64,
// RISC-V) read besides memory (kmem::parse_fdt has that): a node found by its
// compatible string (the first, or the n-th) or by its name, with its reg and
// interrupts properties as raw big-endian cells and any other property by name.
#pragma once

#include <stdint.h>

namespace kx {

struct FdtNode {
    const uint8_t *reg = nullptr; // big-endian cells, reg_len bytes
    uint32_t reg_len = 0;
    const uint8_t *interrupts = nullptr;
    uint32_t interrupts_len = 0;
    uint32_t address_cells = 2; // the parent's #address-cells / #size-cells: how reg reads
    uint32_t size_cells = 1;
    uint32_t props = 0;         // offset of its first property in the structure block (fdt_prop)
};

// The nth (0: the first) node whose compatible list holds `compatible`;
// false if there are not that many (or the tree is malformed).
bool fdt_find_compatible(const uint8_t *dtb, const char *compatible, FdtNode &out, unsigned nth = 0);

// The first node named `name` (its name before any '@unit-address'), e.g.
// "cpus" or "chosen"; false if none.
bool fdt_find_node(const uint8_t *dtb, const char *name, FdtNode &out);

// A property of a node found above: its value and length, or null if the
// node has no such property.
const uint8_t *fdt_prop(const uint8_t *dtb, const FdtNode &node, const char *name, uint32_t &len);

// `n` (1 or 2) big-endian cells at p as one number.
uint64_t fdt_cells(const uint8_t *p, uint32_t n);

// Entry i of reg: its address and size; false past the end.
bool fdt_reg(const FdtNode &node, unsigned i, uint64_t &base, uint64_t &size);

} // namespace kx
