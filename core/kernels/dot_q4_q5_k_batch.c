/* dot_q4_q5_k_batch.c: Q4_K and Q5_K weight rows against a group of tokens (prompts), AVX2 and
 * AVX-512 VNNI: each super-block's codes, scales and mins are unpacked once and meet every token
 * of the group; each token then gets the integer sums and float terms of dot_q4_q5_k.c's
 * one-token kernels, in their order, so its bits are theirs. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512

/* --- AVX2 --- */

/* Super-block blk of the row (scales, qh (NULL for Q4_K), qs) against T tokens: per 64-value
 * chunk c the low and high nibbles (groups 2c and 2c + 1) with their scales, then each token's
 * 64 activations. */
AVX2 static inline __attribute__((always_inline)) void
q45_k_block_avx2(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs, const QAct *x,
		 const int T, int blk, int j, BlockSums *vi, BlockSums *vm)
{
	uint64_t sc, m;
	kq_scales_mins_k4(scales, &sc, &m);
	__m256i scb = _mm256_set1_epi64x((long long)sc);
	__m256i hv =
	    qh ? _mm256_loadu_si256((const __m256i *)(const void *)qh) : _mm256_setzero_si256();
	__m256i sum[KQ_BATCH_TOKENS];
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) sum[t] = _mm256_setzero_si256();
	_Pragma("GCC unroll 8") for (int c = 0; c < 4; c++)
	{
		__m256i lo, hi;
		kq_k45_chunk(qs, hv, qh != NULL, c, &lo, &hi);
		__m256i slo = kq_scale16(scb, 2 * c), shi = kq_scale16(scb, 2 * c + 1);
		_Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
		{
			const int8_t *xq = x[t].q + blk * QK_K + 64 * c;
			sum[t] = _mm256_add_epi32(sum[t], kq_chunk_scaled(lo, xq, slo));
			sum[t] = _mm256_add_epi32(sum[t], kq_chunk_scaled(hi, xq + 32, shi));
		}
	}
	__m256i mlo, mhi;
	kq_mins_spread(m, &mlo, &mhi);
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
	{
		vi[t][j] = sum[t];
		vm[t][j] = kq_mins8_spread(mlo, mhi, x[t].bsum + blk * (QK_K / 16));
	}
}

/* --- AVX-512 (VNNI) --- */

/* As q45_k_block_avx2, chunk c's low nibbles in the low 256 bits, its high nibbles in the high
 * 256 bits (as the one-token AVX-512 kernel), summed by vpdpbusd into int32 lanes of 4 values
 * (|sum| <= 4 * 31 * 128 fits int16), chunks 0-1 and 2-3 packed to int16 and scaled by
 * vpdpwssd: 6 multiplies per token where maddubs + vpdpwssd take 8. */
AVX512 static inline __attribute__((always_inline)) void
q45_k_block_avx512(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs, const QAct *x,
		   const int T, int blk, int j, BlockSums *vi, BlockSums *vm)
{
	uint64_t sc, m;
	kq_scales_mins_k4(scales, &sc, &m);
	__m512i scb = _mm512_set1_epi64((long long)sc);
	__m512i m15 = _mm512_set1_epi8(15);
	__m512i shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
	/* packs(p0, p1) holds, in 128-bit lane k, 4 sums of group k / 2 then 4 of group 2 + k / 2:
	 * the byte of sc each int16 scale takes (high byte zeroed by index 0xff) */
	__m512i i = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
				     15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
	__m512i g = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(i, 1), _mm512_set1_epi16(2)),
				    _mm512_srli_epi16(i, 4));
	g = _mm512_or_si512(g, _mm512_set1_epi16((short)0xff00));
	__m512i s01 = _mm512_shuffle_epi8(scb, g);
	__m512i s23 = _mm512_shuffle_epi8(scb, _mm512_add_epi16(g, _mm512_set1_epi16(4)));
	__m512i hv =
	    qh ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(const void *)qh))
	       : _mm512_setzero_si512();
	__m512i u[4];
	_Pragma("GCC unroll 8") for (int c = 0; c < 4; c++)
	{
		__m512i q = _mm512_broadcast_i64x4(
		    _mm256_loadu_si256((const __m256i *)(const void *)(qs + 32 * c)));
		u[c] = _mm512_and_si512(_mm512_srlv_epi16(q, shift), m15);
		if (qh) { /* bit 2c of qh[l] (low half), bit 2c + 1 (high half) */
			__m512i bit =
			    _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * c))),
					       _mm256_set1_epi8((char)(1 << (2 * c + 1))), 1);
			u[c] = _mm512_mask_add_epi8(u[c], _mm512_test_epi8_mask(hv, bit), u[c],
						    _mm512_set1_epi8(16));
		}
	}
	__m256i m16 = kq_mins16(m);
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
	{
		vi[t][j] = kq_fold512(kq_sum512(u, x[t].q + blk * QK_K, s01, s23));
		vm[t][j] = _mm256_madd_epi16(m16, kq_bsum16(x[t].bsum + blk * (QK_K / 16)));
	}
}

/* A Q4_K (QH NULL) or Q5_K row against T tokens, BLOCK the ISA's super-block step: eight
 * super-blocks per step as the one-token kernels take them, their d and dmin converted once,
 * then each token's float terms into its own 8 partials. */
#define Q45_K_GROUP(BLOCK, TY, QH)                                                                 \
	{                                                                                          \
		const TY *w = wv;                                                                  \
		__m256 acc[KQ_BATCH_TOKENS];                                                       \
		_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();  \
		for (int b = 0; b < nb; b += 8) {                                                  \
			int n = nb - b < 8 ? nb - b : 8;                                           \
			BlockSums vi[KQ_BATCH_TOKENS], vm[KQ_BATCH_TOKENS];                        \
			for (int j = 0; j < 8; j++) {                                              \
				if (j < n) {                                                       \
					BLOCK(w[b + j].scales, QH, w[b + j].qs, x, T, b + j, j,    \
					      vi, vm);                                             \
					continue;                                                  \
				}                                                                  \
				_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) vi[t][j] =     \
				    vm[t][j] = _mm256_setzero_si256();                             \
			}                                                                          \
			__m256i lanes = kq_lanes(n);                                               \
			__m256 d, dmin;                                                            \
			kq_fp16_pairs(&w[b], sizeof *w, lanes, &d, &dmin);                         \
			_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[t] =               \
			    kq_acc8_kmin_dm(acc[t], reduce8(vi[t]), reduce8(vm[t]), d, dmin,       \
					    x[t].d + b, lanes);                                    \
		}                                                                                  \
		_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) y[(size_t)t * y_stride] =      \
		    kq_tree8(acc[t]);                                                              \
	}

#define INLINE static inline __attribute__((always_inline))

AVX2 INLINE void q4_k_group_avx2(GROUP_ARGS)
    Q45_K_GROUP(q45_k_block_avx2, BlockQ4_K, NULL) AVX2 INLINE void q5_k_group_avx2(GROUP_ARGS)
	Q45_K_GROUP(q45_k_block_avx2, BlockQ5_K, w[b + j].qh) AVX512 INLINE
    void q4_k_group_avx512(GROUP_ARGS)
	Q45_K_GROUP(q45_k_block_avx512, BlockQ4_K, NULL) AVX512 INLINE
    void q5_k_group_avx512(GROUP_ARGS) Q45_K_GROUP(q45_k_block_avx512, BlockQ5_K, w[b + j].qh)

	AVX2 void kdot_q4_k_batch_avx2(ENTRY_ARGS) KQ_BATCH_ENTRY(q4_k_group_avx2) AVX2
    void kdot_q5_k_batch_avx2(ENTRY_ARGS) KQ_BATCH_ENTRY(q5_k_group_avx2) AVX512
    void kdot_q4_k_batch_avx512(ENTRY_ARGS) KQ_BATCH_ENTRY(q4_k_group_avx512) AVX512
    void kdot_q5_k_batch_avx512(ENTRY_ARGS) KQ_BATCH_ENTRY(q5_k_group_avx512)
