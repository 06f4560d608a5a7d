// SPDX-License-Identifier: MIT
//
// DOC: the harts the device tree describes (/cpus/cpu@N, compatible
// "riscv"): their hart ids, NUMA nodes and what the boot hart's ISA string
// and mmu-type say - the translation mode (Sv48 where the hart has it, Sv39
// if the command line says "sv39"), Svpbmt, and Sstc.
#pragma once

#include <kmem/paging_riscv64.h>

#include <stdint.h>

namespace kx {

struct Hart {
    uint64_t id;   // the hart id (reg)
    uint16_t node; // numa-node-id (0 when absent)
};

struct Harts {
    Hart hart[kmem::kMaxCpus]; // kmem's CPU numbers: the boot hart is 0, the rest in tree order
    unsigned count = 0;
    kmem::RiscvMode mode = kmem::RiscvMode::sv39;
    bool svpbmt = false; // the ISA string lists Svpbmt
    bool sstc = false;   // ... and Sstc (stimecmp; M-mode must still allow it: irq.cpp probes)
};

// Read every hart into harts(); the boot hart first. False if the tree has
// none, or not the boot hart.
bool read_harts(const uint8_t *dtb, uint64_t boot_hart);
// What read_harts found.
const Harts &harts();

} // namespace kx
