/* dot_f16.c: F16 weight rows against fp16-rounded activations: the scalar reference (dot.h's lanes
 * and folding) and the AVX2 and AVX-512 versions that give its bits. */
#include <immintrin.h>

#include "core/kernels/dot.h"

float fdot_f16_ref(const uint16_t *w, const uint16_t *x, int n)
{
	double p[FDOT_F16_LANES] = {0};
	return fdot_f16_finish(p, 0, w, x, n);
}

ISA_TARGET_AVX2 float fdot_f16_avx2(const uint16_t *w, const uint16_t *x, int n)
{
	__m256d a[8]; /* lanes 4 i .. 4 i + 3 of the 32 partials */
	for (int i = 0; i < 8; i++)
		a[i] = _mm256_setzero_pd();
	int k = 0;
	for (; k + FDOT_F16_LANES <= n; k += FDOT_F16_LANES)
#pragma GCC unroll 4
		for (int i = 0; i < 4; i++) {
			__m256 pw = _mm256_cvtph_ps(
			    _mm_loadu_si128((const __m128i *)(const void *)(w + k + 8 * i)));
			__m256 px = _mm256_cvtph_ps(
			    _mm_loadu_si128((const __m128i *)(const void *)(x + k + 8 * i)));
			__m256 prod = _mm256_mul_ps(pw, px); /* exact */
			a[2 * i] =
			    _mm256_add_pd(a[2 * i], _mm256_cvtps_pd(_mm256_castps256_ps128(prod)));
			a[2 * i + 1] = _mm256_add_pd(
			    a[2 * i + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(prod, 1)));
		}
	double p[FDOT_F16_LANES];
	for (int i = 0; i < 8; i++)
		_mm256_storeu_pd(p + 4 * i, a[i]);
	return fdot_f16_finish(p, k, w, x, n);
}

ISA_TARGET_AVX512 float fdot_f16_avx512(const uint16_t *w, const uint16_t *x, int n)
{
	__m512d a[4]; /* lanes 8 i .. 8 i + 7 of the 32 partials */
	for (int i = 0; i < 4; i++)
		a[i] = _mm512_setzero_pd();
	int k = 0;
	for (; k + FDOT_F16_LANES <= n; k += FDOT_F16_LANES)
#pragma GCC unroll 2
		for (int i = 0; i < 2; i++) {
			__m512 pw = _mm512_cvtph_ps(
			    _mm256_loadu_si256((const __m256i *)(const void *)(w + k + 16 * i)));
			__m512 px = _mm512_cvtph_ps(
			    _mm256_loadu_si256((const __m256i *)(const void *)(x + k + 16 * i)));
			__m512 prod = _mm512_mul_ps(pw, px); /* exact */
			a[2 * i] =
			    _mm512_add_pd(a[2 * i], _mm512_cvtps_pd(_mm512_castps512_ps256(prod)));
			a[2 * i + 1] = _mm512_add_pd(
			    a[2 * i + 1], _mm512_cvtps_pd(_mm256_castpd_ps(
					      _mm512_extractf64x4_pd(_mm512_castps_pd(prod), 1))));
		}
	double p[FDOT_F16_LANES];
	for (int i = 0; i < 4; i++)
		_mm512_storeu_pd(p + 8 * i, a[i]);
	return fdot_f16_finish(p, k, w, x, n);
}
