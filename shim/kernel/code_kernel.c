/* code_kernel.c: executable memory in the kernel for code loaded at run time: pages taken in
 * order from a fixed region in the image's bss (all kernel memory is mapped executable and
 * writable, so sealing only checks the range). */
#include <stdint.h>

#include "core/base/error.h"
#include "shim/platform.h"

#define PAGE 4096u
/* Room for a cache's compiled kernels: a few KB each. */
#define CODE_REGION_BYTES (2u << 20)

static uint8_t region[CODE_REGION_BYTES] __attribute__((aligned(PAGE)));
static size_t used;

void *platform_code_alloc(size_t bytes)
{
	size_t n = (bytes + PAGE - 1) & ~(size_t)(PAGE - 1);
	if (bytes == 0 || n < bytes || n > CODE_REGION_BYTES - used) {
		error_set("code memory: %zu bytes requested, %zu of %u left", bytes,
			  CODE_REGION_BYTES - used, CODE_REGION_BYTES);
		return NULL;
	}
	uint8_t *p = region + used;
	used += n;
	for (size_t i = 0; i < n; i++)
		p[i] = 0;
	return p;
}

int platform_code_seal(void *code, size_t bytes)
{
	uint8_t *p = code;
	if (p < region || p > region + used || bytes > (size_t)(region + used - p))
		return error_set("code memory: seal of a range it did not hand out");
	return 0;
}

int platform_code_target(void)
{
	return 1;
}
