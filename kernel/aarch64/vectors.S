/* SPDX-License-Identifier: MIT
 * DOC: EL1 exception vectors: every entry reports (kx_exception: ESR, ELR,
 * FAR) and exits QEMU with a failure status; the kernel takes no interrupts. */
    .section .text.vectors, "ax"
    .align 11
    .globl kx_vectors
kx_vectors:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .align 7
    mov x0, #\i
    mrs x1, esr_el1
    mrs x2, elr_el1
    mrs x3, far_el1
    b kx_exception
    .endr

    .section .note.GNU-stack, "", @progbits
