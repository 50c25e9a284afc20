/* test_ops.c: core/model/ops.c (rms_norm, softmax, swiglu, RoPE) against double references. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/base/arena.h"
#include "core/base/rng.h"
#include "core/kernels/vector.h"
#include "core/model/ops.h"
#include "shim/platform.h"
#include "tests.h"

/* rms_norm: a float sum of n squares is good to ~n/2 ulps in the worst case, sqrt and the
 * products add a few: relative to |w x| / rms, per element. */
#define MAX_RMS_NORM_REL_ERR 2e-5
/* softmax: expf within 1 ulp, then the division by a float sum of up to 32000 terms
 * (measured 1e-5 relative): relative to each probability. */
#define MAX_SOFTMAX_REL_ERR 5e-5
/* Sum of the probabilities: within this of 1 (the float sum over 32000 terms is off by
 * 1e-5, and every probability shares that relative error). */
#define MAX_SOFTMAX_SUM_ERR 5e-5
/* swiglu: expf, one division, two products. */
#define MAX_SWIGLU_REL_ERR 1e-6
/* rope_freqs and rope_angles: float powf/cosf/sinf of the same float argument. */
#define MAX_ROPE_TABLE_ULP 2
/* rope_encoding: two products and a sum per output, relative to the pair norm. */
#define MAX_ROPE_REL_ERR 1e-6

static float *falloc(size_t n)
{
	float *p = arena_alloc(n * sizeof(float), 64, "test floats");
	ck_assert_msg(p != NULL, "arena exhausted (%zu floats)", n);
	return p;
}

static void fill_uniform(Rng *r, float *x, int n, float lo, float hi)
{
	for (int i = 0; i < n; i++)
		x[i] = lo + (hi - lo) * rng_float(r);
}

static long ulp_diff(float a, float b)
{
	int ia, ib;
	memcpy(&ia, &a, 4);
	memcpy(&ib, &b, 4);
	long oa = ia < 0 ? (long)INT32_MIN - ia : ia, ob = ib < 0 ? (long)INT32_MIN - ib : ib;
	return oa > ob ? oa - ob : ob - oa;
}

START_TEST(test_rms_norm)
{
	static const int sizes[] = {1, 2, 7, 64, 288, 2048, 5632};
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 1);
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		int n = sizes[si];
		float *x = falloc(n), *w = falloc(n), *o = falloc(n);
		for (int trial = 0; trial < 3; trial++) {
			float scale = trial == 0 ? 1.0f : trial == 1 ? 1e-3f : 300.0f;
			fill_uniform(&r, x, n, -scale, scale);
			fill_uniform(&r, w, n, 0.5f, 1.5f);
			double ss = 0;
			for (int i = 0; i < n; i++)
				ss += (double)x[i] * x[i];
			double inv = 1.0 / sqrt(ss / n + 1e-5);
			rms_norm(o, x, w, n, 1e-5f);
			for (int i = 0; i < n; i++) {
				double want = (double)w[i] * x[i] * inv;
				double tol = MAX_RMS_NORM_REL_ERR * fabs(want) + FLT_MIN;
				ck_assert_msg(fabs(o[i] - want) <= tol,
					      "rms_norm n %d scale %g [%d]: got %.9g, want %.9g", n,
					      (double)scale, i, (double)o[i], want);
			}
			/* In place (o aliases x) gives the same bits. */
			rms_norm(x, x, w, n, 1e-5f);
			ck_assert_msg(!memcmp(x, o, (size_t)n * 4),
				      "rms_norm in place differs from out of place (n %d)", n);
		}
	}
	/* All zeros: eps keeps it finite, the result is 0. */
	float z[4] = {0, 0, 0, 0}, w1[4] = {1, 1, 1, 1}, oz[4];
	rms_norm(oz, z, w1, 4, 1e-5f);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(oz[i] == 0, "rms_norm of zeros must be 0, got %g", (double)oz[i]);
	arena_reset(mark);
}
END_TEST

START_TEST(test_softmax)
{
	static const int sizes[] = {1, 2, 5, 33, 256, 2048, 32000};
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 2);
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		int n = sizes[si];
		float *x = falloc(n);
		double *ref = arena_alloc((size_t)n * sizeof(double), 64, "ref");
		for (int trial = 0; trial < 3; trial++) {
			float lo = trial == 0 ? -5 : trial == 1 ? 990 : -60;
			float hi = trial == 0 ? 5 : trial == 1 ? 1010 : 20;
			fill_uniform(&r, x, n, lo, hi);
			double max = x[0], sum = 0;
			for (int i = 1; i < n; i++)
				max = fmax(max, x[i]);
			for (int i = 0; i < n; i++)
				sum += ref[i] = exp((double)x[i] - max);
			softmax(x, n);
			double got_sum = 0;
			for (int i = 0; i < n; i++) {
				double want = ref[i] / sum;
				got_sum += x[i];
				ck_assert_msg(
				    fabs(x[i] - want) <= MAX_SOFTMAX_REL_ERR * want + 1e-30,
				    "softmax n %d range [%g, %g] [%d]: got %.9g, want %.9g", n,
				    (double)lo, (double)hi, i, (double)x[i], want);
				ck_assert_msg(x[i] >= 0 && x[i] <= 1,
					      "probability %g out of [0, 1]", (double)x[i]);
			}
			ck_assert_msg(fabs(got_sum - 1) <= MAX_SOFTMAX_SUM_ERR,
				      "softmax n %d sums to %.9g, not 1", n, got_sum);
		}
	}
	float eq[4] = {3, 3, 3, 3};
	softmax(eq, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(eq[i] == 0.25f, "equal logits give 1/4 each, got %.9g",
			      (double)eq[i]);
	float one[1] = {-7};
	softmax(one, 1);
	ck_assert_msg(one[0] == 1.0f, "softmax of one value is 1, got %.9g", (double)one[0]);
	float inf[3] = {-INFINITY, 0, -INFINITY};
	softmax(inf, 3);
	ck_assert_msg(inf[0] == 0 && inf[1] == 1 && inf[2] == 0,
		      "-inf logits (masked) get probability 0: %g %g %g", (double)inf[0],
		      (double)inf[1], (double)inf[2]);
	arena_reset(mark);
}
END_TEST

START_TEST(test_swiglu)
{
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 3);
	const int n = 5000;
	float *a = falloc(n), *b = falloc(n), *a0 = falloc(n);
	fill_uniform(&r, a, n, -30, 30);
	fill_uniform(&r, b, n, -3, 3);
	a[0] = 0;
	a[1] = -100; /* expf(100) overflows to inf: silu must give -0, not NaN */
	a[2] = 100;
	memcpy(a0, a, (size_t)n * 4);
	swiglu_ref(a, b, n);
	for (int i = 0; i < n; i++) {
		double x = a0[i], want = x / (1 + exp(-x)) * b[i];
		ck_assert_msg(!isnan(a[i]), "swiglu(%g, %g) is NaN", x, (double)b[i]);
		ck_assert_msg(fabs(a[i] - want) <= MAX_SWIGLU_REL_ERR * fabs(want) + 1e-37,
			      "swiglu(%.9g, %.9g) = %.9g, want %.9g", x, (double)b[i], (double)a[i],
			      want);
	}
	arena_reset(mark);
}
END_TEST

START_TEST(test_rope_tables)
{
	static const int head_sizes[] = {2, 8, 16, 48, 64, 128};
	static const float thetas[] = {10000.0f, 500000.0f};
	float freq[64], cs[128];
	for (size_t hi = 0; hi < sizeof head_sizes / sizeof head_sizes[0]; hi++)
		for (int ti = 0; ti < 2; ti++) {
			int hs = head_sizes[hi];
			rope_freqs(freq, hs, thetas[ti]);
			for (int j = 0; j < hs / 2; j++) {
				float want =
				    (float)(1.0 /
					    pow(thetas[ti], (double)((float)(2 * j) / (float)hs)));
				ck_assert_msg(ulp_diff(freq[j], want) <= MAX_ROPE_TABLE_ULP,
					      "freq[%d] of head %d theta %g: %.9g, want %.9g", j,
					      hs, (double)thetas[ti], (double)freq[j],
					      (double)want);
			}
			ck_assert_msg(freq[0] == 1.0f, "the first frequency is 1");
			for (int pos = 0; pos < 2048; pos += 67) {
				rope_angles(cs, freq, hs, pos);
				for (int j = 0; j < hs / 2; j++) {
					float a = (float)pos * freq[j];
					ck_assert_msg(
					    ulp_diff(cs[2 * j], (float)cos(a)) <=
						    MAX_ROPE_TABLE_ULP &&
						ulp_diff(cs[2 * j + 1], (float)sin(a)) <=
						    MAX_ROPE_TABLE_ULP,
					    "pos %d pair %d (angle %.9g): cos %.9g sin %.9g", pos,
					    j, (double)a, (double)cs[2 * j], (double)cs[2 * j + 1]);
				}
			}
		}
}
END_TEST

/* Grouped-query shapes: q spans dim, k only kv_dim; both rotate by the head's angles. */
START_TEST(test_rope_encoding)
{
	const int head = 16, dim = 128, kv_dim = 32;
	size_t mark = arena_mark();
	Rng r;
	rng_seed(&r, 4);
	float *q = falloc(dim), *k = falloc(dim), *q0 = falloc(dim), *k0 = falloc(dim);
	float freq[8], cs[16];
	rope_freqs(freq, head, 10000.0f);
	for (int pos = 0; pos < 2048; pos += 97) {
		fill_uniform(&r, q, dim, -2, 2);
		fill_uniform(&r, k, dim, -2, 2);
		for (int i = kv_dim; i < dim; i++)
			k[i] = 1234.5f; /* past kv_dim: must not be touched */
		memcpy(q0, q, (size_t)dim * 4);
		memcpy(k0, k, (size_t)dim * 4);
		rope_angles(cs, freq, head, pos);
		rope_encoding(q, k, dim, kv_dim, head, cs);
		for (int i = 0; i < dim; i += 2) {
			int j = i % head;
			double c = cs[j], s = cs[j + 1];
			const float *in[2] = {q0, k0};
			const float *out[2] = {q, k};
			for (int v = 0; v < (i < kv_dim ? 2 : 1); v++) {
				double a = in[v][i], b = in[v][i + 1];
				double wa = a * c - b * s, wb = a * s + b * c;
				double norm0 = hypot(a, b), norm1 = hypot(out[v][i], out[v][i + 1]);
				ck_assert_msg(fabs(out[v][i] - wa) <= MAX_ROPE_REL_ERR * norm0 &&
						  fabs(out[v][i + 1] - wb) <=
						      MAX_ROPE_REL_ERR * norm0,
					      "pos %d %s pair %d: (%.9g, %.9g), want (%.9g, %.9g)",
					      pos, v ? "k" : "q", i, (double)out[v][i],
					      (double)out[v][i + 1], wa, wb);
				ck_assert_msg(fabs(norm1 - norm0) <= 2 * MAX_ROPE_REL_ERR * norm0,
					      "pos %d %s pair %d: norm %.9g became %.9g", pos,
					      v ? "k" : "q", i, norm0, norm1);
			}
		}
		for (int i = kv_dim; i < dim; i++)
			ck_assert_msg(k[i] == 1234.5f, "k[%d] past kv_dim %d was changed", i,
				      kv_dim);
		if (pos == 0)
			ck_assert_msg(!memcmp(q, q0, (size_t)dim * 4),
				      "position 0 rotates by 0: q must be unchanged");
	}
	arena_reset(mark);
}
END_TEST

Suite *ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = tcase_create("reference");
	tcase_add_test(tc, test_rms_norm);
	tcase_add_test(tc, test_softmax);
	tcase_add_test(tc, test_swiglu);
	tcase_add_test(tc, test_rope_tables);
	tcase_add_test(tc, test_rope_encoding);
	suite_add_tcase(s, tc);
	return s;
}
