/* test_quant.c: core/kernels/quant.c: fp16 conversions, Q8_0 and int8 quantizers, matmul per type.
 */
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/arena.h"
#include "core/base/rng.h"
#include "core/kernels/fp16.h"
#include "core/kernels/matmul.h"
#include "core/kernels/quantize.h"
#include "core/kernels/registry.h"
#include "shim/platform.h"
#include "tests.h"

/* Q8_0 round trip: half a step d = amax/127 for rounding (plus float slack), plus |q|
 * times the error of d stored as fp16 (2^-11 relative, more when d is an fp16 subnormal,
 * below 6.1e-5: that is Q8_0's own limit, ggml's too). */
#define MAX_Q8_0_ERR_IN_STEPS 0.5001
/* int8 per-tensor round trip: half a step, one and a half at the clamped ends (the zero
 * point is rounded, so the range's ends may fall half a step outside [-128, 127]). */
#define MAX_INT8_ERR_IN_STEPS 0.5001
#define MAX_INT8_CLAMP_ERR_IN_STEPS 1.5001
/* Matmul against a double reference from the dequantized weights, relative to
 * sum |w||x| of the row: float accumulation of cols terms costs at most cols ulps. */
#define MATMUL_F32_REL_PER_TERM FLT_EPSILON
/* F16: x is rounded to fp16 (2^-11 relative), products exact, sums in double. */
#define MATMUL_F16_ACT_REL_ERR (1.0 / 2048.0)
/* Q8_0 / int8: each activation is off by at most this many of its block's steps
 * (amax/127); Q8_0 adds 127 times the fp16 rounding error of the block scale. */
#define MATMUL_Q8_0_ACT_ERR_IN_STEPS 0.5001
#define MATMUL_INT8_ACT_ERR_IN_STEPS 0.5001

static float *falloc(size_t n)
{
	float *p = arena_alloc(n * sizeof(float), 64, "test floats");
	ck_assert_msg(p != NULL, "arena exhausted (%zu floats)", n);
	return p;
}

static void fill_uniform(Rng *r, float *x, size_t n, float scale)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (2.0f * rng_float(r) - 1.0f) * scale;
}

/* --- fp16 --- */

__attribute__((target("f16c"))) static uint16_t f16c_from_f32(float f)
{
	return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

__attribute__((target("f16c"))) static float f16c_to_f32(uint16_t h)
{
	return _cvtsh_ss(h);
}

static uint32_t bits_of(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float float_of(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

START_TEST(test_fp16_all_halves_round_trip)
{
	for (uint32_t h = 0; h < 65536; h++) {
		float f = fp16_to_fp32((uint16_t)h);
		uint16_t back = fp32_to_fp16(f);
		int is_nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff);
		if (is_nan) {
			ck_assert_msg(isnan(f), "half %04x is NaN but converts to %g", h,
				      (double)f);
			ck_assert_msg((back & 0x7c00) == 0x7c00 && (back & 0x3ff),
				      "NaN half %04x comes back as %04x (not NaN)", h, back);
			continue;
		}
		ck_assert_msg(back == h, "half %04x -> %.9g -> %04x: round trip must be exact", h,
			      (double)f, back);
	}
}
END_TEST

START_TEST(test_fp16_known_cases)
{
	static const struct {
		float f;
		uint16_t h;
	} cases[] = {
	    {0.0f, 0x0000},
	    {-0.0f, 0x8000},
	    {1.0f, 0x3c00},
	    {-2.0f, 0xc000},
	    {65504.0f, 0x7bff},
	    {65519.99f, 0x7bff},
	    {65520.0f, 0x7c00},
	    {-65520.0f, 0xfc00},
	    {1e10f, 0x7c00},
	    {0x1p-24f, 0x0001},
	    {0x1p-25f, 0x0000},
	    {0x1.8p-25f, 0x0001},
	    {0x1.8p-24f, 0x0002},
	    {0x1.4p-24f, 0x0001},
	    {0x1p-14f, 0x0400},
	    {0x1.ffcp-15f, 0x0400},
	    {0x1.ff8p-15f, 0x03ff},
	    {0x1p-26f, 0x0000},
	    {1.0f + 0x1p-11f, 0x3c00},
	    {1.0f + 0x3p-11f, 0x3c02},
	    {0.333333343f, 0x3555},
	    {INFINITY, 0x7c00},
	    {-INFINITY, 0xfc00},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint16_t got = fp32_to_fp16(cases[i].f);
		ck_assert_msg(got == cases[i].h, "fp32_to_fp16(%a) = %04x, expected %04x",
			      (double)cases[i].f, got, cases[i].h);
	}
	ck_assert_msg(fp16_to_fp32(0x7bff) == 65504.0f, "half 7bff must be 65504");
	ck_assert_msg(fp16_to_fp32(0x0001) == 0x1p-24f, "half 0001 must be 2^-24");
	ck_assert_msg(bits_of(fp16_to_fp32(0x8000)) == 0x80000000u, "half 8000 must be -0");
	ck_assert_msg(isinf(fp16_to_fp32(0x7c00)), "half 7c00 must be +inf");
	ck_assert_msg(isnan(fp16_to_fp32(fp32_to_fp16(NAN))), "NaN must stay NaN");
}
END_TEST

START_TEST(test_fp16_vs_f16c)
{
	if (!require_cpu("F16C cross-check of fp16", __builtin_cpu_supports("f16c"), "f16c"))
		return;
	/* Every half both ways. */
	for (uint32_t h = 0; h < 65536; h++) {
		float a = fp16_to_fp32((uint16_t)h), b = f16c_to_f32((uint16_t)h);
		ck_assert_msg(bits_of(a) == bits_of(b) || (isnan(a) && isnan(b)),
			      "fp16_to_fp32(%04x) = %08x, F16C gives %08x", h, bits_of(a),
			      bits_of(b));
	}
	/* Floats around every tie between adjacent halves, and random bit patterns. */
	for (uint32_t h = 0; h < 0x7c00; h++) {
		float lo = fp16_to_fp32((uint16_t)h), hi = fp16_to_fp32((uint16_t)(h + 1));
		float mid = (float)(((double)lo + (double)hi) / 2);
		float probes[] = {mid, nextafterf(mid, 0), nextafterf(mid, INFINITY), -mid};
		for (int k = 0; k < 4; k++) {
			uint16_t got = fp32_to_fp16(probes[k]), want = f16c_from_f32(probes[k]);
			ck_assert_msg(got == want, "fp32_to_fp16(%a) = %04x, F16C gives %04x",
				      (double)probes[k], got, want);
		}
	}
	Rng r;
	rng_seed(&r, 99);
	for (int i = 0; i < 4000000; i++) {
		float f = float_of((uint32_t)rng_next(&r));
		uint16_t got = fp32_to_fp16(f), want = f16c_from_f32(f);
		if (isnan(f))
			ck_assert_msg((got & 0x7fff) > 0x7c00 && (got & 0x8000) == (want & 0x8000),
				      "fp32_to_fp16(NaN %08x) = %04x, not a NaN of the same sign",
				      bits_of(f), got);
		else
			ck_assert_msg(got == want,
				      "fp32_to_fp16(%a = %08x) = %04x, F16C gives %04x", (double)f,
				      bits_of(f), got, want);
	}
}
END_TEST

START_TEST(test_round_half_away)
{
	static const float v[] = {0.5f,	  1.5f,	   2.5f, -0.5f, -2.5f, 0.49999997f,
				  126.5f, -127.5f, 1e9f, -3.0f, 0.0f};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		ck_assert_msg(round_half_away(v[i]) == roundf(v[i]),
			      "round_half_away(%.9g) = %.9g, roundf gives %.9g", (double)v[i],
			      (double)round_half_away(v[i]), (double)roundf(v[i]));
}
END_TEST

START_TEST(test_dtype_sizes)
{
	ck_assert_msg(dtype_row_bytes(DT_F32, 7) == 28, "F32 row of 7 is 28 bytes");
	ck_assert_msg(dtype_row_bytes(DT_F16, 7) == 14, "F16 row of 7 is 14 bytes");
	ck_assert_msg(dtype_row_bytes(DT_Q8_0, 64) == 68, "Q8_0 row of 64 is two 34-byte blocks");
	ck_assert_msg(dtype_row_bytes(DT_Q8_0, 33) == 0, "Q8_0 cannot hold a row of 33");
	ck_assert_msg(dtype_row_bytes(DT_INT8, 33) == 33, "int8 row of 33 is 33 bytes");
	ck_assert_msg(!strcmp(dtype_name(DT_Q8_0), "Q8_0"), "name of Q8_0");
	ck_assert_msg(!strcmp(dtype_name(DT_F16), "F16"), "name of F16");
}
END_TEST

/* --- Quantizers --- */

START_TEST(test_q8_0_round_trip)
{
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 5);
	const int n = 32 * 37;
	float *x = falloc(n), *y = falloc(n);
	BlockQ8_0 *q = arena_alloc(sizeof(BlockQ8_0) * (n / 32), 64, "test q8");
	for (int trial = 0; trial < 20; trial++) {
		float scale = ldexpf(1.0f, trial - 10);
		fill_uniform(&r, x, n, scale);
		for (int i = 0; i < 32; i++)
			x[32 * 3 + i] = 0;  /* an all-zero block */
		x[32 * 5 + 7] = 40 * scale; /* one outlier */
		quantize_row_q8_0(x, q, n);
		dequantize_row_q8_0(q, y, n);
		for (int b = 0; b < n / 32; b++) {
			float amax = 0;
			for (int k = 0; k < 32; k++)
				amax = fmaxf(amax, fabsf(x[32 * b + k]));
			float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
			/* llama.cpp's reference quantize_row_q8_0_ref, bit for bit */
			ck_assert_msg(q[b].d == fp32_to_fp16(d), "block %d: scale %04x, want %04x",
				      b, q[b].d, fp32_to_fp16(d));
			for (int k = 0; k < 32; k++) {
				int want = (int)roundf(x[32 * b + k] * id);
				ck_assert_msg(q[b].qs[k] == want,
					      "block %d [%d]: q %d, ggml gives %d", b, k,
					      q[b].qs[k], want);
				ck_assert_msg(q[b].qs[k] >= -127, "Q8_0 never holds -128");
				double err = fabs((double)y[32 * b + k] - x[32 * b + k]);
				double d16 = fp16_to_fp32(q[b].d);
				double tol = MAX_Q8_0_ERR_IN_STEPS * d +
					     abs(q[b].qs[k]) * fabs(d16 - (double)d);
				ck_assert_msg(
				    err <= tol,
				    "block %d [%d]: %.9g -> %.9g, error %.3g > %.3g (step "
				    "%.3g, as fp16 %.3g)",
				    b, k, (double)x[32 * b + k], (double)y[32 * b + k], err, tol,
				    (double)d, d16);
			}
		}
		for (int k = 0; k < 32; k++)
			ck_assert_msg(y[32 * 3 + k] == 0, "an all-zero block must stay zero");
	}
	arena_reset(mark);
}
END_TEST

START_TEST(test_int8_round_trip)
{
	static const size_t shapes[] = {1, 2, 7, 33, 255, 1000, 4099, 12345};
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 11);
	for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
		size_t n = shapes[si];
		for (int kind = 0; kind < 4; kind++) {
			float *w = falloc(n);
			int8_t *q = arena_alloc(n, 64, "test q");
			/* symmetric, positive only, negative only, skewed */
			for (size_t i = 0; i < n; i++) {
				float u = rng_float(&r);
				w[i] = kind == 0   ? 2 * u - 1
				       : kind == 1 ? u * 3
				       : kind == 2 ? -u * 0.01f
						   : (u < 0.9f ? u - 0.1f : 20 * u);
			}
			float s;
			int32_t zp;
			quantize_int8(w, n, q, &s, &zp);
			ck_assert_msg(s > 0, "scale %g must be positive", (double)s);
			ck_assert_msg(zp >= -128 && zp <= 127, "zero point %d out of int8", zp);
			for (size_t i = 0; i < n; i++) {
				double back = (double)s * (q[i] - zp);
				double err = fabs(back - w[i]);
				int clamped = q[i] == -128 || q[i] == 127;
				double tol = (clamped ? MAX_INT8_CLAMP_ERR_IN_STEPS
						      : MAX_INT8_ERR_IN_STEPS) *
					     s;
				ck_assert_msg(err <= tol,
					      "n %zu kind %d [%zu]: %.9g -> q %d (scale %g, zp %d) "
					      "-> %.9g: error %.3g > %.3g",
					      n, kind, i, (double)w[i], q[i], (double)s, zp, back,
					      err, tol);
			}
		}
	}
	/* Zero is always exact, and an all-zero tensor quantizes without dividing by 0. */
	float z[5] = {0, 0, 0, 0, 0}, w2[3] = {-1, 0, 2};
	int8_t q[5];
	float s;
	int32_t zp;
	quantize_int8(z, 5, q, &s, &zp);
	for (int i = 0; i < 5; i++)
		ck_assert_msg(s * (float)(q[i] - zp) == 0, "all-zero tensor must dequantize to 0");
	quantize_int8(w2, 3, q, &s, &zp);
	ck_assert_msg(q[1] == zp, "0 must map to the zero point exactly (q %d, zp %d)", q[1], zp);
	arena_reset(mark);
}
END_TEST

/* --- Matmul --- */

/* What one test matrix is made of: dequantized weights for the reference. */
typedef struct {
	Tensor t;
	float *deq; /* (rows, cols) */
} TestMatrix;

static void make_matrix(TestMatrix *m, DType type, int rows, int cols, int group, Rng *r)
{
	size_t n = (size_t)rows * (size_t)cols;
	float *w = falloc(n);
	fill_uniform(r, w, n, 1.0f / sqrtf((float)cols));
	m->deq = falloc(n);
	m->t = (Tensor){.type = type, .rows = rows, .cols = cols};
	if (type == DT_F32) {
		m->t.data = w;
	} else if (type == DT_F16) {
		uint16_t *h = arena_alloc(n * 2, 64, "test f16");
		for (size_t i = 0; i < n; i++)
			h[i] = fp32_to_fp16(w[i]);
		m->t.data = h;
	} else if (type == DT_Q8_0) {
		BlockQ8_0 *b = arena_alloc(n / 32 * sizeof(BlockQ8_0), 64, "test q8_0");
		for (int i = 0; i < rows; i++)
			quantize_row_q8_0(w + (size_t)i * cols, b + (size_t)i * (cols / 32), cols);
		m->t.data = b;
	} else if (group == 0) {
		int8_t *q = arena_alloc(n, 64, "test int8");
		QuantizedTensor *qt = &m->t.i8;
		quantize_int8(w, n, q, &qt->scale, &qt->zero_point);
		*qt = (QuantizedTensor){q, qt->scale, qt->zero_point, NULL, 0, rows, cols};
	} else {
		/* llama2.c v2: symmetric groups, one scale per group of consecutive values. */
		int8_t *q = arena_alloc(n, 64, "test int8");
		float *gs = falloc(n / (size_t)group);
		for (size_t g = 0; g < n / (size_t)group; g++) {
			float amax = 0;
			for (int k = 0; k < group; k++)
				amax = fmaxf(amax, fabsf(w[g * group + k]));
			gs[g] = amax / 127.0f;
			for (int k = 0; k < group; k++)
				q[g * group + k] = (int8_t)roundf(w[g * group + k] / gs[g]);
		}
		m->t.i8 = (QuantizedTensor){q, 0, 0, gs, group, rows, cols};
	}
	for (int i = 0; i < rows; i++)
		tensor_row(&m->t, i, m->deq + (size_t)i * cols);
	if (type == DT_F32)
		ck_assert_msg(!memcmp(m->deq, w, n * 4), "tensor_row of F32 must copy the row");
}

/* Bound on |x_quantized - x| per element for the activation quantization of a type. */
static void act_error(DType type, const Tensor *t, const float *x, int cols, double *e)
{
	int B = type == DT_Q8_0				? 32
		: type == DT_INT8 && t->i8.group_scales ? t->i8.group_size
							: 32;
	for (int k0 = 0; k0 < cols; k0 += B) {
		int k1 = k0 + B < cols ? k0 + B : cols;
		double amax = 0;
		for (int k = k0; k < k1; k++)
			amax = fmax(amax, fabs(x[k]));
		for (int k = k0; k < k1; k++)
			e[k] =
			    type == DT_F32   ? 0
			    : type == DT_F16 ? MATMUL_F16_ACT_REL_ERR * fabs(x[k])
			    : type == DT_Q8_0
				? MATMUL_Q8_0_ACT_ERR_IN_STEPS * amax / 127 +
				      127 * fabs(fp16_to_fp32(fp32_to_fp16((float)(amax / 127))) -
						 amax / 127)
				: MATMUL_INT8_ACT_ERR_IN_STEPS * amax / 127;
	}
}

static void check_matmul(DType type, int rows, int cols, int group, uint64_t seed)
{
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, seed);
	TestMatrix m;
	make_matrix(&m, type, rows, cols, group, &r);
	float *x = falloc((size_t)cols), *y = falloc((size_t)rows);
	double *e = malloc(sizeof(double) * (size_t)cols);
	fill_uniform(&r, x, (size_t)cols, 1.0f);
	x[cols / 2] = 3.0f; /* an outlier, as activations have */
	MatmulScratch s;
	ck_assert_msg(matmul_scratch_init(&s, cols) == 0, "matmul scratch for %d cols", cols);
	matmul(y, &m.t, x, &s);
	act_error(type, &m.t, x, cols, e);
	for (int i = 0; i < rows; i++) {
		const float *w = m.deq + (size_t)i * cols;
		double want = 0, absdot = 0, qerr = 0;
		for (int k = 0; k < cols; k++) {
			want += (double)w[k] * x[k];
			absdot += fabs((double)w[k] * x[k]);
			qerr += fabs((double)w[k]) * e[k];
		}
		double tol = qerr + (double)cols * MATMUL_F32_REL_PER_TERM * (absdot + qerr);
		double err = fabs((double)y[i] - want);
		ck_assert_msg(err <= tol,
			      "%s%s %dx%d row %d: got %.9g, reference %.9g, error %.3g > tolerance "
			      "%.3g (sum|w||x| %.3g)",
			      dtype_name(type), group ? " grouped" : "", rows, cols, i,
			      (double)y[i], want, err, tol, absdot);
	}
	free(e);
	arena_reset(mark);
}

START_TEST(test_matmul_f32)
{
	static const int shapes[][2] = {{1, 1}, {3, 7}, {67, 45}, {130, 100}, {5, 257}, {64, 64}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		check_matmul(DT_F32, shapes[i][0], shapes[i][1], 0, 100 + i);
}
END_TEST

START_TEST(test_matmul_f16)
{
	static const int shapes[][2] = {{1, 1}, {3, 7}, {67, 45}, {130, 100}, {5, 257}, {64, 64}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		check_matmul(DT_F16, shapes[i][0], shapes[i][1], 0, 200 + i);
}
END_TEST

START_TEST(test_matmul_q8_0)
{
	static const int shapes[][2] = {{1, 32}, {3, 96}, {67, 256}, {130, 352}, {64, 64}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		check_matmul(DT_Q8_0, shapes[i][0], shapes[i][1], 0, 300 + i);
}
END_TEST

START_TEST(test_matmul_int8)
{
	static const int shapes[][2] = {{1, 1}, {3, 7}, {67, 45}, {130, 100}, {5, 257}, {64, 64}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		check_matmul(DT_INT8, shapes[i][0], shapes[i][1], 0, 400 + i);
}
END_TEST

START_TEST(test_matmul_int8_grouped)
{
	static const int shapes[][3] = {{1, 16, 16}, {3, 48, 16}, {67, 192, 64}, {130, 96, 32}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		check_matmul(DT_INT8, shapes[i][0], shapes[i][1], shapes[i][2], 500 + i);
}
END_TEST

/* matmul and matmul_int8 on a tensor give the same bits (one kernel, two doors). */
START_TEST(test_matmul_int8_entry_points)
{
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 77);
	TestMatrix m;
	make_matrix(&m, DT_INT8, 40, 80, 16, &r);
	float *x = falloc(80), *y1 = falloc(40), *y2 = falloc(40);
	fill_uniform(&r, x, 80, 1.0f);
	MatmulScratch s;
	ck_assert_msg(matmul_scratch_init(&s, 80) == 0, "matmul scratch");
	matmul(y1, &m.t, x, &s);
	matmul_int8(y2, &m.t.i8, x, &s);
	ck_assert_msg(!memcmp(y1, y2, 40 * 4), "matmul and matmul_int8 must agree bit for bit");
	arena_reset(mark);
}
END_TEST

/* Each type on the same inputs, once on one thread and once on the pool: bit-identical.
 * Check forks a process per test, so the pool started here is this test's own; with
 * CK_FORK=no the first call's pool persists and only the pool result is compared. */
START_TEST(test_matmul_thread_independent)
{
	static const DType types[] = {DT_F32, DT_F16, DT_Q8_0, DT_INT8, DT_INT8};
	const int rows = 131, cols = 96;
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 8);
	TestMatrix m[5];
	float *y1[5], *x = falloc(cols);
	fill_uniform(&r, x, cols, 1.0f);
	MatmulScratch s;
	ck_assert_msg(matmul_scratch_init(&s, cols) == 0, "matmul scratch");
	int single = plat_threads() == 1;
	for (int i = 0; i < 5; i++) {
		make_matrix(&m[i], types[i], rows, cols, i == 4 ? 32 : 0, &r);
		y1[i] = falloc(rows);
		matmul(y1[i], &m[i].t, x, &s);
	}
	int n = plat_threads_start(3);
	if (!single || n < 2)
		printf("NOTE: thread independence compared %d against %d threads\n", single ? 1 : n,
		       n);
	for (int i = 0; i < 5; i++) {
		float *yn = falloc(rows);
		for (int rep = 0; rep < 3; rep++) {
			matmul(yn, &m[i].t, x, &s);
			ck_assert_msg(!memcmp(yn, y1[i], (size_t)rows * 4),
				      "%s: matmul on %d threads differs from 1 thread (rep %d)",
				      dtype_name(types[i]), n, rep);
		}
	}
	arena_reset(mark);
}
END_TEST

Suite *quant_suite(void)
{
	Suite *s = suite_create("quant");
	TCase *tc = tcase_create("fp16");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fp16_all_halves_round_trip);
	tcase_add_test(tc, test_fp16_known_cases);
	tcase_add_test(tc, test_fp16_vs_f16c);
	tcase_add_test(tc, test_round_half_away);
	tcase_add_test(tc, test_dtype_sizes);
	suite_add_tcase(s, tc);
	tc = tcase_create("quantizers");
	tcase_add_test(tc, test_q8_0_round_trip);
	tcase_add_test(tc, test_int8_round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("matmul");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_matmul_f32);
	tcase_add_test(tc, test_matmul_f16);
	tcase_add_test(tc, test_matmul_q8_0);
	tcase_add_test(tc, test_matmul_int8);
	tcase_add_test(tc, test_matmul_int8_grouped);
	tcase_add_test(tc, test_matmul_int8_entry_points);
	tcase_add_test(tc, test_matmul_thread_independent);
	suite_add_tcase(s, tc);
	return s;
}
