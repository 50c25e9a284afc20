/* test_tiles.c: the AVX2 and AVX-VNNI prompt tiles (Q8_0, Q4_0 rows unpacked to Q8_0, int8) give
 * each row and token the bits of the one-token AVX2 kernel and of the scalar reference, on odd
 * shapes, and write nothing else. An ISA
 * the CPU lacks is skipped with a loud SKIP line. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/base/rng.h"
#include "core/kernels/dot.h"
#include "tests.h"

static int8_t rand_i8(Rng *r, int lo)
{
	return (int8_t)(lo + (int)(rng_next(r) % (uint64_t)(128 - lo)));
}

enum { MAXNB = 139, MAXT = 75, MAXG = (MAXT + QTILE_TOKENS - 1) / QTILE_TOKENS };
/* {blocks, tokens}: widths across the 64-block chunks and not multiples of 8, token counts
 * across the 8-token passes, the 16-token groups and the 64-token partials */
static const int shapes[][2] = {{1, 1},	     {1, 37},	 {7, 5},       {8, 16},	 {13, 17},
				{64, 9},     {67, 37},	 {67, 1},      {65, 64}, {128, 3},
				{MAXNB, 33}, {20, MAXT}, {MAXNB, MAXT}};

static BlockQ8_0 w[QTILE_ROWS * MAXNB];
static int8_t xq[MAXT][MAXNB * QK8_0];
static float xd[MAXT][MAXNB];
static int32_t xsum[MAXT][MAXNB];
static int32_t xsum_nb[MAXT * MAXNB]; /* the same, token t's block b at t nb + b */
static uint8_t xt[MAXG * MAXNB * QTILE_BLOCK_BYTES];
static float xdt[MAXG * MAXNB * QTILE_TOKENS];
/* one spare column per token: the tile must not write past its rows */
#define YS (QTILE_ROWS + 1)
static float got[MAXT * YS], want[MAXT * YS];

/* Activations as the quantizers leave them (values in [-127, 127]), then the batch in the tile
 * layout: groups of 16 tokens, values plus offset (AVX2: as they are, AVX-VNNI: x + 128),
 * padding x = 0 and scale 0. */
static void make_batch(Rng *r, int nb, int ntok, uint8_t offset, bool extreme)
{
	memset(xt, offset, sizeof xt);
	memset(xdt, 0, sizeof xdt);
	for (int t = 0; t < ntok; t++) {
		size_t g = (size_t)(t / QTILE_TOKENS) * (size_t)nb;
		for (int b = 0; b < nb; b++) {
			int32_t s = 0;
			for (int k = 0; k < QK8_0; k++) {
				/* extreme: +-127, the sign by token */
				int8_t v =
				    extreme ? (int8_t)(t % 2 ? -127 : 127) : rand_i8(r, -127);
				xq[t][b * QK8_0 + k] = v;
				s += v;
				xt[(g + (size_t)b) * QTILE_BLOCK_BYTES +
				   (size_t)(k / 4) * QTILE_LANE_BYTES +
				   (size_t)(t % QTILE_TOKENS) * 4 + (size_t)(k % 4)] =
				    (uint8_t)(v + offset);
			}
			xsum[t][b] = s;
			xd[t][b] = rng_float(r) * 0.05f + 1e-4f;
			xdt[(g + (size_t)b) * QTILE_TOKENS + (size_t)(t % QTILE_TOKENS)] = xd[t][b];
		}
	}
}

/* A tile against the one-token AVX2 kernel and the reference: every shape, 1 to 8 rows. q4: the
 * Q4_0 or Q5_0 tile instead, on weights as those rows unpacked to Q8_0 (codes 0 to 2 half - 1,
 * minus half). */
static void check_tile(const char *name, QDotQ8TileFn tile, QDotCodesTileFn q4, int half,
		       uint8_t offset)
{
	Rng r;
	rng_seed(&r, 21);
	/* the last pass again with the extremes: weights -8 and 7 (Q4_0) or -127 and 127 by row,
	 * activations +-127 */
	size_t nshapes = sizeof shapes / sizeof shapes[0];
	for (size_t pass = 0; pass <= nshapes; pass++) {
		bool extreme = pass == nshapes;
		size_t si = extreme ? nshapes - 1 : pass;
		int nb = shapes[si][0], ntok = shapes[si][1];
		for (int b = 0; b < QTILE_ROWS * nb; b++) {
			/* scales with fp16 subnormals and negatives; -128 weights too */
			float d = (rng_float(&r) - 0.3f) * 0.02f;
			w[b].d = fp32_to_fp16(b % 7 == 3 ? d * 1e-4f : d);
			for (int k = 0; k < QK8_0; k++)
				w[b].qs[k] =
				    extreme ? (int8_t)(b / nb % 2 ? (q4 ? half - 1 : 127)
								  : (q4 ? -half : -127))
				    : q4    ? (int8_t)((int)(rng_next(&r) % (uint64_t)(2 * half)) -
						       half)
					    : rand_i8(&r, -128);
		}
		make_batch(&r, nb, ntok, offset, extreme);
		for (int t = 0; t < ntok; t++)
			for (int b = 0; b < nb; b++)
				xsum_nb[t * nb + b] = xsum[t][b];
		for (int rows = 1; rows <= QTILE_ROWS; rows++) {
			memset(want, 0xa5, sizeof want);
			for (int t = 0; t < ntok; t++)
				for (int i = 0; i < rows; i++) {
					const BlockQ8_0 *row = w + (size_t)i * (size_t)nb;
					float one = qdot_q8_avx2(row, xq[t], xd[t], xsum[t], nb);
					float ref = qdot_q8_ref(row, xq[t], xd[t], xsum[t], nb);
					ck_assert_msg(!memcmp(&one, &ref, sizeof one),
						      "one-token AVX2 differs from the reference");
					want[t * YS + i] = one;
				}
			memset(got, 0xa5, sizeof got);
			if (q4)
				q4(w, nb, rows, xt, xdt, xsum_nb, ntok, got, YS);
			else
				tile(w, nb, rows, xt, xdt, ntok, got, YS);
			for (int t = 0; t < ntok; t++)
				ck_assert_msg(
				    !memcmp(got + t * YS, want + t * YS, sizeof(float) * YS),
				    "%s tile differs from the one-token kernel (or wrote past its "
				    "rows): %d blocks, %d rows, token %d of %d",
				    name, nb, rows, t, ntok);
			ck_assert_msg(!memcmp(got + ntok * YS, want + ntok * YS,
					      sizeof(float) * (size_t)(MAXT - ntok) * YS),
				      "%s tile wrote past its tokens", name);
		}
	}
}

START_TEST(test_q8_0_tile_avx2_bit_exact)
{
	if (require_cpu("AVX2 tiles", isa_supported(ISA_AVX2), isa_cpu_flags("avx2")))
		check_tile("AVX2", qdot_q8_tile_avx2, NULL, 0, TILE2_X_OFFSET);
}
END_TEST

/* Q4_0's and Q5_0's codes in vpmaddubsw with their int16 pairs summed over a whole block (half
 * a block): the extreme codes (weights -8 and 7, -16 and 15) against activations of +-127 reach
 * 30480 (31496), inside int16. */
START_TEST(test_q4_0_q5_0_tiles_avx2_bit_exact)
{
	if (require_cpu("AVX2 tiles", isa_supported(ISA_AVX2), isa_cpu_flags("avx2")))
		check_tile("AVX2 Q4_0", NULL, qdot_q4_0_tile_avx2, 8, TILE2_X_OFFSET);
	check_tile("AVX2 Q5_0", NULL, qdot_q5_0_tile_avx2, 16, TILE2_X_OFFSET);
}
END_TEST

START_TEST(test_q8_0_tile_avxvnni_bit_exact)
{
	if (require_cpu("AVX-VNNI tiles", isa_supported(ISA_AVXVNNI), isa_cpu_flags("avxvnni")))
		check_tile("AVX-VNNI", qdot_q8_tile_avxvnni, NULL, 0, 0x80);
}
END_TEST

/* int8 tiles: {values per row, group size (0: per tensor with a zero point, blocks of 32 and
 * a short last one), tokens}: groups of 32 to 128 values, a width across the 64-piece chunks,
 * a group of 16 (the reference's path), 1 to 37 tokens across the 8-token passes. */
enum { I8N = 2368, I8T = 37 };
static const int i8_shapes[][3] = {{7, 0, 3},	   {33, 0, 9},	 {100, 0, 37},	{2200, 0, 17},
				   {96, 32, 1},	   {320, 32, 8}, {192, 64, 37}, {I8N, 64, 5},
				   {640, 128, 11}, {48, 16, 6},	 {288, 0, I8T}};
static int8_t i8w[QTILE_ROWS * I8N], i8x[I8T * I8N];
static float i8ws[QTILE_ROWS * I8N / 16], i8xd[I8T * (I8N / 16 + 1)];
static int32_t i8xs[I8T * (I8N / 16 + 1)];

/* An int8 tile against the one-token AVX2 kernel and the reference: every shape, 1 to 8
 * rows; the tile reference too. */
static void check_i8_tile(const char *name, QDotI8TileFn tile)
{
	Rng r;
	rng_seed(&r, 22);
	for (size_t si = 0; si < sizeof i8_shapes / sizeof i8_shapes[0]; si++) {
		int n = i8_shapes[si][0], gs = i8_shapes[si][1], ntok = i8_shapes[si][2];
		int B = gs ? gs : QK8_0, nb = (n + B - 1) / B;
		/* per tensor: any int8 and a zero point; grouped: symmetric, as the files hold */
		for (int k = 0; k < QTILE_ROWS * n; k++)
			i8w[k] = rand_i8(&r, gs ? -127 : -128);
		for (int k = 0; k < QTILE_ROWS * nb; k++)
			i8ws[k] = rng_float(&r) * 0.01f;
		int32_t zp = gs ? 0 : (int32_t)(rng_next(&r) % 256) - 128;
		float sc = rng_float(&r) * 0.01f;
		const float *ws = gs ? i8ws : NULL;
		for (int t = 0; t < ntok; t++)
			for (int b = 0; b < nb; b++) {
				int32_t sum = 0;
				for (int k = b * B; k < n && k < (b + 1) * B; k++) {
					i8x[t * n + k] = rand_i8(&r, -127);
					sum += i8x[t * n + k];
				}
				i8xs[t * nb + b] = sum;
				i8xd[t * nb + b] = rng_float(&r) * 0.05f + 1e-4f;
			}
		for (int rows = 1; rows <= QTILE_ROWS; rows++) {
			memset(want, 0xa5, sizeof want);
			for (int t = 0; t < ntok; t++)
				for (int i = 0; i < rows; i++) {
					const int8_t *row = i8w + (size_t)i * (size_t)n;
					const float *wsr = ws ? ws + (size_t)i * (size_t)nb : NULL;
					float one =
					    qdot_i8_avx2(row, wsr, sc, zp, i8x + t * n,
							 i8xd + t * nb, i8xs + t * nb, n, B);
					float ref = qdot_i8_ref(row, wsr, sc, zp, i8x + t * n,
								i8xd + t * nb, i8xs + t * nb, n, B);
					ck_assert_msg(
					    !memcmp(&one, &ref, sizeof one),
					    "one-token int8 AVX2 differs from the reference");
					want[t * YS + i] = one;
				}
			memset(got, 0xa5, sizeof got);
			tile(i8w, ws, (size_t)nb, sc, zp, rows, i8x, i8xd, i8xs, n, B, ntok, got,
			     YS);
			ck_assert_msg(!memcmp(got, want, sizeof(float) * (size_t)MAXT * YS),
				      "int8 %s tile differs from the one-token kernel (or wrote "
				      "elsewhere): %d values, group %d, zero point %d, %d rows, %d "
				      "tokens",
				      name, n, gs, zp, rows, ntok);
			memset(got, 0xa5, sizeof got);
			qdot_i8_tile_ref(i8w, ws, (size_t)nb, sc, zp, rows, i8x, i8xd, i8xs, n, B,
					 ntok, got, YS);
			ck_assert_msg(!memcmp(got, want, sizeof(float) * (size_t)MAXT * YS),
				      "int8 tile reference differs from the one-token kernel");
		}
	}
}

START_TEST(test_int8_tile_avx2_bit_exact)
{
	if (require_cpu("AVX2 int8 tiles", isa_supported(ISA_AVX2), isa_cpu_flags("avx2")))
		check_i8_tile("AVX2", qdot_i8_tile_avx2);
}
END_TEST

START_TEST(test_int8_tile_avxvnni_bit_exact)
{
	if (require_cpu("AVX-VNNI int8 tiles", isa_supported(ISA_AVXVNNI),
			isa_cpu_flags("avxvnni")))
		check_i8_tile("AVX-VNNI", qdot_i8_tile_avxvnni);
}
END_TEST

Suite *tiles_suite(void)
{
	Suite *s = suite_create("tiles");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_q8_0_tile_avx2_bit_exact);
	tcase_add_test(tc, test_q4_0_q5_0_tiles_avx2_bit_exact);
	tcase_add_test(tc, test_q8_0_tile_avxvnni_bit_exact);
	tcase_add_test(tc, test_int8_tile_avx2_bit_exact);
	tcase_add_test(tc, test_int8_tile_avxvnni_bit_exact);
	suite_add_tcase(s, tc);
	return s;
}
