/* codecache.c: applies a code cache image to the kernel registry: each entry checked against
 * this machine, build and model, loaded, and put in its slot, with one log line per entry. */
#include "core/codecache/codecache.h"

#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/base/str.h"
#include "core/io/console.h"
#include "shim/platform.h"

#define LOG_PREFIX "code-cache: "

static int slot_index(const char *name)
{
	for (int i = 0; i < kernels_slot_count(); i++)
		if (str_eq(kernels_slot_name(i), name))
			return i;
	return -1;
}

/* "dot_q8_0 Q8_0 256x64" (or "cols 64" alone): the slot, the weight type, and the shapes the
 * entry is specialised on. */
static void describe(const CodeCacheKey *k, char *buf, size_t cap)
{
	size_t n = fmt_format(buf, cap, "%s %s", k->slot, k->dtype[0] ? k->dtype : "-");
	if (k->rows && k->cols && n < cap)
		n += fmt_format(buf + n, cap - n, " %ux%u", k->rows, k->cols);
	else if ((k->rows || k->cols) && n < cap) /* one of them: say which */
		n += fmt_format(buf + n, cap - n, k->rows ? " rows %u" : " cols %u",
				k->rows ? k->rows : k->cols);
	if (k->tokens && n < cap)
		n += fmt_format(buf + n, cap - n, " tokens %u", k->tokens);
	if (k->head_size && n < cap)
		fmt_format(buf + n, cap - n, " head %u", k->head_size);
}

static uint64_t cycles_to_us(uint64_t cycles)
{
	uint64_t hz = plat_cycles_hz();
	return hz ? cycles * 1000000u / hz : 0;
}

/* Loads entry e into its slot; 0, or -1 with the reason in why. */
static int apply_entry(const CodeCacheEntry *e, const CodeCacheMachine *m, CodeCacheUsesFn uses,
		       const void *ctx, size_t budget, char *why, size_t cap, size_t *bytes)
{
	int slot = slot_index(e->key.slot);
	if (slot < 0)
		return fmt_format(why, cap, "no registry slot has that name"), -1;
	if (!codecache_key_matches(&e->key, m, why, cap))
		return -1;
	if (uses && !uses(ctx, &e->key))
		return fmt_format(why, cap, "the model uses no kernel of that shape"), -1;
	KernelFn fn;
	if (codecache_load_object(e->object, e->object_size, kernels_slot_get(slot), budget, &fn,
				  bytes) < 0 ||
	    kernels_replace(e->key.slot, fn) < 0)
		return fmt_format(why, cap, "%s", error_message()), -1;
	return 0;
}

int codecache_apply(const char *name, const uint8_t *data, size_t size, const CodeCacheMachine *m,
		    CodeCacheUsesFn uses, const void *ctx)
{
	CodeCacheImage img;
	if (codecache_open(&img, data, size) < 0) {
		log_printf(LOG_PREFIX "refused %s: %s\n", name, error_message());
		return 0;
	}
	int loaded = 0;
	size_t budget = CODECACHE_MAX_LOAD_BYTES; /* memory the entries still may take */
	for (uint32_t i = 0; i < img.count; i++) {
		CodeCacheEntry e;
		codecache_entry(&img, i, &e);
		char what[128], why[256];
		describe(&e.key, what, sizeof what);
		size_t bytes = 0;
		uint64_t t0 = plat_cycles();
		if (apply_entry(&e, m, uses, ctx, budget, why, sizeof why, &bytes) < 0) {
			log_printf(LOG_PREFIX "refused %s: %s\n", what, why);
			continue;
		}
		uint64_t us = cycles_to_us(plat_cycles() - t0);
		log_printf(LOG_PREFIX "loaded %s: %zu bytes in %llu us\n", what, bytes,
			   (unsigned long long)us);
		budget -= bytes;
		loaded++;
	}
	return loaded;
}
