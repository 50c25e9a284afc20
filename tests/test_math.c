/* test_math.c: core/base/mathx.c (exp, log, sin, cos, pow, sqrt without libm) against libm. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/base/mathx.h"
#include "core/base/rng.h"
#include "tests.h"

/* Float results are computed in double and rounded once: at most 1 ulp from libm's
 * double result rounded to float (which is within 0.5 ulp + a double rounding). */
#define MAX_EXPF_ULP 1
#define MAX_SINCOSF_ULP 1
#define MAX_POWF_ULP 1
#define MAX_SQRTF_ULP 0
/* Double results: a few double ulps (series sums, Cody-Waite reductions), far below the
 * float ulp (6e-8) that matters to the model. Measured: log 6.6e-16, exp 7.7e-16,
 * sin/cos 4.4e-16 absolute. */
#define MAX_LOG_REL_ERR 1e-15
#define MAX_EXP_REL_ERR 1e-15
#define MAX_SINCOS_ABS_ERR 1e-15
/* Points per sweep. */
#define SWEEP_POINTS 2000000

/* Distance in representable floats between a and b (both finite). */
static int64_t ulp_diff(float a, float b)
{
	int32_t ia, ib;
	memcpy(&ia, &a, 4);
	memcpy(&ib, &b, 4);
	int64_t oa = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
	int64_t ob = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
	return oa > ob ? oa - ob : ob - oa;
}

typedef float (*FloatFn)(float);
typedef double (*RefFn)(double);

/* Worst ulp error of f against ref over an even sweep of [lo, hi] plus random points. */
static int64_t worst_ulp(FloatFn f, RefFn ref, float lo, float hi, float *where)
{
	int64_t worst = 0;
	Rng rng;
	rng_seed(&rng, 42);
	for (int i = 0; i <= 2 * SWEEP_POINTS; i++) {
		float x = i <= SWEEP_POINTS ? lo + (hi - lo) * (float)((double)i / SWEEP_POINTS)
					    : lo + (hi - lo) * rng_float(&rng);
		float got = f(x), want = (float)ref((double)x);
		int64_t d = ulp_diff(got, want);
		if (d > worst) {
			worst = d;
			*where = x;
		}
	}
	return worst;
}

START_TEST(test_expf_range)
{
	float where = 0;
	int64_t u = worst_ulp(math_expf, exp, -80.0f, 80.0f, &where);
	ck_assert_msg(u <= MAX_EXPF_ULP, "math_expf is %lld ulp from libm at x = %.9g",
		      (long long)u, (double)where);
	ck_assert_msg(math_expf(0.0f) == 1.0f, "exp(0) must be exactly 1, got %.9g",
		      (double)math_expf(0.0f));
	ck_assert_msg(math_expf(-INFINITY) == 0.0f, "exp(-inf) must be 0");
	ck_assert_msg(isinf(math_expf(100.0f)), "exp(100) must overflow to inf in float");
	ck_assert_msg(math_expf(-200.0f) == 0.0f, "exp(-200) must underflow to 0 in float");
}
END_TEST

START_TEST(test_exp_double)
{
	double worst = 0, where = 0;
	for (int i = 0; i <= 200000; i++) {
		double x = -700.0 + 1400.0 * i / 200000.0;
		double rel = fabs(math_exp(x) - exp(x)) / exp(x);
		if (rel > worst) {
			worst = rel;
			where = x;
		}
	}
	ck_assert_msg(worst <= MAX_EXP_REL_ERR, "math_exp relative error %.3g at x = %.17g", worst,
		      where);
}
END_TEST

START_TEST(test_sinf_cosf_range)
{
	/* Angles pos * freq up to 2048 (the longest context times the largest frequency). */
	float where = 0;
	int64_t u = worst_ulp(math_sinf, sin, 0.0f, 2048.0f, &where);
	ck_assert_msg(u <= MAX_SINCOSF_ULP, "math_sinf is %lld ulp from libm at x = %.9g",
		      (long long)u, (double)where);
	u = worst_ulp(math_cosf, cos, 0.0f, 2048.0f, &where);
	ck_assert_msg(u <= MAX_SINCOSF_ULP, "math_cosf is %lld ulp from libm at x = %.9g",
		      (long long)u, (double)where);
	/* Negative and small arguments too. */
	u = worst_ulp(math_sinf, sin, -10.0f, 10.0f, &where);
	ck_assert_msg(u <= MAX_SINCOSF_ULP, "math_sinf is %lld ulp from libm at x = %.9g",
		      (long long)u, (double)where);
	u = worst_ulp(math_cosf, cos, -10.0f, 10.0f, &where);
	ck_assert_msg(u <= MAX_SINCOSF_ULP, "math_cosf is %lld ulp from libm at x = %.9g",
		      (long long)u, (double)where);
}
END_TEST

START_TEST(test_sin_cos_out_of_range)
{
	/* past any quadrant an int64 holds, or not finite: NaN, never an undefined conversion */
	static const double bad[] = {1e30, -1e30, INFINITY, -INFINITY, NAN};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double s = math_sin(bad[i]), c = math_cos(bad[i]);
		ck_assert_msg(isnan(s) && isnan(c), "sin/cos(%g) = %g / %g, want NaN", bad[i], s,
			      c);
	}
	ck_assert_msg(math_sin(1e6) == sin(1e6) || fabs(math_sin(1e6) - sin(1e6)) < 1e-9,
		      "math_sin(1e6) = %.17g, libm %.17g", math_sin(1e6), sin(1e6));
}
END_TEST

START_TEST(test_sinf_cosf_integers)
{
	/* RoPE's first frequency is 1: the angle is the position itself, every integer. */
	for (int p = 0; p <= 2048; p++) {
		float x = (float)p;
		int64_t us = ulp_diff(math_sinf(x), (float)sin((double)x));
		int64_t uc = ulp_diff(math_cosf(x), (float)cos((double)x));
		ck_assert_msg(us <= MAX_SINCOSF_ULP, "math_sinf(%d) is %lld ulp from libm", p,
			      (long long)us);
		ck_assert_msg(uc <= MAX_SINCOSF_ULP, "math_cosf(%d) is %lld ulp from libm", p,
			      (long long)uc);
	}
}
END_TEST

START_TEST(test_sin_cos_double)
{
	double worst = 0, where = 0;
	for (int i = 0; i <= 200000; i++) {
		double x = -2048.0 + 4096.0 * i / 200000.0;
		double es = fabs(math_sin(x) - sin(x)), ec = fabs(math_cos(x) - cos(x));
		double e = es > ec ? es : ec;
		if (e > worst) {
			worst = e;
			where = x;
		}
	}
	ck_assert_msg(worst <= MAX_SINCOS_ABS_ERR, "math_sin/cos absolute error %.3g at %.17g",
		      worst, where);
}
END_TEST

static double pow10000(double e)
{
	return pow(10000.0, e);
}

static float powf10000(float e)
{
	return math_powf(10000.0f, e);
}

START_TEST(test_powf_rope)
{
	/* rope_freqs: 10000^(2j/head_size), exponents in [0, 1). */
	float where = 0;
	int64_t u = worst_ulp(powf10000, pow10000, 0.0f, 0.99999994f, &where);
	ck_assert_msg(u <= MAX_POWF_ULP, "math_powf(10000, x) is %lld ulp from libm at x = %.9g",
		      (long long)u, (double)where);
	for (int hs = 2; hs <= 256; hs *= 2)
		for (int j = 0; j < hs / 2; j++) {
			float e = (float)(2 * j) / (float)hs;
			int64_t d = ulp_diff(math_powf(10000.0f, e), (float)pow(10000.0, e));
			ck_assert_msg(d <= MAX_POWF_ULP,
				      "math_powf(10000, %d/%d) is %lld ulp from libm", 2 * j, hs,
				      (long long)d);
		}
	ck_assert_msg(math_powf(10000.0f, 0.0f) == 1.0f, "x^0 must be exactly 1");
	ck_assert_msg(math_powf(500000.0f, 0.5f) == (float)pow(500000.0, 0.5),
		      "math_powf(500000, 0.5) must match libm");
}
END_TEST

START_TEST(test_sqrtf)
{
	Rng rng;
	rng_seed(&rng, 7);
	for (int i = 0; i < 1000000; i++) {
		float x = rng_float(&rng) * 1e6f;
		int64_t d = ulp_diff(math_sqrtf(x), sqrtf(x));
		ck_assert_msg(d <= MAX_SQRTF_ULP, "math_sqrtf(%.9g) is %lld ulp from sqrtf",
			      (double)x, (long long)d);
	}
	ck_assert_msg(math_sqrtf(0.0f) == 0.0f, "sqrt(0) must be 0");
	ck_assert_msg(math_sqrtf(4.0f) == 2.0f, "sqrt(4) must be 2");
	ck_assert_msg(math_fabsf(-3.5f) == 3.5f, "fabs(-3.5) must be 3.5");
}
END_TEST

START_TEST(test_log)
{
	double worst = 0, where = 0;
	Rng rng;
	rng_seed(&rng, 3);
	for (int i = 0; i < 1000000; i++) {
		/* Mantissas from the generator, exponents over most of the double range. */
		double x =
		    (1.0 + rng_float(&rng)) * ldexp(1.0, (int)(rng_next(&rng) % 2000) - 1000);
		double want = log(x);
		double err = fabs(math_log(x) - want) / (fabs(want) > 1e-300 ? fabs(want) : 1.0);
		if (err > worst) {
			worst = err;
			where = x;
		}
	}
	for (int i = 1; i <= 100000; i++) { /* near 1, where log is small */
		double x = 0.9 + 0.2 * i / 100000.0;
		double want = log(x);
		if (want == 0)
			continue;
		double err = fabs(math_log(x) - want) / fabs(want);
		if (err > worst) {
			worst = err;
			where = x;
		}
	}
	ck_assert_msg(worst <= MAX_LOG_REL_ERR, "math_log relative error %.3g at x = %.17g", worst,
		      where);
	ck_assert_msg(math_log(1.0) == 0.0, "log(1) must be exactly 0");
	ck_assert_msg(isinf(math_log(0.0)) && math_log(0.0) < 0, "log(0) must be -inf");
	ck_assert_msg(isnan(math_log(-1.0)), "log(-1) must be NaN");
	double sub = 4.9406564584124654e-324;
	ck_assert_msg(fabs(math_log(sub) - log(sub)) <= MAX_LOG_REL_ERR * fabs(log(sub)),
		      "log of the smallest subnormal: got %.17g, want %.17g", math_log(sub),
		      log(sub));
}
END_TEST

Suite *math_suite(void)
{
	Suite *s = suite_create("math");
	TCase *tc = tcase_create("libm");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_expf_range);
	tcase_add_test(tc, test_exp_double);
	tcase_add_test(tc, test_sinf_cosf_range);
	tcase_add_test(tc, test_sinf_cosf_integers);
	tcase_add_test(tc, test_sin_cos_out_of_range);
	tcase_add_test(tc, test_sin_cos_double);
	tcase_add_test(tc, test_powf_rope);
	tcase_add_test(tc, test_sqrtf);
	tcase_add_test(tc, test_log);
	suite_add_tcase(s, tc);
	return s;
}
