/* dot_q4_q5_k.c: Q4_K and Q5_K weight rows (4-bit codes, 5-bit with Q5_K's high bits, in 8 groups
 * of 32 with 6-bit scales and mins) against Q8_K activations: the scalar references, which
 * define the bits, the AVX2 versions (one 32-value chunk per step) and the AVX-512 ones (two
 * chunks per 512-bit step, their group scales spread over int16 lanes). Integer sums exact, the
 * float term of each super-block as the reference writes it. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512

/* --- Scalar references --- */

/* Q4_K (qh NULL) and Q5_K: the integer sums of one super-block. */
static void q45_k_sums_ref(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs,
			   const int8_t *xq, const int32_t *bs, int32_t *isum, int32_t *msum)
{
	*isum = *msum = 0;
	for (int j = 0; j < 8; j++) {
		int32_t sc, m, sum = 0;
		kq_scale_min_k4(scales, j, &sc, &m);
		int c = j / 2, shift = 4 * (j % 2);
		for (int l = 0; l < 32; l++) {
			int32_t q = (qs[32 * c + l] >> shift) & 15;
			if (qh)
				q += ((qh[l] >> j) & 1) << 4;
			sum += q * xq[32 * j + l];
		}
		*isum += sc * sum;
		*msum += m * (bs[2 * j] + bs[2 * j + 1]);
	}
}

float kdot_q4_k_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums_ref(w[b].scales, NULL, w[b].qs, x->q + b * QK_K,
			       x->bsum + b * (QK_K / 16), &isum, &msum);
		acc[b % QDOT_LANES] += kq_term_kmin(isum, msum, fp16_to_fp32(w[b].d),
						    fp16_to_fp32(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

float kdot_q5_k_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums_ref(w[b].scales, w[b].qh, w[b].qs, x->q + b * QK_K,
			       x->bsum + b * (QK_K / 16), &isum, &msum);
		acc[b % QDOT_LANES] += kq_term_kmin(isum, msum, fp16_to_fp32(w[b].d),
						    fp16_to_fp32(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

/* --- AVX2 (mins_dot serves the AVX-512 versions too) --- */

/* sum over the 8 groups of min j times the activations' sum of group j (bsums 2j, 2j + 1): the
 * pair sums come out of hadd in the order 0 1 4 5 2 3 6 7, the mins are put in that order. */
AVX2 static inline int32_t mins_dot(uint64_t m, const int32_t *bs)
{
	__m256i pairs =
	    _mm256_hadd_epi32(_mm256_loadu_si256((const __m256i *)(const void *)bs),
			      _mm256_loadu_si256((const __m256i *)(const void *)(bs + 8)));
	__m256i mins =
	    _mm256_permutevar8x32_epi32(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)m)),
					_mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
	return kq_hsum_i32(_mm256_mullo_epi32(pairs, mins));
}

/* Q4_K (qh NULL) and Q5_K: the integer sums of one super-block. */
AVX2 static inline __attribute__((always_inline)) void
q45_k_sums_avx2(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs, const int8_t *xq,
		const int32_t *bs, int32_t *isum, int32_t *msum)
{
	uint64_t sc, m;
	kq_scales_mins_k4(scales, &sc, &m);
	__m256i m15 = _mm256_set1_epi8(15);
	__m256i hv =
	    qh ? _mm256_loadu_si256((const __m256i *)(const void *)qh) : _mm256_setzero_si256();
	__m256i sum = _mm256_setzero_si256();
	for (int c = 0; c < 4; c++) {
		__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(qs + 32 * c));
		__m256i lo = _mm256_and_si256(q, m15);
		__m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m15);
		if (qh) {
			__m256i b0 = _mm256_set1_epi8((char)(1 << (2 * c)));
			__m256i b1 = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
			__m256i s16 = _mm256_set1_epi8(16);
			lo = _mm256_or_si256(
			    lo,
			    _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hv, b0), b0), s16));
			hi = _mm256_or_si256(
			    hi,
			    _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hv, b1), b1), s16));
		}
		sum = _mm256_add_epi32(
		    sum, kq_chunk_scaled(lo, xq + 64 * c,
					 _mm256_set1_epi16((int16_t)((sc >> (16 * c)) & 0xff))));
		sum = _mm256_add_epi32(
		    sum,
		    kq_chunk_scaled(hi, xq + 64 * c + 32,
				    _mm256_set1_epi16((int16_t)((sc >> (16 * c + 8)) & 0xff))));
	}
	*isum = kq_hsum_i32(sum);
	*msum = mins_dot(m, bs);
}

AVX2 float kdot_q4_k_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums_avx2(w[b].scales, NULL, w[b].qs, x->q + b * QK_K,
				x->bsum + b * (QK_K / 16), &isum, &msum);
		acc[b % QDOT_LANES] +=
		    kq_term_kmin(isum, msum, _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

AVX2 float kdot_q5_k_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums_avx2(w[b].scales, w[b].qh, w[b].qs, x->q + b * QK_K,
				x->bsum + b * (QK_K / 16), &isum, &msum);
		acc[b % QDOT_LANES] +=
		    kq_term_kmin(isum, msum, _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

/* --- AVX-512 --- */

/* Two 32-byte pieces as one vector. */
AVX512 static inline __m512i pair256(const int8_t *lo, const int8_t *hi)
{
	return _mm512_inserti64x4(
	    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)lo)),
	    _mm256_loadu_si256((const __m256i *)(const void *)hi), 1);
}

/* Two groups' scales over the int16 lanes of a 512-bit step: lanes 0-15 get byte j0 of sc,
 * lanes 16-31 byte j0 + 2. */
AVX512 static inline __m512i scales_pair(uint64_t sc, int j0)
{
	return _mm512_inserti64x4(_mm512_set1_epi16((short)((sc >> (8 * j0)) & 0xff)),
				  _mm256_set1_epi16((short)((sc >> (8 * j0 + 16)) & 0xff)), 1);
}

/* Q4_K (qh NULL) and Q5_K: the integer sums of one super-block. */
AVX512 static inline __attribute__((always_inline)) void
q45_k_sums_avx512(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs, const int8_t *xq,
		  const int32_t *bs, int32_t *isum, int32_t *msum)
{
	uint64_t sc, m;
	kq_scales_mins_k4(scales, &sc, &m);
	__m512i m15 = _mm512_set1_epi8(15);
	__m512i hv =
	    qh ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(const void *)qh))
	       : _mm512_setzero_si512();
	__m512i sum = _mm512_setzero_si512();
	for (int c = 0; c < 4; c += 2) { /* chunks c and c + 1: groups 2c..2c + 3 */
		__m512i q = _mm512_loadu_si512(qs + 32 * c);
		__m512i lo = _mm512_and_si512(q, m15);
		__m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m15);
		if (qh) {
			/* half h of lo is chunk c + h: bit 2 (c + h) of qh; hi: the next bit */
			__m512i blo = _mm512_inserti64x4(
			    _mm512_castsi256_si512(_mm256_set1_epi8((char)(1 << (2 * c)))),
			    _mm256_set1_epi8((char)(1 << (2 * c + 2))), 1);
			__m512i bhi = _mm512_slli_epi16(blo, 1);
			__m512i s16b = _mm512_set1_epi8(16);
			lo = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(hv, blo), lo, s16b);
			hi = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(hv, bhi), hi, s16b);
		}
		/* low nibbles: groups 2c (values 64c..) and 2c + 2; high: 2c + 1 and 2c + 3 */
		__m512i xlo = pair256(xq + 64 * c, xq + 64 * c + 64);
		__m512i xhi = pair256(xq + 64 * c + 32, xq + 64 * c + 96);
		sum = _mm512_add_epi32(sum, kq_scaled512(lo, xlo, scales_pair(sc, 2 * c)));
		sum = _mm512_add_epi32(sum, kq_scaled512(hi, xhi, scales_pair(sc, 2 * c + 1)));
	}
	*isum = _mm512_reduce_add_epi32(sum);
	*msum = mins_dot(m, bs);
}

AVX512 float kdot_q4_k_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums_avx512(w[b].scales, NULL, w[b].qs, x->q + b * QK_K,
				  x->bsum + b * (QK_K / 16), &isum, &msum);
		acc[b % QDOT_LANES] +=
		    kq_term_kmin(isum, msum, _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

AVX512 float kdot_q5_k_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums_avx512(w[b].scales, w[b].qh, w[b].qs, x->q + b * QK_K,
				  x->bsum + b * (QK_K / 16), &isum, &msum);
		acc[b % QDOT_LANES] +=
		    kq_term_kmin(isum, msum, _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}
