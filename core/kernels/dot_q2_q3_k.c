/* dot_q2_q3_k.c: Q2_K and Q3_K weight rows (2-bit codes, 3-bit with Q3_K's high-bit mask, in
 * 16 groups of 16) against Q8_K activations: the scalar references, which define the bits, and
 * the AVX2 versions (integer sums of a super-block in vectors, eight super-blocks gathered
 * into one vector for their float terms, as the Q4_K and Q6_K dots do). The
 * avx512 ISA runs these AVX2 versions: 16-value groups leave AVX-512 nothing to gain here. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2

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
	int16_t sc[QK_K / 16];
	_mm256_storeu_si256((__m256i *)(void *)sc,
			    _mm256_cvtepu8_epi16(_mm_and_si128(sc8, _mm_set1_epi8(15))));
	__m256i mins =
	    _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(15)));
	*vm = _mm256_madd_epi16(mins, kq_bsum16(bs));
	__m256i sum = _mm256_setzero_si256();
	for (int h = 0; h < 2; h++) {
		__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w->qs + 32 * h));
		for (int s = 0; s < 4; s++) {
			int g = 8 * h + 2 * s;
			__m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
			sum = _mm256_add_epi32(sum, kq_chunk_scaled(u, xq + 32 * (4 * h + s),
								    kq_scales2(sc[g], sc[g + 1])));
		}
	}
	*vi = sum;
}

/* One Q3_K super-block's integer sum as 8 int32 partials (total: the reference's isum). */
AVX2 static inline __attribute__((always_inline)) __m256i
q3_k_block_avx2(const BlockQ3_K *w, const int8_t *xq, const int32_t *bs)
{
	__m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
	/* the 16 6-bit scales (kq_scale_q3) at once: low 4 bits from bytes 0-7 (low nibbles,
	 * then high), high 2 bits from bytes 8-11 (shifted by 2 per 4 groups); 12 bytes copied,
	 * not loaded past the block */
	uint8_t raw[16] = {0};
	__builtin_memcpy(raw, w->scales, 12);
	__m128i r = _mm_loadu_si128((const __m128i *)(const void *)raw);
	__m128i m4 = _mm_set1_epi8(15);
	__m128i lo =
	    _mm_unpacklo_epi64(_mm_and_si128(r, m4), _mm_and_si128(_mm_srli_epi16(r, 4), m4));
	__m128i hi =
	    _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(r, 0xaa), _mm_setr_epi32(0, 2, 4, 6)),
			  _mm_set1_epi8(3));
	__m256i sc16 = _mm256_cvtepi8_epi16(
	    _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32)));
	int16_t sc[QK_K / 16];
	_mm256_storeu_si256((__m256i *)(void *)sc, sc16);
	/* the codes below come as code + 4: 4 x the scaled activation sums come back off */
	__m256i sum = _mm256_slli_epi32(
	    _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(sc16, kq_bsum16(bs))), 2);
	__m256i hm = _mm256_loadu_si256((const __m256i *)(const void *)w->hmask);
	for (int h = 0; h < 2; h++) {
		__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w->qs + 32 * h));
		for (int s = 0; s < 4; s++) {
			int g = 8 * h + 2 * s;
			/* code + 4 = 2 low bits | 4 when the high bit is set (0..7) */
			__m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + s)));
			__m256i hb = _mm256_and_si256(
			    _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), four);
			__m256i u =
			    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3), hb);
			sum = _mm256_add_epi32(sum, kq_chunk_scaled(u, xq + 32 * (4 * h + s),
								    kq_scales2(sc[g], sc[g + 1])));
		}
	}
	return sum;
}

/* Eight super-blocks per step, their sums gathered into one vector each (reduce8) and their
 * float terms 8 lanes at once, as the Q4_K and Q6_K dots do (kquant_blocks.h). */
AVX2 float kdot_q2_k_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ2_K *w = wv;
	__m256 acc = _mm256_setzero_ps();
	for (int b = 0; b < nb; b += 8) {
		int n = nb - b < 8 ? nb - b : 8;
		kq_prefetch(&w[b], 8 * sizeof *w);
		__m256i vi[8], vm[8];
		_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)
		{
			vi[j] = vm[j] = _mm256_setzero_si256();
			if (j < n)
				q2_k_block_avx2(&w[b + j], x->q + (b + j) * QK_K,
						x->bsum + (b + j) * (QK_K / 16), &vi[j], &vm[j]);
		}
		/* d and dmin end the block, a pair as kq_acc8_kmin reads it */
		acc = kq_acc8_kmin(acc, reduce8(vi), reduce8(vm), &w[b].d, sizeof *w, x->d + b, n);
	}
	return kq_tree8(acc);
}

AVX2 float kdot_q3_k_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ3_K *w = wv;
	__m256 acc = _mm256_setzero_ps();
	for (int b = 0; b < nb; b += 8) {
		int n = nb - b < 8 ? nb - b : 8;
		kq_prefetch(&w[b], 8 * sizeof *w);
		__m256i vi[8];
		_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) vi[j] =
		    j < n ? q3_k_block_avx2(&w[b + j], x->q + (b + j) * QK_K,
					    x->bsum + (b + j) * (QK_K / 16))
			  : _mm256_setzero_si256();
		/* d ends the block: the second fp16 of the 4 bytes before the block's end */
		acc = kq_acc8_d_hi(acc, reduce8(vi), &w[b].scales[10], sizeof *w, x->d + b, n);
	}
	return kq_tree8(acc);
}
