/* fuzz_common.c: the arena and the bounded forward pass the fuzz targets share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "core/error.h"
#include "fuzz.h"
#include "shim/platform.h"

/* Enough for the tables, the run state and int8 copies of any model fuzz_forward accepts;
 * larger loads fail with "arena exhausted", which is a handled error. */
#define FUZZ_ARENA_BYTES ((size_t)64 << 20)
/* fuzz_forward runs models at most this big (values in all weight matrices). */
#define FUZZ_MAX_PARAMS (1u << 20)

/* How much of the free arena fuzz_forward poisons past the run state. */
#define FUZZ_REDZONE_BYTES ((size_t)1 << 20)

static void *arena_block;
static const char *no_error; /* what error_message() says after error_clear() */

size_t fuzz_begin(void)
{
	if (!arena_block) {
		arena_block = malloc(FUZZ_ARENA_BYTES);
		if (!arena_block) {
			fprintf(stderr, "fuzz: cannot allocate the arena\n");
			abort();
		}
		arena_init(arena_block, FUZZ_ARENA_BYTES);
	}
	error_clear();
	if (!no_error)
		no_error = error_message();
	return arena_mark();
}

void fuzz_end(size_t mark)
{
	/* FUZZ_VERBOSE=1: say why an input was refused (seeds that should load, triage). */
	if (getenv("FUZZ_VERBOSE") && strcmp(error_message(), no_error) != 0)
		fprintf(stderr, "fuzz: %s\n", error_message());
	arena_reset(mark);
	error_clear();
}

void fuzz_forward(Model *m)
{
	const ModelConfig *c = &m->config;
	uint64_t dim = (uint64_t)c->dim, hid = (uint64_t)c->hidden_dim;
	uint64_t params = (uint64_t)c->vocab_size * dim * 2 +
			  (uint64_t)c->n_layers * (4 * dim * dim + 3 * dim * hid);
	if (params > FUZZ_MAX_PARAMS || c->n_layers > 8)
		return;
	int ctx = c->seq_len < 4 ? c->seq_len : 4;
	if (model_state_init(m, ctx) < 0)
		return;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: forward pass on dim %d, %d layers, vocab %d\n", c->dim,
			c->n_layers, c->vocab_size);
	/* The forward pass allocates nothing: poison the start of the free arena so that an
	 * access past the last run-state buffer is caught (ASan cannot see inside the arena). */
	size_t used = arena_used(), free_bytes = arena_capacity() - used;
	if (free_bytes > FUZZ_REDZONE_BYTES)
		free_bytes = FUZZ_REDZONE_BYTES;
	ASAN_POISON_MEMORY_REGION((uint8_t *)arena_block + used, free_bytes);
	int tokens[2] = {0, c->vocab_size - 1};
	for (int pos = 0; pos < 2 && pos < ctx; pos++) {
		float *logits = model_forward(m, tokens[pos], pos);
		/* Read the logits so that the pass cannot be dropped as dead code. */
		volatile float sink = logits[0] + logits[c->vocab_size - 1];
		(void)sink;
	}
	ASAN_UNPOISON_MEMORY_REGION((uint8_t *)arena_block + used, free_bytes);
}
