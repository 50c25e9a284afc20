/* dot_q4_q5_k.c: Q4_K and Q5_K weight rows (4-bit codes, 5-bit with Q5_K's high bits, in 8 groups
 * of 32 with 6-bit scales and mins) against Q8_K activations: the scalar references, which
 * define the bits, and the AVX2 and AVX-512 VNNI versions: each super-block's integer sums in
 * lanes (group scales spread over int16 lanes by byte shuffles), eight super-blocks' sums
 * gathered into one vector each, then their float terms 8 lanes at once, as the reference
 * writes them; and the AVX-512 row pairs. The mins meet the activations' sums of 32 (bs32), two
 * super-blocks per vpmaddwd; AVX-512 reads the activations in nibble order (kquant.h), so that
 * one 64-byte load of codes serves 128 values. */
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

void quant_act_k4_order(const int8_t *q, const int32_t *bsum, int nsb, int8_t *qn, int16_t *bs32)
{
	for (int h = 0; h < 2 * nsb; h++, q += 128, qn += 128) {
		__builtin_memcpy(qn, q, 32);
		__builtin_memcpy(qn + 32, q + 64, 32);
		__builtin_memcpy(qn + 64, q + 32, 32);
		__builtin_memcpy(qn + 96, q + 96, 32);
	}
	for (int i = 0; i < nsb * (QK_K / 32); i++)
		bs32[i] = (int16_t)(bsum[2 * i] + bsum[2 * i + 1]);
}

/* --- SIMD: the scales and mins of two super-blocks decoded at once, a 128-bit lane each --- */

/* The first 16 bytes (d, dmin, the 12 scale bytes) of super-blocks j and j + 1 of a step of n,
 * a 128-bit lane each (an absent one 0: nothing is read past the row). */
AVX2 static inline __attribute__((always_inline)) __m256i k4_heads2(const void *w, size_t size,
								    int j, int n)
{
	const char *p = (const char *)w + (size_t)j * size;
	__m128i h0 = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i h1 = j + 1 < n ? _mm_loadu_si128((const __m128i *)(const void *)(p + size))
			       : _mm_setzero_si128();
	return _mm256_set_m128i(h1, h0);
}

/* Heads decoded in place to each block's 8 scales (bytes 0-7) and 8 mins (bytes 8-15) as
 * kq_scales_mins_k4 gives them; of the head's 32-bit words d|dmin u0 u1 u2 the lanes become
 * u0 & 0x3f.., (u2 & 0x0f..) | (u0 >> 6 & 3) << 4, u1 & 0x3f.., (u2 >> 4 & 0x0f..) | (u1 >> 6 &
 * 3) << 4. */
AVX2 static inline __m256i k4_decode2(__m256i h)
{
	__m256i a = _mm256_shuffle_epi32(h, _MM_SHUFFLE(3, 2, 3, 1)); /* u0 u2 u1 u2 */
	__m256i b = _mm256_shuffle_epi32(h, _MM_SHUFFLE(2, 2, 1, 1)); /* u0 u0 u1 u1 */
	__m256i lo =
	    _mm256_and_si256(_mm256_srlv_epi32(a, _mm256_setr_epi32(0, 0, 0, 4, 0, 0, 0, 4)),
			     _mm256_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f,
					       0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
	__m256i hi = _mm256_and_si256(
	    _mm256_srli_epi32(b, 2),
	    _mm256_setr_epi32(0, 0x30303030, 0, 0x30303030, 0, 0x30303030, 0, 0x30303030));
	return _mm256_or_si256(lo, hi);
}

/* d|dmin (each head's first 32 bits) of the 8 blocks of a step, in block order. */
AVX2 static inline __m256i k4_dmin8(const __m256i h[4])
{
	/* blocks 0 2 4 6 in the low 128 bits, 1 3 5 7 in the high */
	__m256i v = _mm256_unpacklo_epi64(_mm256_unpacklo_epi32(h[0], h[1]),
					  _mm256_unpacklo_epi32(h[2], h[3]));
	return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Dwords 4 k..4 k + 3 (k < 2) of v in every 128-bit lane of a 256-bit vector (a block's
 * decoded scales and mins for the byte shuffles). */
AVX2 static inline __m256i k4_lane(__m256i v, int k)
{
	return _mm256_permutevar8x32_epi32(
	    v,
	    _mm256_add_epi32(_mm256_set1_epi32(4 * k), _mm256_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3)));
}

/* The mins' sums of super-blocks j and j + 1 of a step of n (a decoded pair sm): int32 lanes
 * 0-3 block j's partials, 4-7 block j + 1's (0 where absent), each min (bytes 8-15 of its
 * 128-bit lane, zero-extended) against its group's sum of 32 in bs32. */
AVX2 static inline __m256i k4_mins2(__m256i sm, const int16_t *bs32, int j, int n)
{
	if (j >= n)
		return _mm256_setzero_si256();
	const int16_t *bs = bs32 + j * (QK_K / 32);
	__m256i s =
	    j + 1 < n ? _mm256_loadu_si256((const __m256i *)(const void *)bs)
		      : _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)bs));
	return _mm256_madd_epi16(_mm256_unpackhi_epi8(sm, _mm256_setzero_si256()), s);
}

/* One step of a Q4_K (QH NULL) or Q5_K row kernel of either ISA, BLOCK its one-super-block sum
 * of scaled codes (VI its partials' type, REDUCE their reduce8) against the activations XQ (q,
 * or qn in nibble order): super-blocks b..b + n - 1 (n <= 8) of the row W into the partials ACC,
 * their heads decoded two at a time and d, dmin taken from them. QH may name the row as w. */
#define Q45_K_STEP(BLOCK, XQ, VI, REDUCE, T, QH, W, ACC)                                           \
	{                                                                                          \
		const T *w = (W);                                                                  \
		kq_prefetch(&w[b], 8 * sizeof *w);                                                 \
		__m256i h[4], sm[4], vm[4];                                                        \
		for (int k = 0; k < 4; k++) {                                                      \
			h[k] = 2 * k < n ? k4_heads2(&w[b], sizeof *w, 2 * k, n)                   \
					 : _mm256_setzero_si256();                                 \
			sm[k] = k4_decode2(h[k]);                                                  \
			vm[k] = k4_mins2(sm[k], x->bs32 + b * (QK_K / 32), 2 * k, n);              \
		}                                                                                  \
		/* the heads and mins reduced before the blocks: fewer vectors live across them */ \
		__m256 d, dmin;                                                                    \
		kq_fp16_split(k4_dmin8(h), &d, &dmin);                                             \
		__m256i msum = kq_reduce_pairs4(vm);                                               \
		VI vi[8];                                                                          \
		_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)                                \
		{                                                                                  \
			__builtin_memset(&vi[j], 0, sizeof vi[j]);                                 \
			if (j < n)                                                                 \
				vi[j] = BLOCK(k4_lane(sm[j / 2], j % 2), QH, w[b + j].qs,          \
					      (XQ) + (b + j) * QK_K);                              \
		}                                                                                  \
		(ACC) = kq_acc8_kmin_dm(ACC, REDUCE(vi), msum, d, dmin, x->d + b, kq_lanes(n));    \
	}

/* --- AVX2 --- */

/* Q4_K (qh NULL) and Q5_K: one super-block's scaled codes times the activations as 8 int32
 * partials; sm its decoded scales and mins in both 128-bit lanes. */
AVX2 static inline __attribute__((always_inline)) __m256i
q45_k_block_avx2(__m256i sm, const uint8_t *qh, const uint8_t *qs, const int8_t *xq)
{
	__m256i hv =
	    qh ? _mm256_loadu_si256((const __m256i *)(const void *)qh) : _mm256_setzero_si256();
	__m256i sum = _mm256_setzero_si256();
	for (int c = 0; c < 4; c++) {
		__m256i lo, hi;
		kq_k45_chunk(qs, hv, qh != NULL, c, &lo, &hi);
		sum =
		    _mm256_add_epi32(sum, kq_chunk_scaled(lo, xq + 64 * c, kq_scale16(sm, 2 * c)));
		sum = _mm256_add_epi32(
		    sum, kq_chunk_scaled(hi, xq + 64 * c + 32, kq_scale16(sm, 2 * c + 1)));
	}
	return sum;
}

AVX2 float kdot_q4_k_avx2(const void *wv, const QAct *x, int nb)
    KQ_ROW(Q45_K_STEP, q45_k_block_avx2, x->q, __m256i, reduce8, BlockQ4_K, NULL)

	AVX2 float kdot_q5_k_avx2(const void *wv, const QAct *x, int nb)
	    KQ_ROW(Q45_K_STEP, q45_k_block_avx2, x->q, __m256i, reduce8, BlockQ5_K, w[b + j].qh)

    /* --- AVX-512 (VNNI) --- */

    /* Q4_K (qh NULL) and Q5_K: one super-block's scaled codes times the activations xq in
     * nibble order, 16 int32 partials. Each 512-bit step takes 64 bytes of codes (chunks c,
     * c + 1): the low nibbles hold groups 2c and 2c + 2 (a 256-bit half each), the high nibbles
     * 2c + 1 and 2c + 3, each against one load of xq; vpdpwssd applies the scales (bytes of
     * sm, spread per half) and accumulates. */
    AVX512 static inline __attribute__((always_inline)) __m512i
    q45_k_block_avx512(__m256i sm, const uint8_t *qh, const uint8_t *qs, const int8_t *xq)
{
	__m512i sm4 = _mm512_broadcast_i64x4(sm);
	__m512i m15 = _mm512_set1_epi8(15);
	__m512i hv =
	    qh ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(const void *)qh))
	       : _mm512_setzero_si512();
	__m512i sum = _mm512_setzero_si512();
	for (int c = 0; c < 4; c += 2) {
		__m512i q = _mm512_loadu_si512(qs + 32 * c);
		__m512i u[2] = {_mm512_and_si512(q, m15),
				_mm512_and_si512(_mm512_srli_epi16(q, 4), m15)};
		for (int k = 0; k < 2; k++) {
			int g = 2 * c + k; /* the low half's group; the high half's is g + 2 */
			if (qh) /* Q5_K's fifth bit: bit g of qh[l] (low half), g + 2 (high) */
				u[k] = _mm512_mask_add_epi8(
				    u[k],
				    _mm512_test_epi8_mask(
					hv,
					_mm512_inserti64x4(_mm512_set1_epi8((char)(1 << g)),
							   _mm256_set1_epi8((char)(4 << g)), 1)),
				    u[k], _mm512_set1_epi8(16));
			__m512i p =
			    _mm512_maddubs_epi16(u[k], _mm512_loadu_si512(xq + 64 * (c + k)));
			__m512i s = _mm512_shuffle_epi8(
			    sm4,
			    _mm512_inserti64x4(_mm512_set1_epi16((short)(0xff00 | g)),
					       _mm256_set1_epi16((short)(0xff00 | (g + 2))), 1));
			sum = _mm512_dpwssd_epi32(sum, p, s);
		}
	}
	return sum;
}

AVX512 float kdot_q4_k_avx512(const void *wv, const QAct *x, int nb)
    KQ_ROW(Q45_K_STEP, q45_k_block_avx512, x->qn, __m512i, kq_reduce8_512, BlockQ4_K, NULL)

	AVX512 float kdot_q5_k_avx512(const void *wv, const QAct *x, int nb)
	    KQ_ROW(Q45_K_STEP, q45_k_block_avx512, x->qn, __m512i, kq_reduce8_512, BlockQ5_K,
		   w[b + j].qh)

		AVX512
    void kdot2_q4_k_avx512(const void *wv, size_t row_bytes, const QAct *x, int nb, float y[2])
	KQ_ROW2(Q45_K_STEP, q45_k_block_avx512, x->qn, __m512i, kq_reduce8_512, BlockQ4_K, NULL)

	    AVX512
    void kdot2_q5_k_avx512(const void *wv, size_t row_bytes, const QAct *x, int nb, float y[2])
	KQ_ROW2(Q45_K_STEP, q45_k_block_avx512, x->qn, __m512i, kq_reduce8_512, BlockQ5_K,
		w[b + j].qh)
