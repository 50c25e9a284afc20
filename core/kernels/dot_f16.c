/* dot_f16.c: F16 weight rows against fp16-rounded activations: the scalar reference (dot.h's lanes
 * and folding), the AVX2 and AVX-512 versions that give its bits, and their prompt tiles. */
#include <immintrin.h>

#include "core/kernels/dot.h"
#include "core/kernels/dot_float_tile.h"

float fdot_f16_ref(const uint16_t *w, const uint16_t *x, int n)
{
	float p[FDOT_F16_LANES] = {0};
	return fdot_f16_finish(p, 0, w, x, n);
}

/* 8 values of w and x from fp16, their products (exact) */
ISA_TARGET_AVX2 static inline __m256 f16_prod8(const uint16_t *w, const uint16_t *x)
{
	return _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)w)),
			     _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)x)));
}

ISA_TARGET_AVX2 float fdot_f16_avx2(const uint16_t *w, const uint16_t *x, int n)
{
	__m256 a[4]; /* lanes 8 i .. 8 i + 7 of the 32 partials */
	for (int i = 0; i < 4; i++)
		a[i] = _mm256_setzero_ps();
	int k = 0;
	for (; k + FDOT_F16_LANES <= n; k += FDOT_F16_LANES)
#pragma GCC unroll 4
		for (int i = 0; i < 4; i++)
			a[i] = _mm256_add_ps(a[i], f16_prod8(w + k + 8 * i, x + k + 8 * i));
	float p[FDOT_F16_LANES];
	for (int i = 0; i < 4; i++)
		_mm256_storeu_ps(p + 8 * i, a[i]);
	return fdot_f16_finish(p, k, w, x, n);
}

ISA_TARGET_AVX512 float fdot_f16_avx512(const uint16_t *w, const uint16_t *x, int n)
{
	__m512 a[2]; /* lanes 16 i .. 16 i + 15 of the 32 partials */
	for (int i = 0; i < 2; i++)
		a[i] = _mm512_setzero_ps();
	int k = 0;
	for (; k + FDOT_F16_LANES <= n; k += FDOT_F16_LANES)
#pragma GCC unroll 2
		for (int i = 0; i < 2; i++) {
			__m512 pw = _mm512_cvtph_ps(
			    _mm256_loadu_si256((const __m256i *)(const void *)(w + k + 16 * i)));
			__m512 px = _mm512_cvtph_ps(
			    _mm256_loadu_si256((const __m256i *)(const void *)(x + k + 16 * i)));
			/* the product is exact: fused or not, one rounding (AVX-512F has vfmadd) */
			a[i] = _mm512_fmadd_ps(pw, px, a[i]);
		}
	float p[FDOT_F16_LANES];
	for (int i = 0; i < 2; i++)
		_mm512_storeu_ps(p + 16 * i, a[i]);
	return fdot_f16_finish(p, k, w, x, n);
}

/* --- Prompt tiles (dot_float_tile.h) --- */

ISA_TARGET_AVX2 void fdot_f16_tile_avx2(const uint16_t *w, int cols, int nrows, const float *xf,
					size_t x_stride, int ntok, float *y, size_t y_stride)
{
	ftile_rows_avx2(w, true, cols, nrows, xf, x_stride, ntok, y, y_stride);
}

ISA_TARGET_AVX512 void fdot_f16_tile_avx512(const uint16_t *w, int cols, int nrows, const float *xf,
					    size_t x_stride, int ntok, float *y, size_t y_stride)
{
	ftile_rows_avx512(w, true, cols, nrows, xf, x_stride, ntok, y, y_stride);
}
