/* quant.c: fp16/Q8_0/int8 conversions and the reference matmul kernels, split
 * across the platform's thread pool by rows (each row is computed the same way
 * whatever the thread count, so results do not depend on it). */
#include "quant.h"

#include "error.h"
#include "mathx.h"
#include "profiler.h"
#include "shim/platform.h"
#include "str.h"

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
	}
	return 0;
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
	if (a >= 8388608.0f)
		return v; /* already an integer */
	float r = (float)(int32_t)a;
	if (a - r >= 0.5f)
		r += 1.0f;
	return v < 0 ? -r : r;
}

void quantize_row_q8_0(const float *x, BlockQ8_0 *out, int n)
{
	for (int b = 0; b < n / QK8_0; b++) {
		const float *xb = x + b * QK8_0;
		float amax = 0;
		for (int j = 0; j < QK8_0; j++)
			if (math_fabsf(xb[j]) > amax)
				amax = math_fabsf(xb[j]);
		float d = amax / 127.0f;
		float id = d ? 1.0f / d : 0.0f;
		out[b].d = fp32_to_fp16(d);
		for (int j = 0; j < QK8_0; j++)
			out[b].qs[j] = (int8_t)round_half_away(xb[j] * id);
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
	int32_t zp = (int32_t)round_half_away(-128.0f - lo / s);
	zp = zp < -128 ? -128 : zp > 127 ? 127 : zp;
	for (size_t i = 0; i < n; i++) {
		float v = round_half_away(w[i] / s) + (float)zp;
		q[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
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
			float s = t->group_scales ? t->group_scales[i / (size_t)t->group_size]
						  : t->scale;
			out[j] = s * (float)(t->q[i] - t->zero_point);
		}
		break;
	}
	}
}

static Isa active_isa = ISA_SCALAR;

int matmul_select_isa(const char *name)
{
	if (!name || str_eq(name, "scalar")) {
		active_isa = ISA_SCALAR;
		return 0;
	}
	if (str_eq(name, "avx2") || str_eq(name, "avx512"))
		return error_set("--isa %s: this build has only the scalar kernels", name);
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

int matmul_scratch_init(MatmulScratch *s, int max_cols)
{
	int blocks = (max_cols + QK8_0 - 1) / QK8_0;
	s->q8 = arena_alloc((size_t)blocks * sizeof(BlockQ8_0), 64, "matmul scratch (q8_0)");
	s->i8 = arena_alloc((size_t)max_cols, 64, "matmul scratch (int8)");
	s->i8_scale = arena_alloc((size_t)max_cols * sizeof(float), 64, "matmul scratch (scales)");
	s->f16 = arena_alloc((size_t)max_cols * sizeof(uint16_t), 64, "matmul scratch (f16)");
	s->cap = max_cols;
	return s->q8 && s->i8 && s->i8_scale && s->f16 ? 0 : -1;
}

/* One matmul job: rows [r0, r1) of each thread's share. */
typedef struct {
	float *y;
	const Tensor *W;
	const float *x;
	const MatmulScratch *s;
	int block; /* int8: values per activation block */
} MatmulJob;

static void rows_f32(const MatmulJob *j, int r0, int r1)
{
	int n = j->W->cols;
	const float *w = j->W->data;
	for (int i = r0; i < r1; i++) {
		const float *row = w + (size_t)i * (size_t)n;
		float sum = 0.0f;
		for (int k = 0; k < n; k++)
			sum += row[k] * j->x[k];
		j->y[i] = sum;
	}
}

static void rows_f16(const MatmulJob *j, int r0, int r1)
{
	/* x rounded to fp16 like ggml's F16 path; products summed in double. */
	int n = j->W->cols;
	const uint16_t *w = j->W->data;
	for (int i = r0; i < r1; i++) {
		const uint16_t *row = w + (size_t)i * (size_t)n;
		double sum = 0.0;
		for (int k = 0; k < n; k++)
			sum += (double)(fp16_to_fp32(row[k]) * fp16_to_fp32(j->s->f16[k]));
		j->y[i] = (float)sum;
	}
}

static void rows_q8_0(const MatmulJob *j, int r0, int r1)
{
	int nb = j->W->cols / QK8_0;
	const BlockQ8_0 *w = j->W->data;
	const BlockQ8_0 *x = j->s->q8;
	for (int i = r0; i < r1; i++) {
		const BlockQ8_0 *row = w + (size_t)i * (size_t)nb;
		float sum = 0.0f;
		for (int b = 0; b < nb; b++) {
			int32_t isum = 0;
			for (int k = 0; k < QK8_0; k++)
				isum += (int32_t)row[b].qs[k] * (int32_t)x[b].qs[k];
			sum += (float)isum * (fp16_to_fp32(row[b].d) * fp16_to_fp32(x[b].d));
		}
		j->y[i] = sum;
	}
}

static void rows_int8(const MatmulJob *j, int r0, int r1)
{
	const QuantizedTensor *t = &j->W->i8;
	int n = t->cols, B = j->block;
	for (int i = r0; i < r1; i++) {
		size_t base = (size_t)i * (size_t)n;
		const int8_t *row = t->q + base;
		float sum = 0.0f;
		for (int k0 = 0, b = 0; k0 < n; k0 += B, b++) {
			int k1 = k0 + B < n ? k0 + B : n;
			int32_t isum = 0;
			for (int k = k0; k < k1; k++)
				isum += (int32_t)j->s->i8[k] * ((int32_t)row[k] - t->zero_point);
			float ws = t->group_scales
					   ? t->group_scales[(base + (size_t)k0) / (size_t)t->group_size]
					   : t->scale;
			sum += (float)isum * (ws * j->s->i8_scale[b]);
		}
		j->y[i] = sum;
	}
}

static void matmul_task(void *ctx, int ith, int nth)
{
	const MatmulJob *j = ctx;
	int rows = j->W->rows;
	int r0 = (int)((int64_t)rows * ith / nth);
	int r1 = (int)((int64_t)rows * (ith + 1) / nth);
	switch (j->W->type) {
	case DT_F32:
		rows_f32(j, r0, r1);
		break;
	case DT_F16:
		rows_f16(j, r0, r1);
		break;
	case DT_Q8_0:
		rows_q8_0(j, r0, r1);
		break;
	case DT_INT8:
		rows_int8(j, r0, r1);
		break;
	}
}

/* Activations in blocks of B values: int8 with a float scale each (llama2.c runq's rule). */
static void quantize_act_int8(const float *x, int n, int B, int8_t *q, float *scales)
{
	for (int k0 = 0, b = 0; k0 < n; k0 += B, b++) {
		int k1 = k0 + B < n ? k0 + B : n;
		float amax = 0;
		for (int k = k0; k < k1; k++)
			if (math_fabsf(x[k]) > amax)
				amax = math_fabsf(x[k]);
		float s = amax / 127.0f;
		scales[b] = s;
		for (int k = k0; k < k1; k++)
			q[k] = (int8_t)(s ? round_half_away(x[k] / s) : 0);
	}
}

static void matmul_run(MatmulJob *j)
{
	if (plat_threads() > 1 && j->W->rows >= 64)
		plat_parallel(matmul_task, j);
	else
		matmul_task(j, 0, 1);
}

void matmul_int8(float *y, const QuantizedTensor *W, const float *x, MatmulScratch *s)
{
	PROFILE_BEGIN(zone, "matmul_int8");
	Tensor t = {.type = DT_INT8, .rows = W->rows, .cols = W->cols, .i8 = *W};
	int B = W->group_scales ? W->group_size : QK8_0;
	quantize_act_int8(x, W->cols, B, s->i8, s->i8_scale);
	MatmulJob j = {y, &t, x, s, B};
	matmul_run(&j);
	PROFILE_END(zone);
}

void matmul(float *y, const Tensor *W, const float *x, MatmulScratch *s)
{
	switch (W->type) {
	case DT_INT8:
		matmul_int8(y, &W->i8, x, s);
		return;
	case DT_Q8_0: {
		PROFILE_BEGIN(zone, "matmul_int8");
		quantize_row_q8_0(x, s->q8, W->cols);
		MatmulJob j = {y, W, x, s, QK8_0};
		matmul_run(&j);
		PROFILE_END(zone);
		return;
	}
	case DT_F16: {
		PROFILE_BEGIN(zone, "matmul_f16");
		for (int k = 0; k < W->cols; k++)
			s->f16[k] = fp32_to_fp16(x[k]);
		MatmulJob j = {y, W, x, s, 0};
		matmul_run(&j);
		PROFILE_END(zone);
		return;
	}
	case DT_F32: {
		PROFILE_BEGIN(zone, "matmul_f32");
		MatmulJob j = {y, W, x, s, 0};
		matmul_run(&j);
		PROFILE_END(zone);
		return;
	}
	}
}
