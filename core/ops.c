/* ops.c: rms_norm, softmax, RoPE and SwiGLU in plain C, as llama2.c computes them. */
#include "ops.h"

#include <stdint.h>

#include "mathx.h"
#include "profiler.h"

void rms_norm(float *o, const float *x, const float *weight, int n, float eps)
{
	PROFILE_BEGIN(zone, "rms_norm");
	float ss = 0.0f;
	for (int j = 0; j < n; j++)
		ss += x[j] * x[j];
	ss /= (float)n;
	ss += eps;
	ss = 1.0f / math_sqrtf(ss);
	for (int j = 0; j < n; j++)
		o[j] = weight[j] * (ss * x[j]);
	PROFILE_END(zone);
}

/* e^x in float, Cephes' expf: x = k ln2 + r (ln2 split in two so that k ln2 is exact enough),
 * e^r by a degree-7 polynomial, times 2^k; within 2 ulp of the true value. math_expf (a Taylor
 * series in double with a division per term) cost ~120 cycles, ~9 % of a token in SwiGLU and most
 * of a prompt batch's attention in softmax; this one is plain float arithmetic, the same bits on
 * every ISA. */
static inline float ops_expf(float x)
{
	if (x != x)
		return x; /* NaN: no float-to-int cast below */
	if (x > 88.72283935546875f)
		return 1.0f / 0.0f;
	if (x < -103.972084045410f)
		return 0.0f;
	float kf = x * 1.44269504088896341f;
	int k = (int)(kf < 0 ? kf - 0.5f : kf + 0.5f);
	float r = x - (float)k * 0.693359375f;
	r = r - (float)k * -2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * (r * r) + r + 1.0f;
	/* times 2^k in two exact steps, so that results below 2^-126 round once, as subnormals */
	int k1 = k < -100 ? k + 100 : k;
	union {
		uint32_t u;
		float f;
	} s1 = {.u = (uint32_t)(k1 + 127) << 23};
	p *= s1.f;
	if (k1 != k)
		p *= 7.88860905e-31f; /* 2^-100 */
	return p;
}

void softmax(float *x, int n)
{
	PROFILE_BEGIN(zone, "softmax");
	softmax_nozone(x, n);
	PROFILE_END(zone);
}

void softmax_nozone(float *x, int n)
{
	float max = x[0];
	for (int i = 1; i < n; i++)
		if (x[i] > max)
			max = x[i];
	float sum = 0.0f;
	for (int i = 0; i < n; i++) {
		x[i] = ops_expf(x[i] - max);
		sum += x[i];
	}
	for (int i = 0; i < n; i++)
		x[i] /= sum;
}

void rope_freqs(float *freq, int head_size, float theta)
{
	for (int j = 0; j < head_size / 2; j++)
		freq[j] = 1.0f / math_powf(theta, (float)(2 * j) / (float)head_size);
}

void rope_angles(float *cos_sin, const float *freq, int head_size, int pos)
{
	for (int j = 0; j < head_size / 2; j++) {
		float val = (float)pos * freq[j];
		cos_sin[2 * j] = math_cosf(val);
		cos_sin[2 * j + 1] = math_sinf(val);
	}
}

void rope_encoding(float *q, float *k, int dim, int kv_dim, int head_size, const float *cos_sin)
{
	PROFILE_BEGIN(zone, "rope_encoding");
	for (int i = 0; i < dim; i += 2) {
		int j = i % head_size;
		float fcr = cos_sin[j], fci = cos_sin[j + 1];
		float v0 = q[i], v1 = q[i + 1];
		q[i] = v0 * fcr - v1 * fci;
		q[i + 1] = v0 * fci + v1 * fcr;
		if (i < kv_dim) {
			v0 = k[i];
			v1 = k[i + 1];
			k[i] = v0 * fcr - v1 * fci;
			k[i + 1] = v0 * fci + v1 * fcr;
		}
	}
	PROFILE_END(zone);
}

void swiglu(float *hb, const float *hb2, int n)
{
	PROFILE_BEGIN(zone, "swiglu");
	swiglu_nozone(hb, hb2, n);
	PROFILE_END(zone);
}

void swiglu_nozone(float *hb, const float *hb2, int n)
{
	for (int i = 0; i < n; i++) {
		float val = hb[i];
		val *= (1.0f / (1.0f + ops_expf(-val)));
		val *= hb2[i];
		hb[i] = val;
	}
}
