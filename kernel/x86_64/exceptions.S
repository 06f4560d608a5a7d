/* SPDX-License-Identifier: MIT
 * DOC: one stub per CPU exception vector (0-31): push the vector (and a zero
 * error code where the CPU pushes none), then kx_exception(vector, error,
 * frame). Exceptions only report (and end the run); interrupts enter through
 * irq_entry.S. */
    .text
    .code64
.macro stub v, has_error
stub_\v:
    .if \has_error
    pop %rsi
    .else
    xor %esi, %esi
    .endif
    mov $\v, %edi
    mov %rsp, %rdx
    and $~15, %rsp
    call kx_exception
.endm
    stub 0,0; stub 1,0; stub 2,0; stub 3,0; stub 4,0; stub 5,0; stub 6,0; stub 7,0
    stub 8,1; stub 9,0; stub 10,1; stub 11,1; stub 12,1; stub 13,1; stub 14,1; stub 15,0
    stub 16,0; stub 17,1; stub 18,0; stub 19,0; stub 20,0; stub 21,1; stub 22,0; stub 23,0
    stub 24,0; stub 25,0; stub 26,0; stub 27,0; stub 28,0; stub 29,1; stub 30,1; stub 31,0

    .section .data
    .globl kx_exception_stubs
    .align 8
kx_exception_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad stub_\v
    .endr

    .section .note.GNU-stack, "", @progbits
