/* trapvec.S: entry stubs for exceptions 0-31: push a uniform frame, call trap_report.
 * They run on the TSS IST stacks (see gdt.c), so a kernel stack overflow is reported too.
 * Also the two interrupts an idle CPU can take inside its hlt: the wake-up IPI and the APIC's
 * spurious vector. */

	.text
	.code64
.macro TRAPSTUB n
	.align 16
trap_stub_\n:
	.if \n != 8 && (\n < 10 || \n > 14) && \n != 17 && \n != 21 && \n != 29 && \n != 30
	pushq $0                     /* the CPU pushes no error code here: keep the frame uniform */
	.endif
	pushq $\n
	jmp trap_common
.endm

.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	TRAPSTUB \n
.endr

/* struct trapframe (trap.c): r15 .. rax, vector, error, rip, cs, rflags, rsp, ss. */
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	andq $-16, %rsp
	call trap_report             /* never returns */
1:	cli
	hlt
	jmp 1b

/* The wake-up IPI: nothing to do but acknowledge it (the hlt it ended was the point). The
 * caller-saved registers are saved around the C call; the CPU aligned the stack to 16 before
 * its 5 pushes, and 9 more make it 16-aligned again. */
	.globl wake_stub
wake_stub:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	call lapic_eoi
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	iretq

/* A spurious interrupt (the APIC's, or the masked 8259s' IRQ 7 and 15) takes no end-of-interrupt. */
	.globl spurious_stub
spurious_stub:
	iretq

.macro TRAPADDR n
	.quad trap_stub_\n
.endm

	.section .rodata
	.align 8
	.globl trap_stubs
trap_stubs:
.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	TRAPADDR \n
.endr

	.section .note.GNU-stack, "", @progbits
