/* SPDX-License-Identifier: MIT
 * DOC: the interrupt entries irq.cpp puts in the IDT. The timer's saves every
 * register a C++ function may clobber (rax, rcx, rdx, rsi, rdi, r8-r11; the
 * flags come back with iretq), aligns the stack to 16 bytes, clears DF (the
 * ABI's state at a call) and calls kx_irq_timer(), on the interrupted code's
 * stack: the kernel is built with -mno-red-zone, so nothing lives below its
 * stack pointer, and with -mgeneral-regs-only, so no vector register needs
 * saving. The local APIC's spurious vector returns at once (no EOI). */
    .text
    .code64
    .globl kx_irq_timer_entry, kx_irq_spurious_entry

kx_irq_timer_entry:
    push %rbp
    mov %rsp, %rbp
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    and $~15, %rsp
    cld
    call kx_irq_timer
    lea -9 * 8(%rbp), %rsp
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    pop %rbp
    iretq

kx_irq_spurious_entry:
    iretq

    .section .note.GNU-stack, "", @progbits
