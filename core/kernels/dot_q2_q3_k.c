/* dot_q2_q3_k.c: Q2_K and Q3_K weight rows (2-bit codes, 3-bit with Q3_K's high-bit mask, in
 * 16 groups of 16) against Q8_K activations: the scalar references, which define the bits, and
 * the AVX2 and AVX-512 VNNI versions (integer sums of a super-block in vectors, eight
 * super-blocks gathered into one vector for their float terms, as the Q4_K and Q6_K dots do),
 * and the AVX-512 row pairs. */
#include <immintrin.h>
#include <stddef.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512

/* --- Scalar references --- */

/* Sum of the 16 activations of group g times the 2-bit codes (Q2_K and Q3_K layout). */
static int32_t q2_group(const uint8_t *qs, int g, const int8_t *x)
{
	int h = g / 8, s = (g % 8) / 2, l0 = (g % 2) * 16;
	int32_t sum = 0;
	for (int l = l0; l < l0 + 16; l++)
		sum += ((qs[32 * h + l] >> (2 * s)) & 3) * x[l - l0];
	return sum;
}

float kdot_q2_k_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ2_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		const int8_t *xq = x->q + b * QK_K;
		const int32_t *bs = x->bsum + b * (QK_K / 16);
		int32_t isum = 0, msum = 0;
		for (int g = 0; g < QK_K / 16; g++) {
			isum += (w[b].scales[g] & 15) * q2_group(w[b].qs, g, xq + 16 * g);
			msum += (w[b].scales[g] >> 4) * bs[g];
		}
		acc[b % QDOT_LANES] += kq_term_kmin(isum, msum, fp16_to_fp32(w[b].d),
						    fp16_to_fp32(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

float kdot_q3_k_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ3_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		const int8_t *xq = x->q + b * QK_K;
		int32_t isum = 0;
		for (int g = 0; g < QK_K / 16; g++) {
			int h = g / 8, s = (g % 8) / 2, l0 = (g % 2) * 16;
			/* codes are the 2 low bits minus 4 where the high bit is clear */
			int32_t sum = q2_group(w[b].qs, g, xq + 16 * g);
			for (int l = l0; l < l0 + 16; l++)
				if (!((w[b].hmask[l] >> (4 * h + s)) & 1))
					sum -= 4 * xq[16 * g + l - l0];
			isum += kq_scale_q3(w[b].scales, g) * sum;
		}
		acc[b % QDOT_LANES] += kq_term_d(isum, fp16_to_fp32(w[b].d), x->d[b]);
	}
	return qdot_tree(acc);
}

/* --- AVX2 --- */

/* One Q2_K super-block's integer sums as 8 int32 partials: *vi the codes' (scaled), *vm the
 * mins' (their totals are the reference's isum and msum). */
AVX2 static inline __attribute__((always_inline)) void
q2_k_block_avx2(const BlockQ2_K *w, const int8_t *xq, const int32_t *bs, __m256i *vi, __m256i *vm)
{
	__m256i m3 = _mm256_set1_epi8(3);
	/* the scales (low nibbles) as int16; the mins against the sums in one vpmaddwd */
	__m128i sc8 = _mm_loadu_si128((const __m128i *)(const void *)w->scales);
	__m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sc8, _mm_set1_epi8(15)));
	__m256i mins =
	    _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(15)));
	*vm = _mm256_madd_epi16(mins, kq_bsum16(bs));
	__m256i sum = _mm256_setzero_si256();
	for (int h = 0; h < 2; h++) {
		__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w->qs + 32 * h));
		__m256i sh = kq_scales_half(sc16, h);
		for (int s = 0; s < 4; s++) {
			__m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
			sum = _mm256_add_epi32(
			    sum, kq_chunk_scaled(u, xq + 32 * (4 * h + s), kq_scales2_of(sh, s)));
		}
	}
	*vi = sum;
}

/* The 16 bytes that end at the end of a Q3_K block's scales: the last 4 bytes of qs, then the
 * 12 scale bytes (a load that stays inside the block). */
AVX2 static inline __m128i q3_k_scales_load(const BlockQ3_K *w)
{
	return _mm_loadu_si128(
	    (const __m128i *)(const void *)((const uint8_t *)w + offsetof(BlockQ3_K, scales) - 4));
}

/* Q3_K, two super-blocks at once: the 16 bytes ending the scales of blocks j and j + 1 of a
 * step of n (an absent one 0: nothing is read past the row), a 128-bit lane each, decoded to
 * each block's 16 scales minus 32 (kq_scale_q3) as int8 in group order: low 4 bits from bytes
 * 0-7 (low nibbles, then high), high 2 bits from bytes 8-11 (shifted by 2 per 4 groups). */
AVX2 static inline __attribute__((always_inline)) __m256i q3_k_scales2(const BlockQ3_K *w, int j,
								       int n)
{
	__m256i r = _mm256_set_m128i(j + 1 < n ? q3_k_scales_load(&w[j + 1]) : _mm_setzero_si128(),
				     q3_k_scales_load(&w[j]));
	r = _mm256_bsrli_epi128(r, 4); /* the 4 bytes of qs out */
	__m256i m4 = _mm256_set1_epi8(15);
	__m256i lo = _mm256_unpacklo_epi64(_mm256_and_si256(r, m4),
					   _mm256_and_si256(_mm256_srli_epi16(r, 4), m4));
	__m256i hi = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi32(r, 0xaa),
							_mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)),
				      _mm256_set1_epi8(3));
	return _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)), _mm256_set1_epi8(32));
}

/* Block k (< 2) of a q3_k_scales2 pair: its 16 scales as int16 lanes. */
AVX2 static inline __m256i q3_k_sc16(__m256i s2, int k)
{
	return _mm256_cvtepi8_epi16(k ? _mm256_extracti128_si256(s2, 1)
				      : _mm256_castsi256_si128(s2));
}

/* One Q3_K super-block's integer sum as 8 int32 partials (total: the reference's isum); sc16
 * its 16 scales (q3_k_sc16). */
AVX2 static inline __attribute__((always_inline)) __m256i
q3_k_block_avx2(const BlockQ3_K *w, __m256i sc16, const int8_t *xq, const int32_t *bs)
{
	__m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
	/* the codes below come as code + 4: 4 x the scaled activation sums come back off */
	__m256i sum = _mm256_slli_epi32(
	    _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(sc16, kq_bsum16(bs))), 2);
	__m256i hm = _mm256_loadu_si256((const __m256i *)(const void *)w->hmask);
	for (int h = 0; h < 2; h++) {
		__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w->qs + 32 * h));
		__m256i sh = kq_scales_half(sc16, h);
		for (int s = 0; s < 4; s++) {
			/* code + 4 = 2 low bits | 4 when the high bit (4 h + s) is set (0..7): that
			 * bit moved to bit 2 of its byte (16-bit shifts: bits crossing into the
			 * next byte are masked off) */
			int bit = 4 * h + s;
			__m256i hb = _mm256_and_si256(bit >= 2 ? _mm256_srli_epi16(hm, bit - 2)
							       : _mm256_slli_epi16(hm, 2 - bit),
						      four);
			__m256i u =
			    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3), hb);
			sum = _mm256_add_epi32(
			    sum, kq_chunk_scaled(u, xq + 32 * (4 * h + s), kq_scales2_of(sh, s)));
		}
	}
	return sum;
}

/* One step of a Q2_K row kernel of either ISA, BLOCK the one-super-block sums (VI the type of
 * its scaled codes' partials, REDUCE their reduce8): super-blocks b..b + n - 1 (n <= 8) of the
 * row W into the partials ACC, their sums gathered into one vector each and their float terms 8
 * lanes at once, as the Q4_K and Q6_K dots do (kquant_blocks.h). */
#define Q2_K_STEP(BLOCK, VI, REDUCE, W, ACC)                                                       \
	{                                                                                          \
		const BlockQ2_K *w = (W);                                                          \
		kq_prefetch(&w[b], 8 * sizeof *w);                                                 \
		VI vi[8];                                                                          \
		__m256i vm[8];                                                                     \
		_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)                                \
		{                                                                                  \
			__builtin_memset(&vi[j], 0, sizeof vi[j]);                                 \
			vm[j] = _mm256_setzero_si256();                                            \
			if (j < n)                                                                 \
				BLOCK(&w[b + j], x->q + (b + j) * QK_K,                            \
				      x->bsum + (b + j) * (QK_K / 16), &vi[j], &vm[j]);            \
		}                                                                                  \
		/* d and dmin end the block, a pair as kq_acc8_kmin reads it */                    \
		(ACC) =                                                                            \
		    kq_acc8_kmin(ACC, REDUCE(vi), reduce8(vm), &w[b].d, sizeof *w, x->d + b, n);   \
	}

AVX2 float kdot_q2_k_avx2(const void *wv, const QAct *x, int nb)
    KQ_ROW(Q2_K_STEP, q2_k_block_avx2, __m256i, reduce8)

/* One step of a Q3_K row kernel of either ISA, as Q2_K_STEP; the scales of two super-blocks
 * decoded at once (q3_k_scales2). */
#define Q3_K_STEP(BLOCK, VI, REDUCE, W, ACC)                                                       \
	{                                                                                          \
		const BlockQ3_K *w = (W);                                                          \
		kq_prefetch(&w[b], 8 * sizeof *w);                                                 \
		__m256i sc[4];                                                                     \
		for (int k = 0; k < 4; k++)                                                        \
			sc[k] =                                                                    \
			    2 * k < n ? q3_k_scales2(&w[b], 2 * k, n) : _mm256_setzero_si256();    \
		VI vi[8];                                                                          \
		_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)                                \
		{                                                                                  \
			__builtin_memset(&vi[j], 0, sizeof vi[j]);                                 \
			if (j < n)                                                                 \
				vi[j] =                                                            \
				    BLOCK(&w[b + j], q3_k_sc16(sc[j / 2], j % 2),                  \
					  x->q + (b + j) * QK_K, x->bsum + (b + j) * (QK_K / 16)); \
		}                                                                                  \
		/* d ends the block: the second fp16 of the 4 bytes before its end */              \
		(ACC) = kq_acc8_d_hi(ACC, REDUCE(vi), &w[b].scales[10], sizeof *w, x->d + b, n);   \
	}

	AVX2 float kdot_q3_k_avx2(const void *wv, const QAct *x, int nb)
	    KQ_ROW(Q3_K_STEP, q3_k_block_avx2, __m256i, reduce8)

    /* --- AVX-512 (VNNI) --- */

    /* Step p (< 2) of half h of a Q2_K/Q3_K super-block: the 64 values 128 h + 64 p.. take the
     * 2-bit codes of qs[32 h + l] shifted by 4 p (low 256 bits) and 4 p + 2 (high), both halves
     * from one broadcast load; their four groups of 16 are the 128-bit lanes, scaled by
     * kq_spread16 in vpdpwssd. */
    AVX512 static inline __m512i q2_codes512(__m512i q, int p)
{
	__m512i shift = _mm512_inserti64x4(_mm512_set1_epi16((short)(4 * p)),
					   _mm256_set1_epi16((short)(4 * p + 2)), 1);
	return _mm512_and_si512(_mm512_srlv_epi16(q, shift), _mm512_set1_epi8(3));
}

/* One Q2_K super-block's integer sums as q2_k_block_avx2 gives them. */
AVX512 static inline __attribute__((always_inline)) void
q2_k_block_avx512(const BlockQ2_K *w, const int8_t *xq, const int32_t *bs, __m512i *vi, __m256i *vm)
{
	__m128i sc8 = _mm_loadu_si128((const __m128i *)(const void *)w->scales);
	__m512i sc16 =
	    _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(sc8, _mm_set1_epi8(15))));
	__m256i mins =
	    _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(15)));
	/* |activation sum of 16| <= 16 x 128: int16 holds it */
	*vm = _mm256_madd_epi16(mins, _mm512_cvtepi32_epi16(_mm512_loadu_si512(bs)));
	__m512i sum = _mm512_setzero_si512();
	for (int h = 0; h < 2; h++) {
		__m512i q = _mm512_broadcast_i64x4(
		    _mm256_loadu_si256((const __m256i *)(const void *)(w->qs + 32 * h)));
		for (int p = 0; p < 2; p++)
			sum = _mm512_dpwssd_epi32(
			    sum,
			    _mm512_maddubs_epi16(q2_codes512(q, p),
						 _mm512_loadu_si512(xq + 128 * h + 64 * p)),
			    kq_spread16(sc16, 8 * h + 4 * p));
	}
	*vi = sum;
}

/* One Q3_K super-block's integer sum as q3_k_block_avx2 gives it, as 16 int32 partials: code + 4
 * (the high bit's 4 added under a byte mask of hmask's bits 4 h + 2 p and 4 h + 2 p + 1), 4 x
 * the scaled activation sums taken back off; sc16 the block's 16 scales (int16). */
AVX512 static inline __attribute__((always_inline)) __m512i
q3_k_block_avx512(const BlockQ3_K *w, __m256i sc16, const int8_t *xq, const int32_t *bs)
{
	__m512i s512 = _mm512_castsi256_si512(sc16);
	__m512i hm =
	    _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(const void *)w->hmask));
	__m512i four = _mm512_set1_epi8(4);
	__m512i sum = _mm512_setzero_si512();
	for (int h = 0; h < 2; h++) {
		__m512i q = _mm512_broadcast_i64x4(
		    _mm256_loadu_si256((const __m256i *)(const void *)(w->qs + 32 * h)));
		for (int p = 0; p < 2; p++) {
			int bit = 4 * h + 2 * p;
			__m512i sel =
			    _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << bit)),
					       _mm256_set1_epi8((char)(1 << (bit + 1))), 1);
			__m512i u = q2_codes512(q, p);
			u = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(hm, sel), u, four);
			sum = _mm512_dpwssd_epi32(
			    sum, _mm512_maddubs_epi16(u, _mm512_loadu_si512(xq + 128 * h + 64 * p)),
			    kq_spread16(s512, 8 * h + 4 * p));
		}
	}
	__m512i off = _mm512_mullo_epi32(_mm512_cvtepi16_epi32(sc16), _mm512_loadu_si512(bs));
	return _mm512_sub_epi32(sum, _mm512_slli_epi32(off, 2));
}

AVX512 float kdot_q2_k_avx512(const void *wv, const QAct *x, int nb)
    KQ_ROW(Q2_K_STEP, q2_k_block_avx512, __m512i, kq_reduce8_512)

	AVX512 float kdot_q3_k_avx512(const void *wv, const QAct *x, int nb)
	    KQ_ROW(Q3_K_STEP, q3_k_block_avx512, __m512i, kq_reduce8_512)

		AVX512
    void kdot2_q2_k_avx512(const void *wv, size_t row_bytes, const QAct *x, int nb, float y[2])
	KQ_ROW2(Q2_K_STEP, q2_k_block_avx512, __m512i, kq_reduce8_512)

	    AVX512
    void kdot2_q3_k_avx512(const void *wv, size_t row_bytes, const QAct *x, int nb, float y[2])
	KQ_ROW2(Q3_K_STEP, q3_k_block_avx512, __m512i, kq_reduce8_512)
