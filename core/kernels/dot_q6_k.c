/* dot_q6_k.c: Q6_K weight rows (6-bit codes in 16 groups of 16 with int8 scales) against Q8_K
 * activations: the scalar reference, which defines the bits, and the AVX2 (one 32-value chunk
 * per step) and AVX-512 VNNI (64 values per step) versions: codes as unsigned bytes, their
 * offset of 32 taken out through the activations' group sums, eight super-blocks' integer sums
 * gathered into one vector, then their float terms 8 lanes at once, as the reference's; and the
 * AVX-512 row pair. */
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

/* One step of a Q6_K row kernel of either ISA, BLOCK its one-super-block integer sum (as 8
 * int32 partials): super-blocks b..b + n - 1 (n <= 8) of the row W into the partials ACC. */
#define Q6_K_STEP(BLOCK, W, ACC)                                                                   \
	{                                                                                          \
		const BlockQ6_K *w = (W);                                                          \
		kq_prefetch(&w[b], 8 * sizeof *w);                                                 \
		__m256i vi[8];                                                                     \
		_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) vi[j] =                        \
		    j < n                                                                          \
			? BLOCK(&w[b + j], x->q + (b + j) * QK_K, x->bsum + (b + j) * (QK_K / 16)) \
			: _mm256_setzero_si256();                                                  \
		(ACC) = kq_acc8_d_hi(ACC, reduce8(vi), &w[b].scales[QK_K / 16 - 2], sizeof *w,     \
				     x->d + b, n);                                                 \
	}

/* --- AVX2 --- */

/* The codes' offset in a super-block's sum: 32 times the sum over groups of scale g (s16: the 16
 * scales as int16) times the group's activation sum (|sum| <= 16 x 128: int16 holds it), by one
 * vpmaddwd, as 8 int32 partials. */
AVX2 static inline __m256i q6_k_offset(__m256i s16, const int32_t *bs)
{
	return _mm256_slli_epi32(_mm256_madd_epi16(s16, kq_bsum16(bs)), 5);
}

/* One super-block: sum over the groups of scale times (codes as unsigned 0..63) times x, less 32
 * times the scales times the activations' group sums, as 8 int32 partials. */
AVX2 static inline __attribute__((always_inline)) __m256i
q6_k_block_avx2(const BlockQ6_K *w, const int8_t *xq, const int32_t *bs)
{
	__m256i m15 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
	__m256i s16 =
	    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)w->scales));
	__m256i sum = _mm256_setzero_si256();
	for (int h = 0; h < 2; h++) {
		__m256i sh = kq_scales_half(s16, h);
		const uint8_t *ql = w->ql + 64 * h;
		__m256i l0 = _mm256_loadu_si256((const __m256i *)(const void *)ql);
		__m256i l1 = _mm256_loadu_si256((const __m256i *)(const void *)(ql + 32));
		__m256i qh = _mm256_loadu_si256((const __m256i *)(const void *)(w->qh + 32 * h));
		/* code k's high 2 bits (bits 2k of qh) moved to bits 4-5 */
		__m256i hi[4] = {_mm256_and_si256(_mm256_slli_epi16(qh, 4), m30),
				 _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30),
				 _mm256_and_si256(qh, m30),
				 _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)};
		__m256i lo[4] = {_mm256_and_si256(l0, m15), _mm256_and_si256(l1, m15),
				 _mm256_and_si256(_mm256_srli_epi16(l0, 4), m15),
				 _mm256_and_si256(_mm256_srli_epi16(l1, 4), m15)};
		for (int k = 0; k < 4; k++)
			sum = _mm256_add_epi32(sum, kq_chunk_scaled(_mm256_or_si256(lo[k], hi[k]),
								    xq + 128 * h + 32 * k,
								    kq_scales2_of(sh, k)));
	}
	return _mm256_sub_epi32(sum, q6_k_offset(s16, bs));
}

AVX2 float kdot_q6_k_avx2(const void *wv, const QAct *x, int nb) KQ_ROW(Q6_K_STEP, q6_k_block_avx2)

    /* --- AVX-512 (VNNI) --- */

    /* One super-block as q6_k_block_avx2, 64 codes per step: in half h, the low nibbles of ql
     * are codes k = 0, 1 (values 0-63 of the half), the high ones k = 2, 3; each code's high bits
     * (bits 2k of qh) are shifted to bits 4-5 by a per-256-bit-half shift count. */
    AVX512 static inline __attribute__((always_inline)) __m256i
    q6_k_block_avx512(const BlockQ6_K *w, const int8_t *xq, const int32_t *bs)
{
	__m512i m0f = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
	__m512i sh01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
	__m512i sh23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
	__m256i s16 =
	    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)w->scales));
	__m512i s512 = _mm512_castsi256_si512(s16);
	__m512i sum = _mm512_setzero_si512();
	for (int h = 0; h < 2; h++) {
		__m512i ql = _mm512_loadu_si512(w->ql + 64 * h);
		__m512i qh = _mm512_broadcast_i64x4(
		    _mm256_loadu_si256((const __m256i *)(const void *)(w->qh + 32 * h)));
		/* (nibble & 15) | high bits, the high bits already masked: ternary logic 0xec is
		 * (A & C) | B */
		__m512i u01 = _mm512_ternarylogic_epi32(
		    ql, _mm512_and_si512(_mm512_sllv_epi16(qh, sh01), m30), m0f, 0xec);
		__m512i u23 = _mm512_ternarylogic_epi32(
		    _mm512_srli_epi16(ql, 4), _mm512_and_si512(_mm512_srlv_epi16(qh, sh23), m30),
		    m0f, 0xec);
		sum = _mm512_dpwssd_epi32(
		    sum, _mm512_maddubs_epi16(u01, _mm512_loadu_si512(xq + 128 * h)),
		    kq_spread16(s512, 8 * h));
		sum = _mm512_dpwssd_epi32(
		    sum, _mm512_maddubs_epi16(u23, _mm512_loadu_si512(xq + 128 * h + 64)),
		    kq_spread16(s512, 8 * h + 4));
	}
	__m512i off = _mm512_mullo_epi32(_mm512_cvtepi16_epi32(s16), _mm512_loadu_si512(bs));
	return kq_fold512(_mm512_sub_epi32(sum, _mm512_slli_epi32(off, 5)));
}

AVX512 float kdot_q6_k_avx512(const void *wv, const QAct *x, int nb)
    KQ_ROW(Q6_K_STEP, q6_k_block_avx512)

	AVX512
    void kdot2_q6_k_avx512(const void *wv, size_t row_bytes, const QAct *x, int nb, float y[2])
	KQ_ROW2(Q6_K_STEP, q6_k_block_avx512)
