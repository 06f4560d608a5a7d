// SPDX-License-Identifier: MIT
//
// DOC: the demo kernels' console and the services their common code needs
// from each architecture (kernel/<arch>/platform.cpp implements them).
#pragma once

#include <kmem/platform_hooks.h> // kmem's platform hooks

#include <stddef.h>
#include <stdint.h>

namespace kx {

void print(const char *s);
void print_n(const char *s, size_t n);
void print_u64(uint64_t v);
void print_hex(uint64_t v);
uint64_t now_ns();
void cpu_relax();

} // namespace kx
