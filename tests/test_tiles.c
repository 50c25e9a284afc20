/* test_tiles.c: the AVX2 and AVX-VNNI prompt tiles give each row and token the bits of the
 * one-token AVX2 kernel and of the scalar reference, on odd shapes, and write nothing else. An ISA
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
static uint8_t xt[MAXG * MAXNB * QTILE_BLOCK_BYTES];
static float xdt[MAXG * MAXNB * QTILE_TOKENS];
/* one spare column per token: the tile must not write past its rows */
#define YS (QTILE_ROWS + 1)
static float got[MAXT * YS], want[MAXT * YS];

/* Activations as the quantizers leave them (values in [-127, 127]), then the batch in the tile
 * layout: groups of 16 tokens, values plus offset (AVX2: as they are, AVX-VNNI: x + 128),
 * padding x = 0 and scale 0. */
static void make_batch(Rng *r, int nb, int ntok, uint8_t offset)
{
	memset(xt, offset, sizeof xt);
	memset(xdt, 0, sizeof xdt);
	for (int t = 0; t < ntok; t++) {
		size_t g = (size_t)(t / QTILE_TOKENS) * (size_t)nb;
		for (int b = 0; b < nb; b++) {
			int32_t s = 0;
			for (int k = 0; k < QK8_0; k++) {
				int8_t v = rand_i8(r, -127);
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

/* A tile against the one-token AVX2 kernel and the reference: every shape, 1 to 8 rows. */
static void check_tile(const char *name, QDotQ8TileFn tile, uint8_t offset)
{
	Rng r;
	rng_seed(&r, 21);
	for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
		int nb = shapes[si][0], ntok = shapes[si][1];
		for (int b = 0; b < QTILE_ROWS * nb; b++) {
			/* scales with fp16 subnormals and negatives; -128 weights too */
			float d = (rng_float(&r) - 0.3f) * 0.02f;
			w[b].d = fp32_to_fp16(b % 7 == 3 ? d * 1e-4f : d);
			for (int k = 0; k < QK8_0; k++)
				w[b].qs[k] = rand_i8(&r, -128);
		}
		make_batch(&r, nb, ntok, offset);
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
		check_tile("AVX2", qdot_q8_tile_avx2, TILE2_X_OFFSET);
}
END_TEST

START_TEST(test_q8_0_tile_avxvnni_bit_exact)
{
	if (require_cpu("AVX-VNNI tiles", isa_supported(ISA_AVXVNNI), isa_cpu_flags("avxvnni")))
		check_tile("AVX-VNNI", qdot_q8_tile_avxvnni, 0x80);
}
END_TEST

Suite *tiles_suite(void)
{
	Suite *s = suite_create("tiles");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_q8_0_tile_avx2_bit_exact);
	tcase_add_test(tc, test_q8_0_tile_avxvnni_bit_exact);
	suite_add_tcase(s, tc);
	return s;
}
