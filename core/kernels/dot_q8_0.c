/* dot_q8_0.c: Q8_0 weight rows against Q8_0 activations, for one token, a batch of tokens and a
 * tile of rows x tokens: the scalar references, which define the bits (dot.h's order), and the
 * AVX2 (tile without VNNI), AVX-VNNI (tile) and AVX-512 VNNI versions that reproduce them. */
#include <immintrin.h>

#include "core/kernels/dot.h"

/* --- Scalar references --- */

float qdot_q8_ref(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
		  int nb)
{
	(void)xsum; /* only the kernels that offset the weights to unsigned need it */
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum = qdot_block_i32(w[b].qs, xq + b * QK8_0, QK8_0);
		acc[b % QDOT_LANES] += (float)isum * (fp16_to_fp32(w[b].d) * xd[b]);
	}
	return qdot_tree(acc);
}

void qdot_q8_batch_ref(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
		       int nb, int ntok, float *y, size_t y_stride)
{
	for (int t = 0; t < ntok; t++)
		y[(size_t)t * y_stride] =
		    qdot_q8_ref(w, xq + (size_t)t * (size_t)nb * QK8_0, xd + (size_t)t * (size_t)nb,
				xsum + (size_t)t * (size_t)nb, nb);
}

void qdot_q8_tile_ref(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
		      int ntok, float *y, size_t y_stride)
{
	for (int t = 0; t < ntok; t++) {
		size_t g = (size_t)(t / QTILE_TOKENS) * (size_t)nb;
		const uint8_t *xg = xt + g * QTILE_BLOCK_BYTES + (t % QTILE_TOKENS) * 4;
		const float *xdg = xdt + g * QTILE_TOKENS + t % QTILE_TOKENS;
		for (int r = 0; r < nrows; r++) {
			const BlockQ8_0 *row = w + (size_t)r * (size_t)nb;
			float acc[QDOT_LANES] = {0};
			for (int b = 0; b < nb; b++) {
				int32_t isum = 0;
				/* value k is byte k % 4 of lane k / 4 */
				for (int k = 0; k < QK8_0; k++)
					isum += row[b].qs[k] *
						((int32_t)xg[(size_t)b * QTILE_BLOCK_BYTES +
							     (size_t)(k / 4) * QTILE_LANE_BYTES +
							     (size_t)(k % 4)] -
						 128);
				acc[b % QDOT_LANES] +=
				    (float)isum *
				    (fp16_to_fp32(row[b].d) * xdg[(size_t)b * QTILE_TOKENS]);
			}
			y[(size_t)t * y_stride + (size_t)r] = qdot_tree(acc);
		}
	}
}

/* --- AVX2 --- */

/* The 8 fp16 block scales of w[0..7], 34 bytes apart, as floats. */
ISA_TARGET_AVX2 static inline __m256 q8_scales_avx2(const BlockQ8_0 *w)
{
	/* 8 scalar loads beat vpgatherdd on AMD (a gather is microcoded there) */
	__m128i h = _mm_cvtsi32_si128(w[0].d);
	h = _mm_insert_epi16(h, w[1].d, 1);
	h = _mm_insert_epi16(h, w[2].d, 2);
	h = _mm_insert_epi16(h, w[3].d, 3);
	h = _mm_insert_epi16(h, w[4].d, 4);
	h = _mm_insert_epi16(h, w[5].d, 5);
	h = _mm_insert_epi16(h, w[6].d, 6);
	h = _mm_insert_epi16(h, w[7].d, 7);
	return _mm256_cvtph_ps(h); /* exact: every fp16 is a float */
}

/* 8 int32 partial sums of one Q8_0 block: maddubs wants unsigned * signed, so |w| times x
 * with w's sign (|w| <= 128 and |x| <= 127 keep the pairs inside int16). */
ISA_TARGET_AVX2 static inline __m256i q8_block(const int8_t *w, const int8_t *x)
{
	__m256i vw = _mm256_loadu_si256((const __m256i *)(const void *)w);
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	__m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(vw), _mm256_sign_epi8(vx, vw));
	return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* The one-token kernel with its prefetch distance (bytes, 0 = none) an argument: a constant
 * here, one of the JIT's tuning knobs in qdot_q8_avx2_tuned. The bits do not depend on it. */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) float
q8_dot_avx2(const BlockQ8_0 *w, const int8_t *xq, const float *xd, int nb, int prefetch)
{
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + QDOT_LANES <= nb; b += QDOT_LANES) {
		/* see qdot_q8_avx512: one thread streams faster with lines requested ahead */
		const char *ahead = (const char *)(const void *)(w + b) + prefetch;
		for (int k = 0; prefetch > 0 && k < (int)(8 * sizeof(BlockQ8_0)); k += 64)
			_mm_prefetch(ahead + k, _MM_HINT_T0);
		__m256i v[8];
/* unrolled, so that v[] stays in registers */
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++)
			v[j] = q8_block(w[b + j].qs, xq + (b + j) * QK8_0);
		__m256 scale = _mm256_mul_ps(q8_scales_avx2(w + b), _mm256_loadu_ps(xd + b));
		__m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(reduce8(v)), scale);
		acc = _mm256_add_ps(acc, term);
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++) /* b % 8 == its lane: the tail continues the same partials */
		a[b % QDOT_LANES] += (float)qdot_block_i32(w[b].qs, xq + b * QK8_0, QK8_0) *
				     (fp16_to_fp32(w[b].d) * xd[b]);
	return qdot_tree(a);
}

ISA_TARGET_AVX2 float qdot_q8_avx2(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
				   const int32_t *xsum, int nb)
{
	(void)xsum;
	return q8_dot_avx2(w, xq, xd, nb, QDOT_PREFETCH);
}

ISA_TARGET_AVX2 float qdot_q8_avx2_tuned(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
					 const int32_t *xsum, int nb, int prefetch)
{
	(void)xsum;
	return q8_dot_avx2(w, xq, xd, nb, prefetch);
}

ISA_TARGET_AVX2 void qdot_q8_batch_avx2(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
					const int32_t *xsum, int nb, int ntok, float *y,
					size_t y_stride)
{
	for (int t = 0; t < ntok; t++)
		y[(size_t)t * y_stride] =
		    qdot_q8_avx2(w, xq + (size_t)t * (size_t)nb * QK8_0,
				 xd + (size_t)t * (size_t)nb, xsum + (size_t)t * (size_t)nb, nb);
}

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

/* --- AVX-512 VNNI --- */

/* The 8 fp16 scales of w[0..7] as floats. Block j's d is 16-bit word 17 j of the group (34
 * bytes a block), so two word permutes over four 64-byte loads (of bytes the kernel reads
 * anyway) collect them; vcvtph2ps converts exactly. Scalar loads or vpgatherdd cost 2-4 times
 * as many uops, which showed at 8 blocks per scale vector. */
ISA_TARGET_AVX512 static inline __m256 q8_scales_avx512(const BlockQ8_0 *w)
{
	const uint8_t *p = (const uint8_t *)(const void *)w;
	/* words 0, 17, 34, 51 twice (16-bit pairs packed into 32-bit lanes) */
	const __m512i idx = _mm512_setr_epi32(0x00110000, 0x00330022, 0x00110000, 0x00330022, 0, 0,
					      0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	__m512i lo =
	    _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 64));
	__m512i hi = _mm512_permutex2var_epi16(_mm512_loadu_si512(p + 136), idx,
					       _mm512_loadu_si512(p + 200));
	__m512i h = _mm512_mask_blend_epi16(0xf0, lo, hi);
	return _mm256_cvtph_ps(_mm512_castsi512_si128(h));
}

/* The one-token kernel with its prefetch distance an argument (as q8_dot_avx2). */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) float
q8_dot_avx512(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum, int nb,
	      int prefetch)
{
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + QDOT_LANES <= nb; b += QDOT_LANES) {
		/* one thread streams faster with the lines QDOT_PREFETCH bytes ahead requested
		 * now: the hardware prefetcher alone left ~20% of the read bandwidth unused */
		const char *ahead = (const char *)(const void *)(w + b) + prefetch;
		for (int k = 0; prefetch > 0 && k < (int)(8 * sizeof(BlockQ8_0)); k += 64)
			_mm_prefetch(ahead + k, _MM_HINT_T0);
		__m256i v[8];
/* unrolled, so that v[] stays in registers */
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++)
			v[j] =
			    offset_dot(_mm256_setzero_si256(), w[b + j].qs, xq + (b + j) * QK8_0);
		__m256i off = _mm256_slli_epi32(
		    _mm256_loadu_si256((const __m256i *)(const void *)(xsum + b)), 7);
		__m256i isum = _mm256_sub_epi32(reduce8(v), off);
		__m256 scale = _mm256_mul_ps(q8_scales_avx512(w + b), _mm256_loadu_ps(xd + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++) /* b % 8 == its lane: the tail continues the same partials */
		a[b % QDOT_LANES] += (float)qdot_block_i32(w[b].qs, xq + b * QK8_0, QK8_0) *
				     (fp16_to_fp32(w[b].d) * xd[b]);
	return qdot_tree(a);
}

ISA_TARGET_AVX512 float qdot_q8_avx512(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
				       const int32_t *xsum, int nb)
{
	return q8_dot_avx512(w, xq, xd, xsum, nb, QDOT_PREFETCH);
}

ISA_TARGET_AVX512 float qdot_q8_avx512_tuned(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
					     const int32_t *xsum, int nb, int prefetch)
{
	return q8_dot_avx512(w, xq, xd, xsum, nb, prefetch);
}

/* The row tile's block constants: -128 x each block's weight sum (vpsadbw of w + 128 gives
 * the sum + 32 x 128) and its fp16 scale as a float. Once per tile, shared by every group. */
ISA_TARGET_AVX512 static inline void tile_consts(const BlockQ8_0 *w, int n, int32_t *corr,
						 float *dw)
{
	const __m256i flip = _mm256_set1_epi8((char)0x80);
	for (int b = 0; b < n; b++) {
		__m256i u = _mm256_xor_si256(
		    _mm256_loadu_si256((const __m256i *)(const void *)w[b].qs), flip);
		__m256i s4 = _mm256_sad_epu8(u, _mm256_setzero_si256());
		__m128i s2 =
		    _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
		int32_t sum = _mm_cvtsi128_si32(_mm_add_epi64(s2, _mm_unpackhi_epi64(s2, s2)));
		corr[b] = -128 * (sum - 32 * 128);
		dw[b] = _cvtsh_ss(w[b].d);
	}
}

/* R rows against one group of 16 tokens. Partial sum j (blocks j, j + 8, ...) is finished
 * before j + 1 starts, which adds each block into the same partial in the same order as the
 * one-token kernel, with one float accumulator per row live instead of eight. */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
tile_group(const BlockQ8_0 *w, int nb, const int R, const int32_t *corr, const float *dw,
	   const uint8_t *xg, const float *xdg, __m512 out[QTILE_ROWS])
{
	__m512 part[QTILE_ROWS][8];
	for (int j = 0; j < 8; j++) {
		__m512 f[QTILE_ROWS];
#pragma GCC unroll 8
		for (int r = 0; r < R; r++)
			f[r] = _mm512_setzero_ps();
		for (int b = j; b < nb; b += 8) {
			const uint8_t *xb = xg + (size_t)b * QTILE_BLOCK_BYTES;
			__m512i x[8];
#pragma GCC unroll 8
			for (int i = 0; i < 8; i++)
				x[i] = _mm512_loadu_si512(xb + i * QTILE_LANE_BYTES);
			__m512 xd = _mm512_loadu_ps(xdg + (size_t)b * QTILE_TOKENS);
#pragma GCC unroll 8
			for (int r = 0; r < R; r++) {
				const u32_unaligned *q =
				    (const u32_unaligned *)(const void *)w[(size_t)r * nb + b].qs;
				/* two chains per row: the dot's latency hides behind the other */
				__m512i a = _mm512_set1_epi32(corr[r * QTILE_MAX_NB + b]);
				__m512i c = _mm512_setzero_si512();
#pragma GCC unroll 4
				for (int i = 0; i < 8; i += 2) {
					a = _mm512_dpbusd_epi32(a, x[i], _mm512_set1_epi32(q[i]));
					c = _mm512_dpbusd_epi32(c, x[i + 1],
								_mm512_set1_epi32(q[i + 1]));
				}
				__m512 scale =
				    _mm512_mul_ps(_mm512_set1_ps(dw[r * QTILE_MAX_NB + b]), xd);
				f[r] = _mm512_add_ps(
				    f[r], _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, c)),
							scale));
			}
		}
#pragma GCC unroll 8
		for (int r = 0; r < R; r++)
			part[r][j] = f[r];
	}
#pragma GCC unroll 8
	for (int r = 0; r < R; r++) { /* qdot_tree, 16 tokens at once */
		__m512 *p = part[r];
		out[r] = _mm512_add_ps(
		    _mm512_add_ps(_mm512_add_ps(p[0], p[4]), _mm512_add_ps(p[2], p[6])),
		    _mm512_add_ps(_mm512_add_ps(p[1], p[5]), _mm512_add_ps(p[3], p[7])));
	}
}

ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
tile_rows(const BlockQ8_0 *w, int nb, const int R, const uint8_t *xt, const float *xdt, int ntok,
	  float *y, size_t y_stride)
{
	int32_t corr[QTILE_ROWS * QTILE_MAX_NB];
	float dw[QTILE_ROWS * QTILE_MAX_NB];
	for (int r = 0; r < R; r++)
		tile_consts(w + (size_t)r * nb, nb, corr + r * QTILE_MAX_NB, dw + r * QTILE_MAX_NB);
	for (int t0 = 0; t0 < ntok; t0 += QTILE_TOKENS) {
		size_t g = (size_t)(t0 / QTILE_TOKENS) * (size_t)nb;
		__m512 out[QTILE_ROWS];
		tile_group(w, nb, R, corr, dw, xt + g * QTILE_BLOCK_BYTES, xdt + g * QTILE_TOKENS,
			   out);
		float o[QTILE_ROWS][QTILE_TOKENS];
		for (int r = 0; r < R; r++)
			_mm512_storeu_ps(o[r], out[r]);
		int nt = ntok - t0 < QTILE_TOKENS ? ntok - t0 : QTILE_TOKENS;
		for (int t = 0; t < nt; t++)
			for (int r = 0; r < R; r++)
				y[(size_t)(t0 + t) * y_stride + (size_t)r] = o[r][t];
	}
}

/* The tile in passes of rows_per_pass rows (each row's bits do not depend on the rows beside
 * it): fewer rows a pass hold fewer accumulators, more re-read the activations. A constant
 * here, one of the JIT's tuning knobs in qdot_q8_tile_avx512_tuned. */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
tile_passes(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt, int ntok,
	    float *y, size_t y_stride, int rows_per_pass)
{
	for (int r0 = 0; r0 < nrows; r0 += rows_per_pass) {
		const BlockQ8_0 *wr = w + (size_t)r0 * (size_t)nb;
		float *yr = y + r0;
		/* R a constant in each case: the row loops unroll and f[] stays in registers */
		switch (nrows - r0 < rows_per_pass ? nrows - r0 : rows_per_pass) {
		case 8:
			tile_rows(wr, nb, 8, xt, xdt, ntok, yr, y_stride);
			break;
		case 7:
			tile_rows(wr, nb, 7, xt, xdt, ntok, yr, y_stride);
			break;
		case 6:
			tile_rows(wr, nb, 6, xt, xdt, ntok, yr, y_stride);
			break;
		case 5:
			tile_rows(wr, nb, 5, xt, xdt, ntok, yr, y_stride);
			break;
		case 4:
			tile_rows(wr, nb, 4, xt, xdt, ntok, yr, y_stride);
			break;
		case 3:
			tile_rows(wr, nb, 3, xt, xdt, ntok, yr, y_stride);
			break;
		case 2:
			tile_rows(wr, nb, 2, xt, xdt, ntok, yr, y_stride);
			break;
		default:
			tile_rows(wr, nb, 1, xt, xdt, ntok, yr, y_stride);
			break;
		}
	}
}

ISA_TARGET_AVX512 void qdot_q8_tile_avx512(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
					   const float *xdt, int ntok, float *y, size_t y_stride)
{
	tile_passes(w, nb, nrows, xt, xdt, ntok, y, y_stride, QTILE_ROWS);
}

ISA_TARGET_AVX512 void qdot_q8_tile_avx512_tuned(const BlockQ8_0 *w, int nb, int nrows,
						 const uint8_t *xt, const float *xdt, int ntok,
						 float *y, size_t y_stride, int rows_per_pass)
{
	tile_passes(w, nb, nrows, xt, xdt, ntok, y, y_stride,
		    rows_per_pass > 0 ? rows_per_pass : QTILE_ROWS);
}
