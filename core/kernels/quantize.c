/* quantize.c: the weight quantizers (Q8_0, per-tensor int8) and Q8_0 dequantization. */
#include "core/kernels/quantize.h"

#include "core/base/core_assert.h"
#include "core/kernels/fp16.h"

float round_half_away(float v)
{
	float a = math_fabsf(v);
	if (!(a < 8388608.0f))
		return v; /* already an integer, or inf/NaN (no float-to-int cast of those) */
	float r = (float)(int32_t)a;
	if (a - r >= 0.5f)
		r += 1.0f;
	return v < 0 ? -r : r;
}

void quantize_row_q8_0(const float *x, BlockQ8_0 *out, int n)
{
	CORE_ASSERT(n % QK8_0 == 0);
	for (int b = 0; b < n / QK8_0; b++) {
		const float *xb = x + b * QK8_0;
		float d = block_amax(xb, QK8_0) / 127.0f;
		float id = d ? 1.0f / d : 0.0f;
		out[b].d = fp32_to_fp16(d);
		for (int j = 0; j < QK8_0; j++)
			out[b].qs[j] = quant_i8(round_half_away(xb[j] * id));
	}
}

void dequantize_row_q8_0(const BlockQ8_0 *in, float *y, int n)
{
	CORE_ASSERT(n % QK8_0 == 0);
	for (int b = 0; b < n / QK8_0; b++) {
		float d = fp16_to_fp32(in[b].d);
		for (int j = 0; j < QK8_0; j++)
			y[b * QK8_0 + j] = d * in[b].qs[j];
	}
}

void quantize_int8(const float *w, size_t n, int8_t *q, float *scale, int32_t *zero_point)
{
	float lo = 0, hi = 0; /* the range always holds 0, so 0 is exact */
	for (size_t i = 0; i < n; i++) {
		lo = w[i] < lo ? w[i] : lo;
		hi = w[i] > hi ? w[i] : hi;
	}
	float s = (hi - lo) / 255.0f;
	if (s == 0)
		s = 1.0f;
	/* Clamped as a float: with infinite weights the zero point is NaN (then 0). */
	float z = round_half_away(-128.0f - lo / s);
	int32_t zp = z != z ? 0 : z < -128 ? -128 : z > 127 ? 127 : (int32_t)z;
	for (size_t i = 0; i < n; i++) {
		float v = round_half_away(w[i] / s) + (float)zp;
		q[i] = quant_i8(v < -128 ? -128 : v > 127 ? 127 : v);
	}
	*scale = s;
	*zero_point = zp;
}
