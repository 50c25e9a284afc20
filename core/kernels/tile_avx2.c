/* tile_avx2.c: Q8_0 prompt batches on AVX2 without VNNI: 8 weight rows (one per 32-bit lane)
 * against 8 tokens at a time, bit-identical to qdot_q8_avx2 for every row and token. */
#include <immintrin.h>

#include "core/kernels/dot.h"
#include "core/kernels/tile_avx2.h"

#define AVX2 ISA_TARGET_AVX2

/* Blocks regrouped at once: their weights (16 KB) stay in L1 while every token passes. */
#define TILE2_CHUNK 64
/* Tokens whose float partials are held at once (16 KB). */
#define TILE2_TOKENS 64
/* Tokens per pass: their int32 block sums stay in registers. */
#define TILE2_PASS 8

typedef int32_t u32_unaligned __attribute__((may_alias, aligned(1)));

/* Blocks b0 .. b0 + n - 1 of R rows, regrouped so that a vector serves 8 rows: wp[8 b + i]
 * holds bytes 4 i .. 4 i + 3 of block b of row r in 32-bit lane r (absent rows are 0), dw[8 b +
 * r] the row's block scale (0 when absent). An 8 x 8 transpose of 32-bit lanes per block. */
AVX2 static void regroup(const BlockQ8_0 *w, int nb, int R, int b0, int n, __m256i *wp, float *dw)
{
	for (int b = 0; b < n; b++) {
		__m256i r[8];
		for (int k = 0; k < 8; k++) {
			const BlockQ8_0 *blk = w + (size_t)k * (size_t)nb + (size_t)(b0 + b);
			r[k] = k < R ? _mm256_loadu_si256((const __m256i *)(const void *)blk->qs)
				     : _mm256_setzero_si256();
			dw[8 * b + k] = k < R ? _cvtsh_ss(blk->d) : 0.0f;
		}
		__m256i t[8], u[8];
		for (int k = 0; k < 8; k += 2) {
			t[k] = _mm256_unpacklo_epi32(r[k], r[k + 1]);
			t[k + 1] = _mm256_unpackhi_epi32(r[k], r[k + 1]);
		}
		for (int k = 0; k < 8; k += 4) {
			u[k] = _mm256_unpacklo_epi64(t[k], t[k + 2]);
			u[k + 1] = _mm256_unpackhi_epi64(t[k], t[k + 2]);
			u[k + 2] = _mm256_unpacklo_epi64(t[k + 1], t[k + 3]);
			u[k + 3] = _mm256_unpackhi_epi64(t[k + 1], t[k + 3]);
		}
		/* u[k]: rows 0-3 (k < 4) or 4-7 of lane k % 4 (low half) and k % 4 + 4 (high) */
		for (int i = 0; i < 4; i++) {
			wp[8 * b + i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
			wp[8 * b + i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
		}
	}
}

/* Token t's 4 values of lane i in every row's lane: |w| times x with w's sign, pairs summed in
 * int16 (exact, as in qdot_q8_avx2), then in int32. */
AVX2 static inline __m256i lane_dot(__m256i acc, __m256i aw, __m256i wv, const uint8_t *x)
{
	__m256i xv = _mm256_set1_epi32(*(const u32_unaligned *)(const void *)x);
	__m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv, wv));
	return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

/* The canonical float step for one token and 8 rows: partial += (float)isum * (d * xd). */
AVX2 static inline void add_term(float *partial, __m256i isum, __m256 d, float xd)
{
	__m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, _mm256_set1_ps(xd)));
	_mm256_storeu_ps(partial, _mm256_add_ps(_mm256_loadu_ps(partial), term));
}

/* 8 tokens (xg: their lanes in a transposed group, xdg: their scales) against the n regrouped
 * blocks: the term of block b goes into partial b % 8 of each token, part[t][b % 8] (8 rows),
 * in block order, as in the one-token kernel (the chunk starts at a multiple of 8). */
AVX2 static void pass8(const __m256i *wp, const float *dw, int n, const uint8_t *xg,
		       const float *xdg, float part[TILE2_PASS][8][8])
{
	for (int b = 0; b < n; b++) {
		const uint8_t *xb = xg + (size_t)b * QTILE_BLOCK_BYTES;
		/* the 8 tokens' block sums, named so that they stay in registers */
		__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
			a6 = a0, a7 = a0;
		for (int i = 0; i < 8; i++) {
			__m256i wv = _mm256_load_si256(wp + 8 * b + i);
			__m256i aw = _mm256_abs_epi8(wv);
			const uint8_t *xl = xb + i * QTILE_LANE_BYTES;
			a0 = lane_dot(a0, aw, wv, xl);
			a1 = lane_dot(a1, aw, wv, xl + 4);
			a2 = lane_dot(a2, aw, wv, xl + 8);
			a3 = lane_dot(a3, aw, wv, xl + 12);
			a4 = lane_dot(a4, aw, wv, xl + 16);
			a5 = lane_dot(a5, aw, wv, xl + 20);
			a6 = lane_dot(a6, aw, wv, xl + 24);
			a7 = lane_dot(a7, aw, wv, xl + 28);
		}
		__m256 d = _mm256_loadu_ps(dw + 8 * b);
		const float *xd = xdg + (size_t)b * QTILE_TOKENS;
		float(*p)[8] = &part[0][b % 8];
		add_term(p[0], a0, d, xd[0]);
		add_term(p[8], a1, d, xd[1]);
		add_term(p[16], a2, d, xd[2]);
		add_term(p[24], a3, d, xd[3]);
		add_term(p[32], a4, d, xd[4]);
		add_term(p[40], a5, d, xd[5]);
		add_term(p[48], a6, d, xd[6]);
		add_term(p[56], a7, d, xd[7]);
	}
}

AVX2 void qdot_q8_tile_avx2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
			    const float *xdt, int ntok, float *y, size_t y_stride)
{
	__m256i wp[TILE2_CHUNK * 8];
	float dw[TILE2_CHUNK * 8];
	float part[TILE2_TOKENS][8][8];
	for (int t0 = 0; t0 < ntok; t0 += TILE2_TOKENS) {
		int nt = ntok - t0 < TILE2_TOKENS ? ntok - t0 : TILE2_TOKENS;
		int npass = (nt + TILE2_PASS - 1) / TILE2_PASS;
		for (int t = 0; t < npass * TILE2_PASS; t++)
			for (int j = 0; j < 8; j++)
				_mm256_storeu_ps(part[t][j], _mm256_setzero_ps());
		for (int c0 = 0; c0 < nb; c0 += TILE2_CHUNK) {
			int n = nb - c0 < TILE2_CHUNK ? nb - c0 : TILE2_CHUNK;
			regroup(w, nb, nrows, c0, n, wp, dw);
			for (int p = 0; p < npass; p++) {
				/* pass p: half p % 2 of group (t0 + 8 p) / 16 */
				int tok = t0 + p * TILE2_PASS, half = tok % QTILE_TOKENS;
				size_t gb = (size_t)(tok / QTILE_TOKENS) * (size_t)nb + (size_t)c0;
				pass8(wp, dw, n, xt + gb * QTILE_BLOCK_BYTES + (size_t)half * 4,
				      xdt + gb * QTILE_TOKENS + half, part + p * TILE2_PASS);
			}
		}
		for (int t = 0; t < nt; t++) { /* qdot_tree, 8 rows at once */
			__m256 p[8];
			for (int j = 0; j < 8; j++)
				p[j] = _mm256_loadu_ps(part[t][j]);
			__m256 out = _mm256_add_ps(
			    _mm256_add_ps(_mm256_add_ps(p[0], p[4]), _mm256_add_ps(p[2], p[6])),
			    _mm256_add_ps(_mm256_add_ps(p[1], p[5]), _mm256_add_ps(p[3], p[7])));
			float o[8];
			_mm256_storeu_ps(o, out);
			for (int r = 0; r < nrows; r++)
				y[(size_t)(t0 + t) * y_stride + (size_t)r] = o[r];
		}
	}
}
