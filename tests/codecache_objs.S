/* codecache_objs.S: the code cache tests' ELF objects (compiled from tests/codecache/ by the
 * Makefile), embedded as bytes; each path comes in as a -D string. */
	.section .rodata
	.balign 16
	.globl cc_obj_nopic, cc_obj_nopic_end
cc_obj_nopic:
	.incbin OBJ_NOPIC
cc_obj_nopic_end:
	.balign 16
	.globl cc_obj_pic, cc_obj_pic_end
cc_obj_pic:
	.incbin OBJ_PIC
cc_obj_pic_end:
	.balign 16
	.globl cc_obj_undef, cc_obj_undef_end
cc_obj_undef:
	.incbin OBJ_UNDEF
cc_obj_undef_end:
	.section .note.GNU-stack,"",@progbits
