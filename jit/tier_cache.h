/* tier_cache.h: the tier-up's kept entries as code cache entries (key per
 * core/codecache/codecache.h), written with jit/cache_writer at the end of the tier-up. */
#ifndef TIER_CACHE_H
#define TIER_CACHE_H

#include "jit/jit_engine.h"

/* Files a copy of e's object for slot (weights dtype, row width cols), compiled from spec with
 * the source kernel of ISA index isa; 0, or -1 (printed) when out of room or memory. */
int tier_cache_add(const char *slot, const char *dtype, int cols, const JitSpec *spec, int isa,
		   const JitEntry *e);
/* Writes every filed entry to path (one "jit:" line: written, or why not) and forgets them;
 * with none filed the file is left as it is;
 * 0 or -1. */
int tier_cache_write(const char *path);

#endif
