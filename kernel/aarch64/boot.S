/* SPDX-License-Identifier: MIT
 *
 * DOC: the AArch64 demo kernel's entry (QEMU virt, -kernel ELF).
 *
 * QEMU starts the boot CPU here at EL1 with the MMU off. This zeroes .bss,
 * takes the boot stack, turns on FP/SIMD access (CPACR_EL1.FPEN), installs
 * the exception vectors and calls early_mmu_on() (early_mmu.cpp: the early
 * identity map and the direct-map alias of the first 1 GiB of RAM), then
 * kmain(). Secondary CPUs enter at secondary_entry from PSCI CPU_ON with
 * x0 = their CPU number; they switch the MMU on with the kernel's real tables
 * (kx_secondary_ttbr0) and call ap_main(cpu).
 */
    .section .text.boot, "ax"
    .globl _start
_start:
    ldr x1, =__bss_start
    ldr x2, =__bss_end
1:  cmp x1, x2
    b.hs 2f
    str xzr, [x1], #8
    b 1b
2:  ldr x1, =boot_stack_top
    mov sp, x1
    mov x1, #(3 << 20)
    msr cpacr_el1, x1
    ldr x1, =kx_vectors
    msr vbar_el1, x1
    isb
    bl early_mmu_on
    bl kmain
3:  wfe
    b 3b

    .globl secondary_entry
secondary_entry:
    mov x19, x0                    /* CPU number */
    mov x1, #(3 << 20)
    msr cpacr_el1, x1
    ldr x1, =kx_vectors
    msr vbar_el1, x1
    ldr x1, =kx_mair
    ldr x1, [x1]
    msr mair_el1, x1
    ldr x1, =kx_tcr
    ldr x1, [x1]
    msr tcr_el1, x1
    ldr x1, =kx_secondary_ttbr0
    ldr x1, [x1]
    msr ttbr0_el1, x1
    isb
    tlbi vmalle1
    dsb nsh
    mrs x1, sctlr_el1
    orr x1, x1, #(1 << 0)          /* M */
    orr x1, x1, #(1 << 2)          /* C */
    orr x1, x1, #(1 << 12)         /* I */
    msr sctlr_el1, x1
    isb
    ldr x1, =kx_secondary_stacks
    ldr x1, [x1, x19, lsl #3]
    mov sp, x1
    mov x0, x19
    bl ap_main
4:  wfe
    b 4b

    .section .bss
    .align 16
boot_stack: .skip 262144
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
