/* dot_f32.c: F32 weight rows against float activations: the scalar reference (dot.h's lanes and
 * folding), the AVX2 and AVX-512 versions that give its bits, and their prompt tiles. */
#include <immintrin.h>

#include "core/kernels/dot.h"
#include "core/kernels/dot_float_tile.h"

float fdot_f32_ref(const float *w, const float *x, int n)
{
	float p[FDOT_F32_LANES] = {0};
	return fdot_f32_finish(p, 0, w, x, n);
}

ISA_TARGET_AVX2 float fdot_f32_avx2(const float *w, const float *x, int n)
{
	__m256 a[4]; /* lanes 8 i .. 8 i + 7 of the 32 partials */
	for (int i = 0; i < 4; i++)
		a[i] = _mm256_setzero_ps();
	int k = 0;
	for (; k + FDOT_F32_LANES <= n; k += FDOT_F32_LANES)
#pragma GCC unroll 4
		for (int i = 0; i < 4; i++)
			a[i] = _mm256_add_ps(a[i], _mm256_mul_ps(_mm256_loadu_ps(w + k + 8 * i),
								 _mm256_loadu_ps(x + k + 8 * i)));
	float p[FDOT_F32_LANES];
	for (int i = 0; i < 4; i++)
		_mm256_storeu_ps(p + 8 * i, a[i]);
	return fdot_f32_finish(p, k, w, x, n);
}

ISA_TARGET_AVX512 float fdot_f32_avx512(const float *w, const float *x, int n)
{
	__m512 a[2]; /* lanes 16 i .. 16 i + 15 of the 32 partials */
	for (int i = 0; i < 2; i++)
		a[i] = _mm512_setzero_ps();
	int k = 0;
	for (; k + FDOT_F32_LANES <= n; k += FDOT_F32_LANES)
#pragma GCC unroll 2
		for (int i = 0; i < 2; i++)
			a[i] = _mm512_add_ps(a[i], _mm512_mul_ps(_mm512_loadu_ps(w + k + 16 * i),
								 _mm512_loadu_ps(x + k + 16 * i)));
	float p[FDOT_F32_LANES];
	for (int i = 0; i < 2; i++)
		_mm512_storeu_ps(p + 16 * i, a[i]);
	return fdot_f32_finish(p, k, w, x, n);
}

/* --- Prompt tiles (dot_float_tile.h) --- */

ISA_TARGET_AVX2 void fdot_f32_tile_avx2(const float *w, int cols, int nrows, const float *x,
					size_t x_stride, int ntok, float *y, size_t y_stride)
{
	ftile_rows_avx2(w, false, cols, nrows, x, x_stride, ntok, y, y_stride);
}

ISA_TARGET_AVX512 void fdot_f32_tile_avx512(const float *w, int cols, int nrows, const float *x,
					    size_t x_stride, int ntok, float *y, size_t y_stride)
{
	ftile_rows_avx512(w, false, cols, nrows, x, x_stride, ntok, y, y_stride);
}
