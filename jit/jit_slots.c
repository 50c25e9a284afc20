/* jit_slots.c: the specialisable registry slots and their harness on real inputs
 * (jit_slots.h). */
#include "jit/jit_slots.h"

#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/kernels/dot.h"
#include "core/kernels/dtype.h"
#include "core/kernels/kquant.h"
#include "shim/platform.h"

typedef enum {
	SLOT_F32,
	SLOT_F16,
	SLOT_Q8_0,
	SLOT_INT8,
	SLOT_TILE,
	SLOT_KQUANT,
	SLOT_KQUANT_X2,
	SLOT_KQUANT_BATCH,
	SLOT_ATTN
} SlotKind;

struct JitSlot {
	const char *name;
	SlotKind kind;
	DType dtype;
	const char *source[ISA_COUNT];
	KernelFn reference;
	JitKnob knob; /* count 0: none */
	const char *tuned[ISA_COUNT];
};

/* clang-format off */
static const JitSlot slots[] = {
    /* by ISA: scalar (none), avx2, avxvnni (AVX2's dots, its own tile), avx512 */
    {"dot_f32", SLOT_F32, DT_F32, {NULL, "fdot_f32_avx2", "fdot_f32_avx2", "fdot_f32_avx512"},
     (KernelFn)fdot_f32_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_f16", SLOT_F16, DT_F16, {NULL, "fdot_f16_avx2", "fdot_f16_avx2", "fdot_f16_avx512"},
     (KernelFn)fdot_f16_ref, {NULL, {0}, 0}, {NULL}},
    /* prefetch distance in bytes: the kernels' own is QDOT_PREFETCH (8192) */
    {"dot_q8_0", SLOT_Q8_0, DT_Q8_0, {NULL, "qdot_q8_avx2", "qdot_q8_avx2", "qdot_q8_avx512"},
     (KernelFn)qdot_q8_ref, {"prefetch", {0, 2048, 4096, 16384}, 4},
     {NULL, "qdot_q8_avx2_tuned", "qdot_q8_avx2_tuned", "qdot_q8_avx512_tuned"}},
    {"dot_int8", SLOT_INT8, DT_INT8, {NULL, "qdot_i8_avx2", "qdot_i8_avx2", "qdot_i8_avx512"},
     (KernelFn)qdot_i8_ref, {NULL, {0}, 0}, {NULL}},
    /* each ISA's tile wants its own activation offset: only the active ISA's source fits;
     * rows per pass of the AVX-512 tile: its own is QTILE_ROWS (8) */
    {"dot_q8_0_tile", SLOT_TILE, DT_Q8_0,
     {NULL, "qdot_q8_tile_avx2", "qdot_q8_tile_avxvnni", "qdot_q8_tile_avx512"},
     (KernelFn)qdot_q8_tile_ref, {"rows per pass", {2, 4}, 2},
     {NULL, NULL, NULL, "qdot_q8_tile_avx512_tuned"}},
    /* the 4/5-bit and K-quant dots (KDotFn), specialised on blocks per row */
    {"dot_q4_0", SLOT_KQUANT, DT_Q4_0,
     {NULL, "kdot_q4_0_avx2", "kdot_q4_0_avx2", "kdot_q4_0_avx512"},
     (KernelFn)kdot_q4_0_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q4_1", SLOT_KQUANT, DT_Q4_1,
     {NULL, "kdot_q4_1_avx2", "kdot_q4_1_avx2", "kdot_q4_1_avx512"},
     (KernelFn)kdot_q4_1_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q5_0", SLOT_KQUANT, DT_Q5_0,
     {NULL, "kdot_q5_0_avx2", "kdot_q5_0_avx2", "kdot_q5_0_avx512"},
     (KernelFn)kdot_q5_0_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q5_1", SLOT_KQUANT, DT_Q5_1,
     {NULL, "kdot_q5_1_avx2", "kdot_q5_1_avx2", "kdot_q5_1_avx512"},
     (KernelFn)kdot_q5_1_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q2_k", SLOT_KQUANT, DT_Q2_K,
     {NULL, "kdot_q2_k_avx2", "kdot_q2_k_avx2", "kdot_q2_k_avx512"},
     (KernelFn)kdot_q2_k_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q3_k", SLOT_KQUANT, DT_Q3_K,
     {NULL, "kdot_q3_k_avx2", "kdot_q3_k_avx2", "kdot_q3_k_avx512"},
     (KernelFn)kdot_q3_k_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q4_k", SLOT_KQUANT, DT_Q4_K,
     {NULL, "kdot_q4_k_avx2", "kdot_q4_k_avx2", "kdot_q4_k_avx512"},
     (KernelFn)kdot_q4_k_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q5_k", SLOT_KQUANT, DT_Q5_K,
     {NULL, "kdot_q5_k_avx2", "kdot_q5_k_avx2", "kdot_q5_k_avx512"},
     (KernelFn)kdot_q5_k_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q6_k", SLOT_KQUANT, DT_Q6_K,
     {NULL, "kdot_q6_k_avx2", "kdot_q6_k_avx2", "kdot_q6_k_avx512"},
     (KernelFn)kdot_q6_k_ref, {NULL, {0}, 0}, {NULL}},
    /* their row pairs (KDot2Fn, AVX-512 only), on the row stride and blocks per row */
    {"dot_q2_k_x2", SLOT_KQUANT_X2, DT_Q2_K, {NULL, NULL, NULL, "kdot2_q2_k_avx512"},
     (KernelFn)kdot2_q2_k_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q3_k_x2", SLOT_KQUANT_X2, DT_Q3_K, {NULL, NULL, NULL, "kdot2_q3_k_avx512"},
     (KernelFn)kdot2_q3_k_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q4_k_x2", SLOT_KQUANT_X2, DT_Q4_K, {NULL, NULL, NULL, "kdot2_q4_k_avx512"},
     (KernelFn)kdot2_q4_k_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q5_k_x2", SLOT_KQUANT_X2, DT_Q5_K, {NULL, NULL, NULL, "kdot2_q5_k_avx512"},
     (KernelFn)kdot2_q5_k_ref, {NULL, {0}, 0}, {NULL}},
    {"dot_q6_k_x2", SLOT_KQUANT_X2, DT_Q6_K, {NULL, NULL, NULL, "kdot2_q6_k_avx512"},
     (KernelFn)kdot2_q6_k_ref, {NULL, {0}, 0}, {NULL}},
    /* their prompt batches (KDotBatchFn), on blocks per row: Q4_1 and Q5_1, whose prompts run
     * as batches (the K-quants' run as tiles, Q4_0/Q5_0's in the Q8_0 tile); no scalar batch
     * kernel: the references run tokens one by one */
    {"dot_q4_1_batch", SLOT_KQUANT_BATCH, DT_Q4_1,
     {NULL, "kdot_q4_1_batch_avx2", "kdot_q4_1_batch_avx2", "kdot_q4_1_batch_avx512"},
     NULL, {NULL, {0}, 0}, {NULL}},
    {"dot_q5_1_batch", SLOT_KQUANT_BATCH, DT_Q5_1,
     {NULL, "kdot_q5_1_batch_avx2", "kdot_q5_1_batch_avx2", "kdot_q5_1_batch_avx512"},
     NULL, {NULL, {0}, 0}, {NULL}},
    /* specialised on the model's head size, KV row stride and score scale */
    {"attention_group", SLOT_ATTN, DT_F32, {NULL, "attn_group_avx2", "attn_group_avx2",
     "attn_group_avx512"}, (KernelFn)attn_group_ref, {NULL, {0}, 0}, {NULL}},
};
/* clang-format on */

const JitSlot *jit_slot_find(const char *name)
{
	for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
		if (!strcmp(slots[i].name, name))
			return &slots[i];
	return NULL;
}

const char *jit_slot_name(const JitSlot *s)
{
	return s->name;
}

const char *jit_slot_source(const JitSlot *s, Isa isa)
{
	if (s->kind == SLOT_TILE && isa != kernels_isa())
		return NULL;
	return isa < ISA_COUNT ? s->source[isa] : NULL;
}

const JitKnob *jit_slot_knob(const JitSlot *s)
{
	return s->knob.count ? &s->knob : NULL;
}

const char *jit_slot_tuned_source(const JitSlot *s, Isa isa)
{
	/* the tile's sources exist for the active ISA only (jit_slot_source) */
	return jit_slot_source(s, isa) && isa < ISA_COUNT ? s->tuned[isa] : NULL;
}

KernelFn jit_slot_reference(const JitSlot *s)
{
	return s->reference;
}

/* The int8 group size (values per activation block): the tensor's, or the whole row. */
static int int8_block(const Tensor *W)
{
	return W->i8.group_scales ? W->i8.group_size : W->cols;
}

void jit_slot_consts(const JitSlot *s, const JitInputs *in, JitSpec *spec)
{
	switch (s->kind) {
	case SLOT_F32:
	case SLOT_F16: /* (w, x, n) */
		spec->consts[0] = (JitConst){.param = 2, .value = in->cols};
		spec->nconsts = 1;
		break;
	case SLOT_Q8_0: /* (w, xq, xd, xsum, nb) */
		spec->consts[0] = (JitConst){.param = 4, .value = in->cols / QK8_0};
		spec->nconsts = 1;
		break;
	case SLOT_TILE: /* (w, nb, nrows, xt, xdt, ntok, y, y_stride): full tiles of rows */
		spec->consts[0] = (JitConst){.param = 1, .value = in->cols / QK8_0};
		spec->consts[1] = (JitConst){.param = 2, .value = QTILE_ROWS};
		spec->nconsts = 2;
		break;
	case SLOT_INT8: /* (w, ws, wscale, zp, xq, xd, xsum, n, B) */
		spec->consts[0] = (JitConst){.param = 7, .value = in->cols};
		spec->consts[1] = (JitConst){.param = 8, .value = int8_block(in->W)};
		spec->nconsts = 2;
		break;
	case SLOT_ATTN: { /* (g, att): fields of *g, the scale (a float, by its bits) last */
		const AttnGroup *g = &in->groups[0];
		uint32_t scale;
		memcpy(&scale, &g->scale, sizeof scale);
		spec->consts[0] = (JitConst){0, g->head_size, offsetof(AttnGroup, head_size),
					     sizeof g->head_size};
		spec->consts[1] = (JitConst){0, (int64_t)g->stride, offsetof(AttnGroup, stride),
					     sizeof g->stride};
		spec->consts[2] = (JitConst){0, scale, offsetof(AttnGroup, scale), sizeof scale};
		spec->nconsts = 3;
		spec->struct_bytes = sizeof(AttnGroup);
		break;
	}
	case SLOT_KQUANT: /* (w, x, nb) */
		spec->consts[0] =
		    (JitConst){.param = 2, .value = in->cols / kquant_block(s->dtype)};
		spec->nconsts = 1;
		break;
	case SLOT_KQUANT_X2: /* (w, row_bytes, x, nb, y) */
		spec->consts[0] =
		    (JitConst){.param = 1, .value = (int64_t)dtype_row_bytes(s->dtype, in->cols)};
		spec->consts[1] =
		    (JitConst){.param = 3, .value = in->cols / kquant_block(s->dtype)};
		spec->nconsts = 2;
		break;
	case SLOT_KQUANT_BATCH: /* (w, x, ntok, nb, y, y_stride) */
		spec->consts[0] =
		    (JitConst){.param = 3, .value = in->cols / kquant_block(s->dtype)};
		spec->nconsts = 1;
		break;
	}
}

/* Layer l's seven matrices. */
#define LAYER_MATRICES 7
static void layer_matrices(const ModelWeights *w, int l, const Tensor *c[LAYER_MATRICES])
{
	const Tensor *all[LAYER_MATRICES] = {&w->wq[l], &w->wk[l], &w->wv[l], &w->wo[l],
					     &w->w1[l], &w->w2[l], &w->w3[l]};
	memcpy(c, all, sizeof all);
}

/* A tensor of m of type t with cols columns, or NULL. */
static const Tensor *find_tensor(const Model *m, DType t, int cols)
{
	const ModelWeights *w = &m->weights;
	for (int l = 0; l < m->config.n_layers; l++) {
		const Tensor *c[LAYER_MATRICES];
		layer_matrices(w, l, c);
		for (int i = 0; i < LAYER_MATRICES; i++)
			if (c[i]->type == t && c[i]->cols == cols)
				return c[i];
	}
	if (w->classifier.type == t && w->classifier.cols == cols)
		return &w->classifier;
	return NULL;
}

/* The bytes of m's matrices: what one generated token reads. */
static double matrix_bytes(const Model *m)
{
	const ModelWeights *w = &m->weights;
	double n =
	    (double)dtype_row_bytes(w->classifier.type, w->classifier.cols) * w->classifier.rows;
	for (int l = 0; l < m->config.n_layers; l++) {
		const Tensor *c[LAYER_MATRICES];
		layer_matrices(w, l, c);
		for (int i = 0; i < LAYER_MATRICES; i++)
			n += (double)dtype_row_bytes(c[i]->type, c[i]->cols) * c[i]->rows;
	}
	return n;
}

bool jit_slot_memory_bound(const JitSlot *s, const Model *m)
{
	if (s->kind != SLOT_F32 && s->kind != SLOT_F16 && s->kind != SLOT_Q8_0 &&
	    s->kind != SLOT_INT8)
		return false;
	long llc = sysconf(_SC_LEVEL3_CACHE_SIZE); /* 0 or -1 where the C library has none */
	return matrix_bytes(m) > (double)(llc > 0 ? llc : 32L << 20);
}

/* One token's activations for a 4/5-bit or K-quant type t, as the registry quantizes them. */
static void quant_kquant(DType t, const float *x, int n, int8_t *q, float *d, float *s,
			 int32_t *sums, int8_t *qn, int16_t *bs32)
{
	switch (kquant_act(t)) {
	case ACT_Q8_0:
		kernels.quant_act_q8_0(x, n, q, d, sums);
		if (t == DT_Q4_0 || t == DT_Q5_0)
			quant_act_q4_0_order(q, n / QK4, qn);
		break;
	case ACT_Q8_1:
		kernels.quant_act_q8_1(x, n, q, d, s);
		break;
	case ACT_Q8_K:
		kernels.quant_act_q8_k(x, n, q, d, sums);
		if (t == DT_Q4_K || t == DT_Q5_K)
			quant_act_k4_order(q, sums, n / QK_K, qn, bs32);
		break;
	}
}

/* A K-quant batch's inputs: tokens of the run state's last prompt batch, each quantized as
 * matmul.c's quant_task does, in one buffer per part (as its scratch). */
static int kquant_batch_inputs(JitInputs *in, DType t, const float *batch)
{
	size_t n = (size_t)in->tokens, cols = (size_t)in->cols;
	size_t na = cols / (size_t)kquant_act_block(kquant_act(t)); /* sums per token */
	in->nx = 1;
	in->outs = in->rows * in->tokens;
	in->act[0] = malloc(n * cols);
	in->xd[0] = malloc(n * na * sizeof(float));
	in->xs[0] = malloc(n * na * sizeof(float));
	in->xsum[0] = malloc(n * na * sizeof(int32_t));
	in->qn[0] = malloc(n * cols);
	in->bs32[0] = malloc(n * cols / 32 * sizeof(int16_t));
	in->qbatch = malloc(n * sizeof(QAct));
	if (!in->act[0] || !in->xd[0] || !in->xs[0] || !in->xsum[0] || !in->qn[0] || !in->bs32[0] ||
	    !in->qbatch)
		return -1;
	for (size_t k = 0; k < n; k++) {
		int8_t *q = (int8_t *)in->act[0] + k * cols, *qn = in->qn[0] + k * cols;
		float *d = in->xd[0] + k * na, *xs = in->xs[0] + k * na;
		int32_t *sums = in->xsum[0] + k * na;
		int16_t *bs32 = in->bs32[0] + k * cols / 32;
		quant_kquant(t, batch + k * cols, in->cols, q, d, xs, sums, qn, bs32);
		in->qbatch[k] = (QAct){q, d, xs, sums, qn, bs32};
	}
	return 0;
}

/* The tile's inputs: tokens of the run state's last prompt batch, quantized and transposed in
 * groups of QTILE_TOKENS as matmul.c does (padding tokens 0 with scale 0). */
static int tile_inputs(JitInputs *in, const float *batch)
{
	int nb = in->cols / QK8_0, groups = (in->tokens + QTILE_TOKENS - 1) / QTILE_TOKENS;
	int8_t *q = malloc((size_t)in->cols);
	float *xd = malloc((size_t)nb * sizeof(float));
	int32_t *sums = malloc((size_t)nb * sizeof(int32_t));
	uint8_t *xt = calloc((size_t)groups * (size_t)nb, QTILE_BLOCK_BYTES);
	float *xdt = calloc((size_t)groups * (size_t)nb * QTILE_TOKENS, sizeof(float));
	in->act[0] = xt;
	in->xd[0] = xdt;
	in->nx = 1;
	if (!q || !xd || !sums || !xt || !xdt) {
		free(q), free(xd), free(sums);
		return -1;
	}
	uint8_t off = kernels_tile_x_offset();
	for (int t = 0; t < groups * QTILE_TOKENS; t++) {
		bool pad = t >= in->tokens;
		if (!pad)
			kernels.quant_act_q8_0(batch + (size_t)t * (size_t)in->cols, in->cols, q,
					       xd, sums);
		size_t g = (size_t)(t / QTILE_TOKENS) * (size_t)nb;
		for (int b = 0; b < nb; b++) {
			uint8_t *dst =
			    xt + (g + (size_t)b) * QTILE_BLOCK_BYTES + (t % QTILE_TOKENS) * 4;
			for (int k = 0; k < QK8_0; k++)
				dst[(k / 4) * QTILE_LANE_BYTES + k % 4] =
				    (uint8_t)((pad ? 0 : q[b * QK8_0 + k]) + off);
			xdt[(g + (size_t)b) * QTILE_TOKENS + (size_t)(t % QTILE_TOKENS)] =
			    pad ? 0.0f : xd[b];
		}
	}
	free(q), free(xd), free(sums);
	return 0;
}

/* The attention's inputs: the last generated token's queries (the run state's, of the last
 * layer) over the last layer's KV cache of positions, grouped as model.c groups them (its scale
 * is core's math_sqrtf: one sqrtss, which jit/ without -fno-math-errno gets from the
 * intrinsic). */
static int attn_inputs(JitInputs *in, const Model *m, int positions)
{
	const ModelConfig *c = &m->config;
	int hs = c->dim / c->n_heads, kv_dim = hs * c->n_kv_heads,
	    kv_mul = c->n_heads / c->n_kv_heads;
	int per_head = (kv_mul + ATTN_LANES - 1) / ATTN_LANES;
	if (in->cols != hs || positions < 1 || positions > m->ctx_len)
		return -1;
	in->rows = c->n_heads;
	in->nx = 1;
	in->x[0] = m->state.q;
	in->outs = c->n_heads * hs;
	in->ngroups = c->n_kv_heads * per_head;
	in->groups = calloc((size_t)in->ngroups, sizeof(AttnGroup));
	/* the kernels' aligned stores: rows of ATTN_LANES floats (64 bytes) at a 64-byte line */
	in->att = aligned_alloc(64, (size_t)positions * ATTN_LANES * sizeof(float));
	if (!in->groups || !in->att)
		return -1;
	size_t loff = (size_t)(c->n_layers - 1) * (size_t)m->ctx_len * (size_t)kv_dim;
	for (int u = 0; u < in->ngroups; u++) {
		int kvh = u / per_head, first = u % per_head * ATTN_LANES;
		AttnGroup *g = &in->groups[u];
		*g = (AttnGroup){.keys = m->state.key_cache + loff + (size_t)kvh * (size_t)hs,
				 .values = m->state.value_cache + loff + (size_t)kvh * (size_t)hs,
				 .stride = (size_t)kv_dim,
				 .head_size = hs,
				 .scale = _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss((float)hs))),
				 .cold = 1};
		for (int i = first; i < kv_mul && g->nq < ATTN_LANES; i++, g->nq++) {
			g->q[g->nq] = m->state.q + (size_t)(kvh * kv_mul + i) * (size_t)hs;
			g->last[g->nq] = positions - 1;
		}
	}
	return 0;
}

int jit_inputs_init(JitInputs *in, const JitSlot *s, const Model *m, const char *dtype, int rows,
		    int cols, int tokens, int positions)
{
	*in = (JitInputs){0};
	if (s->kind == SLOT_ATTN) {
		in->cols = cols;
		if (attn_inputs(in, m, positions) < 0) {
			fprintf(stderr,
				"jit: no attention inputs of head size %d at %d positions\n", cols,
				positions);
			jit_inputs_free(in);
			return -1;
		}
		return 0;
	}
	if (strcmp(dtype, dtype_name(s->dtype)) != 0) {
		fprintf(stderr, "jit: %s runs %s weights, not %s\n", s->name, dtype_name(s->dtype),
			dtype);
		return -1;
	}
	in->W = find_tensor(m, s->dtype, cols);
	if (!in->W || (s->kind == SLOT_KQUANT_X2 && in->W->rows < 2)) {
		fprintf(stderr, "jit: the model has no %s tensor with %d columns%s\n", dtype, cols,
			in->W ? " and 2 rows" : "");
		return -1;
	}
	in->rows = rows;
	in->cols = cols;
	bool batched = s->kind == SLOT_TILE || s->kind == SLOT_KQUANT_BATCH;
	in->tokens = batched ? tokens : 1;
	if (s->kind == SLOT_TILE) /* whole tiles: the specialised path's row count */
		in->rows = rows < QTILE_ROWS ? QTILE_ROWS : rows / QTILE_ROWS * QTILE_ROWS;
	/* the run state's last activations of that width: real inputs of the shape */
	const RunState *st = &m->state;
	const ModelConfig *c = &m->config;
	if (s->kind == SLOT_TILE) {
		const float *batch = cols == c->dim	     ? st->bxb
				     : cols == c->hidden_dim ? st->bhb
							     : NULL;
		if (!batch || in->tokens < 1 || in->tokens > MODEL_BATCH ||
		    in->W->rows % QTILE_ROWS || tile_inputs(in, batch) < 0) {
			fprintf(stderr, "jit: no tile inputs %dx%d for %d tokens\n", rows, cols,
				in->tokens);
			jit_inputs_free(in);
			return -1;
		}
		in->outs = in->rows * in->tokens; /* what the harness writes: whole tiles */
		return 0;
	}
	if (s->kind == SLOT_KQUANT_BATCH) {
		const float *batch = cols == c->dim	     ? st->bxb
				     : cols == c->hidden_dim ? st->bhb
							     : NULL;
		if (!batch || in->tokens < 1 || in->tokens > MODEL_BATCH ||
		    kquant_batch_inputs(in, s->dtype, batch) < 0) {
			fprintf(stderr, "jit: no batch inputs %dx%d for %d tokens\n", rows, cols,
				in->tokens);
			jit_inputs_free(in);
			return -1;
		}
		return 0;
	}
	if (cols == c->dim) {
		in->x[0] = st->x, in->x[1] = st->xb, in->x[2] = st->xb2;
		in->nx = 3;
	} else if (cols == c->hidden_dim) {
		in->x[0] = st->hb, in->x[1] = st->hb2;
		in->nx = 2;
	} else {
		fprintf(stderr, "jit: no activations %d wide in the run state\n", cols);
		return -1;
	}
	in->outs = rows * in->nx;
	/* the activation blocks: Q8_K's sums are per 16 values, the smallest */
	int nb = cols / QK8_0 + 1, B = s->kind == SLOT_INT8 ? int8_block(in->W)
				       : s->kind == SLOT_KQUANT || s->kind == SLOT_KQUANT_X2
					   ? kquant_act_block(ACT_Q8_K)
					   : QK8_0;
	for (int i = 0; i < in->nx; i++) {
		in->act[i] = calloc((size_t)cols, sizeof(float));
		in->xd[i] = calloc((size_t)cols / (size_t)B + 1, sizeof(float));
		in->xsum[i] = calloc((size_t)nb + (size_t)cols / (size_t)B, sizeof(int32_t));
		in->xs[i] = calloc((size_t)cols / (size_t)B + 1, sizeof(float));
		in->qn[i] = calloc((size_t)cols, 1);
		in->bs32[i] = calloc((size_t)cols / 32 + 1, sizeof(int16_t));
		if (!in->act[i] || !in->xd[i] || !in->xsum[i] || !in->xs[i] || !in->qn[i] ||
		    !in->bs32[i]) {
			jit_inputs_free(in);
			fprintf(stderr, "jit: out of memory\n");
			return -1;
		}
		switch (s->kind) {
		case SLOT_TILE:		/* tile_inputs */
		case SLOT_KQUANT_BATCH: /* kquant_batch_inputs */
		case SLOT_ATTN:		/* attn_inputs */
			break;
		case SLOT_F32:
			memcpy(in->act[i], in->x[i], (size_t)cols * sizeof(float));
			break;
		case SLOT_F16:
			kernels.quant_act_f16(in->x[i], cols, in->act[i], NULL);
			break;
		case SLOT_Q8_0:
			kernels.quant_act_q8_0(in->x[i], cols, in->act[i], in->xd[i], in->xsum[i]);
			break;
		case SLOT_INT8:
			kernels.quant_act_int8(in->x[i], cols, B, in->act[i], in->xd[i],
					       in->xsum[i]);
			break;
		case SLOT_KQUANT: /* as matmul.c's quant_task: the type's activation kind */
		case SLOT_KQUANT_X2:
			quant_kquant(s->dtype, in->x[i], cols, in->act[i], in->xd[i], in->xs[i],
				     in->xsum[i], in->qn[i], in->bs32[i]);
			in->qa[i] = (QAct){in->act[i],	in->xd[i], in->xs[i],
					   in->xsum[i], in->qn[i], in->bs32[i]};
			break;
		}
	}
	return 0;
}

void jit_inputs_free(JitInputs *in)
{
	for (int i = 0; i < JIT_MAX_INPUTS; i++) {
		free(in->act[i]);
		free(in->xd[i]);
		free(in->xsum[i]);
		free(in->xs[i]);
		free(in->qn[i]);
		free(in->bs32[i]);
	}
	free(in->groups);
	free(in->att);
	free(in->qbatch);
	*in = (JitInputs){0};
}

/* The attention's groups of one token: query h's output is y + h * head size. */
static uint64_t attn_run(const JitInputs *in, AttnGroupFn fn, float *y)
{
	uint64_t t0 = plat_cycles();
	for (int u = 0; u < in->ngroups; u++) {
		AttnGroup g = in->groups[u];
		for (int i = 0; i < g.nq; i++)
			g.out[i] = y + (g.q[i] - in->x[0]);
		fn(&g, in->att);
	}
	return plat_cycles() - t0;
}

uint64_t jit_slot_run(const JitSlot *s, const JitInputs *in, KernelFn fn, float *y)
{
	if (s->kind == SLOT_ATTN)
		return attn_run(in, (AttnGroupFn)fn, y);
	const Tensor *W = in->W;
	int n = in->cols;
	size_t row_bytes = dtype_row_bytes(W->type, n);
	uint64_t t0 = plat_cycles();
	if (s->kind == SLOT_TILE) { /* y[t * rows + r]: the whole batch, 8 rows a call */
		for (int r = 0; r < in->rows; r += QTILE_ROWS)
			((QDotQ8TileFn)fn)((const BlockQ8_0 *)W->data +
					       (size_t)(r % W->rows) * (size_t)(n / QK8_0),
					   n / QK8_0, QTILE_ROWS, in->act[0], in->xd[0], in->tokens,
					   y + r, (size_t)in->rows);
		return plat_cycles() - t0;
	}
	if (s->kind == SLOT_KQUANT_BATCH) { /* as matmul.c: KQ_BATCH_TOKENS tokens a call */
		size_t ys = (size_t)in->rows;
		for (int r = 0; r < in->rows; r++)
			for (int t = 0; t < in->tokens; t += KQ_BATCH_TOKENS)
				((KDotBatchFn)fn)(
				    (const char *)W->data + (size_t)(r % W->rows) * row_bytes,
				    in->qbatch + t,
				    in->tokens - t < KQ_BATCH_TOKENS ? in->tokens - t
								     : KQ_BATCH_TOKENS,
				    n / kquant_block(W->type), y + (size_t)t * ys + (size_t)r, ys);
		return plat_cycles() - t0;
	}
	if (s->kind == SLOT_KQUANT_X2) { /* as matmul.c: rows two at a time */
		for (int i = 0; i < in->nx; i++)
			for (int r = 0; r < in->rows; r += 2) {
				/* a pair inside the tensor (it has at least 2 rows:
				 * jit_inputs_init) */
				int wr = r % W->rows < W->rows - 1 ? r % W->rows : W->rows - 2;
				float pair[2];
				((KDot2Fn)fn)((const char *)W->data + (size_t)wr * row_bytes,
					      row_bytes, &in->qa[i], n / kquant_block(W->type),
					      pair);
				y[(size_t)i * (size_t)in->rows + (size_t)r] = pair[0];
				if (r + 1 < in->rows)
					y[(size_t)i * (size_t)in->rows + (size_t)r + 1] = pair[1];
			}
		return plat_cycles() - t0;
	}
	for (int i = 0; i < in->nx; i++) {
		float *yi = y + (size_t)i * (size_t)in->rows;
		for (int r = 0; r < in->rows; r++) {
			int wr = r % W->rows;
			const void *row = (const char *)W->data + (size_t)wr * row_bytes;
			switch (s->kind) {
			case SLOT_F32:
				yi[r] = ((FDotF32Fn)fn)(row, in->act[i], n);
				break;
			case SLOT_F16:
				yi[r] = ((FDotF16Fn)fn)(row, in->act[i], n);
				break;
			case SLOT_Q8_0:
				yi[r] = ((QDotQ8Fn)fn)(row, in->act[i], in->xd[i], in->xsum[i],
						       n / QK8_0);
				break;
			case SLOT_TILE: /* above */
			case SLOT_KQUANT_X2:
			case SLOT_KQUANT_BATCH:
			case SLOT_ATTN:
				break;
			case SLOT_KQUANT:
				yi[r] = ((KDotFn)fn)(row, &in->qa[i], n / kquant_block(W->type));
				break;
			case SLOT_INT8: {
				const QuantizedTensor *q = &W->i8;
				int B = int8_block(W);
				const float *ws =
				    q->group_scales ? q->group_scales + (size_t)wr * (size_t)(n / B)
						    : NULL;
				yi[r] = ((QDotI8Fn)fn)(q->q + (size_t)wr * (size_t)n, ws, q->scale,
						       q->zero_point, in->act[i], in->xd[i],
						       in->xsum[i], n, B);
				break;
			}
			}
		}
	}
	return plat_cycles() - t0;
}
