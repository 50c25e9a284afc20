/* test_kquant.c: the 4/5-bit and K-quant types: row sizes, the activation quantizers' rules,
 * the dot kernels against their dequantized rows, and every ISA's kernels (one token, and the
 * prompt batches) against the scalar reference, bit for bit, on odd shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/error.h"
#include "core/base/rng.h"
#include "core/base/str.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "core/kernels/dot.h"
#include "core/kernels/kquant.h"
#include "shim/platform.h"
#include "tests.h"

static const DType TYPES[] = {DT_Q4_0, DT_Q4_1, DT_Q5_0, DT_Q5_1, DT_Q2_K,
			      DT_Q3_K, DT_Q4_K, DT_Q5_K, DT_Q6_K};
#define NTYPES (int)(sizeof TYPES / sizeof TYPES[0])

START_TEST(test_kquant_row_bytes)
{
	static const struct {
		DType t;
		int cols;
		size_t bytes;
	} cases[] = {{DT_Q4_0, 64, 36},	  {DT_Q4_1, 32, 20},   {DT_Q5_0, 96, 66},
		     {DT_Q5_1, 32, 24},	  {DT_Q2_K, 512, 168}, {DT_Q3_K, 256, 110},
		     {DT_Q4_K, 256, 144}, {DT_Q5_K, 768, 528}, {DT_Q6_K, 256, 210},
		     {DT_Q4_0, 48, 0},	  {DT_Q4_K, 128, 0},   {DT_Q6_K, 257, 0}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(dtype_row_bytes(cases[i].t, cases[i].cols) == cases[i].bytes,
			      "%s with %d cols: %zu bytes, want %zu", dtype_name(cases[i].t),
			      cases[i].cols, dtype_row_bytes(cases[i].t, cases[i].cols),
			      cases[i].bytes);
}
END_TEST

/* Q8_K: the value of largest magnitude maps to -127 (a positive one flips every sign, d < 0),
 * the others round half to even, d = 1 / iscale, bsums per 16. */
START_TEST(test_q8_k_rule)
{
	float x[QK_K] = {0};
	x[0] = -127.0f; /* iscale = 1: the others round as they are */
	x[1] = 2.5f;
	x[2] = 3.5f;
	x[3] = -2.5f;
	x[16] = 0.5f;
	x[17] = 1.5f;
	int8_t q[QK_K];
	float d;
	int32_t bsum[QK_K / 16];
	quant_act_q8_k(x, QK_K, q, &d, bsum);
	ck_assert_msg(d == 1.0f, "d %g", (double)d);
	ck_assert_int_eq(q[0], -127);
	ck_assert_int_eq(q[1], 2);
	ck_assert_int_eq(q[2], 4);
	ck_assert_int_eq(q[3], -2);
	ck_assert_int_eq(q[16], 0);
	ck_assert_int_eq(q[17], 2);
	ck_assert_int_eq(bsum[0], -127 + 2 + 4 - 2);
	ck_assert_int_eq(bsum[1], 2);
	x[0] = 127.0f; /* a positive maximum: values negated, d = -1 */
	quant_act_q8_k(x, QK_K, q, &d, bsum);
	ck_assert_msg(d == -1.0f, "d %g", (double)d);
	ck_assert_int_eq(q[0], -127);
	ck_assert_int_eq(q[1], -2);
	ck_assert_int_eq(q[2], -4);
	memset(x, 0, sizeof x);
	quant_act_q8_k(x, QK_K, q, &d, bsum);
	ck_assert_msg(d == 0.0f && q[5] == 0 && bsum[3] == 0, "zeros stay zero");
}
END_TEST

/* Q8_1: d = amax / 127 in fp16, values from the unrounded d (half away from zero), s the fp16
 * of d times the values' sum. */
START_TEST(test_q8_1_rule)
{
	float x[QK4] = {0};
	x[0] = 12.7f;
	x[1] = 0.05f; /* 0.5 of d: away from zero */
	x[2] = -3.0f;
	int8_t q[QK4];
	float d, s;
	quant_act_q8_1(x, QK4, q, &d, &s);
	float dexact = 12.7f / 127.0f;
	ck_assert_msg(d == fp16_to_fp32(fp32_to_fp16(dexact)), "d %g", (double)d);
	ck_assert_int_eq(q[0], 127);
	ck_assert_int_eq(q[2], -30);
	int32_t sum = 0;
	for (int j = 0; j < QK4; j++)
		sum += q[j];
	ck_assert_msg(s == fp16_to_fp32(fp32_to_fp16((float)sum * dexact)), "s %g", (double)s);
}
END_TEST

/* Random blocks of type t with scales in a sane range (random bytes elsewhere). */
static void *random_row(Rng *r, DType t, int n)
{
	size_t bytes = dtype_row_bytes(t, n);
	uint8_t *p = malloc(bytes);
	for (size_t i = 0; i < bytes; i++)
		p[i] = (uint8_t)rng_next(r);
	size_t bb = kquant_block_bytes(t);
	for (size_t off = 0; off < bytes; off += bb) {
		uint16_t d = fp32_to_fp16(0.01f + 0.02f * rng_float(r));
		uint16_t m = fp32_to_fp16(0.01f * rng_float(r));
		/* where each type keeps its fp16 scale (and min) */
		size_t dpos = t == DT_Q2_K ? 80 : t == DT_Q3_K ? 108 : t == DT_Q6_K ? 208 : 0;
		memcpy(p + off + dpos, &d, 2);
		if (t == DT_Q4_1 || t == DT_Q5_1 || t == DT_Q2_K || t == DT_Q4_K || t == DT_Q5_K)
			memcpy(p + off + dpos + 2, &m, 2);
	}
	return p;
}

static void random_x(Rng *r, float *x, int n)
{
	for (int i = 0; i < n; i++)
		x[i] = 2.0f * rng_float(r) - 1.0f;
}

/* One token's activations of n values for type t, in a layout the kernels read. */
typedef struct {
	int8_t *q;
	float *d, *s;
	int32_t *bsum;
	int8_t *qn;    /* q in the weight type's nibble order (Q4_0, Q5_0, Q4_K, Q5_K) */
	int16_t *bs32; /* Q4_K, Q5_K: sums of 32 */
	QAct a;
} Act;

/* The nibble orders and sums of 32 the type's kernels read (QAct), from q and bsum. */
static void act_orders(DType t, Act *a, int n)
{
	if (t == DT_Q4_0 || t == DT_Q5_0)
		quant_act_q4_0_order(a->q, n / QK4, a->qn);
	if (t == DT_Q4_K || t == DT_Q5_K)
		quant_act_k4_order(a->q, a->bsum, n / QK_K, a->qn, a->bs32);
	a->a = (QAct){a->q, a->d, a->s, a->bsum, a->qn, a->bs32};
}

static Act quantize_x(DType t, const float *x, int n)
{
	Act a = {malloc((size_t)n),
		 calloc((size_t)n / 16 + 1, 4),
		 calloc((size_t)n / 16 + 1, 4),
		 calloc((size_t)n / 16 + 1, 4),
		 calloc((size_t)n, 1),
		 calloc((size_t)n / 32 + 1, 2),
		 {0}};
	if (kquant_act(t) == ACT_Q8_0)
		quant_act_q8_ref(x, n, a.q, a.d, a.bsum);
	else if (kquant_act(t) == ACT_Q8_1)
		quant_act_q8_1(x, n, a.q, a.d, a.s);
	else
		quant_act_q8_k(x, n, a.q, a.d, a.bsum);
	act_orders(t, &a, n);
	return a;
}

static void act_free(Act *a)
{
	free(a->qn);
	free(a->bs32);
	free(a->q);
	free(a->d);
	free(a->s);
	free(a->bsum);
}

/* The activations back as floats (Q8_1's s is not needed: it is d times the sum). */
static double act_value(DType t, const Act *a, int i)
{
	int per = kquant_act(t) == ACT_Q8_K ? QK_K : QK4;
	return (double)a->d[i / per] * a->q[i];
}

/* The reference kernel agrees with the dot product of the dequantized row and the quantized
 * activations in double (only float rounding between them): the dot kernel and the
 * dequantizer read the same layout. */
START_TEST(test_kquant_dot_matches_dequantized)
{
	Rng r;
	rng_seed(&r, 77);
	for (int ti = 0; ti < NTYPES; ti++) {
		DType t = TYPES[ti];
		int n = kquant_block(t) * 11;
		float *x = malloc((size_t)n * 4), *w = malloc((size_t)n * 4);
		void *row = random_row(&r, t, n);
		random_x(&r, x, n);
		Act a = quantize_x(t, x, n);
		kquant_dequantize_row(t, row, w, n);
		double want = 0, mag = 0;
		for (int i = 0; i < n; i++) {
			want += (double)w[i] * act_value(t, &a, i);
			mag += fabs((double)w[i] * act_value(t, &a, i));
		}
		/* Q8_1's s is rounded to fp16: allow its rounding per block */
		float got = kdot_ref[kquant_index(t)](row, &a.a, n / kquant_block(t));
		ck_assert_msg(fabs((double)got - want) <= 1e-3 * mag + 1e-6,
			      "%s: kernel %.6g, dequantized %.6g (magnitude %.3g)", dtype_name(t),
			      (double)got, want, mag);
		act_free(&a);
		free(row);
		free(x);
		free(w);
	}
}
END_TEST

/* Every ISA's kernels give the reference's bits, on rows of 1 to 23 blocks (tails of the
 * 8-block SIMD loops, super-blocks past the 8 partials). */
START_TEST(test_kquant_simd_same_bits)
{
	if (!require_cpu("K-quant SIMD kernels", isa_supported(ISA_AVX2), isa_cpu_flags("avx2")))
		return;
	static const int counts[] = {1, 3, 7, 8, 9, 16, 17, 23};
	Rng r;
	rng_seed(&r, 78);
	for (int ti = 0; ti < NTYPES; ti++) {
		DType t = TYPES[ti];
		for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
			int nb = counts[c], n = kquant_block(t) * nb;
			float *x = malloc((size_t)n * 4);
			random_x(&r, x, n);
			void *row = random_row(&r, t, n);
			Act a = quantize_x(t, x, n);
			float want = kdot_ref[kquant_index(t)](row, &a.a, nb);
			float got = kdot_avx2[kquant_index(t)](row, &a.a, nb);
			ck_assert_msg(memcmp(&want, &got, 4) == 0,
				      "%s avx2, %d blocks: %.9g, ref %.9g", dtype_name(t), nb,
				      (double)got, (double)want);
			KDotFn k512 = kdot_avx512[kquant_index(t)];
			if (k512 && isa_supported(ISA_AVX512)) {
				got = k512(row, &a.a, nb);
				ck_assert_msg(memcmp(&want, &got, 4) == 0,
					      "%s avx512, %d blocks: %.9g, ref %.9g", dtype_name(t),
					      nb, (double)got, (double)want);
			}
			act_free(&a);
			free(row);
			free(x);
		}
	}
}
END_TEST

/* The row pairs give each row the reference's bits, on rows of 1 to 23 blocks: two different
 * rows in one buffer, the second row_bytes after the first. */
START_TEST(test_kquant_row_pairs_same_bits)
{
	static const KDot2Fn pair_ref[KQ_COUNT] = {[KQ_Q2_K] = kdot2_q2_k_ref,
						   [KQ_Q3_K] = kdot2_q3_k_ref,
						   [KQ_Q4_K] = kdot2_q4_k_ref,
						   [KQ_Q5_K] = kdot2_q5_k_ref,
						   [KQ_Q6_K] = kdot2_q6_k_ref};
	static const int counts[] = {1, 3, 7, 8, 9, 16, 17, 23};
	Rng r;
	rng_seed(&r, 79);
	for (int ti = 0; ti < NTYPES; ti++) {
		DType t = TYPES[ti];
		int k = kquant_index(t);
		KDot2Fn pair = kdot2_avx512[k];
		if (!pair || !isa_supported(ISA_AVX512))
			continue;
		ck_assert_msg(pair_ref[k] != NULL, "%s: a pair kernel without a reference",
			      dtype_name(t));
		for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
			int nb = counts[c], n = kquant_block(t) * nb;
			size_t rb = dtype_row_bytes(t, n);
			float *x = malloc((size_t)n * 4);
			random_x(&r, x, n);
			void *r0 = random_row(&r, t, n), *r1 = random_row(&r, t, n);
			uint8_t *rows = malloc(2 * rb);
			memcpy(rows, r0, rb);
			memcpy(rows + rb, r1, rb);
			Act a = quantize_x(t, x, n);
			float want[2] = {kdot_ref[k](r0, &a.a, nb), kdot_ref[k](r1, &a.a, nb)},
			      got[2];
			pair(rows, rb, &a.a, nb, got);
			ck_assert_msg(memcmp(want, got, sizeof want) == 0,
				      "%s avx512 pair, %d blocks: %.9g %.9g, ref %.9g %.9g",
				      dtype_name(t), nb, (double)got[0], (double)got[1],
				      (double)want[0], (double)want[1]);
			float ref[2];
			pair_ref[k](rows, rb, &a.a, nb, ref);
			ck_assert_msg(memcmp(want, ref, sizeof want) == 0, "%s pair reference",
				      dtype_name(t));
			act_free(&a);
			free(rows);
			free(r0);
			free(r1);
			free(x);
		}
	}
}
END_TEST

/* One token's activations for the batch tests: int8 values over their whole range (-128
 * included: the kernels take any int8), their 16-value sums, and scales from tiny to large;
 * extreme tokens hold only -128 or only 127. */
static Act random_act(Rng *r, DType t, int n, bool extreme)
{
	int per = kquant_act(t) == ACT_Q8_K ? QK_K : QK4, sums = kquant_act_block(kquant_act(t));
	Act a = {malloc((size_t)n),
		 malloc((size_t)(n / per) * 4),
		 malloc((size_t)(n / QK4) * 4),
		 calloc((size_t)(n / sums), 4),
		 calloc((size_t)n, 1),
		 calloc((size_t)n / 32 + 1, 2),
		 {0}};
	int8_t fill = rng_next(r) & 1 ? 127 : -128;
	for (int i = 0; i < n; i++) {
		a.q[i] = extreme ? fill : (int8_t)rng_next(r);
		a.bsum[i / sums] += a.q[i];
	}
	for (int b = 0; b < n / per; b++)
		a.d[b] = (rng_next(r) & 1 ? 1e-6f : 1e3f) * (rng_float(r) - 0.5f);
	for (int b = 0; b < n / QK4; b++)
		a.s[b] = fp16_to_fp32(fp32_to_fp16(100.0f * (rng_float(r) - 0.5f)));
	act_orders(t, &a, n);
	return a;
}

/* A row whose codes and packed scales are all ones (largest codes, scales and mins) or random,
 * with the fp16 scales random_row gives. */
static void *batch_row(Rng *r, DType t, int nb, bool extreme)
{
	int n = kquant_block(t) * nb;
	uint8_t *p = random_row(r, t, n);
	size_t bb = kquant_block_bytes(t);
	/* the fp16 d (and dmin) kept: Q4_K/Q5_K start with them, Q6_K and Q3_K end with d, Q2_K
	 * with d and dmin */
	size_t keep0 = t == DT_Q4_K || t == DT_Q5_K ? 4 : 0;
	size_t keep1 = t == DT_Q6_K || t == DT_Q3_K ? 2 : t == DT_Q2_K ? 4 : 0;
	for (int b = 0; extreme && b < nb; b++)
		memset(p + b * bb + keep0, 0xff, bb - keep0 - keep1);
	return p;
}

/* Every ISA's batch entries give, for each token, the bits of the one-token reference, on rows
 * of 1 to 20 blocks and 1 to 11 tokens (groups of 8, 4, 2, 1 and their tails), the outputs
 * strided; so does the ISA's one-token kernel on each token (extreme rows and tokens among
 * them). */
START_TEST(test_kquant_batch_same_bits)
{
	if (!require_cpu("K-quant batch kernels", isa_supported(ISA_AVX2), isa_cpu_flags("avx2")))
		return;
	static const struct {
		const char *isa;
		Isa id;
		const KDotBatchFn *table;
		const KDotFn *one;
	} isas[] = {{"avx2", ISA_AVX2, kdot_batch_avx2, kdot_avx2},
		    {"avx512", ISA_AVX512, kdot_batch_avx512, kdot_avx512}};
	enum { MAXTOK = 11, STRIDE = 3 };
	Rng r;
	rng_seed(&r, 79);
	int tested = 0;
	for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
		if (!isa_supported(isas[k].id))
			continue;
		for (int ti = 0; ti < NTYPES; ti++) {
			DType t = TYPES[ti];
			KDotBatchFn batch = isas[k].table[kquant_index(t)];
			if (!batch)
				continue;
			for (int nb = 1; nb <= 20; nb++) {
				int n = kquant_block(t) * nb;
				bool extreme = nb % 5 == 0;
				void *row = batch_row(&r, t, nb, extreme);
				Act a[MAXTOK];
				QAct x[MAXTOK];
				for (int i = 0; i < MAXTOK; i++) {
					a[i] = random_act(&r, t, n, extreme && i % 3 != 1);
					x[i] = a[i].a;
					float want = kdot_ref[kquant_index(t)](row, &x[i], nb),
					      got = isas[k].one[kquant_index(t)](row, &x[i], nb);
					ck_assert_msg(memcmp(&want, &got, 4) == 0,
						      "%s %s, %d blocks, token %d: %.9g, ref %.9g",
						      dtype_name(t), isas[k].isa, nb, i,
						      (double)got, (double)want);
				}
				for (int ntok = 1; ntok <= MAXTOK; ntok++) {
					float y[MAXTOK * STRIDE];
					memset(y, 0, sizeof y);
					batch(row, x, ntok, nb, y, STRIDE);
					for (int i = 0; i < ntok; i++) {
						float want =
						    kdot_ref[kquant_index(t)](row, &x[i], nb);
						ck_assert_msg(
						    memcmp(&want, &y[i * STRIDE], 4) == 0,
						    "%s %s batch, %d blocks, token %d of %d: "
						    "%.9g, ref %.9g",
						    dtype_name(t), isas[k].isa, nb, i, ntok,
						    (double)y[i * STRIDE], (double)want);
					}
					tested++;
				}
				for (int i = 0; i < MAXTOK; i++)
					act_free(&a[i]);
				free(row);
			}
		}
	}
	ck_assert_msg(tested > 0, "no batch entry tested");
}
END_TEST

/* The AVX-512, AVX-VNNI and AVX2 tiles give, for each row and token, the bits of the one-token
 * reference: 1 to 11 rows (a tile of 8 and its tail), 1 to 37 tokens (groups of 16 and padded
 * tails), rows of 1 to 9 super-blocks and 25 (unpacked per group), extreme rows and tokens among
 * them, the outputs strided. */
START_TEST(test_kquant_tile_same_bits)
{
	if (!require_cpu("K-quant tiles", isa_supported(ISA_AVX2), isa_cpu_flags("avx2")))
		return;
	static const struct {
		DType t;
		Isa isa;
		KTileFn tile;
	} tiles[] = {{DT_Q2_K, ISA_AVX512, kdot_q2_k_tile_avx512},
		     {DT_Q3_K, ISA_AVX512, kdot_q3_k_tile_avx512},
		     {DT_Q2_K, ISA_AVX2, kdot_q2_k_tile_avx2},
		     {DT_Q3_K, ISA_AVX2, kdot_q3_k_tile_avx2},
		     {DT_Q2_K, ISA_AVXVNNI, kdot_q2_k_tile_avxvnni},
		     {DT_Q3_K, ISA_AVXVNNI, kdot_q3_k_tile_avxvnni},
		     {DT_Q4_K, ISA_AVX512, kdot_q4_k_tile_avx512},
		     {DT_Q5_K, ISA_AVX512, kdot_q5_k_tile_avx512},
		     {DT_Q6_K, ISA_AVX512, kdot_q6_k_tile_avx512},
		     {DT_Q4_K, ISA_AVX2, kdot_q4_k_tile_avx2},
		     {DT_Q5_K, ISA_AVX2, kdot_q5_k_tile_avx2},
		     {DT_Q6_K, ISA_AVX2, kdot_q6_k_tile_avx2},
		     {DT_Q4_K, ISA_AVXVNNI, kdot_q4_k_tile_avxvnni},
		     {DT_Q5_K, ISA_AVXVNNI, kdot_q5_k_tile_avxvnni},
		     {DT_Q6_K, ISA_AVXVNNI, kdot_q6_k_tile_avxvnni}};
	enum { MAXROWS = 11, MAXTOK = 37, STRIDE = 13 };
	static const int nbs[] = {1, 2, 3, 8, 9, 25}, ntoks[] = {1, 2, 15, 16, 17, 37};
	Rng r;
	rng_seed(&r, 83);
	int tested = 0;
	for (size_t k = 0; k < sizeof tiles / sizeof tiles[0]; k++)
		for (size_t bi = 0; bi < sizeof nbs / sizeof nbs[0] && isa_supported(tiles[k].isa);
		     bi++) {
			DType t = tiles[k].t;
			int nb = nbs[bi], n = QK_K * nb;
			size_t row_bytes = kquant_block_bytes(t) * (size_t)nb;
			uint8_t *rows = malloc(row_bytes * MAXROWS);
			for (int i = 0; i < MAXROWS; i++) {
				void *row = batch_row(&r, t, nb, i % 4 == 3);
				memcpy(rows + (size_t)i * row_bytes, row, row_bytes);
				free(row);
			}
			Act a[MAXTOK];
			int groups = (MAXTOK + KTILE_TOKENS - 1) / KTILE_TOKENS;
			KTileAct xt = {malloc((size_t)groups * (size_t)nb * KTILE_BLOCK_BYTES),
				       malloc((size_t)groups * (size_t)nb * KTILE_TOKENS * 4),
				       malloc((size_t)groups * (size_t)nb * 16 * KTILE_TOKENS * 2)};
			for (int i = 0; i < MAXTOK; i++)
				a[i] = random_act(&r, t, n, nb == 3 && i % 3 != 1);
			for (size_t ni = 0; ni < sizeof ntoks / sizeof ntoks[0]; ni++) {
				int ntok = ntoks[ni];
				for (int i = 0; i < groups * KTILE_TOKENS; i++)
					if (i < ntok)
						ktile_put_token(&xt, nb, i, a[i].q, a[i].d,
								a[i].bsum);
					else
						ktile_put_token(&xt, nb, i, NULL, NULL, NULL);
				for (int nrows = 1; nrows <= MAXROWS; nrows += 1 + (nrows > 2)) {
					float y[MAXTOK * STRIDE];
					memset(y, 0, sizeof y);
					tiles[k].tile(rows, row_bytes, nrows, nb, &xt, ntok, y,
						      STRIDE);
					for (int i = 0; i < ntok; i++)
						for (int w = 0; w < nrows; w++) {
							float want = kdot_ref[kquant_index(t)](
							    rows + (size_t)w * row_bytes, &a[i].a,
							    nb);
							ck_assert_msg(
							    memcmp(&want, &y[i * STRIDE + w], 4) ==
								0,
							    "%s tile, %d blocks, row %d of %d, "
							    "token "
							    "%d of %d: %.9g, ref %.9g",
							    dtype_name(t), nb, w, nrows, i, ntok,
							    (double)y[i * STRIDE + w],
							    (double)want);
						}
					for (int i = ntok; i < MAXTOK; i++)
						for (int w = 0; w < STRIDE; w++)
							ck_assert_msg(y[i * STRIDE + w] == 0,
								      "token %d past %d written", i,
								      ntok);
					tested++;
				}
			}
			for (int i = 0; i < MAXTOK; i++)
				act_free(&a[i]);
			free(xt.q);
			free(xt.d);
			free(xt.bs);
			free(rows);
		}
	ck_assert_msg(tested > 0, "no tile tested");
}
END_TEST

/* A whole file into memory (NULL when absent). */
static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc(*size);
	ck_assert(fread(p, 1, *size, f) == *size);
	fclose(f);
	return p;
}

/* Our quantizers write the bytes llama.cpp's llama-quantize wrote: blk.0.attn_q of the kquant
 * model's F16 file, quantized row by row, against the same tensor in each quantized file. */
START_TEST(test_kquant_quantize_like_llama_cpp)
{
	static const struct {
		const char *file;
		DType type;
	} cases[] = {{"Q4_0", DT_Q4_0},	  {"Q4_1", DT_Q4_1},   {"Q5_0", DT_Q5_0},
		     {"Q5_1", DT_Q5_1},	  {"Q2_K", DT_Q2_K},   {"Q3_K_S", DT_Q3_K},
		     {"Q4_K_S", DT_Q4_K}, {"Q5_K_S", DT_Q5_K}, {"Q6_K", DT_Q6_K}};
	const char *path = shared_model("kquant/F16.gguf");
	if (!path)
		return;
	size_t fsize;
	uint8_t *fbytes = slurp(path, &fsize);
	static GgufFile f16, q;
	ck_assert_msg(gguf_open(&f16, fbytes, fsize, path) == 0, "%s", error_message());
	const char *name = "blk.0.attn_q.weight";
	const GgufTensor *src = gguf_tensor(&f16, name);
	ck_assert(src && src->type == DT_F16);
	int cols = (int)src->ne[0], rows = (int)src->ne[1];
	float *row = malloc((size_t)cols * 4);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char qname[64];
		snprintf(qname, sizeof qname, "kquant/%s.gguf", cases[c].file);
		const char *qpath = shared_model(qname);
		if (!qpath)
			continue;
		size_t qsize;
		uint8_t *qbytes = slurp(qpath, &qsize);
		ck_assert_msg(gguf_open(&q, qbytes, qsize, qpath) == 0, "%s", error_message());
		const GgufTensor *want = gguf_tensor(&q, name);
		ck_assert(want && want->type == (uint32_t)cases[c].type);
		size_t rb = dtype_row_bytes(cases[c].type, cols);
		uint8_t *got = malloc(rb);
		int same = 0;
		for (int r = 0; r < rows; r++) {
			for (int j = 0; j < cols; j++)
				row[j] =
				    fp16_to_fp32(load_u16(src->data + 2 * ((size_t)r * cols + j)));
			kquant_quantize_row(cases[c].type, row, got, cols);
			same += memcmp(got, want->data + (size_t)r * rb, rb) == 0;
		}
		ck_assert_msg(same == rows, "%s: %d of %d rows as llama-quantize wrote them",
			      cases[c].file, same, rows);
		free(got);
		free(qbytes);
	}
	free(row);
	free(fbytes);
}
END_TEST

/* --quant q3_k_m and q4_k_m pick for each matrix the type llama-quantize gave it in the same
 * mixes of the kquant model (the tied embedding aside: llama.cpp makes it Q6_K as the classifier,
 * the shared files keep their base type). */
START_TEST(test_kquant_mix_types_like_llama_cpp)
{
	static const struct {
		const char *file;
		QuantMode mode;
	} cases[] = {{"Q3_K_M", QUANT_Q3_K_M}, {"Q4_K_M", QUANT_Q4_K_M}};
	const char *path = shared_model("kquant/F16.gguf");
	if (!path)
		return;
	size_t fsize;
	uint8_t *fbytes = slurp(path, &fsize);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char qname[64];
		snprintf(qname, sizeof qname, "kquant/%s.gguf", cases[c].file);
		const char *qpath = shared_model(qname);
		if (!qpath)
			continue;
		size_t qsize;
		uint8_t *qbytes = slurp(qpath, &qsize);
		static LoadedModel ours, theirs;
		ck_assert_msg(model_load_bytes(&ours, fbytes, fsize, path, cases[c].mode) == 0,
			      "%s", error_message());
		ck_assert_msg(model_load_bytes(&theirs, qbytes, qsize, qpath, QUANT_NONE) == 0,
			      "%s", error_message());
		const ModelWeights *a = &ours.model.weights, *b = &theirs.model.weights;
		for (int l = 0; l < ours.model.config.n_layers; l++) {
			const Tensor *ta[] = {&a->wq[l], &a->wk[l], &a->wv[l], &a->wo[l],
					      &a->w1[l], &a->w2[l], &a->w3[l]};
			const Tensor *tb[] = {&b->wq[l], &b->wk[l], &b->wv[l], &b->wo[l],
					      &b->w1[l], &b->w2[l], &b->w3[l]};
			for (int k = 0; k < 7; k++)
				ck_assert_msg(ta[k]->type == tb[k]->type,
					      "%s layer %d matrix %d: %s, llama-quantize %s",
					      cases[c].file, l, k, dtype_name(ta[k]->type),
					      dtype_name(tb[k]->type));
		}
		ck_assert_msg(a->token_embedding.type == DT_Q6_K, "tied embedding: %s",
			      dtype_name(a->token_embedding.type));
		free(qbytes);
	}
	free(fbytes);
}
END_TEST

Suite *kquant_suite(void)
{
	Suite *s = suite_create("kquant");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_kquant_row_bytes);
	tcase_add_test(tc, test_q8_k_rule);
	tcase_add_test(tc, test_q8_1_rule);
	tcase_add_test(tc, test_kquant_dot_matches_dequantized);
	tcase_add_test(tc, test_kquant_simd_same_bits);
	tcase_add_test(tc, test_kquant_row_pairs_same_bits);
	tcase_add_test(tc, test_kquant_batch_same_bits);
	tcase_add_test(tc, test_kquant_tile_same_bits);
	tcase_add_test(tc, test_kquant_quantize_like_llama_cpp);
	tcase_add_test(tc, test_kquant_mix_types_like_llama_cpp);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
