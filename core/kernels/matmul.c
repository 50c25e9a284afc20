/* matmul.c: the matmul driver: activations quantized once per pass (matmul_act.c), the rows of
 * every output split evenly across the thread pool (each row is computed the same way whatever the
 * thread count, so results do not depend on it), prompt batches in tiles, the profile zone and
 * kernel record of each pass. The kernels themselves are the registry's entries. */
#include "core/kernels/matmul.h"
#include "core/kernels/matmul_act.h"

#include "core/base/core_assert.h"
#include "core/kernels/kquant.h"
#include "core/kernels/registry.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"

/* --- Matmul jobs --- */

/* One job: count outputs sharing one input batch; their rows are numbered one after the
 * other and split evenly across the threads. */
typedef struct {
	const MatmulOut *outs;
	int count, total_rows;
	const float *x; /* (n, x_stride) floats, for F32 */
	int x_stride, n;
	const MatmulScratch *s;
	int cols;
	int B;	     /* int8: values per activation block */
	bool swiglu; /* matmul_swiglu: rows split alike in both outs, then SwiGLU on them */
	bool tiled;  /* the batch is in xt/xdt too, for the tile entry */
	uint64_t *swiglu_cycles; /* NULL, or gets thread 0's SwiGLU cycles (profiled runs) */
	int next_chunk;		 /* batches: the next chunk of rows to claim (matmul_task) */
} MatmulJob;

/* Rows per tile of the batched loops: their weights stay in L1/L2 while every token of the
 * batch passes over them, so each weight byte comes from memory once per batch. */
#define MATMUL_ROW_TILE 4

/* A batch: the ISA's tile, or each row (in L1) against every token; weights come from memory
 * once either way. */
static void rows_f32(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	int n = j->cols;
	const float *w = o->W->data;
	if (j->tiled) { /* the tile, x as it is */
		kernels.dot_f32_tile(w + (size_t)r0 * (size_t)n, n, r1 - r0, j->x,
				     (size_t)j->x_stride, j->n, o->y + r0, (size_t)o->y_stride);
		return;
	}
	FDotF32Fn dot = kernels.dot_f32;
	for (int i = r0; i < r1; i++)
		for (int t = 0; t < j->n; t++)
			o->y[(size_t)t * (size_t)o->y_stride + (size_t)i] = dot(
			    w + (size_t)i * (size_t)n, j->x + (size_t)t * (size_t)j->x_stride, n);
}

static void rows_f16(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	int n = j->cols;
	const uint16_t *w = o->W->data;
	if (j->tiled) { /* the tile, the batch's fp16-rounded x as floats in xd (matmul_act.c) */
		kernels.dot_f16_tile(w + (size_t)r0 * (size_t)n, n, r1 - r0, j->s->xd, (size_t)n,
				     j->n, o->y + r0, (size_t)o->y_stride);
		return;
	}
	FDotF16Fn dot = kernels.dot_f16;
	for (int i = r0; i < r1; i++)
		for (int t = 0; t < j->n; t++)
			o->y[(size_t)t * (size_t)o->y_stride + (size_t)i] =
			    dot(w + (size_t)i * (size_t)n, j->s->f16 + (size_t)t * (size_t)n, n);
}

static void rows_q8_0(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	int nb = j->cols / QK8_0;
	const BlockQ8_0 *w = o->W->data;
	const MatmulScratch *s = j->s;
	if (j->n == 1) {
		QDotQ8Fn dot = kernels.dot_q8_0;
		for (int i = r0; i < r1; i++)
			o->y[i] = dot(w + (size_t)i * (size_t)nb, s->xq, s->xd, s->xsum, nb);
		return;
	}
	if (j->tiled) { /* tiles of rows (in L1) against every token, 16 at a time */
		QDotQ8TileFn tile = kernels.dot_q8_0_tile;
		for (int i = r0; i < r1; i += QTILE_ROWS)
			tile(w + (size_t)i * (size_t)nb, nb,
			     r1 - i < QTILE_ROWS ? r1 - i : QTILE_ROWS, s->xt, s->xdt, j->n,
			     o->y + i, (size_t)o->y_stride);
		return;
	}
	/* a batch: each row (in L1) against every token (in L2), so weights come from memory
	 * once per batch */
	QDotQ8BatchFn dot = kernels.dot_q8_0_batch;
	for (int i = r0; i < r1; i++)
		dot(w + (size_t)i * (size_t)nb, s->xq, s->xd, s->xsum, nb, j->n, o->y + i,
		    (size_t)o->y_stride);
}

static void rows_int8(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	const QuantizedTensor *t = &o->W->i8;
	int n = t->cols, B = j->B, nb = (n + B - 1) / B;
	const MatmulScratch *s = j->s;
	QDotI8TileFn tile = kernels.dot_int8_tile;
	if (tile && j->n > 1) { /* tiles of rows (in L1) against every token */
		/* grouped files' groups divide the rows (llama2c.c checks), so row i's scales
		 * start at i n / group */
		CORE_ASSERT(!t->group_scales || n % t->group_size == 0);
		size_t ws_stride = t->group_scales ? (size_t)(n / t->group_size) : 0;
		for (int i = r0; i < r1; i += QTILE_ROWS) {
			size_t base = (size_t)i * (size_t)n;
			tile(t->q + base,
			     t->group_scales ? t->group_scales + base / (size_t)t->group_size
					     : NULL,
			     ws_stride, t->scale, t->zero_point,
			     r1 - i < QTILE_ROWS ? r1 - i : QTILE_ROWS, s->xq, s->xd, s->xsum, n, B,
			     j->n, o->y + i, (size_t)o->y_stride);
		}
		return;
	}
	QDotI8Fn dot = kernels.dot_int8;
	for (int i0 = r0; i0 < r1; i0 += MATMUL_ROW_TILE) {
		int i1 = i0 + MATMUL_ROW_TILE < r1 ? i0 + MATMUL_ROW_TILE : r1;
		for (int tk = 0; tk < j->n; tk++) {
			size_t xo = (size_t)tk * (size_t)nb;
			float *y = o->y + (size_t)tk * (size_t)o->y_stride;
			for (int i = i0; i < i1; i++) {
				size_t base = (size_t)i * (size_t)n;
				const float *ws =
				    t->group_scales ? t->group_scales + base / (size_t)t->group_size
						    : NULL;
				y[i] = dot(t->q + base, ws, t->scale, t->zero_point,
					   s->xq + (size_t)tk * (size_t)n, s->xd + xo, s->xsum + xo,
					   n, B);
			}
		}
	}
}

/* Rows per tile of the K-quant batches: the tile's weights stay in L1 while each group of
 * tokens passes over them, so each group's activations come from L2 once per tile. */
#define KQ_ROW_TILE 8

/* The K-quant tile entry of type (NULL: none for the type, or for the ISA). */
static KTileFn ktile_of(DType type)
{
	switch (type) {
	case DT_Q2_K:
		return kernels.dot_q2_k_tile;
	case DT_Q3_K:
		return kernels.dot_q3_k_tile;
	case DT_Q4_K:
		return kernels.dot_q4_k_tile;
	case DT_Q5_K:
		return kernels.dot_q5_k_tile;
	case DT_Q6_K:
		return kernels.dot_q6_k_tile;
	default:
		return NULL;
	}
}

/* Q8_0 blocks a Q4_0/Q5_0 prompt tile unpacks its rows into, on the stack (47 KB): 8 rows of
 * 5632 values (TinyLlama's FFN down), fewer rows per tile of longer ones. */
#define Q8_ROWS_BLOCKS (QTILE_ROWS * 176)
_Static_assert(Q8_ROWS_BLOCKS >= QTILE_MAX_NB, "a tile takes at least one row");

/* The 4/5-bit and K-quant types: each row against every token of the batch, KQ_BATCH_TOKENS at
 * a time where the ISA has a batch entry (the one-token entry's bits either way). */
static void rows_kquant(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	DType type = o->W->type;
	KDotFn dot = kernels.dot_kquant[kquant_index(type)];
	KDotBatchFn batch = j->n > 1 ? kernels.dot_kquant_batch[kquant_index(type)] : NULL;
	CORE_ASSERT(dot); /* filled by kernels_select */
	int cols = j->cols, nb = cols / kquant_block(type), na = cols / j->B;
	size_t row_bytes = dtype_row_bytes(type, cols), ys = (size_t)o->y_stride;
	const uint8_t *w = o->W->data;
	const MatmulScratch *s = j->s;
	if (j->tiled && kquant_act(type) == ACT_Q8_0) { /* as Q8_0 rows, in the Q8_0 tile */
		BlockQ8_0 rows[Q8_ROWS_BLOCKS];
		int per = Q8_ROWS_BLOCKS / nb < QTILE_ROWS ? Q8_ROWS_BLOCKS / nb : QTILE_ROWS;
		for (int i = r0; i < r1; i += per) {
			int m = r1 - i < per ? r1 - i : per;
			for (int r = 0; r < m; r++)
				kernels.row_to_q8_0(type, w + (size_t)(i + r) * row_bytes, nb,
						    rows + (size_t)r * (size_t)nb);
			QDotCodesTileFn codes =
			    type == DT_Q4_0 ? kernels.dot_q4_0_tile : kernels.dot_q5_0_tile;
			if (codes)
				codes(rows, nb, m, s->xt, s->xdt, s->xsum, j->n, o->y + i, ys);
			else
				kernels.dot_q8_0_tile(rows, nb, m, s->xt, s->xdt, j->n, o->y + i,
						      ys);
		}
		return;
	}
	if (j->tiled) { /* the ISA's tile: 8 rows x 16 tokens at a time */
		KTileAct xt = matmul_scratch_ktile(s);
		KTileFn tile = ktile_of(type);
		tile(w + (size_t)r0 * row_bytes, row_bytes, r1 - r0, nb, &xt, j->n, o->y + r0, ys);
		return;
	}
	KDot2Fn pair = j->n == 1 ? kernels.dot_kquant_x2[kquant_index(type)] : NULL;
	if (pair) {
		QAct x = {s->xq, s->xd, s->xs, s->xsum, s->xn, s->xs32};
		int i = r0;
		for (; i + 1 < r1; i += 2)
			pair(w + (size_t)i * row_bytes, row_bytes, &x, nb, o->y + i);
		if (i < r1)
			o->y[i] = dot(w + (size_t)i * row_bytes, &x, nb);
		return;
	}
	if (!batch) {
		for (int i = r0; i < r1; i++)
			for (int t = 0; t < j->n; t++) {
				size_t xo = (size_t)t * (size_t)na;
				QAct x = {s->xq + (size_t)t * (size_t)cols,
					  s->xd + xo,
					  s->xs + xo,
					  s->xsum + xo,
					  s->xn + (size_t)t * (size_t)cols,
					  s->xs32 + (size_t)t * (size_t)cols / 32};
				o->y[(size_t)t * ys + (size_t)i] =
				    dot(w + (size_t)i * row_bytes, &x, nb);
			}
		return;
	}
	for (int i0 = r0; i0 < r1; i0 += KQ_ROW_TILE) {
		int i1 = i0 + KQ_ROW_TILE < r1 ? i0 + KQ_ROW_TILE : r1;
		for (int t0 = 0; t0 < j->n; t0 += KQ_BATCH_TOKENS) {
			int m = j->n - t0 < KQ_BATCH_TOKENS ? j->n - t0 : KQ_BATCH_TOKENS;
			QAct x[KQ_BATCH_TOKENS];
			for (int t = 0; t < m; t++) {
				size_t xo = (size_t)(t0 + t) * (size_t)na;
				x[t] = (QAct){s->xq + (size_t)(t0 + t) * (size_t)cols,
					      s->xd + xo,
					      s->xs + xo,
					      s->xsum + xo,
					      s->xn + (size_t)(t0 + t) * (size_t)cols,
					      s->xs32 + (size_t)(t0 + t) * (size_t)cols / 32};
			}
			for (int i = i0; i < i1; i++)
				batch(w + (size_t)i * row_bytes, x, m, nb,
				      o->y + (size_t)t0 * ys + (size_t)i, ys);
		}
	}
}

static void rows_any(const MatmulJob *j, const MatmulOut *o, int a, int b)
{
	switch (o->W->type) {
	case DT_F32:
		rows_f32(j, o, a, b);
		break;
	case DT_F16:
		rows_f16(j, o, a, b);
		break;
	case DT_Q8_0:
		rows_q8_0(j, o, a, b);
		break;
	case DT_INT8:
		rows_int8(j, o, a, b);
		break;
	default:
		rows_kquant(j, o, a, b);
		break;
	}
}

/* Rows [a, b) of both outs of a matmul_swiglu job, then SwiGLU on them (every token). */
static void swiglu_rows(const MatmulJob *j, int a, int b, bool timed)
{
	const MatmulOut *o = j->outs;
	rows_any(j, &o[0], a, b);
	rows_any(j, &o[1], a, b);
	uint64_t t0 = timed ? plat_cycles() : 0;
	SwigluFn swiglu = kernels.swiglu;
	for (int t = 0; t < j->n; t++)
		swiglu(o[0].y + (size_t)t * (size_t)o[0].y_stride + (size_t)a,
		       o[1].y + (size_t)t * (size_t)o[1].y_stride + (size_t)a, b - a);
	if (timed)
		*j->swiglu_cycles += plat_cycles() - t0;
}

/* Rows [r0, r1) of the job's outs, numbered one after the other. */
static void job_rows(const MatmulJob *j, int r0, int r1)
{
	for (int c = 0, first = 0; c < j->count; first += j->outs[c].W->rows, c++) {
		const MatmulOut *o = &j->outs[c];
		int a = r0 > first ? r0 - first : 0;
		int b = r1 - first < o->W->rows ? r1 - first : o->W->rows;
		if (a < b)
			rows_any(j, o, a, b);
	}
}

/* Claims per thread of a prompt batch's pass: each thread takes the next chunk of rows when it
 * is done with one, so a thread that another process holds up, or that runs slower, delays
 * the pass by about a chunk instead of by its whole share. */
#define MATMUL_CHUNKS_PER_THREAD 16

static void matmul_task(void *ctx, int ith, int nth)
{
	MatmulJob *j = ctx;
	int R = j->swiglu ? j->outs[0].W->rows : j->total_rows;
	/* only thread 0's SwiGLU time is filed (see matmul_pass): the others skip the clock */
	bool timed = j->swiglu_cycles && ith == 0;
	if (j->n == 1 || nth == 1) { /* one token streams weights: an even split in order */
		int r0 = (int)((int64_t)R * ith / nth), r1 = (int)((int64_t)R * (ith + 1) / nth);
		if (r0 >= r1)
			return;
		if (j->swiglu)
			swiglu_rows(j, r0, r1, timed);
		else
			job_rows(j, r0, r1);
		return;
	}
	/* whole tiles of QTILE_ROWS rows per chunk */
	int chunk = (R + nth * MATMUL_CHUNKS_PER_THREAD - 1) / (nth * MATMUL_CHUNKS_PER_THREAD);
	chunk = (chunk + QTILE_ROWS - 1) / QTILE_ROWS * QTILE_ROWS;
	for (;;) {
		int r0 = __atomic_fetch_add(&j->next_chunk, 1, __ATOMIC_RELAXED) * chunk;
		if (r0 >= R)
			return;
		int r1 = R - r0 < chunk ? R : r0 + chunk;
		if (j->swiglu)
			swiglu_rows(j, r0, r1, timed);
		else
			job_rows(j, r0, r1);
	}
}

static int act_block(const Tensor *W)
{
	if (W->type == DT_INT8)
		return W->i8.group_scales ? W->i8.group_size : QK8_0;
	if (kquant_block(W->type))
		return kquant_act_block(kquant_act(W->type));
	return QK8_0;
}

/* Whether weights of types a and b can share a pass: the same type, or two K-quants with
 * super-blocks (all quantize the batch to Q8_K, the same way, and have a tile where one does).
 * A mix puts a Q3_K_M layer's Q3_K attn_q/attn_k and Q4_K attn_v in one pass over one
 * quantization of the batch, as a single type's are. */
static bool types_share_pass(DType a, DType b)
{
	return a == b || (kquant_act(a) == ACT_Q8_K && kquant_act(b) == ACT_Q8_K &&
			  (ktile_of(a) != NULL) == (ktile_of(b) != NULL));
}

/* All outs must share a pass with the first, its cols and its activation block (else one by
 * one). */
static bool outs_compatible(const MatmulOut *outs, int count)
{
	for (int c = 1; c < count; c++)
		if (!types_share_pass(outs[c].W->type, outs[0].W->type) ||
		    outs[c].W->cols != outs[0].W->cols ||
		    act_block(outs[c].W) != act_block(outs[0].W))
			return false;
	return true;
}

/* The registry entry a pass runs (its stable name, for the kernel record). */
static const char *entry_name(DType type, int n, bool tiled)
{
	/* the K-quants' one-token entry, their batch entry, their tile entry, their row pairs */
	static const char *const kq[KQ_COUNT][4] = {
	    [KQ_Q4_0] = {"dot_q4_0", "dot_q4_0_batch", "dot_q4_0_tile", "dot_q4_0_x2"},
	    [KQ_Q4_1] = {"dot_q4_1", "dot_q4_1_batch", NULL, "dot_q4_1_x2"},
	    [KQ_Q5_0] = {"dot_q5_0", "dot_q5_0_batch", "dot_q5_0_tile", "dot_q5_0_x2"},
	    [KQ_Q5_1] = {"dot_q5_1", "dot_q5_1_batch", NULL, "dot_q5_1_x2"},
	    [KQ_Q2_K] = {"dot_q2_k", "dot_q2_k_batch", "dot_q2_k_tile", "dot_q2_k_x2"},
	    [KQ_Q3_K] = {"dot_q3_k", "dot_q3_k_batch", "dot_q3_k_tile", "dot_q3_k_x2"},
	    [KQ_Q4_K] = {"dot_q4_k", "dot_q4_k_batch", "dot_q4_k_tile", "dot_q4_k_x2"},
	    [KQ_Q5_K] = {"dot_q5_k", "dot_q5_k_batch", "dot_q5_k_tile", "dot_q5_k_x2"},
	    [KQ_Q6_K] = {"dot_q6_k", "dot_q6_k_batch", "dot_q6_k_tile", "dot_q6_k_x2"}};
	switch (type) {
	case DT_F32:
		return tiled ? "dot_f32_tile" : "dot_f32";
	case DT_F16:
		return tiled ? "dot_f16_tile" : "dot_f16";
	case DT_Q8_0:
		return n == 1 ? "dot_q8_0" : tiled ? "dot_q8_0_tile" : "dot_q8_0_batch";
	case DT_INT8:
		return n > 1 && kernels.dot_int8_tile ? "dot_int8_tile" : "dot_int8";
	default:
		break;
	}
	int k = kquant_index(type);
	if (k < 0)
		return "?";
	if (n == 1 && kernels.dot_kquant_x2[k])
		return kq[k][3];
	return kq[k][tiled ? 2 : n > 1 && kernels.dot_kquant_batch[k]];
}

/* Bytes of weights a pass reads: the rows, and an int8 tensor's group scales. */
static uint64_t weight_bytes(const MatmulOut *outs, int count)
{
	uint64_t bytes = 0;
	for (int c = 0; c < count; c++) {
		const Tensor *W = outs[c].W;
		bytes += (uint64_t)W->rows * dtype_row_bytes(W->type, W->cols);
		if (W->type == DT_INT8 && W->i8.group_scales)
			bytes += (uint64_t)W->rows * (uint64_t)W->cols /
				 (uint64_t)W->i8.group_size * sizeof(float);
	}
	return bytes;
}

/* One pool pass over compatible outs and at most s->batch tokens, in the matmul zone of its
 * dtype (Q8_0 and int8 share the seed's matmul_int8). */
static void matmul_pass(const MatmulOut *outs, int count, const float *x, int x_stride, int n,
			MatmulScratch *s, bool swiglu)
{
	const Tensor *W = outs[0].W;
	DType type = W->type;
	CORE_ASSERT(W->cols > 0 && W->cols <= s->cap && n >= 1 && n <= s->batch);
	CORE_ASSERT(x_stride >= W->cols && (type != DT_Q8_0 || W->cols % QK8_0 == 0));
	PROFILE_BEGIN(zone, type == DT_F32	      ? "matmul_f32"
			    : type == DT_F16	      ? "matmul_f16"
			    : kquant_block(type) != 0 ? "matmul_kquant"
						      : "matmul_int8");
	bool profiled = profiler_enabled();
	uint64_t start = profiled ? plat_cycles() : 0, swiglu_cycles = 0;
	KTileFn ktile = ktile_of(type);
	/* Q8_0, and Q4_0/Q5_0 unpacked to Q8_0 rows (rows_kquant), in the Q8_0 tile */
	bool q8_tiled = type == DT_Q8_0 || type == DT_Q4_0 || type == DT_Q5_0;
	bool tiled =
	    n > 1 &&
	    ((kernels.dot_q8_0_tile && q8_tiled && W->cols / QK8_0 <= QTILE_MAX_NB) || ktile ||
	     (type == DT_F16 && kernels.dot_f16_tile) || (type == DT_F32 && kernels.dot_f32_tile));
	/* the K-quants' nibble-order copy only for a pass that reads it: a mix's types share one
	 * pass, so any out may be the Q4_K or Q5_K one */
	bool k4_order = false;
	for (int c = 0; c < count && !tiled; c++)
		k4_order |= outs[c].W->type == DT_Q4_K || outs[c].W->type == DT_Q5_K;
	if (type != DT_F32)
		matmul_act_prepare(x, x_stride, n, W->cols, act_block(W), type, s, tiled, k4_order);
	MatmulJob j = {outs,   count,	 0,
		       x,      x_stride, n,
		       s,      W->cols,	 act_block(W),
		       swiglu, tiled,	 profiled ? &swiglu_cycles : NULL,
		       0};
	for (int c = 0; c < count; c++) {
		CORE_ASSERT(outs[c].W->rows > 0 && outs[c].y_stride >= outs[c].W->rows);
		j.total_rows += outs[c].W->rows;
	}
	/* a small pass (stories260K's 64 x 64 rows) costs less than handing it to the pool */
	size_t work = (size_t)j.total_rows * (size_t)W->cols * (size_t)n;
	if (plat_threads() > 1 && j.total_rows >= 64 && work >= plat_parallel_min_work())
		plat_parallel(matmul_task, &j);
	else
		matmul_task(&j, 0, 1);
	/* SwiGLU ran on every thread right after its rows; the zone gets thread 0's (the calling
	 * thread's) cycles, the part of the pass's wall-clock time it spent there, so that self
	 * cycles still add up to the run total (the other threads ran theirs at the same time) */
	if (swiglu) {
		PROFILE_ADD(swiglu_zone, "swiglu", swiglu_cycles, (uint64_t)n);
		if (profiled)
			profiler_kernel_record("swiglu", dtype_name(DT_F32), 1, W->rows, n,
					       kernels_isa_name(), swiglu_cycles, 0);
	}
	/* the matmul's cycles (SwiGLU is its own zone); a pass over several K-quant types is filed
	 * under the first out's entry and type, its rows and bytes those of all outs */
	if (profiled)
		profiler_kernel_record(entry_name(type, n, tiled), dtype_name(type), j.total_rows,
				       W->cols, n, kernels_isa_name(),
				       plat_cycles() - start - swiglu_cycles,
				       weight_bytes(outs, count));
	PROFILE_END(zone);
}

static void matmul_run(const MatmulOut *outs, int count, const float *x, int x_stride, int n,
		       MatmulScratch *s, bool swiglu)
{
	CORE_ASSERT(count >= 1 && count <= MATMUL_MAX_OUTS && n >= 1);
	if (count > 1 && !outs_compatible(outs, count)) {
		for (int c = 0; c < count; c++)
			matmul_run(&outs[c], 1, x, x_stride, n, s, false);
		if (swiglu) { /* on this thread alone: a zone of its own */
			PROFILE_BEGIN(zone, "swiglu");
			uint64_t start = profiler_enabled() ? plat_cycles() : 0;
			for (int t = 0; t < n; t++)
				kernels.swiglu(outs[0].y + (size_t)t * (size_t)outs[0].y_stride,
					       outs[1].y + (size_t)t * (size_t)outs[1].y_stride,
					       outs[0].W->rows);
			if (start)
				profiler_kernel_record("swiglu", dtype_name(DT_F32), 1,
						       outs[0].W->rows, n, kernels_isa_name(),
						       plat_cycles() - start, 0);
			PROFILE_END(zone);
		}
		return;
	}
	if (n > s->batch) { /* more tokens than the scratch holds: in slices */
		for (int t0 = 0; t0 < n; t0 += s->batch) {
			int m = n - t0 < s->batch ? n - t0 : s->batch;
			MatmulOut sub[MATMUL_MAX_OUTS];
			for (int c = 0; c < count; c++) {
				sub[c] = outs[c];
				sub[c].y += (size_t)t0 * (size_t)outs[c].y_stride;
			}
			matmul_run(sub, count, x + (size_t)t0 * (size_t)x_stride, x_stride, m, s,
				   swiglu);
		}
		return;
	}
	matmul_pass(outs, count, x, x_stride, n, s, swiglu);
}

void matmul_multi(const MatmulOut *outs, int count, const float *x, int x_stride, int n,
		  MatmulScratch *s)
{
	matmul_run(outs, count, x, x_stride, n, s, false);
}

void matmul_swiglu(const MatmulOut outs[2], const float *x, int x_stride, int n, MatmulScratch *s)
{
	CORE_ASSERT(outs[0].W->rows == outs[1].W->rows);
	matmul_run(outs, 2, x, x_stride, n, s, true);
}

void matmul_int8(float *y, const QuantizedTensor *W, const float *x, MatmulScratch *s)
{
	Tensor t = {.type = DT_INT8, .rows = W->rows, .cols = W->cols, .i8 = *W};
	MatmulOut o = {y, &t, W->rows};
	matmul_multi(&o, 1, x, W->cols, 1, s);
}

void matmul(float *y, const Tensor *W, const float *x, MatmulScratch *s)
{
	MatmulOut o = {y, W, W->rows};
	matmul_multi(&o, 1, x, W->cols, 1, s);
}
