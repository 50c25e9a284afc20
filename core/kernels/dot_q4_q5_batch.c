/* dot_q4_q5_batch.c: Q4_0 weight rows (blocks of 32) against a group of tokens (prompts), AVX2
 * and AVX-512 VNNI: eight blocks' codes and fp16 scales are unpacked once and meet every token
 * of the group; each token then gets the integer sums and float terms of dot_q4_q5.c's
 * one-token kernels, in their order (the 8-block steps, then the tail blocks one by one as the
 * reference writes them), so its bits are theirs. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512
#define INLINE static inline __attribute__((always_inline))

/* Token t's 8-block step: its integer sums isum (codes' offset of 8 taken out through the
 * activations' block sums) into its partials, scaled by d_w * d_x. */
AVX2 INLINE __m256 q4_0_step(__m256 acc, __m256i isum, __m256 d, const QAct *x, int b)
{
	isum = _mm256_sub_epi32(
	    isum,
	    _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(x->bsum + b)), 3));
	__m256 scale = _mm256_mul_ps(d, _mm256_loadu_ps(x->d + b));
	return _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
}

/* The partials of each token, its tail blocks b.. added one by one, folded into y. */
AVX2 INLINE void q4_0_finish(const BlockQ4_0 *w, const QAct *x, const int T, const __m256 *acc,
			     int b, int nb, float *y, size_t y_stride)
{
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
	{
		float a[QDOT_LANES];
		_mm256_storeu_ps(a, acc[t]);
		for (int k = b; k < nb; k++)
			a[k % QDOT_LANES] += kq_term_d(kq_isum_q4_0(&w[k], x[t].q + k * QK4),
						       _cvtsh_ss(w[k].d), x[t].d[k]);
		y[(size_t)t * y_stride] = qdot_tree(a);
	}
}

/* --- AVX2: one block's 32 codes per register --- */

AVX2 INLINE void q4_0_group_avx2(GROUP_ARGS)
{
	const BlockQ4_0 *w = wv;
	__m256 acc[KQ_BATCH_TOKENS];
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
	__m256i ones = _mm256_set1_epi16(1);
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		__m256i u[8];
		_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) u[j] = kq_nibbles(w[b + j].qs);
		__m256 d = kq_fp16x8(&w[b].d, sizeof *w);
		_Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
		{
			__m256i v[8];
			_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) v[j] =
			    kq_chunk_scaled(u[j], x[t].q + (b + j) * QK4, ones);
			acc[t] = q4_0_step(acc[t], reduce8(v), d, &x[t], b);
		}
	}
	q4_0_finish(w, x, T, acc, b, nb, y, y_stride);
}

/* --- AVX-512 (VNNI): two blocks per register, vpdpbusd --- */

AVX512 INLINE void q4_0_group_avx512(GROUP_ARGS)
{
	const BlockQ4_0 *w = wv;
	__m256 acc[KQ_BATCH_TOKENS];
	_Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		__m512i u[4];
		_Pragma("GCC unroll 8") for (int j = 0; j < 4; j++) u[j] =
		    kq_nibbles_pair(w[b + 2 * j].qs, w[b + 2 * j + 1].qs);
		__m256 d = kq_fp16x8(&w[b].d, sizeof *w);
		_Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
		{
			__m256i v[8];
			_Pragma("GCC unroll 8") for (int j = 0; j < 4; j++)
			{
				__m512i p = _mm512_dpbusd_epi32(
				    _mm512_setzero_si512(), u[j],
				    _mm512_loadu_si512(x[t].q + (b + 2 * j) * QK4));
				v[2 * j] = _mm512_castsi512_si256(p);
				v[2 * j + 1] = _mm512_extracti64x4_epi64(p, 1);
			}
			acc[t] = q4_0_step(acc[t], reduce8(v), d, &x[t], b);
		}
	}
	q4_0_finish(w, x, T, acc, b, nb, y, y_stride);
}

AVX2 void kdot_q4_0_batch_avx2(ENTRY_ARGS) KQ_BATCH_ENTRY(q4_0_group_avx2) AVX512
    void kdot_q4_0_batch_avx512(ENTRY_ARGS) KQ_BATCH_ENTRY(q4_0_group_avx512)
