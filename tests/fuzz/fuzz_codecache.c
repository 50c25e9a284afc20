/* fuzz_codecache.c: libFuzzer target for code cache bytes (core/codecache): codecache_open on
 * the input as it is; then on a copy whose checksum is made right (so mutations get past it)
 * every entry's key match and ELF load, within one cache's memory budget; and the input itself
 * as one ELF object. Loaded code is placed (fuzz_platform.c hands out heap pages and aborts when
 * more than the budget is held at once) but never run. */
#include <stdlib.h>
#include <string.h>

#include "core/codecache/codecache.h"
#include "fuzz.h"
#include "shim/platform.h"

/* Stands in for a slot's entry: the loader only takes its address. */
static void fallback(void)
{
}

/* Loads obj within budget (what the cache's earlier entries left, as codecache_apply keeps
 * it); returns the bytes it took, 0 when refused. */
static size_t load(const uint8_t *obj, size_t size, size_t budget)
{
	KernelFn entry;
	size_t bytes;
	if (codecache_load_object(obj, size, fallback, budget, &entry, &bytes) < 0)
		return 0;
	if (!entry || bytes > budget)
		abort(); /* a load that succeeds names tl_entry, within its budget */
	return bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t mark = fuzz_begin();
	CodeCacheImage img;
	codecache_open(&img, data, size);
	fuzz_end(mark);

	if (size >= CODECACHE_HEADER_BYTES) {
		mark = fuzz_begin();
		uint8_t *copy = malloc(size);
		memcpy(copy, data, size);
		codecache_put_checksum(copy, size);
		CodeCacheMachine here;
		codecache_machine_this(&here, CODECACHE_TARGET_HOST);
		size_t budget = CODECACHE_MAX_LOAD_BYTES;
		if (codecache_open(&img, copy, size) == 0)
			for (uint32_t i = 0; i < img.count; i++) {
				CodeCacheEntry e;
				char why[256];
				codecache_entry(&img, i, &e);
				codecache_key_matches(&e.key, &here, why, sizeof why);
				budget -= load(e.object, e.object_size, budget);
			}
		free(copy);
		fuzz_code_reset();
		fuzz_end(mark);
	}

	mark = fuzz_begin();
	load(data, size, CODECACHE_MAX_LOAD_BYTES);
	fuzz_code_reset();
	fuzz_end(mark);
	return 0;
}
