/* dot_q8_0.c: Q8_0 weight rows against Q8_0 activations, for one token, a batch of tokens and a
 * tile of rows x tokens: the scalar references, which define the bits (dot.h's order), and the
 * AVX2 and AVX-512 VNNI versions that reproduce them (the AVX2 and AVX-VNNI tiles are in
 * dot_q8_0_tile_ymm.c). */
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
