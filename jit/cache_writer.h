/* cache_writer.h: writes a code cache file (core/codecache/README.md) from compiled entries,
 * under a temporary name renamed onto the path only when complete. Host code, no LLVM. */
#ifndef CACHE_WRITER_H
#define CACHE_WRITER_H

#include <stddef.h>

#include "core/codecache/codecache.h"

/* One entry to write: its key (build_id is usually codecache_build_id(), the CPU fields from
 * codecache_machine_this) and its ELF64 x86-64 relocatable object defining tl_entry. */
typedef struct {
	CodeCacheKey key;
	const void *object;
	size_t object_size;
} CodeCacheEntryIn;

/* Writes count entries to path (replacing it atomically: readers see the old file or the
 * whole new one, never a part). 0, or -1 with a one-line reason in err (errlen bytes). */
int code_cache_write(const char *path, const CodeCacheEntryIn *entries, int count, char *err,
		     size_t errlen);

#endif
