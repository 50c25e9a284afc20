/* kernels_bc.S: the kernel families' bitcode (made at build time, see the Makefile), embedded
 * as jit_kernels_bc[] .. jit_kernels_bc_end for the tier-up to specialise. */
	.section .rodata
	.balign 16
	.globl jit_kernels_bc
	.globl jit_kernels_bc_end
jit_kernels_bc:
	.incbin KERNELS_BC
jit_kernels_bc_end:
	.byte 0
	.section .note.GNU-stack, "", @progbits
