/* ops.c: rms_norm, softmax, RoPE and SwiGLU in plain C, as llama2.c computes them, and SwiGLU
 * on AVX2/AVX-512 with the same bits. */
#include "core/model/ops.h"

#include <stdint.h>

#include "core/kernels/fexp.h"
#include "core/base/mathx.h"
#include "core/profile/profiler.h"

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
		x[i] = fexp(x[i] - max);
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
		val *= (1.0f / (1.0f + fexp(-val)));
		val *= hb2[i];
		hb[i] = val;
	}
}

__attribute__((target("avx2,avx512f"))) void swiglu_avx512(float *hb, const float *hb2, int n)
{
	const __m512 one = _mm512_set1_ps(1.0f);
	for (int i = 0; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512 v = _mm512_maskz_loadu_ps(m, hb + i);
		__m512 neg = _mm512_castsi512_ps(
		    _mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)));
		__m512 e = fexp16(neg);
		v = _mm512_mul_ps(v, _mm512_div_ps(one, _mm512_add_ps(one, e)));
		_mm512_mask_storeu_ps(hb + i, m,
				      _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, hb2 + i)));
	}
}

__attribute__((target("avx2"))) void swiglu_avx2(float *hb, const float *hb2, int n)
{
	const __m256 one = _mm256_set1_ps(1.0f);
	const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
	int i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(hb + i);
		__m256 e = fexp8(_mm256_xor_ps(v, sign));
		v = _mm256_mul_ps(v, _mm256_div_ps(one, _mm256_add_ps(one, e)));
		_mm256_storeu_ps(hb + i, _mm256_mul_ps(v, _mm256_loadu_ps(hb2 + i)));
	}
	swiglu_nozone(hb + i, hb2 + i, n - i);
}
