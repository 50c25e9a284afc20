/* kquant_blocks.h: what the 4/5-bit and K-quant family files (dot_q4_q5.c, dot_q2_q3_k.c,
 * dot_q4_q5_k.c, dot_q6_k.c) share across ISAs: the packed-scale decoders, the scalar integer sum
 * of one block (the reference, and the tails of the SIMD kernels), each type's float term of a
 * block, written once so that every ISA rounds the same way, the AVX2/AVX-512 steps that
 * spread group scales over vector lanes, and the loop of a row (or a row pair) around a type's
 * step of eight super-blocks. */
#ifndef KQUANT_BLOCKS_H
#define KQUANT_BLOCKS_H

#include <stdbool.h>

#include "core/kernels/dot.h"
#include "core/kernels/kquant.h"

/* Q4_K/Q5_K group j (< 8): 6-bit scale and min. Groups 0-3 keep theirs in the low 6 bits of
 * bytes j and j + 4; groups 4-7 put their low 4 bits in byte j + 4 (scale low nibble, min high)
 * and their high 2 bits in the top bits of bytes j - 4 (scale) and j (min). */
static inline void kq_scale_min_k4(const uint8_t *s, int j, int32_t *sc, int32_t *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
		*m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
	}
}

/* Q3_K group g (< 16): its 6-bit scale minus 32. Low 4 bits: nibble g / 8 of byte g % 8; high 2
 * bits: bits 2 (g / 4) of byte 8 + g % 4. */
static inline int32_t kq_scale_q3(const uint8_t *s, int g)
{
	int32_t lo = (s[g % 8] >> (4 * (g / 8))) & 15;
	int32_t hi = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
	return (lo | (hi << 4)) - 32;
}

/* --- Blocks of 32: the exact integer sum of the 32 weight codes times the int8 activations --- */

static inline int32_t kq_isum_q4_0(const BlockQ4_0 *w, const int8_t *x)
{
	int32_t s = 0;
	for (int j = 0; j < QK4 / 2; j++)
		s += ((w->qs[j] & 15) - 8) * x[j] + ((w->qs[j] >> 4) - 8) * x[j + 16];
	return s;
}

static inline int32_t kq_isum_q4_1(const BlockQ4_1 *w, const int8_t *x)
{
	int32_t s = 0;
	for (int j = 0; j < QK4 / 2; j++)
		s += (w->qs[j] & 15) * x[j] + (w->qs[j] >> 4) * x[j + 16];
	return s;
}

static inline uint32_t kq_qh(const uint8_t qh[4])
{
	return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
	       (uint32_t)qh[3] << 24;
}

static inline int32_t kq_isum_q5_0(const BlockQ5_0 *w, const int8_t *x)
{
	uint32_t qh = kq_qh(w->qh);
	int32_t s = 0;
	for (int j = 0; j < QK4 / 2; j++) {
		int32_t lo = (int32_t)((w->qs[j] & 15) | (((qh >> j) & 1) << 4)) - 16;
		int32_t hi = (int32_t)((w->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
		s += lo * x[j] + hi * x[j + 16];
	}
	return s;
}

static inline int32_t kq_isum_q5_1(const BlockQ5_1 *w, const int8_t *x)
{
	uint32_t qh = kq_qh(w->qh);
	int32_t s = 0;
	for (int j = 0; j < QK4 / 2; j++) {
		int32_t lo = (int32_t)((w->qs[j] & 15) | (((qh >> j) & 1) << 4));
		int32_t hi = (int32_t)((w->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
		s += lo * x[j] + hi * x[j + 16];
	}
	return s;
}

/* --- Float terms of one block: the only float arithmetic of the kernels besides the sum of
 * the partials. --- */

/* The fp16 scales arrive as floats (every ISA converts them exactly). */

/* Q4_0, Q5_0, Q3_K, Q6_K: isum * (d_w * d_x). */
static inline float kq_term_d(int32_t isum, float dw, float dx)
{
	return (float)isum * (dw * dx);
}

/* Q4_1, Q5_1: isum * (d_w * d_x) + m_w * s_x (s_x = d_x * sum of the activations, fp16). */
static inline float kq_term_dm(int32_t isum, float dw, float mw, float dx, float sx)
{
	return (float)isum * (dw * dx) + mw * sx;
}

/* Q2_K, Q4_K, Q5_K: isum * (d_w * d_x) - msum * (dmin_w * d_x), msum the mins' integer sum. */
static inline float kq_term_kmin(int32_t isum, int32_t msum, float dw, float dminw, float dx)
{
	return (float)isum * (dw * dx) - (float)msum * (dminw * dx);
}

/* Q4_K/Q5_K: the 8 6-bit scales (bytes of *sc, group j in byte j) and mins (*m), unpacked
 * from the 12 bytes as kq_scale_min_k4 reads them, four groups at a time. */
static inline void kq_scales_mins_k4(const uint8_t *s, uint64_t *sc, uint64_t *m)
{
	uint32_t u0 =
	    (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
	uint32_t u1 =
	    (uint32_t)s[4] | (uint32_t)s[5] << 8 | (uint32_t)s[6] << 16 | (uint32_t)s[7] << 24;
	uint32_t u2 =
	    (uint32_t)s[8] | (uint32_t)s[9] << 8 | (uint32_t)s[10] << 16 | (uint32_t)s[11] << 24;
	uint32_t s_hi = (u2 & 0x0f0f0f0f) | ((u0 >> 6) & 0x03030303) << 4;
	uint32_t m_hi = ((u2 >> 4) & 0x0f0f0f0f) | ((u1 >> 6) & 0x03030303) << 4;
	*sc = (uint64_t)(u0 & 0x3f3f3f3f) | (uint64_t)s_hi << 32;
	*m = (uint64_t)(u1 & 0x3f3f3f3f) | (uint64_t)m_hi << 32;
}

/* Q6_K's code of value 32 k + l of half h (see kquant.h), minus 32. */
static inline int32_t kq_q6_code(const BlockQ6_K *w, int h, int k, int l)
{
	int32_t lo = (w->ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 15;
	int32_t hi = (w->qh[32 * h + l] >> (2 * k)) & 3;
	return (lo | (hi << 4)) - 32;
}

/* --- SIMD steps of the K-quants (dot.h brings immintrin.h); the AVX2 ones are callable from
 * the AVX-512 kernels too. Integer arithmetic only: exact on every target. --- */

/* Asks for the bytes QDOT_PREFETCH past [p, p + n) of a row (a one-token kernel's next
 * steps): the hardware prefetcher stops at each 4 KB page of a mapped file. A prefetch past the
 * row's end does not fault. */
ISA_TARGET_AVX2 static inline void kq_prefetch(const void *p, size_t n)
{
	const char *ahead = (const char *)p + QDOT_PREFETCH;
	for (size_t k = 0; k < n; k += 64)
		_mm_prefetch(ahead + k, _MM_HINT_T0);
}

/* A super-block's 16 activation sums (int32, |sum| <= 16 x 128) as int16 lanes in order;
 * packs works per 128-bit half, the permute puts them back. */
ISA_TARGET_AVX2 static inline __m256i kq_bsum16(const int32_t *bs)
{
	__m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)bs);
	__m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(bs + 8));
	return _mm256_permute4x64_epi64(_mm256_packs_epi32(b0, b1), 0xd8);
}

/* Two groups' scales for one 32-value chunk from 8 int16 scales held in both 128-bit halves of
 * sh: int16 lanes 0-7 get scale 2k, 8-15 scale 2k + 1 (one byte shuffle). */
ISA_TARGET_AVX2 static inline __m256i kq_scales2_of(__m256i sh, int k)
{
	return _mm256_shuffle_epi8(
	    sh, _mm256_set_m128i(_mm_set1_epi16((short)(0x0100 + 0x0202 * (2 * k + 1))),
				 _mm_set1_epi16((short)(0x0100 + 0x0202 * (2 * k)))));
}

/* The 8 int16 scales of half h (< 2) of 16 in both 128-bit halves, for kq_scales2_of. */
ISA_TARGET_AVX2 static inline __m256i kq_scales_half(__m256i s16, int h)
{
	return _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(s16, 1)
					     : _mm256_castsi256_si128(s16));
}

/* sum over a chunk of 32 codes u (unsigned, < 64) times x, each half of 16 by its scale. */
ISA_TARGET_AVX2 static inline __m256i kq_chunk_scaled(__m256i u, const int8_t *x, __m256i sc)
{
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, vx), sc);
}

/* --- Eight super-blocks per step (AVX2 code, callable from the AVX-512 kernels): the integer
 * sums of blocks b..b + 7 as lanes (reduce8), then their float terms as 8 lanes at once. Lane j
 * is block b + j (b a multiple of 8), whose term the reference adds to acc[(b + j) % 8]: a
 * vector of 8 partials does exactly what acc[] does, with the same roundings (no FMA). --- */

/* All-ones in the lanes j < n (the blocks a last, short step has). */
ISA_TARGET_AVX2 static inline __m256i kq_lanes(int n)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Eight pairs of fp16 values, one per 32-bit lane, as floats: the first of each into *lo,
 * the second into *hi. */
ISA_TARGET_AVX2 static inline void kq_fp16_split(__m256i v, __m256 *lo, __m256 *hi)
{
	/* per 128-bit half: the four low halves, then the four high ones; then the halves'
	 * quarters in the order lo 0-3, lo 4-7, hi 0-3, hi 4-7 */
	v = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11,
						    14, 15, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7,
						    10, 11, 14, 15));
	v = _mm256_permute4x64_epi64(v, 0xd8);
	*lo = _mm256_cvtph_ps(_mm256_castsi256_si128(v));
	*hi = _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1));
}

/* The two fp16 values at p + j * stride (4 bytes) of each present lane j, as floats: the
 * first into *lo, the second into *hi (absent lanes read nothing and give 0). */
ISA_TARGET_AVX2 static inline void kq_fp16_pairs(const void *p, int stride, __m256i lanes,
						 __m256 *lo, __m256 *hi)
{
	__m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
					 _mm256_set1_epi32(stride));
	kq_fp16_split(
	    _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)p, idx, lanes, 1), lo,
	    hi);
}

/* acc + the kq_term_kmin of the present lanes (all-ones in lanes), the weights' d_w and
 * dmin_w given as floats (a batch converts them once for all its tokens). */
ISA_TARGET_AVX2 static inline __m256 kq_acc8_kmin_dm(__m256 acc, __m256i isum, __m256i msum,
						     __m256 d, __m256 dmin, const float *dx,
						     __m256i lanes)
{
	__m256 vdx = _mm256_maskload_ps(dx, lanes);
	__m256 t = _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, vdx)),
				 _mm256_mul_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, vdx)));
	return _mm256_blendv_ps(acc, _mm256_add_ps(acc, t), _mm256_castsi256_ps(lanes));
}

/* acc + the kq_term_kmin of the present lanes: isum * (d_w * d_x) - msum * (dmin_w * d_x),
 * d_w and dmin_w the fp16 pair at the start of each block (stride bytes apart). */
ISA_TARGET_AVX2 static inline __m256 kq_acc8_kmin(__m256 acc, __m256i isum, __m256i msum,
						  const void *dm, int stride, const float *dx,
						  int n)
{
	__m256i lanes = kq_lanes(n);
	__m256 d, dmin;
	kq_fp16_pairs(dm, stride, lanes, &d, &dmin);
	return kq_acc8_kmin_dm(acc, isum, msum, d, dmin, dx, lanes);
}

/* acc + the kq_term_d of the present lanes (all-ones in lanes), d_w given as floats. */
ISA_TARGET_AVX2 static inline __m256 kq_acc8_d(__m256 acc, __m256i isum, __m256 d, const float *dx,
					       __m256i lanes)
{
	__m256 vdx = _mm256_maskload_ps(dx, lanes);
	__m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, vdx));
	return _mm256_blendv_ps(acc, _mm256_add_ps(acc, t), _mm256_castsi256_ps(lanes));
}

/* acc + the kq_term_d of the present lanes, d_w the second fp16 of the 4 bytes at p + j *
 * stride (Q6_K's d ends its block: reading from 2 bytes before it stays inside the row). */
ISA_TARGET_AVX2 static inline __m256 kq_acc8_d_hi(__m256 acc, __m256i isum, const void *p,
						  int stride, const float *dx, int n)
{
	__m256i lanes = kq_lanes(n);
	__m256 unused, d;
	kq_fp16_pairs(p, stride, lanes, &unused, &d);
	return kq_acc8_d(acc, isum, d, dx, lanes);
}

/* reduce8 of four vectors that hold blocks 2k (low 128 bits) and 2k + 1 (high) of v[k]: lane
 * j the total of block j (exact). */
ISA_TARGET_AVX2 static inline __m256i kq_reduce_pairs4(const __m256i v[4])
{
	__m256i t01 =
	    _mm256_add_epi32(_mm256_unpacklo_epi32(v[0], v[1]), _mm256_unpackhi_epi32(v[0], v[1]));
	__m256i t23 =
	    _mm256_add_epi32(_mm256_unpacklo_epi32(v[2], v[3]), _mm256_unpackhi_epi32(v[2], v[3]));
	/* the low 128 bits hold blocks 0 2 4 6, the high 1 3 5 7 */
	__m256i a =
	    _mm256_add_epi32(_mm256_unpacklo_epi64(t01, t23), _mm256_unpackhi_epi64(t01, t23));
	return _mm256_permutevar8x32_epi32(a, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* The 8 partials folded as qdot_tree folds them. */
ISA_TARGET_AVX2 static inline float kq_tree8(__m256 acc)
{
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	return qdot_tree(a);
}

/* The K-quant row kernels of either ISA around a type's STEP(..., W, ACC), which adds super-blocks
 * b..b + n - 1 (n <= 8) of row W into the partials ACC: a row, eight super-blocks per step, the
 * last step short. */
#define KQ_ROW(STEP, ...)                                                                          \
	{                                                                                          \
		__m256 acc = _mm256_setzero_ps();                                                  \
		for (int b = 0; b < nb; b += 8) {                                                  \
			int n = nb - b < 8 ? nb - b : 8;                                           \
			STEP(__VA_ARGS__, wv, acc)                                                 \
		}                                                                                  \
		return kq_tree8(acc);                                                              \
	}

/* A row pair's kernel of STEP (kquant.h's KDot2Fn): each step for both rows, each row its own
 * partials. */
#define KQ_ROW2(STEP, ...)                                                                         \
	{                                                                                          \
		const void *w1 = (const char *)wv + row_bytes;                                     \
		__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                     \
		for (int b = 0; b < nb; b += 8) {                                                  \
			int n = nb - b < 8 ? nb - b : 8;                                           \
			STEP(__VA_ARGS__, wv, acc0)                                                \
			STEP(__VA_ARGS__, w1, acc1)                                                \
		}                                                                                  \
		y[0] = kq_tree8(acc0);                                                             \
		y[1] = kq_tree8(acc1);                                                             \
	}

/* Q4_K/Q5_K: int16 lanes of one group's scale: byte k of each 128-bit half of scb (both hold
 * the block's decoded scales), the high byte zeroed (shuffle index 0xff). */
ISA_TARGET_AVX2 static inline __m256i kq_scale16(__m256i scb, int k)
{
	return _mm256_shuffle_epi8(scb, _mm256_set1_epi16((short)(0xff00 | k)));
}

/* Q4_0/Q4_1: the 16 bytes of 4-bit codes as 32 unsigned codes: low nibbles (values 0-15) first.
 * The bytes come in both halves by one broadcast load and only the high half shifts: two
 * vector operations instead of four. */
ISA_TARGET_AVX2 static inline __m256i kq_nibbles(const uint8_t *qs)
{
	__m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)qs));
	return _mm256_and_si256(_mm256_srlv_epi32(b, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)),
				_mm256_set1_epi8(15));
}

/* Q5_0/Q5_1 high bits: byte j gets 16 where bit j of the 32-bit qh is set. */
ISA_TARGET_AVX2 static inline __m256i kq_q5_high(const uint8_t qh[4])
{
	uint32_t h = kq_qh(qh);
	__m256i v = _mm256_set1_epi32((int32_t)h);
	/* byte j takes byte j / 8 of h, then tests its bit j % 8 */
	__m256i spread = _mm256_shuffle_epi8(
	    v, _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
	__m256i bit = _mm256_set1_epi64x((int64_t)0x8040201008040201);
	__m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
	return _mm256_and_si256(set, _mm256_set1_epi8(16));
}

/* Blocks of 32: 8 fp16 values 'stride' bytes apart, as floats (exact). Gathered in two 64-bit
 * integers: the loads, shifts and ors run on the integer units, where 8 vpinsrw from memory took
 * 16 vector operations (a gather is microcoded on AMD). */
ISA_TARGET_AVX2 static inline __m256 kq_fp16x8(const uint16_t *p, int stride)
{
	const uint8_t *b = (const uint8_t *)p;
	uint64_t h[2] = {0, 0};
	for (int k = 0; k < 2; k++)
		for (int j = 0; j < 4; j++) {
			uint16_t v;
			__builtin_memcpy(&v, b + (4 * k + j) * stride, 2);
			h[k] |= (uint64_t)v << (16 * j);
		}
	/* else the compiler's vectorizer moves half of the work back to vector shuffles */
	__asm__("" : "+r"(h[0]), "+r"(h[1]));
	return _mm256_cvtph_ps(_mm_set_epi64x((long long)h[1], (long long)h[0]));
}

/* Q4_0/Q4_1 blocks j and j + 1 (qs0, qs1) as 64 unsigned codes in activation order: block j's low
 * nibbles (values 0-15), its high ones (16-31), then block j + 1's, a 128-bit quarter each. */
ISA_TARGET_AVX512 static inline __m512i kq_nibbles_pair(const uint8_t *qs0, const uint8_t *qs1)
{
	__m512i d = _mm512_inserti64x4(
	    _mm512_castsi256_si512(
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)qs0))),
	    _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)qs1)), 1);
	__m512i shift = _mm512_set_epi32(0x40004, 0x40004, 0x40004, 0x40004, 0, 0, 0, 0, 0x40004,
					 0x40004, 0x40004, 0x40004, 0, 0, 0, 0);
	return _mm512_and_si512(_mm512_srlv_epi16(d, shift), _mm512_set1_epi8(15));
}

/* Q5_0/Q5_1 high bits of blocks j and j + 1: 16 added to the codes whose bit is set in qh. */
ISA_TARGET_AVX512 static inline __m512i kq_q5_high_pair(__m512i u, const uint8_t *qh0,
							const uint8_t *qh1)
{
	__mmask64 k = (__mmask64)kq_qh(qh0) | (__mmask64)kq_qh(qh1) << 32;
	return _mm512_mask_add_epi8(u, k, u, _mm512_set1_epi8(16));
}

/* int16 lane i of the result: s[base + i / 8] (s holds 16 int16 scales): the scales of the
 * four groups of 16 that one 64-byte step of Q2_K, Q3_K or Q6_K covers. */
ISA_TARGET_AVX512 static inline __m512i kq_spread16(__m512i s16, int base)
{
	__m512i i = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
				     15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
	__m512i idx = _mm512_add_epi16(_mm512_set1_epi16((short)base), _mm512_srli_epi16(i, 3));
	return _mm512_permutexvar_epi16(idx, s16);
}

/* reduce8 of 512-bit vectors: lane j the total of v[j]'s 16 int32 lanes (exact), without
 * folding each vector to 256 bits first. */
ISA_TARGET_AVX512 static inline __m256i kq_reduce8_512(const __m512i v[8])
{
	__m512i t[4], a[2];
	for (int k = 0; k < 4; k++)
		t[k] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * k], v[2 * k + 1]),
					_mm512_unpackhi_epi32(v[2 * k], v[2 * k + 1]));
	/* per 128-bit lane: the partial sums of v[4k..4k + 3] */
	for (int k = 0; k < 2; k++)
		a[k] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * k], t[2 * k + 1]),
					_mm512_unpackhi_epi64(t[2 * k], t[2 * k + 1]));
	/* 128-bit lanes: a0 + a2, a1 + a3 of each, then those two added */
	__m512i c = _mm512_add_epi32(_mm512_shuffle_i64x2(a[0], a[1], 0x44),
				     _mm512_shuffle_i64x2(a[0], a[1], 0xee));
	__m512i e =
	    _mm512_add_epi32(_mm512_shuffle_i64x2(c, c, 0x08), _mm512_shuffle_i64x2(c, c, 0x0d));
	return _mm512_castsi512_si256(e);
}

/* The 512 bits' two halves added (exact). */
ISA_TARGET_AVX512 static inline __m256i kq_fold512(__m512i v)
{
	return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/* Bit k of each byte of v moved to bit 4 (16 where it is set, else 0): one 16-bit shift by at
 * most 4 places brings no bit of the neighbouring byte to bit 4, so a shift and a mask do it. */
ISA_TARGET_AVX2 static inline __m256i kq_bit_as_16(__m256i v, int k)
{
	__m256i s = k <= 4 ? _mm256_slli_epi16(v, 4 - k) : _mm256_srli_epi16(v, k - 4);
	return _mm256_and_si256(s, _mm256_set1_epi8(16));
}

/* Chunk c (64 values) of a Q4_K/Q5_K super-block, AVX2: its low nibbles (group 2c) in *lo and
 * high nibbles (group 2c + 1) in *hi, plus 16 where Q5_K's fifth bit is set (bits 2c and
 * 2c + 1 of hv's bytes; q5 false for Q4_K). */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) void
kq_k45_chunk(const uint8_t *qs, __m256i hv, bool q5, int c, __m256i *lo, __m256i *hi)
{
	__m256i m15 = _mm256_set1_epi8(15);
	__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(qs + 32 * c));
	*lo = _mm256_and_si256(q, m15);
	*hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m15);
	if (q5) {
		*lo = _mm256_or_si256(*lo, kq_bit_as_16(hv, 2 * c));
		*hi = _mm256_or_si256(*hi, kq_bit_as_16(hv, 2 * c + 1));
	}
}

/* --- Prompt batches (the *_batch.c files): one row against T tokens at a time --- */

/* A block's integer sums for T tokens: sums[t][j] for block j of an 8-block step, 8 int32
 * partials whose total is the one-token kernels' exact sum. */
typedef __m256i BlockSums[8];

/* A batch entry: its tokens 8, 4, 2, then 1 at a time, GROUP the row kernel of a fixed count
 * (each count compiled on its own, its token loops unrolled). */
#define KQ_BATCH_ENTRY(GROUP)                                                                      \
	{                                                                                          \
		for (; ntok >= 8; ntok -= 8, x += 8, y += 8 * y_stride)                            \
			GROUP(wv, x, 8, nb, y, y_stride);                                          \
		if (ntok >= 4) {                                                                   \
			GROUP(wv, x, 4, nb, y, y_stride);                                          \
			ntok -= 4, x += 4, y += 4 * y_stride;                                      \
		}                                                                                  \
		if (ntok >= 2) {                                                                   \
			GROUP(wv, x, 2, nb, y, y_stride);                                          \
			ntok -= 2, x += 2, y += 2 * y_stride;                                      \
		}                                                                                  \
		if (ntok >= 1)                                                                     \
			GROUP(wv, x, 1, nb, y, y_stride);                                          \
	}
_Static_assert(KQ_BATCH_TOKENS == 8, "KQ_BATCH_ENTRY takes groups of 8, 4, 2, 1");

/* A row kernel of a fixed token count T, and a batch entry (kquant.h's KDotBatchFn). */
#define GROUP_ARGS const void *wv, const QAct *x, const int T, int nb, float *y, size_t y_stride
#define ENTRY_ARGS const void *wv, const QAct *x, int ntok, int nb, float *y, size_t y_stride

#endif
