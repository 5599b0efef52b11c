/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migdev-guest: multiboot (v1) entry, GDT, and the interrupt stubs.
 *
 * QEMU's -kernel loads this ELF32 image and enters _start in 32-bit
 * protected mode, paging off, interrupts off, with EBX pointing to the
 * multiboot information.  We load our own flat GDT (the loader's is not to
 * be relied on), clear .bss, set a stack and call guest_main().
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00000003	/* page-aligned modules, memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .rodata
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, flat 4 GiB */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat 4 GiB */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.text
	.globl _start
_start:
	cli
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $stack_top, %esp
	movl %ebx, %esi
	/* clear .bss */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	cld
	rep stosb
	pushl %esi
	call guest_main
2:	cli
	hlt
	jmp 2b

/*
 * One stub per vector: push a dummy error code where the CPU pushes none,
 * push the vector, and go to the common path, which calls
 * guest_interrupt(vector, error code) with the registers saved.
 */
	.align 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushl $0
	.endif
	pushl $vec
	jmp common_stub
	.set vec, vec + 1
	.endr

common_stub:
	pushal
	cld
	pushl 36(%esp)		/* error code */
	pushl 36(%esp)		/* vector (moved up by the push above) */
	call guest_interrupt
	addl $8, %esp
	popal
	addl $8, %esp		/* vector and error code */
	iret

	.bss
	.align 16
stack:
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
