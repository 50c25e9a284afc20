/* quant.c: fp16/Q8_0/int8 conversions, the scalar reference dot kernels, the ISA dispatch,
 * and matmul (one token or a batch) split across the platform's thread pool by rows (each row
 * is computed the same way whatever the thread count, so results do not depend on it). */
#include "core/kernels/quant.h"

#include "core/base/arena.h"
#include "core/kernels/cpu.h"
#include "core/kernels/kquant.h"
#include "core/base/error.h"
#include "core/base/mathx.h"
#include "core/profile/profiler.h"
#include "core/kernels/quant_kernels.h"
#include "core/kernels/tile_avx2.h"
#include "shim/platform.h"
#include "core/base/str.h"

size_t dtype_row_bytes(DType t, int cols)
{
	switch (t) {
	case DT_F32:
		return (size_t)cols * 4;
	case DT_F16:
		return (size_t)cols * 2;
	case DT_Q8_0:
		return cols % QK8_0 ? 0 : (size_t)(cols / QK8_0) * sizeof(BlockQ8_0);
	case DT_INT8:
		return (size_t)cols;
	default: /* the 4/5-bit and K-quant blocks */
		return kquant_block(t) && cols % kquant_block(t) == 0
			   ? (size_t)(cols / kquant_block(t)) * kquant_block_bytes(t)
			   : 0;
	}
}

const char *dtype_name(DType t)
{
	switch (t) {
	case DT_F32:
		return "F32";
	case DT_F16:
		return "F16";
	case DT_Q8_0:
		return "Q8_0";
	case DT_INT8:
		return "INT8";
	case DT_Q4_0:
		return "Q4_0";
	case DT_Q4_1:
		return "Q4_1";
	case DT_Q5_0:
		return "Q5_0";
	case DT_Q5_1:
		return "Q5_1";
	case DT_Q2_K:
		return "Q2_K";
	case DT_Q3_K:
		return "Q3_K";
	case DT_Q4_K:
		return "Q4_K";
	case DT_Q5_K:
		return "Q5_K";
	case DT_Q6_K:
		return "Q6_K";
	}
	return "?";
}

static inline uint32_t f32_bits(float f)
{
	union {
		float f;
		uint32_t u;
	} v = {.f = f};
	return v.u;
}

static inline float bits_f32(uint32_t u)
{
	union {
		uint32_t u;
		float f;
	} v = {.u = u};
	return v.f;
}

uint16_t fp32_to_fp16(float f)
{
	uint32_t x = f32_bits(f);
	uint32_t sign = (x >> 16) & 0x8000;
	uint32_t exp = (x >> 23) & 0xff;
	uint32_t man = x & 0x7fffff;
	if (exp == 0xff) /* inf or nan (nan keeps a quiet bit) */
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
	int e = (int)exp - 127 + 15;
	if (e >= 0x1f)
		return (uint16_t)(sign | 0x7c00);
	if (e <= 0) {
		if (e < -10)
			return (uint16_t)sign;
		/* Subnormal: shift the full mantissa, round to nearest even. */
		man |= 0x800000;
		int shift = 14 - e;
		uint32_t half = 1u << (shift - 1);
		uint32_t rem = man & ((1u << shift) - 1);
		uint32_t h = man >> shift;
		if (rem > half || (rem == half && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
	uint32_t h = ((uint32_t)e << 10) | (man >> 13);
	uint32_t rem = man & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++; /* may carry into the exponent, up to inf: that is the right answer */
	return (uint16_t)(sign | h);
}

float fp16_to_fp32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;
	if (exp == 0) {
		if (man == 0)
			return bits_f32(sign);
		/* Subnormal: value = man * 2^-24 exactly. */
		float v = (float)man * 5.9604644775390625e-8f;
		return sign ? -v : v;
	}
	if (exp == 0x1f)
		return bits_f32(sign | 0x7f800000 | (man << 13));
	return bits_f32(sign | ((exp - 15 + 127) << 23) | (man << 13));
}

float round_half_away(float v)
{
	float a = math_fabsf(v);
	if (!(a < 8388608.0f))
		return v; /* already an integer, or inf/NaN (no float-to-int cast of those) */
	float r = (float)(int32_t)a;
	if (a - r >= 0.5f)
		r += 1.0f;
	return v < 0 ? -r : r;
}

/* A quantizer's value to int8, saturated as the SIMD quantizer's packs do: NaN (from NaN
 * inputs) becomes -128, and values past the range (a subnormal scale's inverse can push
 * them to 129) are clamped, so no out-of-range cast (undefined in C) happens. */
static inline int8_t quant_i8(float v)
{
	return v != v ? (int8_t)-128 : v > 127.0f ? 127 : v < -128.0f ? -128 : (int8_t)v;
}

/* Largest |value| of n floats, NaN skipped (the quantizers' amax). */
static float block_amax(const float *x, int n)
{
	float amax = 0;
	for (int j = 0; j < n; j++)
		if (math_fabsf(x[j]) > amax)
			amax = math_fabsf(x[j]);
	return amax;
}

void quantize_row_q8_0(const float *x, BlockQ8_0 *out, int n)
{
	for (int b = 0; b < n / QK8_0; b++) {
		const float *xb = x + b * QK8_0;
		float d = block_amax(xb, QK8_0) / 127.0f;
		float id = d ? 1.0f / d : 0.0f;
		out[b].d = fp32_to_fp16(d);
		for (int j = 0; j < QK8_0; j++)
			out[b].qs[j] = quant_i8(round_half_away(xb[j] * id));
	}
}

void dequantize_row_q8_0(const BlockQ8_0 *in, float *y, int n)
{
	for (int b = 0; b < n / QK8_0; b++) {
		float d = fp16_to_fp32(in[b].d);
		for (int j = 0; j < QK8_0; j++)
			y[b * QK8_0 + j] = d * in[b].qs[j];
	}
}

void quantize_int8(const float *w, size_t n, int8_t *q, float *scale, int32_t *zero_point)
{
	float lo = 0, hi = 0; /* the range always holds 0, so 0 is exact */
	for (size_t i = 0; i < n; i++) {
		lo = w[i] < lo ? w[i] : lo;
		hi = w[i] > hi ? w[i] : hi;
	}
	float s = (hi - lo) / 255.0f;
	if (s == 0)
		s = 1.0f;
	/* Clamped as a float: with infinite weights the zero point is NaN (then 0). */
	float z = round_half_away(-128.0f - lo / s);
	int32_t zp = z != z ? 0 : z < -128 ? -128 : z > 127 ? 127 : (int32_t)z;
	for (size_t i = 0; i < n; i++) {
		float v = round_half_away(w[i] / s) + (float)zp;
		q[i] = quant_i8(v < -128 ? -128 : v > 127 ? 127 : v);
	}
	*scale = s;
	*zero_point = zp;
}

void tensor_row(const Tensor *W, int r, float *out)
{
	size_t off = (size_t)r * (size_t)W->cols;
	switch (W->type) {
	case DT_F32:
		for (int j = 0; j < W->cols; j++)
			out[j] = ((const float *)W->data)[off + j];
		break;
	case DT_F16:
		for (int j = 0; j < W->cols; j++)
			out[j] = fp16_to_fp32(((const uint16_t *)W->data)[off + j]);
		break;
	case DT_Q8_0:
		dequantize_row_q8_0((const BlockQ8_0 *)W->data + off / QK8_0, out, W->cols);
		break;
	case DT_INT8: {
		const QuantizedTensor *t = &W->i8;
		for (int j = 0; j < W->cols; j++) {
			size_t i = off + (size_t)j;
			float s =
			    t->group_scales ? t->group_scales[i / (size_t)t->group_size] : t->scale;
			out[j] = s * (float)(t->q[i] - t->zero_point);
		}
		break;
	}
	default:
		kquant_dequantize_row(W->type,
				      (const uint8_t *)W->data +
					  (size_t)r * dtype_row_bytes(W->type, W->cols),
				      out, W->cols);
		break;
	}
}

/* --- Scalar reference kernels: they define the bits every SIMD variant must reproduce. --- */

float qdot_q8_ref(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
		  int nb)
{
	(void)xsum; /* only the kernels that offset the weights to unsigned need it */
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum = qdot_block_i32(w[b].qs, xq + b * QK8_0, QK8_0);
		acc[b % QDOT_LANES] += (float)isum * (fp16_to_fp32(w[b].d) * xd[b]);
	}
	return qdot_tree(acc);
}

void qdot_q8_batch_ref(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
		       int nb, int ntok, float *y, size_t y_stride)
{
	for (int t = 0; t < ntok; t++)
		y[(size_t)t * y_stride] =
		    qdot_q8_ref(w, xq + (size_t)t * (size_t)nb * QK8_0, xd + (size_t)t * (size_t)nb,
				xsum + (size_t)t * (size_t)nb, nb);
}

void qdot_q8_tile_ref(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
		      int ntok, float *y, size_t y_stride)
{
	for (int t = 0; t < ntok; t++) {
		size_t g = (size_t)(t / QTILE_TOKENS) * (size_t)nb;
		const uint8_t *xg = xt + g * QTILE_BLOCK_BYTES + (t % QTILE_TOKENS) * 4;
		const float *xdg = xdt + g * QTILE_TOKENS + t % QTILE_TOKENS;
		for (int r = 0; r < nrows; r++) {
			const BlockQ8_0 *row = w + (size_t)r * (size_t)nb;
			float acc[QDOT_LANES] = {0};
			for (int b = 0; b < nb; b++) {
				int32_t isum = 0;
				/* value k is byte k % 4 of lane k / 4 */
				for (int k = 0; k < QK8_0; k++)
					isum += row[b].qs[k] *
						((int32_t)xg[(size_t)b * QTILE_BLOCK_BYTES +
							     (size_t)(k / 4) * QTILE_LANE_BYTES +
							     (size_t)(k % 4)] -
						 128);
				acc[b % QDOT_LANES] +=
				    (float)isum *
				    (fp16_to_fp32(row[b].d) * xdg[(size_t)b * QTILE_TOKENS]);
			}
			y[(size_t)t * y_stride + (size_t)r] = qdot_tree(acc);
		}
	}
}

float fdot_f32_ref(const float *w, const float *x, int n)
{
	float p[FDOT_F32_LANES] = {0};
	return fdot_f32_finish(p, 0, w, x, n);
}

float fdot_f16_ref(const uint16_t *w, const uint16_t *x, int n)
{
	double p[FDOT_F16_LANES] = {0};
	return fdot_f16_finish(p, 0, w, x, n);
}

float qdot_i8_ref(const int8_t *w, const float *ws, float wscale, int32_t zp, const int8_t *xq,
		  const float *xd, const int32_t *xsum, int n, int B)
{
	float acc[QDOT_LANES] = {0};
	qdot_i8_blocks(acc, 0, w, ws, wscale, zp, xq, xd, xsum, n, B);
	return qdot_tree(acc);
}

/* --- Dispatch: one table, set at init from CPUID and XCR0, or forced by --isa. --- */

static Isa active_isa = ISA_SCALAR;
static QDotQ8Fn qdot_q8 = qdot_q8_ref;
static QDotI8Fn qdot_i8 = qdot_i8_ref;
static QDotQ8BatchFn qdot_q8_batch = qdot_q8_batch_ref;
static QuantActQ8Fn quant_act_q8 = quant_act_q8_ref;
static FDotF32Fn fdot_f32 = fdot_f32_ref;
static FDotF16Fn fdot_f16 = fdot_f16_ref;
static const KDotFn *kdot = kdot_ref; /* the 4/5-bit and K-quant kernels, by kquant_index */
/* AVX2 and AVX-512: batches quantize groups of 16 tokens transposed too, for qdot_q8_tile,
 * each value stored plus tile_x_offset (AVX-512: x + 128 for vpdpbusd; AVX2: x) */
static QDotQ8TileFn qdot_q8_tile = NULL;
static uint8_t tile_x_offset;

bool matmul_isa_supported(Isa isa)
{
	if (isa == ISA_SCALAR)
		return true;
	uint32_t r1[4], r7[4], r0[4];
	cpu_cpuid(0, 0, r0);
	if (r0[0] < 7)
		return false;
	cpu_cpuid(1, 0, r1);
	cpu_cpuid(7, 0, r7);
	bool osxsave = (r1[2] >> 27) & 1, avx = (r1[2] >> 28) & 1;
	if (!osxsave || !avx)
		return false;
	uint64_t xcr0 = cpu_xgetbv(0);
	bool ymm = (xcr0 & 0x6) == 0x6;	  /* SSE and AVX state enabled by the OS */
	bool zmm = (xcr0 & 0xe6) == 0xe6; /* plus opmask, ZMM_Hi256 and Hi16_ZMM */
	bool avx2 = (r7[1] >> 5) & 1, f16c = (r1[2] >> 29) & 1;
	if (isa == ISA_AVX2)
		return ymm && avx2 && f16c;
	bool f = (r7[1] >> 16) & 1, bw = (r7[1] >> 30) & 1, vl = (r7[1] >> 31) & 1;
	bool vnni = (r7[2] >> 11) & 1;
	return isa == ISA_AVX512 && ymm && zmm && avx2 && f && bw && vl && vnni && f16c;
}

static void isa_set(Isa isa)
{
	static const QDotQ8Fn q8[] = {qdot_q8_ref, qdot_q8_avx2, qdot_q8_avx512};
	static const QDotI8Fn i8[] = {qdot_i8_ref, qdot_i8_avx2, qdot_i8_avx512};
	/* AVX2 and AVX-512 batches run as tiles; rows too wide for a tile take this kernel */
	static const QDotQ8BatchFn q8b[] = {qdot_q8_batch_ref, qdot_q8_batch_avx2,
					    qdot_q8_batch_avx2};
	qdot_q8_batch = q8b[isa];
	quant_act_q8 = isa == ISA_SCALAR ? quant_act_q8_ref : quant_act_q8_avx2;
	static const QDotQ8TileFn q8t[] = {NULL, qdot_q8_tile_avx2, qdot_q8_tile_avx512};
	qdot_q8_tile = q8t[isa];
	tile_x_offset = isa == ISA_AVX512 ? 0x80 : TILE2_X_OFFSET;
	/* the 4/5-bit and K-quant kernels; AVX-512 takes AVX2's where it has none */
	static KDotFn kq512[KQ_COUNT];
	for (int i = 0; i < KQ_COUNT; i++)
		kq512[i] = kdot_avx512[i] ? kdot_avx512[i] : kdot_avx2[i];
	kdot = isa == ISA_AVX512 ? kq512 : isa == ISA_AVX2 ? kdot_avx2 : kdot_ref;
	static const FDotF32Fn f32[] = {fdot_f32_ref, fdot_f32_avx2, fdot_f32_avx512};
	static const FDotF16Fn f16[] = {fdot_f16_ref, fdot_f16_avx2, fdot_f16_avx512};
	fdot_f32 = f32[isa];
	fdot_f16 = f16[isa];
	active_isa = isa;
	qdot_q8 = q8[isa];
	qdot_i8 = i8[isa];
}

int matmul_select_isa(const char *name)
{
	if (!name) {
		isa_set(matmul_isa_supported(ISA_AVX512) ? ISA_AVX512
			: matmul_isa_supported(ISA_AVX2) ? ISA_AVX2
							 : ISA_SCALAR);
		return 0;
	}
	static const char *names[] = {"scalar", "avx2", "avx512"};
	for (int i = 0; i < 3; i++) {
		if (!str_eq(name, names[i]))
			continue;
		if (!matmul_isa_supported((Isa)i))
			return error_set(
			    "--isa %s: this CPU (or the register state its OS enabled) "
			    "does not support it%s",
			    name, i == ISA_AVX512 ? " (needs AVX-512 F/BW/VL/VNNI and F16C)" : "");
		isa_set((Isa)i);
		return 0;
	}
	return error_set("--isa: unknown '%s' (scalar, avx2 or avx512)", name);
}

Isa matmul_isa(void)
{
	return active_isa;
}

const char *matmul_isa_name(void)
{
	static const char *names[] = {"scalar", "avx2", "avx512"};
	return names[active_isa];
}

/* --- Activation quantization --- */

int matmul_scratch_init_batch(MatmulScratch *s, int max_cols, int max_batch)
{
	size_t n = (size_t)max_cols * (size_t)max_batch;
	/* int8 blocks may be as short as one value (grouped, group size 1): size for that */
	s->xq = arena_alloc(n, 64, "matmul scratch (int8 x)");
	s->xd = arena_alloc(n * sizeof(float), 64, "matmul scratch (x scales)");
	s->xsum = arena_alloc(n * sizeof(int32_t), 64, "matmul scratch (x block sums)");
	s->f16 = arena_alloc(n * sizeof(uint16_t), 64, "matmul scratch (f16 x)");
	s->xs = arena_alloc(n / QK8_0 * sizeof(float) + 64, 64, "matmul scratch (Q8_1 sums)");
	/* transposed groups of QTILE_TOKENS: the last one padded */
	size_t nt = (size_t)max_cols *
		    (((size_t)max_batch + QTILE_TOKENS - 1) / QTILE_TOKENS * QTILE_TOKENS);
	s->xt = arena_alloc(nt, 64, "matmul scratch (x, transposed)");
	s->xdt = arena_alloc(nt / QK8_0 * sizeof(float) + 64, 64, "matmul scratch (x scales, t)");
	s->cap = max_cols;
	s->batch = max_batch;
	return s->xq && s->xd && s->xsum && s->f16 && s->xs && s->xt && s->xdt ? 0 : -1;
}

int matmul_scratch_init(MatmulScratch *s, int max_cols)
{
	return matmul_scratch_init_batch(s, max_cols, 1);
}

/* Activations in blocks of B values: int8 with a float scale each (llama2.c runq's rule),
 * plus each block's integer sum. */
static void quantize_act_int8(const float *x, int n, int B, int8_t *q, float *scales, int32_t *sums)
{
	for (int k0 = 0, b = 0; k0 < n; k0 += B, b++) {
		int k1 = k0 + B < n ? k0 + B : n;
		float s = block_amax(x + k0, k1 - k0) / 127.0f;
		scales[b] = s;
		int32_t sum = 0;
		for (int k = k0; k < k1; k++) {
			q[k] = s ? quant_i8(round_half_away(x[k] / s)) : 0;
			sum += q[k];
		}
		sums[b] = sum;
	}
}

/* Q8_0 activations, the same values as quantize_row_q8_0 gives (scale rounded to fp16, values
 * from the unrounded scale), unpacked into values, float scales and block sums. */
void quant_act_q8_ref(const float *x, int n, int8_t *q, float *scales, int32_t *sums)
{
	for (int b = 0; b < n / QK8_0; b++) {
		const float *xb = x + b * QK8_0;
		float d = block_amax(xb, QK8_0) / 127.0f;
		float id = d ? 1.0f / d : 0.0f;
		scales[b] = fp16_to_fp32(fp32_to_fp16(d));
		int32_t sum = 0;
		for (int j = 0; j < QK8_0; j++) {
			q[b * QK8_0 + j] = quant_i8(round_half_away(xb[j] * id));
			sum += q[b * QK8_0 + j];
		}
		sums[b] = sum;
	}
}

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
	int B;		   /* int8: values per activation block */
	MatmulPairFn pair; /* matmul_pair: rows split alike in both outs, then pair() on them */
	bool tiled;	   /* the batch is in xt/xdt too, for qdot_q8_tile */
} MatmulJob;

/* Rows per tile of the batched loops: their weights stay in L1/L2 while every token of the
 * batch passes over them, so each weight byte comes from memory once per batch. */
#define MATMUL_ROW_TILE 4

/* A batch passes each row (in L1) against every token, so weights come from memory once. */
static void rows_f32(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	int n = j->cols;
	const float *w = o->W->data;
	FDotF32Fn dot = fdot_f32;
	for (int i = r0; i < r1; i++)
		for (int t = 0; t < j->n; t++)
			o->y[(size_t)t * (size_t)o->y_stride + (size_t)i] = dot(
			    w + (size_t)i * (size_t)n, j->x + (size_t)t * (size_t)j->x_stride, n);
}

static void rows_f16(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	int n = j->cols;
	const uint16_t *w = o->W->data;
	FDotF16Fn dot = fdot_f16;
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
		QDotQ8Fn dot = qdot_q8;
		for (int i = r0; i < r1; i++)
			o->y[i] = dot(w + (size_t)i * (size_t)nb, s->xq, s->xd, s->xsum, nb);
		return;
	}
	if (j->tiled) { /* tiles of rows (in L1) against every token, 16 at a time */
		for (int i = r0; i < r1; i += QTILE_ROWS)
			qdot_q8_tile(w + (size_t)i * (size_t)nb, nb,
				     r1 - i < QTILE_ROWS ? r1 - i : QTILE_ROWS, s->xt, s->xdt, j->n,
				     o->y + i, (size_t)o->y_stride);
		return;
	}
	/* a batch: each row (in L1) against every token (in L2), so weights come from memory
	 * once per batch */
	QDotQ8BatchFn dot = qdot_q8_batch;
	for (int i = r0; i < r1; i++)
		dot(w + (size_t)i * (size_t)nb, s->xq, s->xd, s->xsum, nb, j->n, o->y + i,
		    (size_t)o->y_stride);
}

static void rows_int8(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	const QuantizedTensor *t = &o->W->i8;
	int n = t->cols, B = j->B, nb = (n + B - 1) / B;
	const MatmulScratch *s = j->s;
	QDotI8Fn dot = qdot_i8;
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

/* The 4/5-bit and K-quant types: each row against every token of the batch. */
static void rows_kquant(const MatmulJob *j, const MatmulOut *o, int r0, int r1)
{
	DType type = o->W->type;
	KDotFn dot = kdot[kquant_index(type)];
	int cols = j->cols, nb = cols / kquant_block(type), na = cols / j->B;
	size_t row_bytes = dtype_row_bytes(type, cols);
	const uint8_t *w = o->W->data;
	const MatmulScratch *s = j->s;
	for (int i = r0; i < r1; i++)
		for (int t = 0; t < j->n; t++) {
			size_t xo = (size_t)t * (size_t)na;
			QAct x = {s->xq + (size_t)t * (size_t)cols, s->xd + xo, s->xs + xo,
				  s->xsum + xo};
			o->y[(size_t)t * (size_t)o->y_stride + (size_t)i] =
			    dot(w + (size_t)i * row_bytes, &x, nb);
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

static void matmul_task(void *ctx, int ith, int nth)
{
	const MatmulJob *j = ctx;
	if (j->pair) {
		const MatmulOut *o = j->outs;
		int rows = o[0].W->rows;
		int a = (int)((int64_t)rows * ith / nth),
		    b = (int)((int64_t)rows * (ith + 1) / nth);
		if (a >= b)
			return;
		rows_any(j, &o[0], a, b);
		rows_any(j, &o[1], a, b);
		for (int t = 0; t < j->n; t++)
			j->pair(o[0].y + (size_t)t * (size_t)o[0].y_stride + (size_t)a,
				o[1].y + (size_t)t * (size_t)o[1].y_stride + (size_t)a, b - a);
		return;
	}
	int R = j->total_rows;
	int r0 = (int)((int64_t)R * ith / nth);
	int r1 = (int)((int64_t)R * (ith + 1) / nth);
	for (int c = 0, first = 0; c < j->count; first += j->outs[c].W->rows, c++) {
		const MatmulOut *o = &j->outs[c];
		int a = r0 > first ? r0 - first : 0;
		int b = r1 - first < o->W->rows ? r1 - first : o->W->rows;
		if (a >= b)
			continue;
		rows_any(j, o, a, b);
	}
}

/* Quantizes a share of the batch's tokens (the batch path quantizes on every thread). */
typedef struct {
	const float *x;
	int x_stride, n, cols, B;
	DType type;
	MatmulScratch *s;
	bool tiled; /* also write the tokens transposed (see qdot_q8_tile) */
} QuantJob;

/* Copies token t's quantized Q8_0 activations into its lane of its group (layout in
 * quant_kernels.h); each token writes only its own bytes, so threads may share a group. A
 * padding token (t >= the batch) gets x = 0 and scale 0. */
static void transpose_token(MatmulScratch *s, int t, int nb, bool pad)
{
	size_t g = (size_t)(t / QTILE_TOKENS) * (size_t)nb;
	int lane = t % QTILE_TOKENS;
	const int8_t *x = s->xq + (size_t)t * (size_t)nb * QK8_0;
	for (int b = 0; b < nb; b++) {
		uint8_t *dst = s->xt + (g + (size_t)b) * QTILE_BLOCK_BYTES + lane * 4;
		for (int k = 0; k < QK8_0; k++)
			dst[(k / 4) * QTILE_LANE_BYTES + k % 4] =
			    (uint8_t)((pad ? 0 : x[b * QK8_0 + k]) + tile_x_offset);
		s->xdt[(g + (size_t)b) * QTILE_TOKENS + (size_t)lane] =
		    pad ? 0.0f : s->xd[(size_t)t * (size_t)nb + (size_t)b];
	}
}

static void quant_task(void *ctx, int ith, int nth)
{
	const QuantJob *q = ctx;
	int t0 = (int)((int64_t)q->n * ith / nth), t1 = (int)((int64_t)q->n * (ith + 1) / nth);
	int nb = (q->cols + q->B - 1) / q->B;
	for (int t = t0; t < t1; t++) {
		const float *x = q->x + (size_t)t * (size_t)q->x_stride;
		size_t xo = (size_t)t * (size_t)nb, vo = (size_t)t * (size_t)q->cols;
		if (q->type == DT_Q8_0) {
			quant_act_q8(x, q->cols, q->s->xq + vo, q->s->xd + xo, q->s->xsum + xo);
			if (q->tiled)
				transpose_token(q->s, t, nb, false);
		} else if (q->type == DT_INT8)
			quantize_act_int8(x, q->cols, q->B, q->s->xq + vo, q->s->xd + xo,
					  q->s->xsum + xo);
		else if (q->type == DT_F16)
			for (int k = 0; k < q->cols; k++)
				q->s->f16[vo + (size_t)k] = fp32_to_fp16(x[k]);
		else if (kquant_act(q->type) == ACT_Q8_0)
			quant_act_q8(x, q->cols, q->s->xq + vo, q->s->xd + xo, q->s->xsum + xo);
		else if (kquant_act(q->type) == ACT_Q8_1)
			quant_act_q8_1(x, q->cols, q->s->xq + vo, q->s->xd + xo, q->s->xs + xo);
		else
			quant_act_q8_k(x, q->cols, q->s->xq + vo, q->s->xd + xo, q->s->xsum + xo);
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

/* All outs must share the type, cols and activation block of the first (else one by one). */
static bool outs_compatible(const MatmulOut *outs, int count)
{
	for (int c = 1; c < count; c++)
		if (outs[c].W->type != outs[0].W->type || outs[c].W->cols != outs[0].W->cols ||
		    act_block(outs[c].W) != act_block(outs[0].W))
			return false;
	return true;
}

static void matmul_run(const MatmulOut *outs, int count, const float *x, int x_stride, int n,
		       MatmulScratch *s, MatmulPairFn pair)
{
	if (count > 1 && !outs_compatible(outs, count)) {
		for (int c = 0; c < count; c++)
			matmul_run(&outs[c], 1, x, x_stride, n, s, NULL);
		if (pair)
			for (int t = 0; t < n; t++)
				pair(outs[0].y + (size_t)t * (size_t)outs[0].y_stride,
				     outs[1].y + (size_t)t * (size_t)outs[1].y_stride,
				     outs[0].W->rows);
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
				   pair);
		}
		return;
	}
	const Tensor *W = outs[0].W;
	DType type = W->type;
	PROFILE_BEGIN(zone, type == DT_F32	      ? "matmul_f32"
			    : type == DT_F16	      ? "matmul_f16"
			    : kquant_block(type) != 0 ? "matmul_kquant"
						      : "matmul_int8");
	bool tiled = qdot_q8_tile && type == DT_Q8_0 && n > 1 && W->cols / QK8_0 <= QTILE_MAX_NB;
	QuantJob q = {x, x_stride, n, W->cols, act_block(W), type, s, tiled};
	if (type != DT_F32) {
		if (n > 1 && plat_threads() > 1)
			plat_parallel(quant_task, &q);
		else
			quant_task(&q, 0, 1);
	}
	for (int t = n; tiled && t % QTILE_TOKENS; t++)
		transpose_token(s, t, W->cols / QK8_0, true);
	MatmulJob j = {outs, count, 0, x, x_stride, n, s, W->cols, act_block(W), pair, tiled};
	for (int c = 0; c < count; c++)
		j.total_rows += outs[c].W->rows;
	if (plat_threads() > 1 && j.total_rows >= 64)
		plat_parallel(matmul_task, &j);
	else
		matmul_task(&j, 0, 1);
	PROFILE_END(zone);
}

void matmul_multi(const MatmulOut *outs, int count, const float *x, int x_stride, int n,
		  MatmulScratch *s)
{
	matmul_run(outs, count, x, x_stride, n, s, NULL);
}

void matmul_pair(const MatmulOut outs[2], const float *x, int x_stride, int n, MatmulScratch *s,
		 MatmulPairFn pair)
{
	matmul_run(outs, 2, x, x_stride, n, s, pair);
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
