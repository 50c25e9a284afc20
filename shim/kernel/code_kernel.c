/* code_kernel.c: executable memory in the kernel for code loaded at run time: whole pages of
 * the code area (kernel/code_area.c), zeroed here, sealed read+execute by the page tables. */
#include <stdint.h>

#include "core/base/error.h"
#include "kernel/kernel.h"
#include "shim/platform.h"

void *platform_code_alloc(size_t bytes)
{
	uint8_t *p = code_area_alloc(bytes);
	if (!p) {
		error_set("code memory: no room for %zu bytes in the code area (it exists only "
			  "when a code cache module was loaded)",
			  bytes);
		return NULL;
	}
	size_t n = (bytes + 4095) & ~(size_t)4095;
	for (size_t i = 0; i < n; i++)
		p[i] = 0;
	return p;
}

int platform_code_seal(void *code, size_t bytes)
{
	if (code_area_seal(code, bytes) < 0)
		return error_set("code memory: sealing %zu bytes failed", bytes);
	return 0;
}

int platform_code_target(void)
{
	return 1;
}
