// SPDX-License-Identifier: MIT
//
// DOC: the little of the device tree the AArch64 kernel reads besides memory
// (kmem::parse_fdt has that): a node found by its compatible string, with
// its reg and interrupts properties as raw big-endian cells.
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
};

// The first node whose compatible list holds `compatible`; false if none
// (or the tree is malformed).
bool fdt_find_compatible(const uint8_t *dtb, const char *compatible, FdtNode &out);

// `n` (1 or 2) big-endian cells at p as one number.
uint64_t fdt_cells(const uint8_t *p, uint32_t n);

// Entry i of reg: its address and size; false past the end.
bool fdt_reg(const FdtNode &node, unsigned i, uint64_t &base, uint64_t &size);

} // namespace kx
