/* SPDX-License-Identifier: MIT
 * DOC: EL1 exception vectors. An IRQ taken at EL1 on SP_EL1 (the kernel's
 * only mode; entry 5, offset 0x280) goes to kx_irq_entry, which saves x0-x30,
 * ELR_EL1 and SPSR_EL1 on the interrupted stack (a 272-byte frame, so SP stays
 * 16-byte aligned), calls kx_irq (irq.cpp) with IRQs still masked, restores
 * and returns with eret. Every other entry reports (kx_exception: ESR, ELR,
 * FAR) and exits QEMU with a failure status. The kernel is built with
 * -mgeneral-regs-only: no FP/SIMD state to save. */
    .section .text.vectors, "ax"
    .align 11
    .globl kx_vectors
kx_vectors:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .align 7
    .if \i == 5
    b kx_irq_entry
    .else
    mov x0, #\i
    mrs x1, esr_el1
    mrs x2, elr_el1
    mrs x3, far_el1
    b kx_exception
    .endif
    .endr

    .text
    .align 2
kx_irq_entry:
    sub sp, sp, #272
    stp x0, x1, [sp, #0]
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    mrs x0, elr_el1
    mrs x1, spsr_el1
    stp x30, x0, [sp, #240]
    str x1, [sp, #256]
    bl kx_irq
    ldr x1, [sp, #256]
    ldp x30, x0, [sp, #240]
    msr spsr_el1, x1
    msr elr_el1, x0
    ldp x28, x29, [sp, #224]
    ldp x26, x27, [sp, #208]
    ldp x24, x25, [sp, #192]
    ldp x22, x23, [sp, #176]
    ldp x20, x21, [sp, #160]
    ldp x18, x19, [sp, #144]
    ldp x16, x17, [sp, #128]
    ldp x14, x15, [sp, #112]
    ldp x12, x13, [sp, #96]
    ldp x10, x11, [sp, #80]
    ldp x8, x9, [sp, #64]
    ldp x6, x7, [sp, #48]
    ldp x4, x5, [sp, #32]
    ldp x2, x3, [sp, #16]
    ldp x0, x1, [sp, #0]
    add sp, sp, #272
    eret

    .section .note.GNU-stack, "", @progbits
