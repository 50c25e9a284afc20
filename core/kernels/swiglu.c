/* swiglu.c: SwiGLU, hb = silu(hb) * hb2: the scalar reference and the AVX2 and AVX-512 versions
 * that give its bits (NaN for NaN). */
#include <immintrin.h>

#include "core/kernels/fexp.h"
#include "core/kernels/isa.h"
#include "core/kernels/vector.h"

void swiglu_ref(float *hb, const float *hb2, int n)
{
	for (int i = 0; i < n; i++) {
		float val = hb[i];
		val *= (1.0f / (1.0f + fexp(-val)));
		val *= hb2[i];
		hb[i] = val;
	}
}

ISA_TARGET_AVX2 void swiglu_avx2(float *hb, const float *hb2, int n)
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
	swiglu_ref(hb + i, hb2 + i, n - i);
}

ISA_TARGET_AVX512 void swiglu_avx512(float *hb, const float *hb2, int n)
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
