/* mathx.c: exp, log, sin, cos and pow in double precision for freestanding core. */
#include "core/base/mathx.h"

#include <stdint.h>

static const double LN2_HI = 6.93147180369123816490e-01;
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;

static double scale_pow2(double x, int k)
{
	/* x * 2^k through the exponent bits, in two steps to reach subnormals. */
	while (k > 1000) {
		x *= 0x1p1000;
		k -= 1000;
	}
	while (k < -1000) {
		x *= 0x1p-1000;
		k += 1000;
	}
	union {
		double d;
		uint64_t u;
	} p = {.u = (uint64_t)(k + 1023) << 52};
	return x * p.d;
}

double math_exp(double x)
{
	if (x != x)
		return x;
	if (x > 709.78)
		return 1.0 / 0.0;
	if (x < -745.2)
		return 0.0;
	/* x = k ln2 + r, |r| <= ln2/2; e^r by Taylor series to 1e-17. */
	double kd = x * INV_LN2;
	int k = (int)(kd < 0 ? kd - 0.5 : kd + 0.5);
	double r = (x - k * LN2_HI) - k * LN2_LO;
	double term = 1.0, sum = 1.0;
	for (int i = 1; i <= 14; i++) {
		term *= r / i;
		sum += term;
	}
	return scale_pow2(sum, k);
}

double math_log(double x)
{
	if (!(x > 0))
		return x == 0 ? -1.0 / 0.0 : 0.0 / 0.0;
	union {
		double d;
		uint64_t u;
	} v = {.d = x};
	int e = (int)((v.u >> 52) & 0x7ff);
	if (e == 0) { /* subnormal: normalise first */
		v.d = x * 0x1p54;
		e = (int)((v.u >> 52) & 0x7ff) - 54;
	}
	e -= 1023;
	v.u = (v.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
	double m = v.d; /* [1, 2) */
	if (m > 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	/* log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172 */
	double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
	for (int i = 1; i < 40; i += 2) {
		sum += term / i;
		term *= s2;
	}
	return 2 * sum + e * LN2_HI + e * LN2_LO;
}

/* sin and cos of |r| <= pi/4 by Taylor series. */
static double sin_kernel(double r)
{
	double r2 = r * r, term = r, sum = r;
	for (int i = 1; i <= 10; i++) {
		term *= -r2 / ((2 * i) * (2 * i + 1));
		sum += term;
	}
	return sum;
}

static double cos_kernel(double r)
{
	double r2 = r * r, term = 1, sum = 1;
	for (int i = 1; i <= 10; i++) {
		term *= -r2 / ((2 * i - 1) * (2 * i));
		sum += term;
	}
	return sum;
}

/* x = q pi/2 + r with pi/2 split in three parts (Cody-Waite): exact enough for |x| < 2^20 pi. */
static double reduce_half_pi(double x, int *quadrant)
{
	static const double PIO2_1 = 1.57079632673412561417e+00;
	static const double PIO2_2 = 6.07710050650619224932e-11;
	static const double PIO2_3 = 2.02226624879595063154e-21;
	static const double INV_PIO2 = 6.36619772367581382433e-01;
	static const double QUADRANTS_MAX = 4611686018427387904.0; /* 2^62 */
	double qd = x * INV_PIO2;
	if (!(qd > -QUADRANTS_MAX && qd < QUADRANTS_MAX)) { /* not finite, or past int64: NaN */
		*quadrant = 0;
		return __builtin_nan("");
	}
	double q = (double)(int64_t)(qd < 0 ? qd - 0.5 : qd + 0.5);
	*quadrant = (int)((int64_t)q & 3);
	return ((x - q * PIO2_1) - q * PIO2_2) - q * PIO2_3;
}

double math_sin(double x)
{
	int q;
	double r = reduce_half_pi(x, &q);
	switch (q) {
	case 0:
		return sin_kernel(r);
	case 1:
		return cos_kernel(r);
	case 2:
		return -sin_kernel(r);
	default:
		return -cos_kernel(r);
	}
}

double math_cos(double x)
{
	int q;
	double r = reduce_half_pi(x, &q);
	switch (q) {
	case 0:
		return cos_kernel(r);
	case 1:
		return -sin_kernel(r);
	case 2:
		return -cos_kernel(r);
	default:
		return sin_kernel(r);
	}
}

double math_pow(double base, double e)
{
	if (e == 0)
		return 1.0;
	return math_exp(e * math_log(base));
}

float math_expf(float x)
{
	return (float)math_exp(x);
}

float math_sinf(float x)
{
	return (float)math_sin(x);
}

float math_cosf(float x)
{
	return (float)math_cos(x);
}

float math_powf(float base, float e)
{
	return (float)math_pow(base, e);
}
