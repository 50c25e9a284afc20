/* dot_f16.c: F16 weight rows against fp16-rounded activations: the scalar reference (dot.h's lanes
 * and folding), the AVX2 and AVX-512 versions that give its bits, and their prompt tiles. */
#include <immintrin.h>

#include "core/kernels/dot.h"

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

/* --- Prompt tiles: each weight row's fp16 values converted once per group of tokens, each
 * token's floats loaded once per group of rows, every (row, token) with its own 32 partials in
 * registers: AVX2 1 row x 3 tokens (12 of 16 ymm), AVX-512 2 rows x 4 tokens (16 of 32 zmm).
 * Row blocks of F16_TILE_ROWS keep their weights and a token group's floats in L2. --- */

#define F16_TILE_ROWS 16

/* One row w x T tokens (xf, xs apart) into y (ys between tokens). */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) void
f16_tile_avx2(const uint16_t *w, const float *xf, size_t xs, int n, const int T, float *y,
	      size_t ys)
{
	__m256 a[3][4];
	for (int t = 0; t < T; t++)
		for (int i = 0; i < 4; i++)
			a[t][i] = _mm256_setzero_ps();
	int k = 0;
	for (; k + FDOT_F16_LANES <= n; k += FDOT_F16_LANES)
#pragma GCC unroll 4
		for (int i = 0; i < 4; i++) {
			__m256 wv = _mm256_cvtph_ps(
			    _mm_loadu_si128((const __m128i *)(const void *)(w + k + 8 * i)));
			for (int t = 0; t < T; t++) /* products exact: mul then add */
				a[t][i] = _mm256_add_ps(
				    a[t][i], _mm256_mul_ps(wv, _mm256_loadu_ps(xf + (size_t)t * xs +
									       k + 8 * i)));
		}
	for (int t = 0; t < T; t++) {
		float p[FDOT_F16_LANES];
		for (int i = 0; i < 4; i++)
			_mm256_storeu_ps(p + 8 * i, a[t][i]);
		y[(size_t)t * ys] = fdot_f16_finish_xf(p, k, w, xf + (size_t)t * xs, n);
	}
}

ISA_TARGET_AVX2 void fdot_f16_tile_avx2(const uint16_t *w, int cols, int nrows, const float *xf,
					size_t x_stride, int ntok, float *y, size_t y_stride)
{
	for (int r0 = 0; r0 < nrows; r0 += F16_TILE_ROWS) {
		int r1 = nrows - r0 < F16_TILE_ROWS ? nrows : r0 + F16_TILE_ROWS;
		for (int t = 0; t < ntok; t += 3)
			for (int r = r0; r < r1; r++) {
				const uint16_t *wr = w + (size_t)r * (size_t)cols;
				const float *xt = xf + (size_t)t * x_stride;
				float *yt = y + (size_t)t * y_stride + (size_t)r;
				if (ntok - t >= 3)
					f16_tile_avx2(wr, xt, x_stride, cols, 3, yt, y_stride);
				else if (ntok - t == 2)
					f16_tile_avx2(wr, xt, x_stride, cols, 2, yt, y_stride);
				else
					f16_tile_avx2(wr, xt, x_stride, cols, 1, yt, y_stride);
			}
	}
}

/* R rows (w, cols apart) x T tokens (xf, xs apart) into y (ys between tokens, 1 between rows). */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
f16_tile_avx512(const uint16_t *w, size_t cols, const int R, const float *xf, size_t xs, int n,
		const int T, float *y, size_t ys)
{
	__m512 a[2][4][2];
	for (int r = 0; r < R; r++)
		for (int t = 0; t < T; t++)
			a[r][t][0] = a[r][t][1] = _mm512_setzero_ps();
	int k = 0;
	for (; k + FDOT_F16_LANES <= n; k += FDOT_F16_LANES)
#pragma GCC unroll 2
		for (int i = 0; i < 2; i++) {
			__m512 wv[2];
			for (int r = 0; r < R; r++)
				wv[r] = _mm512_cvtph_ps(_mm256_loadu_si256(
				    (const __m256i *)(const void *)(w + (size_t)r * cols + k +
								    16 * i)));
			for (int t = 0; t < T; t++) {
				__m512 xv = _mm512_loadu_ps(xf + (size_t)t * xs + k + 16 * i);
				for (int r = 0; r < R; r++) /* exact product: fused rounds alike */
					a[r][t][i] = _mm512_fmadd_ps(wv[r], xv, a[r][t][i]);
			}
		}
	for (int r = 0; r < R; r++)
		for (int t = 0; t < T; t++) {
			float p[FDOT_F16_LANES];
			_mm512_storeu_ps(p, a[r][t][0]);
			_mm512_storeu_ps(p + 16, a[r][t][1]);
			y[(size_t)t * ys + (size_t)r] =
			    fdot_f16_finish_xf(p, k, w + (size_t)r * cols, xf + (size_t)t * xs, n);
		}
}

/* One pair of rows (R = 2, or the last row alone) against every token, 4 at a time. */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
f16_rows_avx512(const uint16_t *w, size_t cols, const int R, const float *xf, size_t xs, int ntok,
		int t, float *y, size_t ys)
{
	const float *xt = xf + (size_t)t * xs;
	float *yt = y + (size_t)t * ys;
	switch (ntok - t < 4 ? ntok - t : 4) {
	case 4:
		f16_tile_avx512(w, cols, R, xt, xs, (int)cols, 4, yt, ys);
		break;
	case 3:
		f16_tile_avx512(w, cols, R, xt, xs, (int)cols, 3, yt, ys);
		break;
	case 2:
		f16_tile_avx512(w, cols, R, xt, xs, (int)cols, 2, yt, ys);
		break;
	default:
		f16_tile_avx512(w, cols, R, xt, xs, (int)cols, 1, yt, ys);
	}
}

ISA_TARGET_AVX512 void fdot_f16_tile_avx512(const uint16_t *w, int cols, int nrows, const float *xf,
					    size_t x_stride, int ntok, float *y, size_t y_stride)
{
	size_t c = (size_t)cols;
	for (int r0 = 0; r0 < nrows; r0 += F16_TILE_ROWS) {
		int r1 = nrows - r0 < F16_TILE_ROWS ? nrows : r0 + F16_TILE_ROWS;
		for (int t = 0; t < ntok; t += 4) {
			int r = r0;
			for (; r + 2 <= r1; r += 2)
				f16_rows_avx512(w + (size_t)r * c, c, 2, xf, x_stride, ntok, t,
						y + r, y_stride);
			if (r < r1)
				f16_rows_avx512(w + (size_t)r * c, c, 1, xf, x_stride, ntok, t,
						y + r, y_stride);
		}
	}
}
