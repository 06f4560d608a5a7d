// SPDX-License-Identifier: MIT
//
// DOC: what a freestanding C++ kernel needs from a runtime: the four memory
// functions the compiler and kmem may call, static constructors, and the IDT
// every CPU loads: the exception vectors (any CPU exception prints where it
// happened and exits QEMU with a failure code, instead of a silent triple
// fault) and the interrupt vectors irq.cpp installs.
#include "arch.h"

#include <stddef.h>
#include <stdint.h>

extern "C" {

void *memcpy(void *dst, const void *src, size_t n) {
    void *d = dst;
    asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n)::"memory");
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    void *d = dst;
    asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}


[[noreturn]] void kmem_platform_panic(const char *message);

// Called by the stubs in exceptions.S: vector, error code, and the frame
// the CPU pushed (RIP first).
[[noreturn]] void kx_exception(uint64_t vector, uint64_t error, const uint64_t *frame) {
    kx::print("\nkmem-x86_64: CPU exception ");
    kx::print_u64(vector);
    kx::print(" error ");
    kx::print_hex(error);
    kx::print(" rip ");
    kx::print_hex(frame[0]);
    uint64_t cr2;
    asm volatile("mov %%cr2, %0" : "=r"(cr2));
    kx::print(" cr2 ");
    kx::print_hex(cr2);
    kx::print("\n  stack:");
    const auto *sp = reinterpret_cast<const uint64_t *>(frame[3]);
    for (int i = 0; i < 6; ++i) {
        kx::print(" ");
        kx::print_hex(sp[i]);
    }
    kx::print("\n");
    kx::qemu_exit(2);
}

extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
void kx_run_constructors() {
    for (auto **f = __init_array_start; f != __init_array_end; ++f) (*f)();
}
}

extern "C" uint64_t kx_exception_stubs[32];

namespace kx {
namespace {

struct [[gnu::packed]] IdtEntry {
    uint16_t off0, selector;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};
static_assert(sizeof(IdtEntry) == 16);
IdtEntry g_idt[256];
struct [[gnu::packed]] {
    uint16_t limit;
    uint64_t base;
} g_idtr;

// A present 64-bit interrupt gate (type 0xe: interrupts off on entry) into
// the kernel's code segment, on the current stack.
void set_gate(unsigned v, uint64_t a) {
    g_idt[v] = {static_cast<uint16_t>(a), 0x08, 0, 0x8e, static_cast<uint16_t>(a >> 16),
                static_cast<uint32_t>(a >> 32), 0};
}

} // namespace

void install_exception_handlers() {
    if (!g_idtr.base) {
        for (unsigned v = 0; v < 32; ++v) set_gate(v, kx_exception_stubs[v]);
        g_idtr = {sizeof g_idt - 1, reinterpret_cast<uint64_t>(g_idt)};
    }
    asm volatile("lidt %0" ::"m"(g_idtr));
}

void idt_set_interrupt(uint8_t v, void (*entry)()) {
    set_gate(v, reinterpret_cast<uint64_t>(entry));
}

} // namespace kx
