/* code_kernel.c: shim/platform.h's executable memory on bare metal: whole pages of the code
 * area (kernel/code_area.c, carved from the boot memory map when a code cache module was
 * loaded), writable and NX until sealed read+execute. */
#include <stdint.h>

#include "core/base/error.h"
#include "kernel/kernel.h"
#include "shim/platform.h"

void *platform_code_alloc(size_t bytes)
{
	uint8_t *p = code_area_alloc(bytes);
	if (!p) {
		error_set("code memory: %zu bytes requested: %s", bytes,
			  code_area_ready() ? "the code area (CODE_AREA_KIB) is full"
					    : "no code area (it is made for a code cache module)");
		return NULL;
	}
	size_t pages = (bytes + 4095) & ~(size_t)4095; /* whole pages, as they are handed out */
	for (size_t i = 0; i < pages; i++)
		p[i] = 0;
	return p;
}

int platform_code_seal(void *code, size_t bytes)
{
	if (code_area_seal(code, bytes) < 0)
		return error_set("code memory: cannot seal %zu bytes at %p: outside what was "
				 "handed out, or no page tables left",
				 bytes, code);
	return 0;
}

void platform_code_free(void *code, size_t bytes)
{
	code_area_free(code, bytes);
}

int platform_code_target(void)
{
	return 1; /* CODECACHE_TARGET_KERNEL */
}
