/* arena.c: the bump allocator over the one region each platform hands to arena_init.
 * Shared by both targets: it needs nothing but that region and the log stream. */
#include <stdint.h>

#include "core/base/fmt.h"
#include "shim/platform.h"

static uint8_t *arena_base;
static size_t arena_size, arena_top;

void arena_init(void *base, size_t size)
{
	arena_base = base;
	arena_size = size;
	arena_top = 0;
}

void *arena_alloc(size_t size, size_t align, const char *what)
{
	uintptr_t base = (uintptr_t)arena_base;
	size_t start = (size_t)(((base + arena_top + align - 1) & ~(uintptr_t)(align - 1)) - base);
	if (start > arena_size || size > arena_size - start) {
		log_printf("arena exhausted: %s needs %zu bytes, %zu of %zu are left\n",
			   what ? what : "a request", size,
			   arena_size > arena_top ? arena_size - arena_top : (size_t)0, arena_size);
		return NULL;
	}
	arena_top = start + size;
	return arena_base + start;
}

void *malloc_simple(size_t size)
{
	return arena_alloc(size, 64, "malloc_simple");
}

size_t arena_mark(void)
{
	return arena_top;
}

void arena_reset(size_t mark)
{
	if (mark <= arena_top)
		arena_top = mark;
}

size_t arena_used(void)
{
	return arena_top;
}

size_t arena_capacity(void)
{
	return arena_size;
}
