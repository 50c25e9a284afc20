/* code_host.c: executable memory on Linux for code loaded at run time: mapped writable, then
 * made read+execute (never both at once); unmapped again when the loader refuses an object. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "core/base/error.h"
#include "shim/platform.h"

#define PAGE 4096u

void *platform_code_alloc(size_t bytes)
{
	if (bytes == 0 || bytes > SIZE_MAX - PAGE)
		return error_set("code memory: %zu bytes requested", bytes), NULL;
	/* Below 2 GB first, so that objects built for the small code model (absolute 32-bit
	 * addresses) load too; anywhere else when that area is full. */
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		       -1, 0);
	if (p == MAP_FAILED)
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return error_set("code memory: mmap of %zu bytes: %s", bytes, strerror(errno)),
		       NULL;
	return p;
}

int platform_code_seal(void *code, size_t bytes)
{
	size_t n = (bytes + PAGE - 1) & ~(size_t)(PAGE - 1);
	if (mprotect(code, n, PROT_READ | PROT_EXEC) < 0)
		return error_set("code memory: mprotect: %s", strerror(errno));
	return 0;
}

void platform_code_free(void *code, size_t bytes)
{
	munmap(code, bytes); /* whole pages from mmap: cannot fail on what mmap gave */
}

int platform_code_target(void)
{
	return 0;
}
