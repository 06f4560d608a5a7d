/* SPDX-License-Identifier: MIT
 *
 * DOC: the x86_64 demo kernel's entry - Multiboot 1 to long mode.
 *
 * QEMU's multiboot loader enters _start in 32-bit protected mode with
 * EAX = 0x2BADB002 and EBX = the multiboot information. This sets up only a
 * limited early mapping - the first 1 GiB with 2 MiB pages, both identity
 * (where the kernel runs) and at the direct-map base 0xffff888000000000
 * (where kmem reaches physical memory: phys_to_virt is the same before and
 * after the real tables are built) - plus an empty page directory for
 * early_map() (kernel/x86_64/platform.cpp), turns on PAE, long mode, NX and
 * SSE, and calls kmain(magic, info) on the boot stack.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory information */

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .bss
    .align 4096
    .globl boot_pml4, boot_pd_fixmap
boot_pml4:      .skip 4096
boot_pdpt:      .skip 4096
boot_pd:        .skip 4096
boot_pd_fixmap: .skip 4096   /* PDPT[1]: VA 1-2 GiB, filled by early_map() */
    .align 16
boot_stack:     .skip 262144
boot_stack_top:

    .section .data
    .align 16
    .globl gdt64, gdt64_ptr
gdt64:
    .quad 0                       /* null */
    .quad 0x00209A0000000000      /* 0x08: 64-bit code */
    .quad 0x0000920000000000      /* 0x10: data */
    .quad 0x00CF9A000000FFFF      /* 0x18: 32-bit code (AP trampoline) */
    .quad 0x00CF92000000FFFF      /* 0x20: 32-bit data (AP trampoline) */
gdt64_end:
gdt64_ptr:
    .word gdt64_end - gdt64 - 1
    .quad gdt64

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov $boot_stack_top, %esp
    mov %eax, %edi                /* kept for kmain */
    mov %ebx, %esi

    /* 512 x 2 MiB: the first 1 GiB. */
    mov $boot_pd, %edx
    mov $0x83, %eax               /* present | writable | 2 MiB */
    mov $512, %ecx
1:  mov %eax, (%edx)
    movl $0, 4(%edx)
    add $0x200000, %eax
    add $8, %edx
    loop 1b
    mov $boot_pd, %eax
    or $3, %eax
    mov %eax, boot_pdpt
    mov $boot_pd_fixmap, %eax
    or $3, %eax
    mov %eax, boot_pdpt + 8
    mov $boot_pdpt, %eax
    or $3, %eax
    mov %eax, boot_pml4           /* identity */
    mov %eax, boot_pml4 + 273 * 8 /* 0xffff888000000000: the direct map */

    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax  /* PAE, OSFXSR, OSXMMEXCPT */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx         /* EFER */
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax  /* LME, NXE */
    wrmsr
    mov %cr0, %eax
    and $~(1 << 2), %eax          /* EM off */
    or $((1 << 31) | (1 << 1)), %eax  /* PG, MP */
    mov %eax, %cr0
    lgdt gdt64_ptr
    ljmp $0x08, $long_mode

    .code64
long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    call kmain                    /* edi = magic, esi = info */
2:  hlt
    jmp 2b

    .section .note.GNU-stack, "", @progbits
