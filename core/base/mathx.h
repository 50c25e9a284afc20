/* mathx.h: the transcendental functions core needs, without libm.
 * Computed in double and rounded once, so float results match a good libm to ~1 ulp. */
#ifndef MATHX_H
#define MATHX_H

double math_exp(double x);
double math_log(double x); /* x > 0 */
/* Accurate for |x| < 2^20 pi; NaN where x is not finite or |x| >= 2^62 pi/2. */
double math_sin(double x);
double math_cos(double x);
double math_pow(double base, double e); /* base > 0 */

float math_expf(float x);
float math_sinf(float x);
float math_cosf(float x);
float math_powf(float base, float e);

static inline float math_sqrtf(float x)
{
	return __builtin_sqrtf(x); /* one sqrtss with -fno-math-errno */
}
static inline double math_sqrt(double x)
{
	return __builtin_sqrt(x);
}
static inline float math_fabsf(float x)
{
	return x < 0 ? -x : x;
}

#endif
