/* dot_q8_0_tile_ymm.c: the prompt tiles over 256-bit registers, for CPUs without AVX-512: Q8_0
 * rows (and Q4_0/Q5_0 rows unpacked to Q8_0) against 8 tokens at a time, with vpmaddubsw (AVX2)
 * or vpdpbusd (AVX-VNNI), bit-identical to qdot_q8_avx2 (dot_q8_0.c) for every row and token. */
#include <immintrin.h>

#include "core/kernels/dot.h"

/* --- AVX2 tile: prompt batches without VNNI: 8 weight rows (one per 32-bit lane) against 8
 * tokens at a time, bit-identical to qdot_q8_avx2 for every row and token --- */

/* Blocks regrouped at once: their weights (16 KB) stay in L1 while every token passes. */
#define TILE2_CHUNK 64
/* Tokens whose float partials are held at once (16 KB). */
#define TILE2_TOKENS 64
/* Tokens per pass: their int32 block sums stay in registers. */
#define TILE2_PASS 8

/* Blocks b0 .. b0 + n - 1 of R rows, regrouped so that a vector serves 8 rows: wp[8 b + i]
 * holds bytes 4 i .. 4 i + 3 of block b of row r in 32-bit lane r (absent rows are 0), dw[8 b +
 * r] the row's block scale (0 when absent). An 8 x 8 transpose of 32-bit lanes per block. */
ISA_TARGET_AVX2 static void regroup(const BlockQ8_0 *w, int nb, int R, int b0, int n, __m256i *wp,
				    float *dw)
{
	if (R == 8) { /* every tile but a short last one: rows in registers, 8 scales at once */
		size_t s = (size_t)nb;
		for (int b = 0; b < n; b++) {
			const BlockQ8_0 *p = w + b0 + b;
			__m256i r[8];
			r[0] = _mm256_loadu_si256((const __m256i *)(const void *)p[0].qs);
			r[1] = _mm256_loadu_si256((const __m256i *)(const void *)p[s].qs);
			r[2] = _mm256_loadu_si256((const __m256i *)(const void *)p[2 * s].qs);
			r[3] = _mm256_loadu_si256((const __m256i *)(const void *)p[3 * s].qs);
			r[4] = _mm256_loadu_si256((const __m256i *)(const void *)p[4 * s].qs);
			r[5] = _mm256_loadu_si256((const __m256i *)(const void *)p[5 * s].qs);
			r[6] = _mm256_loadu_si256((const __m256i *)(const void *)p[6 * s].qs);
			r[7] = _mm256_loadu_si256((const __m256i *)(const void *)p[7 * s].qs);
			__m128i h = _mm_cvtsi32_si128(p[0].d);
			h = _mm_insert_epi16(h, p[s].d, 1);
			h = _mm_insert_epi16(h, p[2 * s].d, 2);
			h = _mm_insert_epi16(h, p[3 * s].d, 3);
			h = _mm_insert_epi16(h, p[4 * s].d, 4);
			h = _mm_insert_epi16(h, p[5 * s].d, 5);
			h = _mm_insert_epi16(h, p[6 * s].d, 6);
			h = _mm_insert_epi16(h, p[7 * s].d, 7);
			_mm256_storeu_ps(dw + 8 * b, _mm256_cvtph_ps(h)); /* exact, as _cvtsh_ss */
			tile_transpose8(r, wp + 8 * b);
		}
		return;
	}
	for (int b = 0; b < n; b++) {
		__m256i r[8];
		for (int k = 0; k < 8; k++) {
			const BlockQ8_0 *blk = w + (size_t)k * (size_t)nb + (size_t)(b0 + b);
			r[k] = k < R ? _mm256_loadu_si256((const __m256i *)(const void *)blk->qs)
				     : _mm256_setzero_si256();
			dw[8 * b + k] = k < R ? _cvtsh_ss(blk->d) : 0.0f;
		}
		tile_transpose8(r, wp + 8 * b);
	}
}

/* 8 tokens (xg: their lanes in a transposed group, xdg: their scales) against the n regrouped
 * blocks: the term of block b goes into partial b % 8 of each token, part[t][b % 8] (8 rows),
 * in block order, as in the one-token kernel (the chunk starts at a multiple of 8). */
ISA_TARGET_AVX2 static void pass8(const __m256i *wp, const float *dw, int n, const uint8_t *xg,
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
			a0 = tile_lane_dot(a0, aw, wv, xl);
			a1 = tile_lane_dot(a1, aw, wv, xl + 4);
			a2 = tile_lane_dot(a2, aw, wv, xl + 8);
			a3 = tile_lane_dot(a3, aw, wv, xl + 12);
			a4 = tile_lane_dot(a4, aw, wv, xl + 16);
			a5 = tile_lane_dot(a5, aw, wv, xl + 20);
			a6 = tile_lane_dot(a6, aw, wv, xl + 24);
			a7 = tile_lane_dot(a7, aw, wv, xl + 28);
			TILE_KEEP8(a0, a1, a2, a3, a4, a5, a6, a7);
		}
		__m256 d = _mm256_loadu_ps(dw + 8 * b);
		const float *xd = xdg + (size_t)b * QTILE_TOKENS;
		float(*p)[8] = &part[0][b % 8];
		tile_add_term(p[0], a0, d, xd[0]);
		tile_add_term(p[8], a1, d, xd[1]);
		tile_add_term(p[16], a2, d, xd[2]);
		tile_add_term(p[24], a3, d, xd[3]);
		tile_add_term(p[32], a4, d, xd[4]);
		tile_add_term(p[40], a5, d, xd[5]);
		tile_add_term(p[48], a6, d, xd[6]);
		tile_add_term(p[56], a7, d, xd[7]);
	}
}

/* --- AVX-VNNI: the same regrouped rows, each token's 4 values of a lane times 8 rows' 4 bytes
 * in one vpdpbusd. It multiplies unsigned by signed bytes: the tokens come as x + 128 (the
 * AVX-512 layout, offset 0x80), so each lane sums x w + 128 w, and the block's row sums take
 * the 128 w back --- */

/* -128 x each row's sum of block b (its 32 bytes, spread over wp[8 b .. 8 b + 7] in lane r),
 * in lane r of corr[b]: vpdpbusd of the bytes with ones sums them exactly. */
ISA_TARGET_AVXVNNI static void regroup_corr(const __m256i *wp, int n, __m256i *corr)
{
	const __m256i ones = _mm256_set1_epi8(1);
	for (int b = 0; b < n; b++) {
		__m256i s = _mm256_setzero_si256();
		for (int i = 0; i < 8; i++)
			s = _mm256_dpbusd_avx_epi32(s, ones, wp[8 * b + i]);
		corr[b] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(s, 7));
	}
}

ISA_TARGET_AVXVNNI static inline __m256i lane_dot_vnni(__m256i acc, __m256i wv, const uint8_t *x)
{
	return _mm256_dpbusd_avx_epi32(
	    acc, _mm256_set1_epi32(*(const u32_unaligned *)(const void *)x), wv);
}

/* pass8 with vpdpbusd; each token's block sum starts from the rows' correction. */
ISA_TARGET_AVXVNNI static void pass8_vnni(const __m256i *wp, const __m256i *corr, const float *dw,
					  int n, const uint8_t *xg, const float *xdg,
					  float part[TILE2_PASS][8][8])
{
	for (int b = 0; b < n; b++) {
		const uint8_t *xb = xg + (size_t)b * QTILE_BLOCK_BYTES;
		__m256i a0 = corr[b], a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
		for (int i = 0; i < 8; i++) {
			__m256i wv = _mm256_load_si256(wp + 8 * b + i);
			const uint8_t *xl = xb + i * QTILE_LANE_BYTES;
			a0 = lane_dot_vnni(a0, wv, xl);
			a1 = lane_dot_vnni(a1, wv, xl + 4);
			a2 = lane_dot_vnni(a2, wv, xl + 8);
			a3 = lane_dot_vnni(a3, wv, xl + 12);
			a4 = lane_dot_vnni(a4, wv, xl + 16);
			a5 = lane_dot_vnni(a5, wv, xl + 20);
			a6 = lane_dot_vnni(a6, wv, xl + 24);
			a7 = lane_dot_vnni(a7, wv, xl + 28);
			TILE_KEEP8(a0, a1, a2, a3, a4, a5, a6, a7);
		}
		__m256 d = _mm256_loadu_ps(dw + 8 * b);
		const float *xd = xdg + (size_t)b * QTILE_TOKENS;
		float(*p)[8] = &part[0][b % 8];
		tile_add_term(p[0], a0, d, xd[0]);
		tile_add_term(p[8], a1, d, xd[1]);
		tile_add_term(p[16], a2, d, xd[2]);
		tile_add_term(p[24], a3, d, xd[3]);
		tile_add_term(p[32], a4, d, xd[4]);
		tile_add_term(p[40], a5, d, xd[5]);
		tile_add_term(p[48], a6, d, xd[6]);
		tile_add_term(p[56], a7, d, xd[7]);
	}
}

/* Requests into L1 the blocks c0 .. c0 + n - 1 of rows k0, k0 + step, ... < QTILE_ROWS of w (the
 * rows the next tile regroups: they follow this tile's in memory, and prefetches past the
 * matrix's end are dropped, not faulted). */
ISA_TARGET_AVX2 static inline void prefetch_rows(const BlockQ8_0 *w, int nb, int c0, int n, int k0,
						 int step)
{
	for (int k = k0; k < QTILE_ROWS; k += step) {
		const char *p = (const char *)(const void *)(w + (size_t)k * (size_t)nb + c0);
		for (size_t o = 0; o < (size_t)n * sizeof(BlockQ8_0); o += 64)
			_mm_prefetch(p + o, _MM_HINT_T0);
	}
}

/* pass8 for Q4_0 or Q5_0 rows as Q8_0 rows (w = code - offset, offset 8 or 16): the codes
 * (w + offset) are unsigned, so vpmaddubsw takes them against the tokens' bytes as they are,
 * and its int16 pairs (at most 2 x (2 offset - 1) x 127) add over a block's 8 lanes (Q4_0:
 * 30480 at most) or over 4 lanes twice (Q5_0: 31496) before vpmaddwd: one or two of those a
 * block where pass8 needs one for every vpmaddubsw. The block's sum of x times the offset
 * (xs: token k's block b at xs[k xs_stride + b], valid tokens only) takes it back: the same
 * exact integer sums, then the same float steps. */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) void
pass8_codes(const __m256i *wp, const float *dw, int n, const uint8_t *xg, const float *xdg,
	    const int32_t *xs, size_t xs_stride, int valid, float part[TILE2_PASS][8][8],
	    const int offset)
{
	const int lanes = offset == 8 ? 8 : 4; /* lanes whose int16 pairs add before vpmaddwd */
	const __m256i off = _mm256_set1_epi8((char)offset), ones = _mm256_set1_epi16(1);
	for (int b = 0; b < n; b++) {
		const uint8_t *xb = xg + (size_t)b * QTILE_BLOCK_BYTES;
		__m256i sum[8]; /* int32, the lanes before the last flush */
		__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
			a6 = a0, a7 = a0;
		for (int i = 0; i < 8; i++) {
			if (lanes == 4 && i == 4) {
				sum[0] = _mm256_madd_epi16(a0, ones);
				sum[1] = _mm256_madd_epi16(a1, ones);
				sum[2] = _mm256_madd_epi16(a2, ones);
				sum[3] = _mm256_madd_epi16(a3, ones);
				sum[4] = _mm256_madd_epi16(a4, ones);
				sum[5] = _mm256_madd_epi16(a5, ones);
				sum[6] = _mm256_madd_epi16(a6, ones);
				sum[7] = _mm256_madd_epi16(a7, ones);
				a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _mm256_setzero_si256();
			}
			__m256i c = _mm256_add_epi8(_mm256_load_si256(wp + 8 * b + i), off);
			const uint8_t *xl = xb + i * QTILE_LANE_BYTES;
#define CODE_LANE(a, o)                                                                            \
	a = _mm256_add_epi16(                                                                      \
	    a, _mm256_maddubs_epi16(                                                               \
		   c, _mm256_set1_epi32(*(const u32_unaligned *)(const void *)(xl + (o)))))
			CODE_LANE(a0, 0);
			CODE_LANE(a1, 4);
			CODE_LANE(a2, 8);
			CODE_LANE(a3, 12);
			CODE_LANE(a4, 16);
			CODE_LANE(a5, 20);
			CODE_LANE(a6, 24);
			CODE_LANE(a7, 28);
#undef CODE_LANE
			TILE_KEEP8(a0, a1, a2, a3, a4, a5, a6, a7);
		}
		__m256 d = _mm256_loadu_ps(dw + 8 * b);
		const float *xd = xdg + (size_t)b * QTILE_TOKENS;
		float(*p)[8] = &part[0][b % 8];
		__m256i acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
		for (int k = 0; k < 8; k++) {
			__m256i s = _mm256_madd_epi16(acc[k], ones);
			if (lanes == 4)
				s = _mm256_add_epi32(sum[k], s);
			int32_t xo = k < valid ? offset * xs[(size_t)k * xs_stride + (size_t)b] : 0;
			tile_add_term(p[8 * k], _mm256_sub_epi32(s, _mm256_set1_epi32(xo)), d,
				      xd[k]);
		}
	}
}

ISA_TARGET_AVX2 static void pass8_q4(const __m256i *wp, const float *dw, int n, const uint8_t *xg,
				     const float *xdg, const int32_t *xs, size_t xs_stride,
				     int valid, float part[TILE2_PASS][8][8])
{
	pass8_codes(wp, dw, n, xg, xdg, xs, xs_stride, valid, part, 8);
}

ISA_TARGET_AVX2 static void pass8_q5(const __m256i *wp, const float *dw, int n, const uint8_t *xg,
				     const float *xdg, const int32_t *xs, size_t xs_stride,
				     int valid, float part[TILE2_PASS][8][8])
{
	pass8_codes(wp, dw, n, xg, xdg, xs, xs_stride, valid, part, 16);
}

/* The tiles' passes (a constant in each caller): |w| and x's sign (AVX2), vpdpbusd (AVX-VNNI),
 * Q4_0's unsigned codes (AVX2). */
enum { TILE2_SIGN, TILE2_VNNI, TILE2_Q4, TILE2_Q5 };

/* The tiles: chunks of TILE2_CHUNK blocks regrouped, then every 8-token pass over them; kind picks
 * the pass (xsum: TILE2_Q4's block sums of x, token t's block b at xsum[t nb + b]). */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) void
tile2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
      const int32_t *xsum, int ntok, float *y, size_t y_stride, const int kind)
{
	const bool vnni = kind == TILE2_VNNI;
	__m256i wp[TILE2_CHUNK * 8], corr[TILE2_CHUNK];
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
			if (vnni)
				regroup_corr(wp, n, corr);
			for (int p = 0; p < npass; p++) {
				/* pass p: half p % 2 of group (t0 + 8 p) / 16 */
				int tok = t0 + p * TILE2_PASS, half = tok % QTILE_TOKENS;
				size_t gb = (size_t)(tok / QTILE_TOKENS) * (size_t)nb + (size_t)c0;
				const uint8_t *xg = xt + gb * QTILE_BLOCK_BYTES + (size_t)half * 4;
				const float *xdg = xdt + gb * QTILE_TOKENS + half;
				/* the next tile's rows come from memory while this one computes
				 * (regroup waiting on them cost ~5% of a 11264 x 2048 pass) */
				if (t0 == 0)
					prefetch_rows(w + (size_t)QTILE_ROWS * (size_t)nb, nb, c0,
						      n, p, npass);
				if (vnni)
					pass8_vnni(wp, corr, dw, n, xg, xdg, part + p * TILE2_PASS);
				else if (kind == TILE2_Q4)
					pass8_q4(wp, dw, n, xg, xdg,
						 xsum + (size_t)tok * (size_t)nb + (size_t)c0,
						 (size_t)nb, ntok - tok, part + p * TILE2_PASS);
				else if (kind == TILE2_Q5)
					pass8_q5(wp, dw, n, xg, xdg,
						 xsum + (size_t)tok * (size_t)nb + (size_t)c0,
						 (size_t)nb, ntok - tok, part + p * TILE2_PASS);
				else
					pass8(wp, dw, n, xg, xdg, part + p * TILE2_PASS);
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

ISA_TARGET_AVX2 void qdot_q8_tile_avx2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
				       const float *xdt, int ntok, float *y, size_t y_stride)
{
	tile2(w, nb, nrows, xt, xdt, NULL, ntok, y, y_stride, TILE2_SIGN);
}

ISA_TARGET_AVX2 void qdot_q4_0_tile_avx2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
					 const float *xdt, const int32_t *xsum, int ntok, float *y,
					 size_t y_stride)
{
	tile2(w, nb, nrows, xt, xdt, xsum, ntok, y, y_stride, TILE2_Q4);
}

ISA_TARGET_AVX2 void qdot_q5_0_tile_avx2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
					 const float *xdt, const int32_t *xsum, int ntok, float *y,
					 size_t y_stride)
{
	tile2(w, nb, nrows, xt, xdt, xsum, ntok, y, y_stride, TILE2_Q5);
}

ISA_TARGET_AVXVNNI void qdot_q8_tile_avxvnni(const BlockQ8_0 *w, int nb, int nrows,
					     const uint8_t *xt, const float *xdt, int ntok,
					     float *y, size_t y_stride)
{
	tile2(w, nb, nrows, xt, xdt, NULL, ntok, y, y_stride, TILE2_VNNI);
}
