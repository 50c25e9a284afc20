/* arena.c: the bump allocator over the one region each platform hands to arena_init.
 * Shared by both targets: it needs nothing but that region, the platform's page populating
 * (and, under ASan, the sanitizer's manual poisoning interface). */
#include "core/base/arena.h"

#include <stdbool.h>
#include <stdint.h>

#include "core/base/error.h"
#include "shim/platform.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan's manual poisoning interface (sanitizer/asan_interface.h), declared here so that
 * core needs no libc header. */
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define ARENA_POISON(p, n) __asan_poison_memory_region((p), (n))
#define ARENA_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
/* Poisoned bytes after each allocation; ASan tracks 8-byte granules, so allocations start
 * 8-aligned at least. */
#define ARENA_REDZONE 64
#define ARENA_MIN_ALIGN 8
#else
#define ARENA_POISON(p, n) ((void)(p), (void)(n))
#define ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#define ARENA_REDZONE 0
#define ARENA_MIN_ALIGN 1
#endif

static uint8_t *arena_base;
/* arena_high: the highest top so far; under ASan everything from top to high is poisoned
 * (the bytes past high have never been handed out and are not touched, so that a reserved
 * but unused region costs no shadow memory). */
static size_t arena_size, arena_top, arena_high;

void arena_init(void *base, size_t size)
{
	arena_base = base;
	arena_size = size;
	arena_top = 0;
	arena_high = 0;
}

/* A populated page costs ~0.6 us on the EPYC VM, a page faulted in by its first write ~10 us:
 * the run state's zeroed buffers alone (10 MB for TinyLlama's prompt batches) took 2600 faults
 * at load. */
static void *alloc(size_t size, size_t align, const char *what, bool populate)
{
	if (align < ARENA_MIN_ALIGN)
		align = ARENA_MIN_ALIGN;
	uintptr_t base = (uintptr_t)arena_base;
	size_t start = (size_t)(((base + arena_top + align - 1) & ~(uintptr_t)(align - 1)) - base);
	size_t room = start < arena_size ? arena_size - start : 0;
	if (size > room || size + ARENA_REDZONE > room) {
		error_set("arena exhausted: %s needs %zu bytes, %zu of %zu are left",
			  what ? what : "a request", size,
			  arena_size > arena_top ? arena_size - arena_top : (size_t)0, arena_size);
		return NULL;
	}
	size_t end = start + size + ARENA_REDZONE;
	if (end > arena_high) {
		/* the bytes below high were handed out before (under ASan high may be in the
		 * redzone past this block) */
		size_t from = start > arena_high ? start : arena_high;
		if (populate && start + size > from)
			plat_memory_populate(arena_base + from, start + size - from);
		ARENA_POISON(arena_base + arena_high, end - arena_high);
		arena_high = end;
	}
	ARENA_UNPOISON(arena_base + start, size);
	arena_top = end;
	return arena_base + start;
}

void *arena_alloc(size_t size, size_t align, const char *what)
{
	return alloc(size, align, what, true);
}

void *arena_alloc_lazy(size_t size, size_t align, const char *what)
{
	return alloc(size, align, what, false);
}

void *malloc_simple(size_t size)
{
	return arena_alloc(size, 64, "an untyped block (malloc_simple)");
}

size_t arena_mark(void)
{
	return arena_top;
}

void arena_reset(size_t mark)
{
	if (mark <= arena_top) {
		ARENA_POISON(arena_base + mark, arena_top - mark);
		arena_top = mark;
	}
}

size_t arena_used(void)
{
	return arena_top;
}

size_t arena_capacity(void)
{
	return arena_size;
}
