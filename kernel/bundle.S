/* bundle.S: a model file and a code cache carried inside the kernel image (make image
 * MODEL=... CODE_CACHE=...: one bootable file); mem.c takes them as the boot modules when
 * the loader passed none, and puts bundle_args (the options naming them) before the command
 * line. Assembled with BUNDLE_MODEL_PATH and/or BUNDLE_CACHE_PATH (quoted paths). */
	.section .rodata.bundle, "a"
	.balign 4096
	.globl bundle_model, bundle_model_end, bundle_cache, bundle_cache_end, bundle_args
bundle_model:
#ifdef BUNDLE_MODEL_PATH
	.incbin BUNDLE_MODEL_PATH
#endif
bundle_model_end:
	.balign 4096
bundle_cache:
#ifdef BUNDLE_CACHE_PATH
	.incbin BUNDLE_CACHE_PATH
#endif
bundle_cache_end:
bundle_args:
#ifdef BUNDLE_MODEL_PATH
	.ascii "-m bundled-model "
#endif
#ifdef BUNDLE_CACHE_PATH
	.ascii "--code-cache bundled-code-cache"
#endif
	.byte 0
	.section .note.GNU-stack, "", @progbits
