/* fuzz_common.c: the arena and the bounded forward pass the fuzz targets share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/kernels/registry.h"
#include "fuzz.h"

/* Enough for the tables, the run state and int8 copies of any model fuzz_forward accepts;
 * larger loads fail with "arena exhausted", which is a handled error. */
#define FUZZ_ARENA_BYTES ((size_t)64 << 20)
/* fuzz_forward runs models at most this big (values in all weight matrices). */
#define FUZZ_MAX_PARAMS (1u << 20)

/* Positions fuzz_forward runs: a prompt batch of FUZZ_MAX_CTX - 1 tokens, then one alone. */
#define FUZZ_MAX_CTX 20
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

QuantMode fuzz_quant(const uint8_t *data, size_t size)
{
	static const QuantMode other[] = {QUANT_Q8_0,	QUANT_Q4_0,   QUANT_Q4_1,   QUANT_Q5_0,
					  QUANT_Q5_1,	QUANT_Q2_K,   QUANT_Q3_K_S, QUANT_Q3_K_M,
					  QUANT_Q3_K_L, QUANT_Q4_K_S, QUANT_Q4_K_M, QUANT_Q5_K_S,
					  QUANT_Q5_K_M, QUANT_Q6_K};
	unsigned b = size ? data[size / 2] : 0;
	if (b % 4 < 2)
		return QUANT_NONE;
	if (b % 4 == 2)
		return QUANT_INT8;
	return other[b / 4 % (sizeof other / sizeof other[0])];
}

void fuzz_forward(Model *m, unsigned choice)
{
	const ModelConfig *c = &m->config;
	uint64_t dim = (uint64_t)c->dim, hid = (uint64_t)c->hidden_dim;
	uint64_t params = (uint64_t)c->vocab_size * dim * 2 +
			  (uint64_t)c->n_layers * (4 * dim * dim + 3 * dim * hid);
	if (params > FUZZ_MAX_PARAMS || c->n_layers > 8)
		return;
	/* The kernels of the ISA the input picks (scalar when the CPU lacks it), a context long
	 * enough for three groups of 8 tokens in one prompt batch, then one more token alone. */
	static const char *const isas[4] = {"scalar", "avx2", "avxvnni", "avx512"};
	if (kernels_select_named(isas[choice % 4]) < 0)
		kernels_select_named("scalar");
	int ctx = c->seq_len < FUZZ_MAX_CTX ? c->seq_len : FUZZ_MAX_CTX;
	if (model_state_init(m, ctx) < 0)
		return;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr,
			"fuzz: forward pass on dim %d, %d layers, vocab %d, %s, %d tokens\n",
			c->dim, c->n_layers, c->vocab_size, kernels_isa_name(), ctx);
	/* The forward pass allocates nothing: poison the start of the free arena so that an
	 * access past the last run-state buffer is caught (ASan cannot see inside the arena). */
	size_t used = arena_used(), free_bytes = arena_capacity() - used;
	if (free_bytes > FUZZ_REDZONE_BYTES)
		free_bytes = FUZZ_REDZONE_BYTES;
	ASAN_POISON_MEMORY_REGION((uint8_t *)arena_block + used, free_bytes);
	int tokens[FUZZ_MAX_CTX];
	for (int i = 0; i < ctx; i++)
		tokens[i] = (int)((unsigned)i * 7u % (unsigned)c->vocab_size);
	int n = ctx > 1 ? ctx - 1 : 1;
	float *logits = model_forward_batch(m, tokens, n, 0);
	if (n < ctx)
		logits = model_forward(m, tokens[n], n);
	/* Read the logits so that the pass cannot be dropped as dead code. */
	volatile float sink = logits[0] + logits[c->vocab_size - 1];
	(void)sink;
	ASAN_UNPOISON_MEMORY_REGION((uint8_t *)arena_block + used, free_bytes);
}
