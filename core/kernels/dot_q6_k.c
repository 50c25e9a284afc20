/* dot_q6_k.c: Q6_K weight rows (6-bit codes in 16 groups of 16 with int8 scales) against Q8_K
 * activations: the scalar reference, which defines the bits, and the AVX2 (one 32-value chunk
 * per step) and AVX-512 (two per 512-bit step) versions: codes as unsigned bytes, their offset
 * of 32 taken out through the activations' group sums, the float term as the reference's. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512

/* --- Scalar reference --- */

float kdot_q6_k_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ6_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		const int8_t *xq = x->q + b * QK_K;
		int32_t isum = 0;
		for (int g = 0; g < QK_K / 16; g++) {
			int32_t sum = 0;
			for (int v = 16 * g; v < 16 * g + 16; v++)
				sum += kq_q6_code(&w[b], v / 128, (v % 128) / 32, v % 32) * xq[v];
			isum += w[b].scales[g] * sum;
		}
		acc[b % QDOT_LANES] += kq_term_d(isum, fp16_to_fp32(w[b].d), x->d[b]);
	}
	return qdot_tree(acc);
}

/* --- AVX2 --- */

AVX2 float kdot_q6_k_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ6_K *w = wv;
	float acc[QDOT_LANES] = {0};
	__m256i m15 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3);
	for (int b = 0; b < nb; b++) {
		const int8_t *xq = x->q + b * QK_K;
		const int32_t *bs = x->bsum + b * (QK_K / 16);
		const int8_t *sc = w[b].scales;
		int32_t off = 0;
		for (int g = 0; g < QK_K / 16; g++)
			off += sc[g] * bs[g];
		__m256i sum = _mm256_setzero_si256();
		for (int h = 0; h < 2; h++) {
			const uint8_t *ql = w[b].ql + 64 * h;
			__m256i l0 = _mm256_loadu_si256((const __m256i *)(const void *)ql);
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(const void *)(ql + 32));
			__m256i qh =
			    _mm256_loadu_si256((const __m256i *)(const void *)(w[b].qh + 32 * h));
			__m256i lo4[4] = {_mm256_and_si256(l0, m15), _mm256_and_si256(l1, m15),
					  _mm256_and_si256(_mm256_srli_epi16(l0, 4), m15),
					  _mm256_and_si256(_mm256_srli_epi16(l1, 4), m15)};
			for (int k = 0; k < 4; k++) {
				__m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m3);
				__m256i u = _mm256_or_si256(lo4[k], _mm256_slli_epi16(hi2, 4));
				int g = 8 * h + 2 * k;
				sum = _mm256_add_epi32(
				    sum, kq_chunk_scaled(u, xq + 128 * h + 32 * k,
							 kq_scales2(sc[g], sc[g + 1])));
			}
		}
		/* codes are u - 32 */
		acc[b % QDOT_LANES] +=
		    kq_term_d(kq_hsum_i32(sum) - 32 * off, _cvtsh_ss(w[b].d), x->d[b]);
	}
	return qdot_tree(acc);
}

/* --- AVX-512 --- */

/* int16 lane i of the result: s[base + i / 8] (s holds 16 int16 scales): the scales of the
 * four groups of 16 that one 64-byte step covers. */
AVX512 static inline __m512i spread(__m512i s16, int base)
{
	__m512i i = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
				     15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
	__m512i idx = _mm512_add_epi16(_mm512_set1_epi16((short)base), _mm512_srli_epi16(i, 3));
	return _mm512_permutexvar_epi16(idx, s16);
}

AVX512 float kdot_q6_k_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ6_K *w = wv;
	float acc[QDOT_LANES] = {0};
	__m512i m15 = _mm512_set1_epi8(15), m3 = _mm512_set1_epi8(3);
	/* qh shifts per half: codes k and k + 1 take bits 2k and 2k + 2 */
	__m512i sh01 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
	__m512i sh23 = _mm512_add_epi16(sh01, _mm512_set1_epi16(4));
	for (int b = 0; b < nb; b++) {
		const int8_t *xq = x->q + b * QK_K;
		const int32_t *bs = x->bsum + b * (QK_K / 16);
		const int8_t *sc = w[b].scales;
		int32_t off = 0;
		for (int g = 0; g < QK_K / 16; g++)
			off += sc[g] * bs[g];
		__m512i s16 = _mm512_castsi256_si512(
		    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)sc)));
		__m512i sum = _mm512_setzero_si512();
		for (int h = 0; h < 2; h++) {
			__m512i ql = _mm512_loadu_si512(w[b].ql + 64 * h);
			__m512i qh = _mm512_broadcast_i64x4(
			    _mm256_loadu_si256((const __m256i *)(const void *)(w[b].qh + 32 * h)));
			/* halves: codes k = 0, 1 (values 0-63 of the half), then k = 2, 3 */
			__m512i u01 = _mm512_or_si512(
			    _mm512_and_si512(ql, m15),
			    _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh01), m3),
					      4));
			__m512i u23 = _mm512_or_si512(
			    _mm512_and_si512(_mm512_srli_epi16(ql, 4), m15),
			    _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh23), m3),
					      4));
			__m512i x01 = _mm512_loadu_si512(xq + 128 * h);
			__m512i x23 = _mm512_loadu_si512(xq + 128 * h + 64);
			sum = _mm512_add_epi32(sum, kq_scaled512(u01, x01, spread(s16, 8 * h)));
			sum = _mm512_add_epi32(sum, kq_scaled512(u23, x23, spread(s16, 8 * h + 4)));
		}
		acc[b % QDOT_LANES] +=
		    kq_term_d(_mm512_reduce_add_epi32(sum) - 32 * off, _cvtsh_ss(w[b].d), x->d[b]);
	}
	return qdot_tree(acc);
}
