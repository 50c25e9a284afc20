/* apboot.S: how another CPU (an application processor) gets from its startup IPI to C.
 *
 * ap_tramp_start..ap_tramp_end is copied by smp.c to a free page below 1 MiB; a startup IPI
 * with that page's number starts the CPU there in real mode (CS = page << 8, IP = 0). It loads
 * the boot GDT, turns on PAE, the kernel's page tables, long mode and paging in one step (real
 * mode straight to long mode) and jumps to ap_start64 in the kernel image, which takes the
 * stack smp.c set aside for this CPU and calls ap_main. smp.c fills in the two data fields of
 * the copy: the GDT pointer and CR3 (both below 4 GiB). */
#include "kernel/gdt.h"

#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)

	.section .rodata
	.code16
	.globl ap_tramp_start, ap_tramp_end, ap_tramp_gdtr, ap_tramp_cr3
ap_tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl ap_tramp_gdtr - ap_tramp_start
	movl $CR4_PAE, %eax
	movl %eax, %cr4
	movl ap_tramp_cr3 - ap_tramp_start, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl $(CR0_PE | CR0_PG), %eax /* also clears CD and NW, which INIT sets */
	movl %eax, %cr0
	ljmpl $SEG_KCODE, $ap_start64
	.align 8
ap_tramp_gdtr:                   /* limit, then base */
	.word 0
	.long 0
	.align 4
ap_tramp_cr3:
	.long 0
ap_tramp_end:

	.text
	.code64
ap_start64:
	movw $SEG_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq ap_boot_rsp(%rip), %rsp
	xorl %ebp, %ebp
	call ap_main                 /* never returns */
1:	cli
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
