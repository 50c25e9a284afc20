/* tier_cache.c: kept entries to code cache entries and the file (tier_cache.h). */
#include "jit/tier_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codecache/codecache.h"
#include "jit/cache_writer.h"

#define MAX_ENTRIES 64

static CodeCacheEntryIn entries[MAX_ENTRIES];
static int count;

/* The CPUID bits kernel-target code needs (jit_kernel_features): leaf 1 ECX SSE3 (0), SSSE3
 * (9), SSE4.1 (19), SSE4.2 (20), POPCNT (23), AVX (28), F16C (29); leaf 1 EDX SSE (25), SSE2
 * (26); leaf 7 EBX AVX2 (5). XCR0: x87, SSE and AVX state. */
static const uint32_t kernel_features[CODECACHE_FEATURE_WORDS] = {
    1u << 0 | 1u << 9 | 1u << 19 | 1u << 20 | 1u << 23 | 1u << 28 | 1u << 29, 1u << 25 | 1u << 26,
    1u << 5, 0, 0};
#define KERNEL_XCR0 0x7u

int tier_cache_add(const char *slot, const char *dtype, int cols, const JitSpec *spec, int isa,
		   const JitEntry *e)
{
	if (count == MAX_ENTRIES || !e->obj) {
		fprintf(stderr, "jit: %s not cached: %s\n", slot,
			e->obj ? "too many entries" : "no object");
		return -1;
	}
	CodeCacheEntryIn *in = &entries[count];
	CodeCacheKey *k = &in->key;
	memset(k, 0, sizeof *k);
	snprintf(k->slot, sizeof k->slot, "%s", slot);
	snprintf(k->dtype, sizeof k->dtype, "%s", dtype);
	k->cols = (uint32_t)cols; /* rows, tokens, head size: any (the entry checks its shape) */
	k->knobs[0] = spec->knobs;
	k->knobs[1] = (uint32_t)isa;
	k->knobs[2] = spec->has_tail; /* the kernel's own knob, and its value */
	k->knobs[3] = spec->has_tail ? (uint32_t)spec->tail : 0;
	bool host = spec->target == JIT_TARGET_HOST;
	k->target = host ? CODECACHE_TARGET_HOST : CODECACHE_TARGET_KERNEL;
	CodeCacheMachine here;
	codecache_machine_this(&here, k->target);
	if (host) { /* compiled for every feature of this CPU */
		memcpy(k->vendor, here.vendor, sizeof k->vendor);
		k->family = here.family;
		k->model = here.model;
		memcpy(k->features, here.features, sizeof k->features);
		k->xcr0 = here.xcr0;
	} else {
		memcpy(k->features, kernel_features, sizeof k->features);
		k->xcr0 = KERNEL_XCR0;
	}
	k->bitcode_hash = here.bitcode_hash;
	k->build_id = here.build_id;
	memcpy(k->compiler, here.compiler, sizeof k->compiler);
	void *obj = malloc(e->obj_size);
	if (!obj) {
		fprintf(stderr, "jit: %s not cached: out of memory\n", slot);
		return -1;
	}
	memcpy(obj, e->obj, e->obj_size);
	in->object = obj;
	in->object_size = e->obj_size;
	count++;
	return 0;
}

/* Whether the file's entry old is replaced by one of this run's: same slot, dtype, shapes,
 * target and CPU. */
static bool superseded(const CodeCacheKey *old)
{
	for (int i = 0; i < count; i++) {
		const CodeCacheKey *k = &entries[i].key;
		if (!strcmp(k->slot, old->slot) && !strcmp(k->dtype, old->dtype) &&
		    k->rows == old->rows && k->cols == old->cols && k->tokens == old->tokens &&
		    k->head_size == old->head_size && k->target == old->target &&
		    !strcmp(k->vendor, old->vendor) && k->family == old->family &&
		    k->model == old->model)
			return true;
	}
	return false;
}

/* Reads path whole into *data (NULL when it is absent or unreadable: nothing to keep). */
static size_t read_file(const char *path, uint8_t **data)
{
	*data = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t cap = 0, n = 0;
	uint8_t *buf = NULL;
	for (;;) {
		if (n == cap) {
			uint8_t *grown = realloc(buf, cap ? cap * 2 : 65536);
			if (!grown)
				break;
			buf = grown;
			cap = cap ? cap * 2 : 65536;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	bool ok = !ferror(f) && n < cap;
	fclose(f);
	if (!ok) {
		free(buf);
		return 0;
	}
	*data = buf;
	return n;
}

int tier_cache_write(const char *path)
{
	if (count == 0) { /* keeps what the file holds (this run loaded it, or had nothing) */
		fprintf(stderr, "jit: code cache %s left as it was: no new entries\n", path);
		return 0;
	}
	/* The file's entries of this build that this run did not replace stay in it: the
	 * entries this run loaded (not compiled again), the kernel's, other CPUs'. */
	int fresh = count, kept = 0;
	uint8_t *old = NULL;
	size_t old_size = read_file(path, &old);
	CodeCacheImage img;
	if (old && codecache_open(&img, old, old_size) == 0) {
		uint64_t build = codecache_build_id();
		for (uint32_t i = 0; i < img.count && count < MAX_ENTRIES; i++) {
			CodeCacheEntry e;
			codecache_entry(&img, i, &e);
			if (e.key.build_id != build || superseded(&e.key))
				continue;
			entries[count].key = e.key;
			entries[count].object = e.object; /* in old, freed after the write */
			entries[count].object_size = e.object_size;
			count++;
			kept++;
		}
	}
	char err[256];
	int r = code_cache_write(path, entries, count, err, sizeof err);
	if (r < 0)
		fprintf(stderr, "jit: code cache %s not written: %s\n", path, err);
	else
		fprintf(stderr, "jit: code cache %s: %d entries written (%d kept from the file)\n",
			path, count, kept);
	for (int i = 0; i < fresh; i++)
		free((void *)entries[i].object);
	free(old);
	count = 0;
	return r;
}
