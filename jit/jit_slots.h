/* jit_slots.h: the registry slots the tier-up can specialise: per slot the kernel sources in
 * the bitcode, which arguments are the shape, and a harness that runs an entry over a
 * profile record's shape on the model's real weights and activations (for verification and
 * timing). Host only. */
#ifndef JIT_SLOTS_H
#define JIT_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/kernels/registry.h"
#include "core/model/model.h"
#include "jit/jit_engine.h"

/* Real inputs of one record's shape: a weight tensor of its dtype and cols (rows taken
 * cyclically up to the record's rows), activations from the model's run state, prepared as
 * the slot's activation quantizer does; for the attention, the run state's KV cache and
 * queries. */
#define JIT_MAX_INPUTS 3
typedef struct {
	const Tensor *W;
	int rows, cols, nx;
	int tokens; /* per input: 1, or a prompt batch's (the tile slot) */
	int outs;   /* results of one run: rows x tokens x nx */
	const float *x[JIT_MAX_INPUTS];
	void *act[JIT_MAX_INPUTS]; /* quantized copies (malloc'ed) */
	float *xd[JIT_MAX_INPUTS];
	int32_t *xsum[JIT_MAX_INPUTS];
	float *xs[JIT_MAX_INPUTS];     /* the Q8_1 block sums (4/5-bit types with a min) */
	int8_t *qn[JIT_MAX_INPUTS];    /* act in the weight type's nibble order (QAct) */
	int16_t *bs32[JIT_MAX_INPUTS]; /* Q4_K/Q5_K: act's sums of 32 */
	QAct qa[JIT_MAX_INPUTS];       /* the K-quant dots' view of act, xd, xs, xsum, qn, bs32 */
	QAct *qbatch;		       /* a K-quant batch's tokens (act[0] .. bs32[0], per token) */
	/* attention_group: one generated token's groups over the last layer's KV cache (out
	 * pointers set per run: query x[0] + h * cols writes y + h * cols), its score rows */
	AttnGroup *groups;
	int ngroups;
	float *att;
} JitInputs;

typedef struct JitSlot JitSlot;
/* The slot named name, or NULL when the tier-up has no harness for it. */
const JitSlot *jit_slot_find(const char *name);
const char *jit_slot_name(const JitSlot *s);
/* The kernel in the bitcode for isa (ISA_AVX2, ISA_AVXVNNI or ISA_AVX512), or NULL. */
const char *jit_slot_source(const JitSlot *s, Isa isa);
/* A slot's tuning knob inside its kernel: its name, the values the tuning tries besides the
 * kernel's own (which the plain source has built in), and per ISA the source that takes it as
 * a last argument (jit_slot_tuned_source; NULL: none). */
#define JIT_KNOB_VALUES 4
typedef struct {
	const char *name;
	int values[JIT_KNOB_VALUES];
	int count;
} JitKnob;
/* The slot's knob, or NULL when its kernels have none. */
const JitKnob *jit_slot_knob(const JitSlot *s);
const char *jit_slot_tuned_source(const JitSlot *s, Isa isa);
/* The shape constants of the inputs' shape into spec (consts, nconsts). */
void jit_slot_consts(const JitSlot *s, const JitInputs *in, JitSpec *spec);
/* The scalar reference (tier 0), or NULL where the slot has none (the K-quant batches). */
KernelFn jit_slot_reference(const JitSlot *s);

/* Whether s's one-token records run at the memory's speed on m: a simple dot (F32, F16, Q8_0,
 * int8) over matrices that outgrow the last-level cache. Compiled entries of those cannot pay:
 * measured on TinyLlama Q8_0, they ran 5-9 % slower in the run than tier 1 while timing as fast
 * or faster on the rows in isolation. */
bool jit_slot_memory_bound(const JitSlot *s, const Model *m);

/* Finds and prepares inputs for (dtype, rows, cols, tokens) in m, whose KV cache holds positions
 * (the attention's inputs); 0, or -1 when the model has no such tensor or no activations of that
 * width (the reason printed). */
int jit_inputs_init(JitInputs *in, const JitSlot *s, const Model *m, const char *dtype, int rows,
		    int cols, int tokens, int positions);
void jit_inputs_free(JitInputs *in);
/* Runs fn over the inputs: y (outs) gets every result; returns the cycles it took. */
uint64_t jit_slot_run(const JitSlot *s, const JitInputs *in, KernelFn fn, float *y);

#endif
