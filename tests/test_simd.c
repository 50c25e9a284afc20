/* test_simd.c: every SIMD dot kernel (AVX2, AVX-512 VNNI) gives the scalar reference's bits,
 * on shapes that are not multiples of the vector width; batched and fused matmuls give the
 * one-token bits. An ISA the CPU lacks is skipped with a loud SKIP line. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/base/arena.h"
#include "core/base/rng.h"
#include "core/formats/synth.h"
#include "core/kernels/fexp.h"
#include "core/kernels/kquant.h"
#include "core/kernels/quantize.h"
#include "core/kernels/registry.h"
#include "core/model/model.h"
#include "shim/platform.h"
#include "tests.h"

static const char *isa_names[] = {"scalar", "avx2", "avxvnni", "avx512"};
/* Each ISA's one-token kernels, as its registry row has them (avxvnni runs AVX2's). */
static const QDotQ8Fn q8_fns[] = {qdot_q8_ref, qdot_q8_avx2, qdot_q8_avx2, qdot_q8_avx512};
static const QDotI8Fn i8_fns[] = {qdot_i8_ref, qdot_i8_avx2, qdot_i8_avx2, qdot_i8_avx512};

static bool isa_or_skip(Isa isa)
{
	return require_cpu(isa_names[isa], isa_supported(isa), isa_cpu_flags(isa_names[isa]));
}

static int8_t rand_i8(Rng *r, int lo)
{
	return (int8_t)(lo + (int)(rng_next(r) % (uint64_t)(128 - lo)));
}

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

/* Random activations as the quantizers leave them: values in [-127, 127], positive scales,
 * and the block sums the VNNI kernels rely on. */
static void make_act(Rng *r, int8_t *xq, float *xd, int32_t *xsum, int n, int B)
{
	for (int k0 = 0, b = 0; k0 < n; k0 += B, b++) {
		int32_t s = 0;
		for (int k = k0; k < n && k < k0 + B; k++) {
			xq[k] = rand_i8(r, -127);
			s += xq[k];
		}
		xsum[b] = s;
		xd[b] = rng_float(r) * 0.05f + 1e-4f;
	}
}

START_TEST(test_q8_0_kernels_bit_exact)
{
	static const int rows[] = {1, 3, 17, 64}, cols[] = {32, 96, 160, 256, 544, 5632};
	Rng r;
	rng_seed(&r, 11);
	for (int isa = ISA_AVX2; isa <= ISA_AVX512; isa++) {
		if (!isa_or_skip((Isa)isa))
			continue;
		for (size_t ci = 0; ci < sizeof cols / sizeof cols[0]; ci++) {
			int nb = cols[ci] / QK8_0;
			int8_t xq[5632];
			float xd[176];
			int32_t xsum[176];
			make_act(&r, xq, xd, xsum, cols[ci], QK8_0);
			for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
				for (int i = 0; i < rows[ri]; i++) {
					BlockQ8_0 w[176];
					for (int b = 0; b < nb; b++) {
						/* -128 too: GGUF files may hold it; scales
						 * include fp16 subnormals and negatives */
						float d = (rng_float(&r) - 0.3f) * 0.02f;
						if (b % 7 == 3)
							d *= 1e-4f;
						w[b].d = fp32_to_fp16(d);
						for (int k = 0; k < QK8_0; k++)
							w[b].qs[k] = rand_i8(&r, -128);
					}
					float want = qdot_q8_ref(w, xq, xd, xsum, nb);
					float got = q8_fns[isa](w, xq, xd, xsum, nb);
					ck_assert_msg(
					    f32_bits(got) == f32_bits(want),
					    "Q8_0 %s: %d cols, row %d of %d: %.9g, reference "
					    "%.9g",
					    isa_names[isa], cols[ci], i, rows[ri], (double)got,
					    (double)want);
				}
			}
		}
	}
}
END_TEST

START_TEST(test_int8_kernels_bit_exact)
{
	/* {cols, group size (0: per tensor, blocks of 32, the last one short)} */
	static const int shapes[][2] = {{1, 0},	   {7, 0},    {33, 0},	 {100, 0},   {257, 0},
					{288, 0},  {2048, 0}, {2050, 0}, {48, 16},   {96, 32},
					{320, 32}, {192, 64}, {640, 64}, {1024, 128}};
	static const int rows[] = {1, 3, 17};
	Rng r;
	rng_seed(&r, 12);
	for (int isa = ISA_AVX2; isa <= ISA_AVX512; isa++) {
		if (!isa_or_skip((Isa)isa))
			continue;
		for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
			int n = shapes[si][0], gs = shapes[si][1], B = gs ? gs : QK8_0;
			int nb = (n + B - 1) / B;
			int8_t xq[2050], w[2050];
			float xd[80], ws[80];
			int32_t xsum[80];
			make_act(&r, xq, xd, xsum, n, B);
			for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
				for (int i = 0; i < rows[ri]; i++) {
					/* per tensor: any int8 and a zero point; grouped: symmetric
					 */
					for (int k = 0; k < n; k++)
						w[k] = rand_i8(&r, gs ? -127 : -128);
					for (int b = 0; b < nb; b++)
						ws[b] = rng_float(&r) * 0.01f;
					int32_t zp = gs ? 0 : (int32_t)(rng_next(&r) % 256) - 128;
					float sc = rng_float(&r) * 0.01f;
					const float *wsp = gs ? ws : NULL;
					float want =
					    qdot_i8_ref(w, wsp, sc, zp, xq, xd, xsum, n, B);
					float got = i8_fns[isa](w, wsp, sc, zp, xq, xd, xsum, n, B);
					ck_assert_msg(
					    f32_bits(got) == f32_bits(want),
					    "int8 %s: %d cols, group %d, zero point %d, row "
					    "%d: %.9g, reference %.9g",
					    isa_names[isa], n, gs, zp, i, (double)got,
					    (double)want);
				}
			}
		}
	}
}
END_TEST

/* The AVX2 activation quantizer gives the scalar one's bytes, scales and sums: halves that
 * round away from zero, an all-zero block, tiny and large magnitudes, a NaN. */
START_TEST(test_quant_act_q8_bit_exact)
{
	if (!isa_or_skip(ISA_AVX2))
		return;
	enum { N = 32 * 64 };
	static float x[N];
	static int8_t q1[N], q2[N];
	static float d1[N / 32], d2[N / 32];
	static int32_t s1[N / 32], s2[N / 32];
	Rng r;
	rng_seed(&r, 15);
	for (int rep = 0; rep < 20; rep++) {
		for (int k = 0; k < N; k++) {
			float scale = (k / 32) % 5 == 0 ? 1e-6f : (k / 32) % 5 == 1 ? 300.0f : 1.0f;
			x[k] = (rng_float(&r) * 2 - 1) * scale;
			if (k % 11 == 0) /* exactly k + 0.5 steps of a block whose amax is 127 */
				x[k] = (float)((int)(rng_next(&r) % 254) - 127) + 0.5f;
			if (k % 32 == 5)
				x[k] = 127.0f;
		}
		for (int k = 64; k < 96; k++)
			x[k] = 0.0f;
		x[200 + rep] = __builtin_nanf(""); /* NaN inputs: defined, and the same bytes */
		quant_act_q8_ref(x, N, q1, d1, s1);
		quant_act_q8_avx2(x, N, q2, d2, s2);
		ck_assert_msg(!memcmp(q1, q2, N), "AVX2 activation values differ (rep %d)", rep);
		ck_assert_msg(!memcmp(d1, d2, sizeof d1), "AVX2 activation scales differ");
		ck_assert_msg(!memcmp(s1, s2, sizeof s1), "AVX2 activation block sums differ");
	}
}
END_TEST

/* The AVX2 Q8_K quantizer gives the reference's bytes, scales and 16-value sums: ties of the
 * largest magnitude (the first wins, +a or -a), halves that round to even, an all-zero
 * super-block, tiny and large magnitudes, NaN and infinity (the scalar rule). */
START_TEST(test_quant_act_q8_k_bit_exact)
{
	if (!isa_or_skip(ISA_AVX2))
		return;
	enum { N = QK_K * 12 };
	static float x[N];
	static int8_t q1[N], q2[N];
	static float d1[N / QK_K], d2[N / QK_K];
	static int32_t s1[N / 16], s2[N / 16];
	Rng r;
	rng_seed(&r, 16);
	for (int rep = 0; rep < 20; rep++) {
		for (int k = 0; k < N; k++) {
			int b = k / QK_K;
			float scale = b % 4 == 0 ? 1e-6f : b % 4 == 1 ? 3e4f : 1.0f;
			x[k] = (rng_float(&r) * 2 - 1) * scale;
			if (b % 4 == 3 && k % 7 == 0) /* k + 0.5 steps against a largest of -127 */
				x[k] = (float)((int)(rng_next(&r) % 254) - 127) + 0.5f;
		}
		for (int k = 3 * QK_K; k < 4 * QK_K; k += 97)
			x[k] = -127.0f; /* ties: the first -127 is the largest */
		x[10 * QK_K + 9] = 2.0f, x[10 * QK_K + 12] = -2.0f; /* +a first */
		x[6 * QK_K + 9] = -2.0f, x[6 * QK_K + 12] = 2.0f;   /* -a first */
		for (int k = 7 * QK_K; k < 8 * QK_K; k++)
			x[k] = 0.0f;
		x[8 * QK_K + 1 + rep] = __builtin_nanf("");
		x[9 * QK_K + 200 - rep] = rep % 2 ? __builtin_inff() : -__builtin_inff();
		quant_act_q8_k(x, N, q1, d1, s1);
		quant_act_q8_k_avx2(x, N, q2, d2, s2);
		ck_assert_msg(!memcmp(q1, q2, N), "Q8_K values differ (rep %d)", rep);
		ck_assert_msg(!memcmp(d1, d2, sizeof d1), "Q8_K scales differ (rep %d)", rep);
		ck_assert_msg(!memcmp(s1, s2, sizeof s1), "Q8_K sums differ (rep %d)", rep);
	}
}
END_TEST

/* The row-tile kernels that read x + 128 (reference, AVX-VNNI, AVX-512) give each row and token
 * the one-token bits: 1 to 8 rows, widths of 1 to 67 blocks (not multiples of 8), 1 to 37 tokens
 * (padded groups). */
START_TEST(test_q8_0_tile_bit_exact)
{
	enum { MAXNB = 67, MAXT = 37 };
	static const int nbs[] = {1, 7, 8, 13, 64, MAXNB}, ntoks[] = {1, 5, 16, 17, MAXT};
	static BlockQ8_0 w[QTILE_ROWS * MAXNB];
	static int8_t xq[MAXT][MAXNB * 32];
	static uint8_t xt[3 * MAXNB * QTILE_BLOCK_BYTES];
	static float xd[MAXT][MAXNB], xdt[3 * MAXNB * QTILE_TOKENS];
	static int32_t xsum[MAXT][MAXNB];
	float want[MAXT * QTILE_ROWS], got[MAXT * QTILE_ROWS];
	Rng r;
	rng_seed(&r, 14);
	for (size_t ni = 0; ni < sizeof nbs / sizeof nbs[0]; ni++) {
		int nb = nbs[ni];
		for (int b = 0; b < QTILE_ROWS * nb; b++) {
			w[b].d = fp32_to_fp16((rng_float(&r) - 0.3f) * 0.02f);
			for (int k = 0; k < 32; k++) /* -128 too: files may hold it */
				w[b].qs[k] = rand_i8(&r, -128);
		}
		memset(xt, 0x80, sizeof xt);
		memset(xdt, 0, sizeof xdt);
		for (int t = 0; t < MAXT; t++) {
			make_act(&r, xq[t], xd[t], xsum[t], nb * 32, 32);
			size_t g = (size_t)(t / QTILE_TOKENS) * (size_t)nb;
			for (int b = 0; b < nb; b++) {
				for (int k = 0; k < 32; k++)
					xt[(g + b) * QTILE_BLOCK_BYTES +
					   (k / 4) * QTILE_LANE_BYTES + (t % QTILE_TOKENS) * 4 +
					   k % 4] = (uint8_t)(xq[t][b * 32 + k] ^ 0x80);
				xdt[(g + b) * QTILE_TOKENS + t % QTILE_TOKENS] = xd[t][b];
			}
		}
		for (size_t ti = 0; ti < sizeof ntoks / sizeof ntoks[0]; ti++) {
			int ntok = ntoks[ti];
			for (int rows = 1; rows <= QTILE_ROWS; rows++) {
				for (int t = 0; t < ntok; t++)
					for (int i = 0; i < rows; i++)
						want[t * rows + i] = qdot_q8_ref(
						    w + i * nb, xq[t], xd[t], xsum[t], nb);
				memset(got, 0xff, sizeof got);
				qdot_q8_tile_ref(w, nb, rows, xt, xdt, ntok, got, (size_t)rows);
				ck_assert_msg(!memcmp(got, want, sizeof(float) * ntok * rows),
					      "tile reference differs from the one-token one "
					      "(%d blocks, %d rows, %d tokens)",
					      nb, rows, ntok);
				if (isa_supported(ISA_AVXVNNI)) {
					memset(got, 0xff, sizeof got);
					qdot_q8_tile_avxvnni(w, nb, rows, xt, xdt, ntok, got,
							     (size_t)rows);
					ck_assert_msg(
					    !memcmp(got, want, sizeof(float) * ntok * rows),
					    "tile AVX-VNNI differs from the one-token reference "
					    "(%d blocks, %d rows, %d tokens)",
					    nb, rows, ntok);
				}
				if (!isa_supported(ISA_AVX512))
					continue;
				memset(got, 0xff, sizeof got);
				qdot_q8_tile_avx512(w, nb, rows, xt, xdt, ntok, got, (size_t)rows);
				ck_assert_msg(!memcmp(got, want, sizeof(float) * ntok * rows),
					      "tile AVX-512 differs from the one-token reference "
					      "(%d blocks, %d rows, %d tokens)",
					      nb, rows, ntok);
			}
		}
	}
	isa_or_skip(ISA_AVXVNNI);
	isa_or_skip(ISA_AVX512);
}
END_TEST

__attribute__((target("avx2"))) static void fexp8_rows(const float *x, float *y, int n)
{
	for (int i = 0; i < n; i += 8)
		_mm256_storeu_ps(y + i, fexp8(_mm256_loadu_ps(x + i)));
}

__attribute__((target("avx512f"))) static void fexp16_rows(const float *x, float *y, int n)
{
	for (int i = 0; i < n; i += 16)
		_mm512_storeu_ps(y + i, fexp16(_mm512_loadu_ps(x + i)));
}

/* fexp8 and fexp16 give every lane fexp's bits: a sweep of the range, the edges of the range (the
 * 2^-100 step, overflow to inf, underflow to 0), subnormal results, infinities and NaN. */
START_TEST(test_fexp_simd_bit_exact)
{
	static float x[4096 + 16];
	int n = 0;
	for (int i = 0; i < 4096; i++) /* -110 .. 90 */
		x[n++] = -110.0f + 200.0f * (float)i / 4096.0f;
	const float edge[] = {FEXP_HI,	    nextafterf(FEXP_HI, 1e9f),
			      FEXP_LO,	    nextafterf(FEXP_LO, -1e9f),
			      -87.3f,	    -69.3f,
			      -69.4f,	    -0.0f,
			      0.0f,	    1e-30f,
			      -1e-30f,	    1.0f / 0.0f,
			      -1.0f / 0.0f, 0.0f / 0.0f,
			      88.0f,	    -100.0f};
	for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
		x[n++] = edge[i];
	while (n % 16)
		x[n++] = 0.5f;
	static float got[4096 + 16];
	for (int isa = ISA_AVX2; isa <= ISA_AVX512; isa++) {
		if (!isa_or_skip((Isa)isa))
			continue;
		if (isa == ISA_AVX512)
			fexp16_rows(x, got, n);
		else
			fexp8_rows(x, got, n);
		for (int i = 0; i < n; i++) {
			float want = fexp(x[i]);
			ck_assert_msg(f32_bits(got[i]) == f32_bits(want) ||
					  (want != want && got[i] != got[i]),
				      "%s fexp(%a) = %a, fexp gives %a", isa_names[isa],
				      (double)x[i], (double)got[i], (double)want);
		}
	}
}
END_TEST

/* The same bits, except that any NaN matches any NaN (which operand's payload an x86 multiply
 * passes on depends on the compiler's operand order, not on the kernel). */
static bool same_floats(const float *a, const float *b, int n)
{
	for (int i = 0; i < n; i++)
		if (f32_bits(a[i]) != f32_bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]))
			return false;
	return true;
}

/* swiglu_avx2 and swiglu_avx512 give swiglu_ref's bits (NaN for NaN), over lengths that leave a
 * masked tail. */
START_TEST(test_swiglu_bit_exact)
{
	enum { N = 1000 };
	static float hb[N], hb2[N], want[N], got[N];
	Rng r;
	rng_seed(&r, 23);
	for (int i = 0; i < N; i++) {
		hb[i] = (rng_float(&r) * 2 - 1) * (i % 7 == 0 ? 120.0f : 8.0f);
		hb2[i] = rng_float(&r) * 2 - 1;
	}
	hb[3] = 0.0f / 0.0f;
	hb[5] = 1.0f / 0.0f;
	hb[9] = -1.0f / 0.0f;
	hb[11] = -0.0f;
	for (int isa = ISA_AVX2; isa <= ISA_AVX512; isa++) {
		if (!isa_or_skip((Isa)isa))
			continue;
		for (int n = 1; n <= N; n += 37) {
			memcpy(want, hb, sizeof want);
			memcpy(got, hb, sizeof got);
			swiglu_ref(want, hb2, n);
			(isa == ISA_AVX512 ? swiglu_avx512 : swiglu_avx2)(got, hb2, n);
			ck_assert_msg(same_floats(got, want, N), "%s swiglu differs (n = %d)",
				      isa_names[isa], n);
		}
	}
}
END_TEST

/* The AVX2 and AVX-512 attention give the reference's bits: heads of 8 to 100 values (not multiples
 * of 16 or 64), 4 to 16 queries, each with its own causal end, keys strided as in the cache. */
START_TEST(test_attention_bit_exact)
{
	enum { T = 150, MAXH = 100, STRIDE = 3 * MAXH + 5 };
	static const int heads[] = {8, 12, 64, 72, 100};
	static float keys[T * STRIDE], values[T * STRIDE], q[ATTN_LANES][MAXH];
	static float want[ATTN_LANES][MAXH], got[ATTN_LANES][MAXH];
	static float att[T * ATTN_LANES] __attribute__((aligned(64)));
	isa_or_skip(ISA_AVX2); /* says SKIP for a missing ISA, once */
	isa_or_skip(ISA_AVX512);
	Rng r;
	rng_seed(&r, 21);
	for (int i = 0; i < T * STRIDE; i++) {
		keys[i] = rng_float(&r) * 2 - 1;
		values[i] = rng_float(&r) * 2 - 1;
	}
	for (size_t hi = 0; hi < sizeof heads / sizeof heads[0]; hi++) {
		int hs = heads[hi];
		/* fewer queries run the reference inside the SIMD versions */
		for (int nq = ATTN_SIMD_MIN_QUERIES; nq <= ATTN_LANES; nq += 3) {
			AttnGroup g = {keys + 7, values + 7, STRIDE, hs,  sqrtf((float)hs), nq, {0},
				       {0},	 {0},	     nq % 2, NULL};
			for (int i = 0; i < nq; i++) {
				/* large scores: softmax far from uniform */
				for (int d = 0; d < hs; d++)
					q[i][d] = (rng_float(&r) * 2 - 1) * 4;
				g.q[i] = q[i];
				g.last[i] = (int)(rng_next(&r) % T);
			}
			for (int i = 0; i < nq; i++)
				g.out[i] = want[i];
			attn_group_ref(&g, att);
			for (int i = 0; i < nq; i++)
				g.out[i] = got[i];
			for (int isa = ISA_AVX2; isa <= ISA_AVX512; isa++) {
				if (!isa_supported((Isa)isa))
					continue;
				memset(got, 0xff, sizeof got);
				(isa == ISA_AVX512 ? attn_group_avx512 : attn_group_avx2)(&g, att);
				for (int i = 0; i < nq; i++)
					ck_assert_msg(
					    !memcmp(got[i], want[i], sizeof(float) * (size_t)hs),
					    "attention: %s differs from the reference (head %d, "
					    "%d queries, query %d attends to 0..%d)",
					    isa_names[isa], hs, nq, i, g.last[i]);
			}
		}
	}
}
END_TEST

/* The F32 and F16 dot kernels give the reference's bits, on lengths below, at and between
 * multiples of their lane counts. */
START_TEST(test_float_kernels_bit_exact)
{
	enum { N = 700 };
	static const int lens[] = {1, 15, 31, 32, 63, 64, 65, 100, 257, 512, N};
	static const FDotF32Fn f32[] = {fdot_f32_ref, fdot_f32_avx2, fdot_f32_avx2,
					fdot_f32_avx512};
	static const FDotF16Fn f16[] = {fdot_f16_ref, fdot_f16_avx2, fdot_f16_avx2,
					fdot_f16_avx512};
	static float w[N], x[N];
	static uint16_t hw[N], hx[N];
	Rng r;
	rng_seed(&r, 29);
	for (int k = 0; k < N; k++) {
		w[k] = (rng_float(&r) * 2 - 1) * (k % 9 == 0 ? 1e3f : 1.0f);
		x[k] = rng_float(&r) * 2 - 1;
		hw[k] = fp32_to_fp16(w[k] * 1e-2f);
		hx[k] = fp32_to_fp16(x[k]);
	}
	for (int isa = ISA_AVX2; isa <= ISA_AVX512; isa++) {
		if (!isa_or_skip((Isa)isa))
			continue;
		for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
			int n = lens[li];
			float want = fdot_f32_ref(w, x, n), got = f32[isa](w, x, n);
			ck_assert_msg(f32_bits(got) == f32_bits(want),
				      "%s F32 dot, n = %d: %a vs %a", isa_names[isa], n,
				      (double)got, (double)want);
			want = fdot_f16_ref(hw, hx, n);
			got = f16[isa](hw, hx, n);
			ck_assert_msg(f32_bits(got) == f32_bits(want),
				      "%s F16 dot, n = %d: %a vs %a", isa_names[isa], n,
				      (double)got, (double)want);
		}
	}
}
END_TEST

/* The F16 and F32 prompt tiles give each row and token fdot_f16_ref's (fdot_f32_ref's) bits: 1
 * to 37 rows (row blocks, pairs and a last odd row), lengths around multiples of the 32 lanes, 1
 * to 7 tokens (groups of 3 and 4 and their tails); F16's x given as quant_act_f16's floats. */
START_TEST(test_float_tiles_bit_exact)
{
	enum { MAXR = 37, MAXN = 161, MAXT = 7 };
	static const int rows[] = {1, 2, 5, 16, 17, MAXR}, lens[] = {1, 31, 32, 33, 96, MAXN};
	static uint16_t w[MAXR * MAXN], xh[MAXT * MAXN];
	static float wf[MAXR * MAXN], x[MAXT * MAXN], xf[MAXT * MAXN], want[MAXT * MAXR],
	    got[MAXT * MAXR];
	static const FDotF16TileFn f16_tiles[] = {NULL, fdot_f16_tile_avx2, fdot_f16_tile_avx2,
						  fdot_f16_tile_avx512};
	static const FDotF32TileFn f32_tiles[] = {NULL, fdot_f32_tile_avx2, fdot_f32_tile_avx2,
						  fdot_f32_tile_avx512};
	Rng r;
	rng_seed(&r, 31);
	for (int k = 0; k < MAXR * MAXN; k++) {
		wf[k] = (rng_float(&r) * 2 - 1) * (k % 11 == 0 ? 30.0f : 0.5f);
		w[k] = fp32_to_fp16(wf[k]);
	}
	for (int k = 0; k < MAXT * MAXN; k++)
		x[k] = (rng_float(&r) * 2 - 1) * (k % 13 == 0 ? 1e3f : 1.0f);
	for (int isa = ISA_AVX2; isa <= ISA_AVX512; isa++) {
		if (!isa_or_skip((Isa)isa))
			continue;
		for (int half = 0; half <= 1; half++)
			for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
				for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
					for (int nt = 1; nt <= MAXT; nt += 2) {
						int n = lens[li], R = rows[ri];
						for (int t = 0; t < nt; t++)
							quant_act_f16_ref(x + t * n, n, xh + t * n,
									  xf + t * n);
						for (int t = 0; t < nt; t++)
							for (int i = 0; i < R; i++)
								want[t * R + i] =
								    half ? fdot_f16_ref(w + i * n,
											xh + t * n,
											n)
									 : fdot_f32_ref(wf + i * n,
											x + t * n,
											n);
						memset(got, 0xff, sizeof got);
						if (half)
							f16_tiles[isa](w, n, R, xf, (size_t)n, nt,
								       got, (size_t)R);
						else
							f32_tiles[isa](wf, n, R, x, (size_t)n, nt,
								       got, (size_t)R);
						ck_assert_msg(
						    !memcmp(got, want, sizeof(float) * nt * R),
						    "%s %s tile, %d rows of %d, %d tokens",
						    isa_names[isa], half ? "F16" : "F32", R, n, nt);
					}
	}
}
END_TEST

/* quant_act_f16's AVX2 version rounds as the reference (F16C against plain C): ties, values
 * beyond the fp16 range, fp16 subnormals and underflow, NaN, inf; lengths off multiples of 8. */
START_TEST(test_quant_act_f16_bit_exact)
{
	if (!isa_or_skip(ISA_AVX2))
		return;
	enum { N = 203 };
	static float x[N], f1[N], f2[N];
	static uint16_t h1[N], h2[N];
	Rng r;
	rng_seed(&r, 37);
	for (int k = 0; k < N; k++) {
		float m = k % 5 == 0 ? 1e-6f : k % 5 == 1 ? 7e4f : k % 5 == 2 ? 3e-8f : 1.0f;
		x[k] = (rng_float(&r) * 2 - 1) * m;
	}
	x[3] = 1.0f + 0x1p-11f;		     /* a tie: to even (1.0) */
	x[4] = 1.0f + 3 * 0x1p-11f;	     /* a tie: to even (up) */
	x[6] = 65520.0f;		     /* rounds to inf */
	x[8] = 0x1p-25f, x[9] = -0x1.8p-24f; /* subnormal ties */
	x[11] = __builtin_nanf(""), x[12] = -__builtin_inff(), x[13] = __builtin_inff();
	x[14] = -0.0f;
	for (int n = 1; n <= N; n += 29) {
		quant_act_f16_ref(x, n, h1, f1);
		quant_act_f16_avx2(x, n, h2, f2);
		ck_assert_msg(!memcmp(h1, h2, sizeof(uint16_t) * n), "fp16 values differ (n %d)",
			      n);
		ck_assert_msg(!memcmp(f1, f2, sizeof(float) * n), "their floats differ (n %d)", n);
		quant_act_f16_avx2(x, n, h2, NULL);
		ck_assert_msg(!memcmp(h1, h2, sizeof(uint16_t) * n), "fp16 alone differ (n %d)", n);
	}
}
END_TEST

/* Through the public entry: every ISA, batched (matmul_multi, fused outputs) and one token
 * at a time, on 1 and 2 threads: the same bits everywhere. */
START_TEST(test_matmul_isa_batch_threads)
{
	/* 256 columns: whole groups of 8 blocks; 20 tokens: a full tile group and a padded one */
	const int rows = 67, rows2 = 33, cols = 256, n = 43;
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 13);
	BlockQ8_0 *w = arena_alloc((size_t)(rows + rows2) * 8 * sizeof(BlockQ8_0), 64, "test");
	float *x = arena_alloc(sizeof(float) * n * cols, 64, "test");
	float *want = arena_alloc(sizeof(float) * n * (rows + rows2), 64, "test");
	float *got = arena_alloc(sizeof(float) * n * (rows + rows2), 64, "test");
	ck_assert_msg(w && x && want && got, "test arena");
	for (int b = 0; b < (rows + rows2) * 8; b++) {
		w[b].d = fp32_to_fp16(rng_float(&r) * 0.01f);
		for (int k = 0; k < QK8_0; k++)
			w[b].qs[k] = rand_i8(&r, -127);
	}
	for (int k = 0; k < n * cols; k++)
		x[k] = rng_float(&r) * 2 - 1;
	Tensor W1 = {.type = DT_Q8_0, .rows = rows, .cols = cols, .data = w};
	Tensor W2 = {.type = DT_Q8_0, .rows = rows2, .cols = cols, .data = w + rows * 8};
	MatmulScratch s;
	ck_assert_msg(matmul_scratch_init_batch(&s, cols, 20) == 0, "scratch");
	ck_assert_msg(kernels_select_named("scalar") == 0, "scalar is always there");
	for (int t = 0; t < n; t++) {
		matmul(want + t * rows, &W1, x + t * cols, &s);
		matmul(want + n * rows + t * rows2, &W2, x + t * cols, &s);
	}
	for (int threads = 1; threads <= 2; threads++) {
		if (threads == 2 && plat_threads_start(2) < 2)
			printf("NOTE: no second thread for the thread-count comparison\n");
		for (int isa = ISA_SCALAR; isa <= ISA_AVX512; isa++) {
			if (!isa_or_skip((Isa)isa))
				continue;
			ck_assert_msg(kernels_select_named(isa_names[isa]) == 0, "select %s",
				      isa_names[isa]);
			memset(got, 0xff, sizeof(float) * n * (rows + rows2));
			/* 43 tokens through a scratch of 20: slices of 20 (on AVX-512 a full
			 * transposed group of 16 and a padded one), 20 and 3 */
			MatmulOut outs[2] = {{got, &W1, rows}, {got + n * rows, &W2, rows2}};
			matmul_multi(outs, 2, x, cols, n, &s);
			ck_assert_msg(!memcmp(got, want, sizeof(float) * n * (rows + rows2)),
				      "%s, %d threads: batched fused matmul differs from one token "
				      "at a time on the scalar kernels",
				      isa_names[isa], threads);
		}
	}
	arena_reset(mark);
}
END_TEST

/* The same for the 4/5-bit and K-quant types with prompt tiles (Q4_0 and Q5_0 through the
 * Q8_0 tile, the K-quants through their own) and one without (Q4_1): random codes and scales,
 * small fp16 d (and dmin), 67 rows (tiles of 8 and a tail), 43 tokens in slices of 20; then
 * four K-quant types in one pass. */
START_TEST(test_matmul_kquant_batch_threads)
{
	static const DType types[] = {DT_Q4_0, DT_Q5_0, DT_Q4_1, DT_Q2_K,
				      DT_Q3_K, DT_Q4_K, DT_Q5_K, DT_Q6_K};
	const int rows = 67, cols = 512, n = 43;
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 17);
	float *x = arena_alloc(sizeof(float) * n * cols, 64, "test");
	float *got = arena_alloc(sizeof(float) * n * rows, 64, "test");
	ck_assert_msg(x && got, "test arena");
	for (int k = 0; k < n * cols; k++)
		x[k] = rng_float(&r) * 2 - 1;
	MatmulScratch s;
	ck_assert_msg(matmul_scratch_init_batch(&s, cols, 20) == 0, "scratch");
	enum { NT = sizeof types / sizeof types[0] };
	Tensor Ws[NT];
	float *wants[NT];
	for (size_t ti = 0; ti < NT; ti++) {
		DType t = types[ti];
		size_t bb = kquant_block_bytes(t), nbk = (size_t)(cols / kquant_block(t));
		uint8_t *w = arena_alloc((size_t)rows * nbk * bb, 64, "test");
		ck_assert_msg(w != NULL, "test arena");
		for (size_t i = 0; i < (size_t)rows * nbk * bb; i++)
			w[i] = (uint8_t)rng_next(&r);
		/* d (and dmin) first, Q6_K's d last */
		for (size_t b = 0; b < (size_t)rows * nbk; b++)
			for (int h = 0;
			     h <
			     (t == DT_Q4_K || t == DT_Q5_K || t == DT_Q4_1 || t == DT_Q2_K ? 2 : 1);
			     h++) {
				uint16_t d = fp32_to_fp16(rng_float(&r) * 0.01f);
				/* Q6_K's and Q3_K's d end the block, Q2_K's d and dmin too */
				size_t at = t == DT_Q6_K || t == DT_Q3_K ? bb - 2
					    : t == DT_Q2_K		 ? bb - 4 + 2 * (size_t)h
									 : 2 * (size_t)h;
				memcpy(w + b * bb + at, &d, 2);
			}
		Ws[ti] = (Tensor){.type = t, .rows = rows, .cols = cols, .data = w};
		wants[ti] = arena_alloc(sizeof(float) * n * rows, 64, "test");
		ck_assert_msg(wants[ti] != NULL, "test arena");
		ck_assert_msg(kernels_select_named("scalar") == 0, "scalar is always there");
		for (int k = 0; k < n; k++)
			matmul(wants[ti] + k * rows, &Ws[ti], x + k * cols, &s);
	}
	/* Q3_K, Q4_K, Q6_K and Q2_K outs in one pass (a K-quant mix's attention projections), a
	 * prompt and one token: each out gets its own type's bits */
	static const int mix[] = {4, 5, 7, 3};
	float *mixed = arena_alloc(sizeof(float) * 4 * n * rows, 64, "test");
	ck_assert_msg(mixed != NULL, "test arena");
	for (int threads = 1; threads <= 2; threads++) {
		if (threads == 2)
			plat_threads_start(2);
		for (int isa = ISA_SCALAR; isa <= ISA_AVX512; isa++) {
			if (!isa_or_skip((Isa)isa))
				continue;
			ck_assert_msg(kernels_select_named(isa_names[isa]) == 0, "select %s",
				      isa_names[isa]);
			for (size_t ti = 0; ti < NT; ti++) {
				memset(got, 0xff, sizeof(float) * n * rows);
				MatmulOut out = {got, &Ws[ti], rows};
				matmul_multi(&out, 1, x, cols, n, &s);
				ck_assert_msg(!memcmp(got, wants[ti], sizeof(float) * n * rows),
					      "%s %s, %d threads: the batch differs from one token "
					      "at a time on the scalar kernels",
					      dtype_name(types[ti]), isa_names[isa], threads);
			}
			for (int tokens = 1; tokens <= n; tokens += n - 1) {
				MatmulOut outs[4];
				for (int c = 0; c < 4; c++)
					outs[c] =
					    (MatmulOut){mixed + c * n * rows, &Ws[mix[c]], rows};
				memset(mixed, 0xff, sizeof(float) * 4 * n * rows);
				matmul_multi(outs, 4, x, cols, tokens, &s);
				for (int c = 0; c < 4; c++)
					ck_assert_msg(
					    !memcmp(mixed + c * n * rows, wants[mix[c]],
						    sizeof(float) * tokens * rows),
					    "%s, %d threads, %d tokens: the %s out of a mixed "
					    "pass differs from its own pass",
					    isa_names[isa], threads, tokens,
					    dtype_name(Ws[mix[c]].type));
			}
		}
	}
	arena_reset(mark);
}
END_TEST

/* A prompt run as batches gives the one-token path's logits and KV cache, bit for bit, on
 * every ISA and on 1 and 2 threads (70 tokens: a full batch and a short one). */
START_TEST(test_forward_batch_equals_one_token)
{
	const int n = 70;
	int toks[70];
	for (int i = 0; i < n; i++)
		toks[i] = (i * 37 + 5) % 512;
	size_t mark = arena_mark();
	Model a, b;
	ck_assert_msg(synth_build(&a, "small", 5) == 0 && model_state_init(&a, 128) == 0,
		      "synthetic small model");
	ck_assert_msg(synth_build(&b, "small", 5) == 0 && model_state_init(&b, 128) == 0,
		      "synthetic small model");
	int V = a.config.vocab_size;
	float *want = arena_alloc(sizeof(float) * (size_t)V * 2, 64, "test logits");
	ck_assert_msg(want != NULL, "test arena");
	ck_assert_msg(kernels_select_named("scalar") == 0, "scalar");
	for (int i = 0; i < n; i++)
		memcpy(want, model_forward(&a, toks[i], i), sizeof(float) * (size_t)V);
	memcpy(want + V, model_forward(&a, 7, n), sizeof(float) * (size_t)V);
	for (int threads = 1; threads <= 2; threads++) {
		if (threads == 2)
			plat_threads_start(2);
		for (int isa = ISA_SCALAR; isa <= ISA_AVX512; isa++) {
			if (!isa_or_skip((Isa)isa))
				continue;
			kernels_select_named(isa_names[isa]);
			float *got = model_forward_batch(&b, toks, n, 0);
			ck_assert_msg(!memcmp(got, want, sizeof(float) * (size_t)V),
				      "%s, %d threads: last prompt logits of the batch differ from "
				      "the one-token path",
				      isa_names[isa], threads);
			got = model_forward(&b, 7, n);
			ck_assert_msg(
			    !memcmp(got, want + V, sizeof(float) * (size_t)V),
			    "%s, %d threads: the next token after a batched prompt differs "
			    "(KV cache)",
			    isa_names[isa], threads);
		}
	}
	arena_reset(mark);
}
END_TEST

START_TEST(test_isa_names)
{
	ck_assert_msg(kernels_select_named("scalar") == 0 && kernels_isa() == ISA_SCALAR,
		      "--isa scalar always works");
	ck_assert_msg(kernels_select_named("avx3") < 0, "--isa avx3 must be refused");
	ck_assert_msg(kernels_select_named(NULL) == 0, "automatic choice always works");
	ck_assert_msg(isa_supported(kernels_isa()), "the automatic choice is supported");
	if (isa_supported(ISA_AVX512))
		ck_assert_msg(kernels_isa() == ISA_AVX512,
			      "AVX-512 VNNI is preferred when present");
	else if (isa_supported(ISA_AVXVNNI))
		ck_assert_msg(kernels_isa() == ISA_AVXVNNI,
			      "AVX-VNNI is preferred to plain AVX2 when AVX-512 is absent");
}
END_TEST

Suite *simd_suite(void)
{
	Suite *s = suite_create("simd");
	TCase *tc = tcase_create("kernels");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_q8_0_kernels_bit_exact);
	tcase_add_test(tc, test_int8_kernels_bit_exact);
	tcase_add_test(tc, test_q8_0_tile_bit_exact);
	tcase_add_test(tc, test_quant_act_q8_bit_exact);
	tcase_add_test(tc, test_quant_act_q8_k_bit_exact);
	tcase_add_test(tc, test_fexp_simd_bit_exact);
	tcase_add_test(tc, test_attention_bit_exact);
	tcase_add_test(tc, test_swiglu_bit_exact);
	tcase_add_test(tc, test_float_kernels_bit_exact);
	tcase_add_test(tc, test_float_tiles_bit_exact);
	tcase_add_test(tc, test_quant_act_f16_bit_exact);
	tcase_add_test(tc, test_matmul_isa_batch_threads);
	tcase_add_test(tc, test_matmul_kquant_batch_threads);
	tcase_add_test(tc, test_isa_names);
	tcase_add_test(tc, test_forward_batch_equals_one_token);
	suite_add_tcase(s, tc);
	return s;
}
