/* entry.S: Multiboot 1 header and the 32-bit entry that switches to long mode and calls kmain.
 *
 * Why Multiboot 1: QEMU's -kernel loads it directly (no bootloader, no disk image), passes
 * the command line (-append) and the model file as a module (-initrd), and reports the
 * memory map. QEMU refuses ELF64 multiboot images, so the header sets the address fields
 * (flag 16, the "a.out kludge"): QEMU then loads the file by those addresses and the same
 * ELF64 file keeps its symbols for gdb.
 *
 * The loader enters start32 in 32-bit protected mode, paging off, eax = 0x2BADB002,
 * ebx = multiboot info. start32 clears the BSS, identity-maps the first 4 GiB with 2 MiB
 * pages (enough for the kernel, the modules and the boot info), enables PAE + long mode +
 * paging and jumps to 64-bit code, which calls kmain(magic, info) on the kernel stack.
 * vm.c later replaces these tables with the full map and the stack guard page. */
#include "kernel/gdt.h"
#include "kernel/memlayout.h"
#include "kernel/multiboot.h"
#include "kernel/param.h"

#define MB_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* page-aligned modules, memory map, address fields */

#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_HEADER_MAGIC
	.long MB_FLAGS
	.long -(MB_HEADER_MAGIC + MB_FLAGS)
	.long mb_header          /* header_addr */
	.long __kernel_start     /* load_addr */
	.long __load_end         /* load_end_addr */
	.long __bss_end          /* bss_end_addr */
	.long start32            /* entry_addr */

	.text
	.code32
	.globl start32
start32:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_info

	/* Long mode present? (CPUID 0x80000001 EDX bit 29) */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* Enough RAM for the image, its BSS and the smallest arena? (mem_upper: KiB above 1 MiB) */
	movl boot_info, %ebx         /* cpuid clobbered ebx */
	testl $MB_INFO_MEM, (%ebx)
	jz 1f
	movl 8(%ebx), %eax
	shrl $10, %eax
	addl $1, %eax                /* RAM end in MiB, rounded down */
	movl $__bss_end, %ecx
	addl $0xfffff, %ecx
	shrl $20, %ecx
	addl $ARENA_MIN_MIB, %ecx    /* the image's end in MiB, rounded up, and the arena */
	cmpl %ecx, %eax
	jb no_memory

	/* Clear the BSS (page tables and stack live there). */
1:
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	/* PML4[0] -> PDPT; PDPT[0..3] -> 4 page directories of 2 MiB pages = 4 GiB. */
	movl $early_pdpt, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, early_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $early_pd, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, early_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, early_pd(, %ecx, 8)
	movl %ecx, %edx
	shrl $11, %edx           /* bits 32+ of the 2 MiB frame address */
	movl %edx, early_pd + 4(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $early_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PE | CR0_PG), %eax
	movl %eax, %cr0
	lgdt boot_gdt_ptr
	ljmp $SEG_KCODE, $start64

	/* No long mode: say so on COM2 and leave through isa-debug-exit. */
no_long_mode:
	movl $no_lm_msg, %esi
3:	movb (%esi), %al
	testb %al, %al
	jz 4f
	movw $COM2_PORT, %dx
	outb %al, %dx
	incl %esi
	jmp 3b
4:	movw $DEBUG_EXIT_PORT, %dx
	movl $(FAULT_STATUS + 1), %eax
	outl %eax, %dx
5:	hlt
	jmp 5b

	/* Too little RAM: "error: not enough memory: N MiB, need M MiB" on COM2, status 1. */
no_memory:
	movl %eax, %ebx
	movl %ecx, %ebp
	movl $no_mem_msg, %esi
	call com2_puts
	movl %ebx, %eax
	call com2_putu
	movl $no_mem_need, %esi
	call com2_puts
	movl %ebp, %eax
	call com2_putu
	movl $no_mem_end, %esi
	call com2_puts
	movw $DEBUG_EXIT_PORT, %dx
	movl $2, %eax                /* status 1 (see power.c) */
	outl %eax, %dx
7:	hlt
	jmp 7b

/* Writes the NUL-terminated string at esi to COM2 (clobbers eax, edx, esi). */
com2_puts:
	movw $COM2_PORT, %dx
8:	movb (%esi), %al
	testb %al, %al
	jz 9f
	outb %al, %dx
	incl %esi
	jmp 8b
9:	ret

/* Writes eax in decimal to COM2 (clobbers eax, ecx, edx, edi). */
com2_putu:
	movl $10, %ecx
	movl $numbuf_end, %edi
10:	xorl %edx, %edx
	divl %ecx
	addb $'0', %dl
	decl %edi
	movb %dl, (%edi)
	testl %eax, %eax
	jnz 10b
	movl %edi, %esi
	jmp com2_puts

	.code64
start64:
	movw $SEG_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $kstack_top, %rsp
	xorl %ebp, %ebp
	movl boot_magic(%rip), %edi
	movl boot_info(%rip), %esi
	call kmain
6:	cli
	hlt
	jmp 6b

	.section .rodata
	.align 8
	.globl boot_gdt_ptr          /* apboot.S's copy loads the same GDT */
boot_gdt:
	.quad 0                      /* null */
	.quad 0x00af9a000000ffff     /* SEG_KCODE: 64-bit code, ring 0 */
	.quad 0x00cf92000000ffff     /* SEG_KDATA: data, ring 0 */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt
no_lm_msg:
	.asciz "kernel: this CPU has no long mode (x86-64)\n"
no_mem_msg:
	.asciz "error: not enough memory: "
no_mem_need:
	.asciz " MiB, need "
no_mem_end:
	.asciz " MiB\n"

	.data
	.align 4
boot_magic:
	.long 0
boot_info:
	.long 0
numbuf:
	.skip 11
numbuf_end:
	.byte 0

	.section .bss
	.align 4096
early_pml4:
	.skip 4096
early_pdpt:
	.skip 4096
early_pd:
	.skip 4 * 4096
	.globl kstack_guard, kstack_top
kstack_guard:                    /* left unmapped by vm.c: an overflow faults here */
	.skip 4096
kstack:
	.skip KSTACK_SIZE
kstack_top:

	.section .note.GNU-stack, "", @progbits
