/* SPDX-License-Identifier: MIT
 *
 * DOC: the RISC-V kernel's trap entry (stvec, direct mode). The kernel runs
 * only in S-mode on its own stacks, so a trap arrives on the interrupted
 * stack: it saves the registers a C++ function may clobber (ra, t0-t6,
 * a0-a7) with sepc and sstatus in a 144-byte frame (16-byte aligned), calls
 * kx_trap(scause, sepc, stval) (irq.cpp) with interrupts still off, resumes
 * at the address it returns, and restores. The kernel is built without the F
 * and D extensions: no floating-point state to save. */
    .text
    .align 2
    .globl kx_trap_entry
kx_trap_entry:
    addi sp, sp, -144
    sd ra, 0(sp)
    sd t0, 8(sp)
    sd t1, 16(sp)
    sd t2, 24(sp)
    sd a0, 32(sp)
    sd a1, 40(sp)
    sd a2, 48(sp)
    sd a3, 56(sp)
    sd a4, 64(sp)
    sd a5, 72(sp)
    sd a6, 80(sp)
    sd a7, 88(sp)
    sd t3, 96(sp)
    sd t4, 104(sp)
    sd t5, 112(sp)
    sd t6, 120(sp)
    csrr t0, sstatus
    sd t0, 136(sp)
    csrr a0, scause
    csrr a1, sepc
    csrr a2, stval
    call kx_trap
    csrw sepc, a0
    ld t0, 136(sp)
    csrw sstatus, t0
    ld ra, 0(sp)
    ld t0, 8(sp)
    ld t1, 16(sp)
    ld t2, 24(sp)
    ld a0, 32(sp)
    ld a1, 40(sp)
    ld a2, 48(sp)
    ld a3, 56(sp)
    ld a4, 64(sp)
    ld a5, 72(sp)
    ld a6, 80(sp)
    ld a7, 88(sp)
    ld t3, 96(sp)
    ld t4, 104(sp)
    ld t5, 112(sp)
    ld t6, 120(sp)
    addi sp, sp, 144
    sret

    .section .note.GNU-stack, "", @progbits
