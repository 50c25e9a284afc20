/* dot_float_tile.h: the prompt tiles of F16 (dot_f16.c) and F32 (dot_f32.c) weight rows, one body
 * for both: each row's values loaded (F16: converted) once per group of tokens, each token's
 * floats once per group of rows, every (row, token) with its own 32 partials in registers: AVX2
 * 1 row x 3 tokens (12 of 16 ymm), AVX-512 3 rows x 4 tokens (24 of 32 zmm). Row blocks of
 * FTILE_ROWS keep their weights and a token group's floats in L2. Each result has the one-token
 * kernel's bits: the same partials, summed in the same order, folded by the same finish. */
#ifndef DOT_FLOAT_TILE_H
#define DOT_FLOAT_TILE_H

#include <immintrin.h>
#include <stdbool.h>

#include "core/kernels/dot.h"

_Static_assert(FDOT_F16_LANES == 32 && FDOT_F32_LANES == 32, "the tiles hold 32 partials");

#define FTILE_ROWS 16

/* Weights w (fp16 where half, else float) from value k: 8 floats, 16. */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) __m256 ftile_w8(const void *w,
									     bool half, size_t k)
{
	return half ? _mm256_cvtph_ps(
			  _mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)w + k)))
		    : _mm256_loadu_ps((const float *)w + k);
}

ISA_TARGET_AVX512 static inline __attribute__((always_inline)) __m512 ftile_w16(const void *w,
										bool half, size_t k)
{
	return half ? _mm512_cvtph_ps(_mm256_loadu_si256(
			  (const __m256i *)(const void *)((const uint16_t *)w + k)))
		    : _mm512_loadu_ps((const float *)w + k);
}

/* The partials p of row w (n values) and x, the tail from k0 added, folded. */
static inline __attribute__((always_inline)) float ftile_finish(float *p, int k0, const void *w,
								bool half, const float *x, int n)
{
	return half ? fdot_f16_finish_xf(p, k0, w, x, n) : fdot_f32_finish(p, k0, w, x, n);
}

/* One row w x T tokens (x, xs apart) into y (ys between tokens). */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) void
ftile_avx2(const void *w, bool half, const float *x, size_t xs, int n, const int T, float *y,
	   size_t ys)
{
	__m256 a[3][4];
	for (int t = 0; t < T; t++)
		for (int i = 0; i < 4; i++)
			a[t][i] = _mm256_setzero_ps();
	int k = 0;
	for (; k + 32 <= n; k += 32)
#pragma GCC unroll 4
		for (int i = 0; i < 4; i++) {
			__m256 wv = ftile_w8(w, half, (size_t)(k + 8 * i));
			for (int t = 0; t < T; t++) /* multiply, then add */
				a[t][i] = _mm256_add_ps(
				    a[t][i], _mm256_mul_ps(wv, _mm256_loadu_ps(x + (size_t)t * xs +
									       k + 8 * i)));
		}
	for (int t = 0; t < T; t++) {
		float p[32];
		for (int i = 0; i < 4; i++)
			_mm256_storeu_ps(p + 8 * i, a[t][i]);
		y[(size_t)t * ys] = ftile_finish(p, k, w, half, x + (size_t)t * xs, n);
	}
}

/* Rows w + r cols (r < nrows) x ntok tokens, 3 at a time. */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) void
ftile_rows_avx2(const void *w, bool half, int cols, int nrows, const float *x, size_t x_stride,
		int ntok, float *y, size_t y_stride)
{
	size_t row_bytes = (size_t)cols * (half ? sizeof(uint16_t) : sizeof(float));
	for (int r0 = 0; r0 < nrows; r0 += FTILE_ROWS) {
		int r1 = nrows - r0 < FTILE_ROWS ? nrows : r0 + FTILE_ROWS;
		for (int t = 0; t < ntok; t += 3)
			for (int r = r0; r < r1; r++) {
				const void *wr = (const char *)w + (size_t)r * row_bytes;
				const float *xt = x + (size_t)t * x_stride;
				float *yt = y + (size_t)t * y_stride + (size_t)r;
				if (ntok - t >= 3)
					ftile_avx2(wr, half, xt, x_stride, cols, 3, yt, y_stride);
				else if (ntok - t == 2)
					ftile_avx2(wr, half, xt, x_stride, cols, 2, yt, y_stride);
				else
					ftile_avx2(wr, half, xt, x_stride, cols, 1, yt, y_stride);
			}
	}
}

/* R rows (row_bytes apart) x T tokens (x, xs apart) into y (ys between tokens, 1 between rows).
 * F16's products are exact, so the fused multiply-add rounds as multiply then add; F32's are
 * not, and take both steps. */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
ftile_avx512(const void *w, bool half, size_t row_bytes, const int R, const float *x, size_t xs,
	     int n, const int T, float *y, size_t ys)
{
	__m512 a[3][4][2];
	for (int r = 0; r < R; r++)
		for (int t = 0; t < T; t++)
			a[r][t][0] = a[r][t][1] = _mm512_setzero_ps();
	int k = 0;
	for (; k + 32 <= n; k += 32)
#pragma GCC unroll 2
		for (int i = 0; i < 2; i++) {
			__m512 wv[3];
			for (int r = 0; r < R; r++)
				wv[r] = ftile_w16((const char *)w + (size_t)r * row_bytes, half,
						  (size_t)(k + 16 * i));
			for (int t = 0; t < T; t++) {
				__m512 xv = _mm512_loadu_ps(x + (size_t)t * xs + k + 16 * i);
				for (int r = 0; r < R; r++)
					a[r][t][i] = half ? _mm512_fmadd_ps(wv[r], xv, a[r][t][i])
							  : _mm512_add_ps(a[r][t][i],
									  _mm512_mul_ps(wv[r], xv));
			}
		}
	for (int r = 0; r < R; r++)
		for (int t = 0; t < T; t++) {
			float p[32];
			_mm512_storeu_ps(p, a[r][t][0]);
			_mm512_storeu_ps(p + 16, a[r][t][1]);
			y[(size_t)t * ys + (size_t)r] =
			    ftile_finish(p, k, (const char *)w + (size_t)r * row_bytes, half,
					 x + (size_t)t * xs, n);
		}
}

/* R rows (1 to 3) against every token, 4 at a time. */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
ftile_group_avx512(const void *w, bool half, size_t row_bytes, const int R, const float *x,
		   size_t xs, int n, int ntok, int t, float *y, size_t ys)
{
	const float *xt = x + (size_t)t * xs;
	float *yt = y + (size_t)t * ys;
	switch (ntok - t < 4 ? ntok - t : 4) {
	case 4:
		ftile_avx512(w, half, row_bytes, R, xt, xs, n, 4, yt, ys);
		break;
	case 3:
		ftile_avx512(w, half, row_bytes, R, xt, xs, n, 3, yt, ys);
		break;
	case 2:
		ftile_avx512(w, half, row_bytes, R, xt, xs, n, 2, yt, ys);
		break;
	default:
		ftile_avx512(w, half, row_bytes, R, xt, xs, n, 1, yt, ys);
	}
}

/* Rows w + r cols (r < nrows) x ntok tokens: 3 rows, 4 tokens at a time. */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
ftile_rows_avx512(const void *w, bool half, int cols, int nrows, const float *x, size_t x_stride,
		  int ntok, float *y, size_t y_stride)
{
	size_t row_bytes = (size_t)cols * (half ? sizeof(uint16_t) : sizeof(float));
	for (int r0 = 0; r0 < nrows; r0 += FTILE_ROWS) {
		int r1 = nrows - r0 < FTILE_ROWS ? nrows : r0 + FTILE_ROWS;
		for (int t = 0; t < ntok; t += 4) {
			int r = r0;
			for (; r + 3 <= r1; r += 3)
				ftile_group_avx512((const char *)w + (size_t)r * row_bytes, half,
						   row_bytes, 3, x, x_stride, cols, ntok, t, y + r,
						   y_stride);
			if (r1 - r == 2)
				ftile_group_avx512((const char *)w + (size_t)r * row_bytes, half,
						   row_bytes, 2, x, x_stride, cols, ntok, t, y + r,
						   y_stride);
			else if (r < r1)
				ftile_group_avx512((const char *)w + (size_t)r * row_bytes, half,
						   row_bytes, 1, x, x_stride, cols, ntok, t, y + r,
						   y_stride);
		}
	}
}

#endif
