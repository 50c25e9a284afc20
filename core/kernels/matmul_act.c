/* matmul_act.c: the matmul scratch and a pass's activations in it: each token quantized for
 * its weight type (the pool splits a batch's tokens), and copied into the tiles' transposed
 * groups, whose last one is padded. */
#include "core/kernels/matmul_act.h"

#include "core/base/arena.h"
#include "core/kernels/registry.h"
#include "shim/platform.h"

int matmul_scratch_init_batch(MatmulScratch *s, int max_cols, int max_batch)
{
	size_t n = (size_t)max_cols * (size_t)max_batch;
	/* int8 blocks may be as short as one value (grouped, group size 1): size for that */
	s->xq = arena_alloc(n, 64, "matmul scratch (int8 x)");
	s->xn = arena_alloc(n, 64, "matmul scratch (int8 x, nibble order)");
	s->xs32 = arena_alloc(n / 32 * sizeof(int16_t) + 64, 64, "matmul scratch (sums of 32)");
	s->xd = arena_alloc(n * sizeof(float), 64, "matmul scratch (x scales)");
	s->xsum = arena_alloc(n * sizeof(int32_t), 64, "matmul scratch (x block sums)");
	s->f16 = arena_alloc(n * sizeof(uint16_t), 64, "matmul scratch (f16 x)");
	s->xs = arena_alloc(n / QK8_0 * sizeof(float) + 64, 64, "matmul scratch (Q8_1 sums)");
	/* transposed groups of QTILE_TOKENS: the last one padded */
	size_t nt = (size_t)max_cols *
		    (((size_t)max_batch + QTILE_TOKENS - 1) / QTILE_TOKENS * QTILE_TOKENS);
	s->xt = arena_alloc(nt, 64, "matmul scratch (x, transposed)");
	s->xdt = arena_alloc(nt / QK8_0 * sizeof(float) + 64, 64, "matmul scratch (x scales, t)");
	s->xbt = arena_alloc(nt / 16 * sizeof(int16_t) + 64, 64, "matmul scratch (x sums, t)");
	s->cap = max_cols;
	s->batch = max_batch;
	return s->xq && s->xn && s->xs32 && s->xd && s->xsum && s->f16 && s->xs && s->xt &&
		       s->xdt && s->xbt
		   ? 0
		   : -1;
}

int matmul_scratch_init(MatmulScratch *s, int max_cols)
{
	return matmul_scratch_init_batch(s, max_cols, 1);
}

/* The scratch's transposed K-quant activations (kquant.h's tile layout). */
KTileAct matmul_scratch_ktile(const MatmulScratch *s)
{
	return (KTileAct){(int8_t *)s->xt, s->xdt, s->xbt};
}

/* Quantizes a share of the batch's tokens (the batch path quantizes on every thread). */
typedef struct {
	const float *x;
	int x_stride, n, cols, B;
	DType type;
	MatmulScratch *s;
	bool tiled;    /* also write the tokens transposed (see the tile entry) */
	bool k4_order; /* also write Q8_K tokens in Q4_K/Q5_K's nibble order (xn, xs32) */
} QuantJob;

/* The 4 bytes of w each plus the bytes of o, modulo 256 (no carry between bytes). */
static uint32_t bytes_add(uint32_t w, uint32_t o)
{
	return ((w & 0x7f7f7f7fu) + (o & 0x7f7f7f7fu)) ^ ((w ^ o) & 0x80808080u);
}

/* Copies token t's quantized Q8_0 activations into its lane of its group (layout in
 * dot.h), 4 bytes (one lane) at a time; each token writes only its own bytes, so threads may
 * share a group. A padding token (t >= the batch) gets x = 0 and scale 0. */
static void transpose_token(MatmulScratch *s, int t, int nb, bool pad)
{
	size_t g = (size_t)(t / QTILE_TOKENS) * (size_t)nb;
	int lane = t % QTILE_TOKENS;
	uint32_t offset = kernels_tile_x_offset() * 0x01010101u;
	const int8_t *x = s->xq + (size_t)t * (size_t)nb * QK8_0;
	for (int b = 0; b < nb; b++) {
		uint8_t *dst = s->xt + (g + (size_t)b) * QTILE_BLOCK_BYTES + lane * 4;
		for (int i = 0; i < QK8_0 / 4; i++) {
			uint32_t w = 0;
			if (!pad)
				__builtin_memcpy(&w, x + b * QK8_0 + i * 4, 4);
			w = bytes_add(w, offset);
			__builtin_memcpy(dst + i * QTILE_LANE_BYTES, &w, 4);
		}
		s->xdt[(g + (size_t)b) * QTILE_TOKENS + (size_t)lane] =
		    pad ? 0.0f : s->xd[(size_t)t * (size_t)nb + (size_t)b];
	}
}

_Static_assert(KTILE_TOKENS == QTILE_TOKENS,
	       "the K-quant tiles pad the batch as the Q8_0 tiles do");

static void quant_task(void *ctx, int ith, int nth)
{
	const QuantJob *q = ctx;
	int t0 = (int)((int64_t)q->n * ith / nth), t1 = (int)((int64_t)q->n * (ith + 1) / nth);
	int nb = (q->cols + q->B - 1) / q->B;
	for (int t = t0; t < t1; t++) {
		const float *x = q->x + (size_t)t * (size_t)q->x_stride;
		size_t xo = (size_t)t * (size_t)nb, vo = (size_t)t * (size_t)q->cols;
		/* Q8_0 activations: Q8_0 weights and the 4/5-bit types without a min */
		if (q->type == DT_Q8_0 || q->type == DT_Q4_0 || q->type == DT_Q5_0) {
			kernels.quant_act_q8_0(x, q->cols, q->s->xq + vo, q->s->xd + xo,
					       q->s->xsum + xo);
			if (q->tiled)
				transpose_token(q->s, t, nb, false);
			else if (q->type == DT_Q4_0 || q->type == DT_Q5_0)
				quant_act_q4_0_order(q->s->xq + vo, nb, q->s->xn + vo);
		} else if (q->type == DT_INT8)
			kernels.quant_act_int8(x, q->cols, q->B, q->s->xq + vo, q->s->xd + xo,
					       q->s->xsum + xo);
		else if (q->type == DT_F16)
			kernels.quant_act_f16(x, q->cols, q->s->f16 + vo,
					      q->tiled ? q->s->xd + vo : NULL);
		else if (kquant_act(q->type) == ACT_Q8_1)
			kernels.quant_act_q8_1(x, q->cols, q->s->xq + vo, q->s->xd + xo,
					       q->s->xs + xo);
		else {
			kernels.quant_act_q8_k(x, q->cols, q->s->xq + vo, q->s->xd + xo,
					       q->s->xsum + xo);
			if (q->k4_order)
				quant_act_k4_order(q->s->xq + vo, q->s->xsum + xo, q->cols / QK_K,
						   q->s->xn + vo, q->s->xs32 + vo / 32);
			if (q->tiled) {
				KTileAct xt = matmul_scratch_ktile(q->s);
				ktile_put_token(&xt, q->cols / QK_K, t, q->s->xq + vo,
						q->s->xd + xo, q->s->xsum + xo);
			}
		}
	}
}

void matmul_act_prepare(const float *x, int x_stride, int n, int cols, int B, DType type,
			MatmulScratch *s, bool tiled, bool k4_order)
{
	QuantJob q = {x, x_stride, n, cols, B, type, s, tiled, k4_order};
	if (n > 1 && plat_threads() > 1)
		plat_parallel(quant_task, &q);
	else
		quant_task(&q, 0, 1);
	/* Q8_0, and Q4_0/Q5_0 unpacked to Q8_0 rows, in the Q8_0 tile; F16's floats need none */
	bool q8 = type == DT_Q8_0 || type == DT_Q4_0 || type == DT_Q5_0;
	KTileAct xt = matmul_scratch_ktile(s);
	for (int t = n; tiled && type != DT_F16 && t % QTILE_TOKENS; t++)
		if (q8)
			transpose_token(s, t, cols / QK8_0, true);
		else
			ktile_put_token(&xt, cols / QK_K, t, NULL, NULL, NULL);
}
