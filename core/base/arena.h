/* arena.h: the one fixed region every allocation of core comes from.
 * Each platform hands its region to arena_init at start-up. Aligned bump allocation, never
 * freed piecemeal; mark/reset rewinds it. In the SAN=1 (ASan) build the space not handed
 * out is poisoned and each allocation is followed by a poisoned redzone, so that reads past
 * an allocation are reported as they are for malloc. */
#ifndef ARENA_H
#define ARENA_H

#include <stddef.h>

void arena_init(void *base, size_t size);
/* size bytes aligned to align (a power of 2), or NULL when the arena is exhausted, with
 * error_message() (core/base/error.h) saying what was asked (what, size) and what was left.
 * Bytes handed out for the first time have their pages populated (plat_memory_populate). */
void *arena_alloc(size_t size, size_t align, const char *what);
/* The same with the pages left to come in as they are first written (and populated by the
 * caller as it goes): for memory sized for a whole context and used from its start. */
void *arena_alloc_lazy(size_t size, size_t align, const char *what);
/* The design card's allocator: an untyped block of size bytes, 64-byte aligned (a cache
 * line, and any vector load), or NULL with the error set; callers name what failed. */
void *malloc_simple(size_t size);
size_t arena_mark(void);
/* Rewinds to a mark: everything allocated after it is given back. */
void arena_reset(size_t mark);
size_t arena_used(void);
size_t arena_capacity(void);

#endif
