/* dot_q6_k_batch.c: Q6_K weight rows against a group of tokens (prompts), AVX2 and AVX-512
 * VNNI: each super-block's 6-bit codes and group scales are unpacked once and meet every token
 * of the group; each token then gets the integer sum and float term of dot_q6_k.c's one-token
 * kernels, in their order, so its bits are theirs. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512
#define INLINE static inline __attribute__((always_inline))

/* The codes' offset of 32 for one token: 32 times the sum over the 16 groups of scale times
 * the group's activation sum, as 8 int32 partials (s16: the scales as int16). */
AVX2 INLINE __m256i q6_offset(__m256i s16, const int32_t *bs)
{
	return _mm256_slli_epi32(_mm256_madd_epi16(s16, kq_bsum16(bs)), 5);
}

/* --- AVX2 --- */

/* Super-block blk (w) against T tokens: per 32-value chunk (half h, code k) the unsigned codes
 * and their two groups' scales, then each token's 32 activations (as q6_k_block_avx2). */
AVX2 INLINE void q6_k_block_avx2(const BlockQ6_K *w, const QAct *x, const int T, int blk, int j,
				 BlockSums *vi)
{
	__m256i m15 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
	__m256i s16 =
	    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)w->scales));
	__m256i sum[KQ_BATCH_TOKENS];
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) sum[t] = _mm256_setzero_si256();
	_Pragma("GCC unroll 8") for (int h = 0; h < 2; h++)
	{
		__m256i sh = _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(s16, 1)
							   : _mm256_castsi256_si128(s16));
		const uint8_t *ql = w->ql + 64 * h;
		__m256i l0 = _mm256_loadu_si256((const __m256i *)(const void *)ql);
		__m256i l1 = _mm256_loadu_si256((const __m256i *)(const void *)(ql + 32));
		__m256i qh = _mm256_loadu_si256((const __m256i *)(const void *)(w->qh + 32 * h));
		_Pragma("GCC unroll 8") for (int k = 0; k < 4; k++)
		{
			/* code k's low 4 bits, and its high 2 bits (bits 2k of qh) moved to 4-5 */
			__m256i lo = _mm256_and_si256(
			    k < 2 ? (k ? l1 : l0) : _mm256_srli_epi16(k == 3 ? l1 : l0, 4), m15);
			__m256i hi = _mm256_and_si256(k < 2 ? _mm256_slli_epi16(qh, 4 - 2 * k)
							    : _mm256_srli_epi16(qh, 2 * k - 4),
						      m30);
			__m256i u = _mm256_or_si256(lo, hi);
			__m256i sel =
			    _mm256_set_m128i(_mm_set1_epi16((short)(0x0100 + 0x0202 * (2 * k + 1))),
					     _mm_set1_epi16((short)(0x0100 + 0x0202 * (2 * k))));
			__m256i sc = _mm256_shuffle_epi8(sh, sel);
			_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) sum[t] =
			    _mm256_add_epi32(
				sum[t],
				kq_chunk_scaled(u, x[t].q + blk * QK_K + 128 * h + 32 * k, sc));
		}
	}
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) vi[t][j] =
	    _mm256_sub_epi32(sum[t], q6_offset(s16, x[t].bsum + blk * (QK_K / 16)));
}

/* --- AVX-512 (VNNI) --- */

/* As q6_k_block_avx2, 64 codes per step as q6_k_block_avx512 unpacks them, but summed by
 * vpdpbusd into int32 lanes of 4 values (one 128-bit lane per group of 16: group 4c + k in
 * lane k of step c; |sum| <= 4 * 63 * 128 fits int16), steps 0-1 and 2-3 packed to int16
 * and scaled by vpdpwssd: 6 multiplies per token where maddubs + vpdpwssd take 8. */
AVX512 INLINE void q6_k_block_avx512(const BlockQ6_K *w, const QAct *x, const int T, int blk, int j,
				     BlockSums *vi)
{
	__m512i m0f = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
	__m512i sh01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
	__m512i sh23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
	__m256i s16 =
	    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)w->scales));
	/* packs(p0, p1) holds, in 128-bit lane k, 4 sums of group k then 4 of group 4 + k */
	__m512i i = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
				     15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
	__m512i g =
	    _mm512_or_si512(_mm512_and_si512(i, _mm512_set1_epi16(4)), _mm512_srli_epi16(i, 3));
	__m512i s512 = _mm512_castsi256_si512(s16);
	__m512i s01 = _mm512_permutexvar_epi16(g, s512);
	__m512i s23 = _mm512_permutexvar_epi16(_mm512_add_epi16(g, _mm512_set1_epi16(8)), s512);
	__m512i u[4];
	_Pragma("GCC unroll 8") for (int h = 0; h < 2; h++)
	{
		__m512i ql = _mm512_loadu_si512(w->ql + 64 * h);
		__m512i qh = _mm512_broadcast_i64x4(
		    _mm256_loadu_si256((const __m256i *)(const void *)(w->qh + 32 * h)));
		/* ternary logic 0xec is (A & C) | B */
		u[2 * h] = _mm512_ternarylogic_epi32(
		    ql, _mm512_and_si512(_mm512_sllv_epi16(qh, sh01), m30), m0f, 0xec);
		u[2 * h + 1] = _mm512_ternarylogic_epi32(
		    _mm512_srli_epi16(ql, 4), _mm512_and_si512(_mm512_srlv_epi16(qh, sh23), m30),
		    m0f, 0xec);
	}
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
	{
		vi[t][j] = _mm256_sub_epi32(kq_fold512(kq_sum512(u, x[t].q + blk * QK_K, s01, s23)),
					    q6_offset(s16, x[t].bsum + blk * (QK_K / 16)));
	}
}

/* A Q6_K row against T tokens, BLOCK the ISA's super-block step: eight super-blocks per step,
 * their d converted once, then each token's float terms into its own 8 partials. */
#define Q6_K_GROUP(BLOCK)                                                                          \
	{                                                                                          \
		const BlockQ6_K *w = wv;                                                           \
		__m256 acc[KQ_BATCH_TOKENS];                                                       \
		_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();  \
		for (int b = 0; b < nb; b += 8) {                                                  \
			int n = nb - b < 8 ? nb - b : 8;                                           \
			BlockSums vi[KQ_BATCH_TOKENS];                                             \
			for (int j = 0; j < 8; j++) {                                              \
				if (j < n) {                                                       \
					BLOCK(&w[b + j], x, T, b + j, j, vi);                      \
					continue;                                                  \
				}                                                                  \
				_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) vi[t][j] =     \
				    _mm256_setzero_si256();                                        \
			}                                                                          \
			__m256i lanes = kq_lanes(n);                                               \
			__m256 unused, d;                                                          \
			kq_fp16_pairs(&w[b].scales[QK_K / 16 - 2], sizeof *w, lanes, &unused, &d); \
			_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[t] =               \
			    kq_acc8_d(acc[t], reduce8(vi[t]), d, x[t].d + b, lanes);               \
		}                                                                                  \
		_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) y[(size_t)t * y_stride] =      \
		    kq_tree8(acc[t]);                                                              \
	}

AVX2 INLINE void q6_k_group_avx2(GROUP_ARGS) Q6_K_GROUP(q6_k_block_avx2) AVX512 INLINE
    void q6_k_group_avx512(GROUP_ARGS) Q6_K_GROUP(q6_k_block_avx512)

	AVX2 void kdot_q6_k_batch_avx2(ENTRY_ARGS) KQ_BATCH_ENTRY(q6_k_group_avx2) AVX512
    void kdot_q6_k_batch_avx512(ENTRY_ARGS) KQ_BATCH_ENTRY(q6_k_group_avx512)
