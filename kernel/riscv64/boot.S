/* SPDX-License-Identifier: MIT
 *
 * DOC: the RISC-V demo kernel's entry (QEMU virt, OpenSBI fw_dynamic, -kernel ELF).
 *
 * OpenSBI enters the boot hart here in S-mode with the MMU off (satp = 0),
 * a0 = its hart id and a1 = the device tree. This masks interrupts, clears
 * tp (no per-hart block yet), zeroes .bss, takes the boot stack, installs the
 * trap vector and calls early_mmu_on() (early_mmu.cpp: the early Sv39 map),
 * then kmain(hart, dtb). Other harts start at secondary_entry through SBI
 * HSM hart_start with a0 = their hart id and a1 = their CPU number; they load
 * the kernel's tables (kx_secondary_satp), take their stack and call
 * ap_main(cpu).
 */
    .section .text.boot, "ax"
    .globl _start
_start:
    csrw sie, zero
    csrci sstatus, 2               /* SIE */
    mv s0, a0
    mv s1, a1
    li tp, 0
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  la sp, boot_stack_top
    la t0, kx_trap_entry
    csrw stvec, t0
    call early_mmu_on
    mv a0, s0
    mv a1, s1
    call kmain
3:  wfi
    j 3b

    .globl secondary_entry
secondary_entry:
    csrw sie, zero
    csrci sstatus, 2
    li tp, 0
    la t0, kx_trap_entry
    csrw stvec, t0
    la t0, kx_secondary_satp
    ld t0, 0(t0)
    csrw satp, t0
    sfence.vma
    la t0, kx_secondary_stacks
    slli t1, a1, 3
    add t0, t0, t1
    ld sp, 0(t0)
    mv a0, a1
    call ap_main
4:  wfi
    j 4b

    .section .bss
    .align 16
boot_stack: .skip 262144
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
