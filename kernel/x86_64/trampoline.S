/* SPDX-License-Identifier: MIT
 *
 * DOC: the application processors' way from real mode to kmem.
 *
 * smp.cpp copies [ap_trampoline, ap_trampoline_end) to physical 0x8000 and
 * starts each AP there with INIT-SIPI-SIPI (vector 0x08). The AP loads the
 * kernel's GDT, enters protected mode, then long mode on the boot page
 * tables (below 4 GiB, identity-mapping this page and the kernel), switches
 * to the kernel's real tables (ap_cr3, 64-bit), takes its stack and calls
 * ap_main(cpu). Every address is computed for the copy at 0x8000.
 */
#define TRAMPOLINE 0x8000
#define AT(x) ((x) - ap_trampoline + TRAMPOLINE)

    .section .rodata.trampoline, "a"
    .globl ap_trampoline, ap_trampoline_end, ap_gdt_base, ap_boot_cr3, ap_cr3, ap_stack, ap_cpu, ap_entry
    .code16
ap_trampoline:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl AT(ap_gdt_ptr)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x18, $AT(ap_protected)

    .code32
ap_protected:
    mov $0x20, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov AT(ap_boot_cr3), %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax
    and $~(1 << 2), %eax
    or $((1 << 31) | (1 << 1)), %eax
    mov %eax, %cr0
    ljmp $0x08, $AT(ap_long)

    .code64
ap_long:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov AT(ap_cr3), %rax
    mov %rax, %cr3
    mov AT(ap_stack), %rsp
    mov AT(ap_cpu), %edi
    mov AT(ap_entry), %rax
    call *%rax
1:  hlt
    jmp 1b

    .align 16
ap_gdt_ptr:
    .word 5 * 8 - 1
ap_gdt_base:
    .long 0                       /* filled: the kernel's gdt64 */
    .align 8
ap_boot_cr3: .quad 0
ap_cr3:      .quad 0
ap_stack:    .quad 0
ap_cpu:      .quad 0
ap_entry:    .quad 0
ap_trampoline_end:

    .section .note.GNU-stack, "", @progbits
