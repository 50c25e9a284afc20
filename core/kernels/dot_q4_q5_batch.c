/* dot_q4_q5_batch.c: Q4_0, Q4_1, Q5_0 and Q5_1 weight rows (blocks of 32) against a group of
 * tokens (prompts), AVX2 and AVX-512 VNNI: eight blocks' codes and fp16 scales (and mins) are
 * unpacked once and meet every token of the group; each token then gets the integer sums and
 * float terms of dot_q4_q5.c's one-token kernels, in their order (the 8-block steps, then the
 * tail blocks one by one as the reference writes them), so its bits are theirs. Also Q4_0 and
 * Q5_0 rows unpacked to Q8_0 blocks for the Q8_0 tiles, scalar and AVX2. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512
#define INLINE static inline __attribute__((always_inline))

/* What the four types differ in, by kquant index K (a constant in every instance). */
#define HAS_MIN(K) ((K) == KQ_Q4_1 || (K) == KQ_Q5_1) /* m_w * s_x term, no code offset */
#define HAS_QH(K) ((K) == KQ_Q5_0 || (K) == KQ_Q5_1)
#define OFFSET(K) ((K) == KQ_Q4_0 ? 8 : (K) == KQ_Q5_0 ? 16 : 0)
/* Byte offsets in a block: the min after d, then qh, then qs (kquant.h's layouts). */
#define QH_AT(K) (HAS_MIN(K) ? 4 : 2)
#define QS_AT(K) (QH_AT(K) + (HAS_QH(K) ? 4 : 0))
#define BLOCK_BYTES(K) (QS_AT(K) + QK4 / 2)

/* Token x's 8-block step from b: its integer sums isum (the code offset taken out through the
 * activations' block sums) and the one-token kernels' float terms (d, m: the weights' scales
 * and mins as floats) into its partials. */
AVX2 INLINE __m256 step8(const int K, __m256 acc, __m256i isum, __m256 d, __m256 m, const QAct *x,
			 int b)
{
	if (OFFSET(K))
		isum = _mm256_sub_epi32(
		    isum, _mm256_mullo_epi32(
			      _mm256_set1_epi32(OFFSET(K)),
			      _mm256_loadu_si256((const __m256i *)(const void *)(x->bsum + b))));
	__m256 t =
	    _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, _mm256_loadu_ps(x->d + b)));
	if (HAS_MIN(K))
		t = _mm256_add_ps(t, _mm256_mul_ps(m, _mm256_loadu_ps(x->s + b)));
	return _mm256_add_ps(acc, t);
}

/* The reference's term of block k (at p) for token x. */
AVX2 INLINE float tail_term(const int K, const uint8_t *p, const QAct *x, int k)
{
	const int8_t *xq = x->q + k * QK4;
	float d = _cvtsh_ss(*(const uint16_t *)(const void *)p);
	switch (K) {
	case KQ_Q4_0:
		return kq_term_d(kq_isum_q4_0((const BlockQ4_0 *)(const void *)p, xq), d, x->d[k]);
	case KQ_Q5_0:
		return kq_term_d(kq_isum_q5_0((const BlockQ5_0 *)(const void *)p, xq), d, x->d[k]);
	case KQ_Q4_1:
		return kq_term_dm(kq_isum_q4_1((const BlockQ4_1 *)(const void *)p, xq), d,
				  _cvtsh_ss(*(const uint16_t *)(const void *)(p + 2)), x->d[k],
				  x->s[k]);
	default:
		return kq_term_dm(kq_isum_q5_1((const BlockQ5_1 *)(const void *)p, xq), d,
				  _cvtsh_ss(*(const uint16_t *)(const void *)(p + 2)), x->d[k],
				  x->s[k]);
	}
}

/* A row of type K against T tokens; CODES8(u, w, b) unpacks blocks b..b + 7 into u, SUMS8(v,
 * u, xq) sums them against one token's 256 activations (lane j of reduce8(v): block b + j). */
#define ROW32(K, CODES8, NU, SUMS8)                                                                \
	{                                                                                          \
		const uint8_t *w = wv;                                                             \
		const int bb = BLOCK_BYTES(K);                                                     \
		__m256 acc[KQ_BATCH_TOKENS];                                                       \
		_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();  \
		int b = 0;                                                                         \
		for (; b + 8 <= nb; b += 8) {                                                      \
			const uint8_t *p = w + (size_t)b * (size_t)bb;                             \
			NU;                                                                        \
			CODES8(u, K, p, bb);                                                       \
			__m256 d = kq_fp16x8((const uint16_t *)(const void *)p, bb);               \
			__m256 m = HAS_MIN(K)                                                      \
				       ? kq_fp16x8((const uint16_t *)(const void *)(p + 2), bb)    \
				       : _mm256_setzero_ps();                                      \
			_Pragma("GCC unroll 8") for (int t = 0; t < T; t++)                        \
			{                                                                          \
				__m256i v[8];                                                      \
				SUMS8(v, u, x[t].q + b * QK4);                                     \
				acc[t] = step8(K, acc[t], reduce8(v), d, m, &x[t], b);             \
			}                                                                          \
		}                                                                                  \
		for (int t = 0; t < T; t++) {                                                      \
			float a[QDOT_LANES];                                                       \
			_mm256_storeu_ps(a, acc[t]);                                               \
			for (int k = b; k < nb; k++)                                               \
				a[k % QDOT_LANES] +=                                               \
				    tail_term(K, w + (size_t)k * (size_t)bb, &x[t], k);            \
			y[(size_t)t * y_stride] = qdot_tree(a);                                    \
		}                                                                                  \
	}

/* --- AVX2: one block's 32 codes per register --- */

AVX2 INLINE void codes8_avx2(__m256i *u, const int K, const uint8_t *p, int bb)
{
	_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)
	{
		const uint8_t *blk = p + j * bb;
		u[j] = kq_nibbles(blk + QS_AT(K));
		if (HAS_QH(K))
			u[j] = _mm256_or_si256(u[j], kq_q5_high(blk + QH_AT(K)));
	}
}

AVX2 INLINE void sums8_avx2(__m256i *v, const __m256i *u, const int8_t *xq)
{
	_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) v[j] =
	    kq_chunk_scaled(u[j], xq + j * QK4, _mm256_set1_epi16(1));
}

#define CODES8_AVX2(u, K, p, bb) codes8_avx2(u, K, p, bb)
#define GROUP_AVX2(K) ROW32(K, CODES8_AVX2, __m256i u[8], sums8_avx2)

/* --- AVX-512 (VNNI): two blocks per register, vpdpbusd --- */

AVX512 INLINE void codes8_avx512(__m512i *u, const int K, const uint8_t *p, int bb)
{
	_Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
	{
		const uint8_t *b0 = p + 2 * j * bb, *b1 = b0 + bb;
		u[j] = kq_nibbles_pair(b0 + QS_AT(K), b1 + QS_AT(K));
		if (HAS_QH(K))
			u[j] = kq_q5_high_pair(u[j], b0 + QH_AT(K), b1 + QH_AT(K));
	}
}

AVX512 INLINE void sums8_avx512(__m256i *v, const __m512i *u, const int8_t *xq)
{
	_Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
	{
		__m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[j],
						_mm512_loadu_si512(xq + 2 * j * QK4));
		v[2 * j] = _mm512_castsi512_si256(s);
		v[2 * j + 1] = _mm512_extracti64x4_epi64(s, 1);
	}
}

#define CODES8_AVX512(u, K, p, bb) codes8_avx512(u, K, p, bb)
#define GROUP_AVX512(K) ROW32(K, CODES8_AVX512, __m512i u[4], sums8_avx512)

AVX2 INLINE void q4_0_group_avx2(GROUP_ARGS) GROUP_AVX2(KQ_Q4_0) AVX2 INLINE
    void q4_1_group_avx2(GROUP_ARGS) GROUP_AVX2(KQ_Q4_1) AVX2 INLINE
    void q5_0_group_avx2(GROUP_ARGS) GROUP_AVX2(KQ_Q5_0) AVX2 INLINE
    void q5_1_group_avx2(GROUP_ARGS) GROUP_AVX2(KQ_Q5_1) AVX512 INLINE
    void q4_0_group_avx512(GROUP_ARGS) GROUP_AVX512(KQ_Q4_0) AVX512 INLINE
    void q4_1_group_avx512(GROUP_ARGS) GROUP_AVX512(KQ_Q4_1) AVX512 INLINE
    void q5_0_group_avx512(GROUP_ARGS) GROUP_AVX512(KQ_Q5_0) AVX512 INLINE
    void q5_1_group_avx512(GROUP_ARGS) GROUP_AVX512(KQ_Q5_1)

	AVX2 void kdot_q4_0_batch_avx2(ENTRY_ARGS) KQ_BATCH_ENTRY(q4_0_group_avx2) AVX2
    void kdot_q4_1_batch_avx2(ENTRY_ARGS) KQ_BATCH_ENTRY(q4_1_group_avx2) AVX2
    void kdot_q5_0_batch_avx2(ENTRY_ARGS) KQ_BATCH_ENTRY(q5_0_group_avx2) AVX2
    void kdot_q5_1_batch_avx2(ENTRY_ARGS) KQ_BATCH_ENTRY(q5_1_group_avx2) AVX512
    void kdot_q4_0_batch_avx512(ENTRY_ARGS) KQ_BATCH_ENTRY(q4_0_group_avx512) AVX512
    void kdot_q4_1_batch_avx512(ENTRY_ARGS) KQ_BATCH_ENTRY(q4_1_group_avx512) AVX512
    void kdot_q5_0_batch_avx512(ENTRY_ARGS) KQ_BATCH_ENTRY(q5_0_group_avx512) AVX512
    void kdot_q5_1_batch_avx512(ENTRY_ARGS) KQ_BATCH_ENTRY(q5_1_group_avx512)

    /* --- Q4_0/Q5_0 rows as Q8_0 blocks (kquant.h) --- */

    void kquant_row_to_q8_0_ref(DType t, const void *row, int nb, BlockQ8_0 *out)
{
	for (int b = 0; b < nb; b++) {
		int8_t *q = out[b].qs;
		if (t == DT_Q4_0) {
			const BlockQ4_0 *w = (const BlockQ4_0 *)row + b;
			out[b].d = w->d;
			for (int j = 0; j < QK4 / 2; j++) {
				q[j] = (int8_t)((w->qs[j] & 15) - 8);
				q[j + QK4 / 2] = (int8_t)((w->qs[j] >> 4) - 8);
			}
		} else {
			const BlockQ5_0 *w = (const BlockQ5_0 *)row + b;
			uint32_t qh = kq_qh(w->qh);
			out[b].d = w->d;
			for (int j = 0; j < QK4 / 2; j++) {
				q[j] = (int8_t)(((w->qs[j] & 15) | ((qh >> j & 1) << 4)) - 16);
				q[j + QK4 / 2] =
				    (int8_t)(((w->qs[j] >> 4) | ((qh >> (j + 16) & 1) << 4)) - 16);
			}
		}
	}
}

/* 32 codes a block: the low nibbles in the low 16 bytes, the high ones above; Q5_0's fifth bit
 * i of qh spread to byte i (byte i / 8 of qh shuffled into it, tested against bit i % 8). */
AVX2 void kquant_row_to_q8_0_avx2(DType t, const void *row, int nb, BlockQ8_0 *out)
{
	const __m128i m15 = _mm_set1_epi8(15);
	const __m256i bits = _mm256_set1_epi64x((long long)0x8040201008040201ull);
	const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2,
						2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
	for (int b = 0; b < nb; b++) {
		const uint8_t *qs;
		uint16_t d;
		__m256i off;
		if (t == DT_Q4_0) {
			const BlockQ4_0 *w = (const BlockQ4_0 *)row + b;
			qs = w->qs, d = w->d, off = _mm256_set1_epi8(8);
		} else {
			const BlockQ5_0 *w = (const BlockQ5_0 *)row + b;
			qs = w->qs, d = w->d;
			__m256i h =
			    _mm256_shuffle_epi8(_mm256_set1_epi32((int)kq_qh(w->qh)), spread);
			/* 16 - 16 where the bit is set, 16 where not */
			off =
			    _mm256_andnot_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bits), bits),
						_mm256_set1_epi8(16));
		}
		__m128i q = _mm_loadu_si128((const __m128i *)(const void *)qs);
		__m256i v = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m15),
					     _mm_and_si128(q, m15));
		_mm256_storeu_si256((__m256i *)(void *)out[b].qs, _mm256_sub_epi8(v, off));
		out[b].d = d;
	}
}
