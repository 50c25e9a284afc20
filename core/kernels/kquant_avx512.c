/* kquant_avx512.c: AVX-512 dot kernels of the 4/5-bit and K-quant types, bit-identical to
 * kquant_ref.c. Q4_K, Q5_K and Q6_K take two 32-value chunks per 512-bit step (their group
 * scales spread over int16 lanes by a permute); blocks of 32 use VNNI's vpdpbusd for the byte
 * dot products. Q2_K and Q3_K have none here: the avx512 ISA runs their AVX2 kernels. Integer sums
 * exact, float terms as the reference writes them. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX512 ISA_TARGET_AVX512

/* 8 int32 partial sums of 32 unsigned codes (< 128) times 32 int8 activations. */
AVX512 static inline __m256i dot_u8_i8(__m256i u, const int8_t *x)
{
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, vx);
}

AVX512 static inline __m256i nibbles(const uint8_t *qs)
{
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)qs);
	__m128i m = _mm_set1_epi8(15);
	return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

/* Q5 high bits: byte j gets 16 where bit j of the 32-bit qh is set. */
AVX512 static inline __m256i q5_high(const uint8_t qh[4])
{
	__mmask32 k = (__mmask32)kq_qh(qh);
	return _mm256_maskz_mov_epi8(k, _mm256_set1_epi8(16));
}

AVX512 static inline __m256 fp16x8(const uint16_t *p, int stride)
{
	const uint8_t *b = (const uint8_t *)p;
	__m128i h = _mm_setzero_si128();
	h = _mm_insert_epi16(h, *(const uint16_t *)(const void *)(b + 0 * stride), 0);
	h = _mm_insert_epi16(h, *(const uint16_t *)(const void *)(b + 1 * stride), 1);
	h = _mm_insert_epi16(h, *(const uint16_t *)(const void *)(b + 2 * stride), 2);
	h = _mm_insert_epi16(h, *(const uint16_t *)(const void *)(b + 3 * stride), 3);
	h = _mm_insert_epi16(h, *(const uint16_t *)(const void *)(b + 4 * stride), 4);
	h = _mm_insert_epi16(h, *(const uint16_t *)(const void *)(b + 5 * stride), 5);
	h = _mm_insert_epi16(h, *(const uint16_t *)(const void *)(b + 6 * stride), 6);
	h = _mm_insert_epi16(h, *(const uint16_t *)(const void *)(b + 7 * stride), 7);
	return _mm256_cvtph_ps(h);
}

/* The 8 blocks' integer sums (lane j: block b + j), code offset removed through the
 * activations' block sums. */
#define BLOCKS8(TYPE, CODES, OFFSET)                                                               \
	__m256i v[8];                                                                              \
	_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)                                        \
	{                                                                                          \
		const TYPE *blk = &w[b + j];                                                       \
		v[j] = dot_u8_i8(CODES, x->q + (b + j) * QK4);                                     \
	}                                                                                          \
	__m256i isum = reduce8(v);                                                                 \
	if (OFFSET)                                                                                \
		isum = _mm256_sub_epi32(                                                           \
		    isum, _mm256_mullo_epi32(                                                      \
			      _mm256_set1_epi32(OFFSET),                                           \
			      _mm256_loadu_si256((const __m256i *)(const void *)(x->bsum + b))));

AVX512 static float kdot_q4_0_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_0 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8(BlockQ4_0, nibbles(blk->qs), 8)
		__m256 scale = _mm256_mul_ps(fp16x8(&w[b].d, sizeof *w), _mm256_loadu_ps(x->d + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++)
		a[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q4_0(&w[b], x->q + b * QK4), _cvtsh_ss(w[b].d), x->d[b]);
	return qdot_tree(a);
}

AVX512 static float kdot_q5_0_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_0 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8(BlockQ5_0, _mm256_or_si256(nibbles(blk->qs), q5_high(blk->qh)), 16)
		__m256 scale = _mm256_mul_ps(fp16x8(&w[b].d, sizeof *w), _mm256_loadu_ps(x->d + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++)
		a[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q5_0(&w[b], x->q + b * QK4), _cvtsh_ss(w[b].d), x->d[b]);
	return qdot_tree(a);
}

/* kq_term_dm on 8 lanes: isum * (d_w * d_x) + m_w * s_x. */
AVX512 static inline __m256 term_dm8(__m256i isum, const uint16_t *d, const uint16_t *m, int stride,
				     const QAct *x, int b)
{
	__m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(isum),
				 _mm256_mul_ps(fp16x8(d, stride), _mm256_loadu_ps(x->d + b)));
	return _mm256_add_ps(t, _mm256_mul_ps(fp16x8(m, stride), _mm256_loadu_ps(x->s + b)));
}

AVX512 static float kdot_q4_1_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_1 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8(BlockQ4_1, nibbles(blk->qs), 0)
		acc = _mm256_add_ps(acc, term_dm8(isum, &w[b].d, &w[b].m, sizeof *w, x, b));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++)
		a[b % QDOT_LANES] +=
		    kq_term_dm(kq_isum_q4_1(&w[b], x->q + b * QK4), _cvtsh_ss(w[b].d),
			       _cvtsh_ss(w[b].m), x->d[b], x->s[b]);
	return qdot_tree(a);
}

AVX512 static float kdot_q5_1_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_1 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8(BlockQ5_1, _mm256_or_si256(nibbles(blk->qs), q5_high(blk->qh)), 0)
		acc = _mm256_add_ps(acc, term_dm8(isum, &w[b].d, &w[b].m, sizeof *w, x, b));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++)
		a[b % QDOT_LANES] +=
		    kq_term_dm(kq_isum_q5_1(&w[b], x->q + b * QK4), _cvtsh_ss(w[b].d),
			       _cvtsh_ss(w[b].m), x->d[b], x->s[b]);
	return qdot_tree(a);
}

/* --- K-quants: two 32-value chunks per step --- */

/* Two 32-byte pieces as one vector. */
AVX512 static inline __m512i pair256(const int8_t *lo, const int8_t *hi)
{
	return _mm512_inserti64x4(
	    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)lo)),
	    _mm256_loadu_si256((const __m256i *)(const void *)hi), 1);
}

/* int16 lane i of the result: s[base + i / 8] (s holds 16 int16 scales): the scales of the
 * four groups of 16 that one 64-byte step covers. */
AVX512 static inline __m512i spread(__m512i s16, int base)
{
	__m512i i = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
				     15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
	__m512i idx = _mm512_add_epi16(_mm512_set1_epi16((short)base), _mm512_srli_epi16(i, 3));
	return _mm512_permutexvar_epi16(idx, s16);
}

/* sum of codes u (unsigned, < 64) times x, each int16 pair of products times its scale. */
AVX512 static inline __m512i scaled(__m512i u, __m512i x, __m512i sc)
{
	return _mm512_madd_epi16(_mm512_maddubs_epi16(u, x), sc);
}

/* sum over the 8 groups of min j times the activations' sum of group j (bsums 2j, 2j + 1): the
 * pair sums come out of hadd in the order 0 1 4 5 2 3 6 7, the mins are put in that order. */
AVX512 static inline int32_t mins_dot(uint64_t m, const int32_t *bs)
{
	__m256i pairs =
	    _mm256_hadd_epi32(_mm256_loadu_si256((const __m256i *)(const void *)bs),
			      _mm256_loadu_si256((const __m256i *)(const void *)(bs + 8)));
	__m256i mins =
	    _mm256_permutevar8x32_epi32(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)m)),
					_mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
	__m256i p = _mm256_mullo_epi32(pairs, mins);
	__m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
	s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
	s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
	return _mm_cvtsi128_si32(s4);
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
q45_k_sums(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs, const int8_t *xq,
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
		sum = _mm512_add_epi32(sum, scaled(lo, xlo, scales_pair(sc, 2 * c)));
		sum = _mm512_add_epi32(sum, scaled(hi, xhi, scales_pair(sc, 2 * c + 1)));
	}
	*isum = _mm512_reduce_add_epi32(sum);
	*msum = mins_dot(m, bs);
}

AVX512 static float kdot_q4_k_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums(w[b].scales, NULL, w[b].qs, x->q + b * QK_K, x->bsum + b * (QK_K / 16),
			   &isum, &msum);
		acc[b % QDOT_LANES] +=
		    kq_term_kmin(isum, msum, _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

AVX512 static float kdot_q5_k_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums(w[b].scales, w[b].qh, w[b].qs, x->q + b * QK_K,
			   x->bsum + b * (QK_K / 16), &isum, &msum);
		acc[b % QDOT_LANES] +=
		    kq_term_kmin(isum, msum, _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

AVX512 static float kdot_q6_k_avx512(const void *wv, const QAct *x, int nb)
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
			sum = _mm512_add_epi32(sum, scaled(u01, x01, spread(s16, 8 * h)));
			sum = _mm512_add_epi32(sum, scaled(u23, x23, spread(s16, 8 * h + 4)));
		}
		acc[b % QDOT_LANES] +=
		    kq_term_d(_mm512_reduce_add_epi32(sum) - 32 * off, _cvtsh_ss(w[b].d), x->d[b]);
	}
	return qdot_tree(acc);
}

const KDotFn kdot_avx512[KQ_COUNT] = {
    [KQ_Q4_0] = kdot_q4_0_avx512, [KQ_Q4_1] = kdot_q4_1_avx512, [KQ_Q5_0] = kdot_q5_0_avx512,
    [KQ_Q5_1] = kdot_q5_1_avx512, [KQ_Q4_K] = kdot_q4_k_avx512, [KQ_Q5_K] = kdot_q5_k_avx512,
    [KQ_Q6_K] = kdot_q6_k_avx512,
};
