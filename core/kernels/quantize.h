/* quantize.h: weights to Q8_0 and to the seed's int8 (llama.cpp's and llama2.c's rules), Q8_0
 * back to floats, and the rounding and saturation steps the activation quantizers share. */
#ifndef QUANTIZE_H
#define QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "core/base/mathx.h"
#include "core/kernels/dtype.h"

/* Round half away from zero, as C's roundf. */
float round_half_away(float v);

/* Reference quantizers (llama.cpp's rules): x (n) -> n/32 blocks; n % 32 == 0. */
void quantize_row_q8_0(const float *x, BlockQ8_0 *out, int n);
void dequantize_row_q8_0(const BlockQ8_0 *in, float *y, int n);
/* Per-tensor asymmetric int8 of any shape: fills q (n), scale and zero point. */
void quantize_int8(const float *w, size_t n, int8_t *q, float *scale, int32_t *zero_point);

/* A quantizer's value to int8, saturated as the SIMD quantizer's packs do: NaN (from NaN
 * inputs) becomes -128, and values past the range (a subnormal scale's inverse can push
 * them to 129) are clamped, so no out-of-range cast (undefined in C) happens. */
static inline int8_t quant_i8(float v)
{
	return v != v ? (int8_t)-128 : v > 127.0f ? 127 : v < -128.0f ? -128 : (int8_t)v;
}

/* Largest |value| of n floats, NaN skipped (the quantizers' amax). */
static inline float block_amax(const float *x, int n)
{
	float amax = 0;
	for (int j = 0; j < n; j++)
		if (math_fabsf(x[j]) > amax)
			amax = math_fabsf(x[j]);
	return amax;
}

#endif
