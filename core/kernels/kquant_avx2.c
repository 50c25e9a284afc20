/* kquant_avx2.c: AVX2 dot kernels of the 4/5-bit and K-quant types, bit-identical to
 * kquant_ref.c: the integer sums of each block exactly (codes as unsigned bytes times the int8
 * activations, any code offset taken out through the activations' block sums), then the
 * reference's float terms and partials. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2

/* Sum of the 8 int32 lanes (exact). */
AVX2 static inline int32_t hsum_i32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/* 8 int32 partial sums of 32 unsigned codes (< 64) times 32 int8 activations: maddubs' int16
 * pairs stay below 2 * 63 * 128, so nothing saturates. */
AVX2 static inline __m256i dot_u8_i8(__m256i u, const int8_t *x)
{
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, vx), _mm256_set1_epi16(1));
}

/* The 16 bytes of 4-bit codes as 32 unsigned codes: low nibbles (values 0-15) first. */
AVX2 static inline __m256i nibbles(const uint8_t *qs)
{
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)qs);
	__m128i m = _mm_set1_epi8(15);
	return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

/* Q5 high bits: byte j gets 16 where bit j of the 32-bit qh is set. */
AVX2 static inline __m256i q5_high(const uint8_t qh[4])
{
	uint32_t h = kq_qh(qh);
	__m256i v = _mm256_set1_epi32((int32_t)h);
	/* byte j takes byte j / 8 of h, then tests its bit j % 8 */
	__m256i spread = _mm256_shuffle_epi8(
	    v, _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
	__m256i bit = _mm256_set1_epi64x((int64_t)0x8040201008040201);
	__m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
	return _mm256_and_si256(set, _mm256_set1_epi8(16));
}

/* 8 fp16 values 'stride' bytes apart, as floats (exact). */
AVX2 static inline __m256 fp16x8(const uint16_t *p, int stride)
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

/* --- Blocks of 32, eight at a time: lane j of the vectors is block b + j, whose term goes to
 * partial (b + j) % 8 as in the reference. --- */

/* The 8 blocks' integer sums of codes (unsigned) times activations, code offset removed:
 * isum = sum(u x) - offset * sum(x). */
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

AVX2 static float kdot_q4_0_avx2(const void *wv, const QAct *x, int nb)
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

AVX2 static float kdot_q5_0_avx2(const void *wv, const QAct *x, int nb)
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
AVX2 static inline __m256 term_dm8(__m256i isum, const uint16_t *d, const uint16_t *m, int stride,
				   const QAct *x, int b)
{
	__m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(isum),
				 _mm256_mul_ps(fp16x8(d, stride), _mm256_loadu_ps(x->d + b)));
	return _mm256_add_ps(t, _mm256_mul_ps(fp16x8(m, stride), _mm256_loadu_ps(x->s + b)));
}

AVX2 static float kdot_q4_1_avx2(const void *wv, const QAct *x, int nb)
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

AVX2 static float kdot_q5_1_avx2(const void *wv, const QAct *x, int nb)
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

/* --- K-quants: one super-block at a time, integer sums in vectors, the term in scalar. --- */

/* Two groups' scales for one 32-value chunk: int16 lanes 0-7 (values 0-15) get s0, 8-15 s1. */
AVX2 static inline __m256i scales2(int32_t s0, int32_t s1)
{
	return _mm256_set_m128i(_mm_set1_epi16((int16_t)s1), _mm_set1_epi16((int16_t)s0));
}

/* sum over a chunk of 32 codes u (unsigned, < 64) times x, each half of 16 by its scale. */
AVX2 static inline __m256i chunk_scaled(__m256i u, const int8_t *x, __m256i sc)
{
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, vx), sc);
}

AVX2 static float kdot_q2_k_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ2_K *w = wv;
	float acc[QDOT_LANES] = {0};
	__m256i m3 = _mm256_set1_epi8(3);
	for (int b = 0; b < nb; b++) {
		const int8_t *xq = x->q + b * QK_K;
		const int32_t *bs = x->bsum + b * (QK_K / 16);
		__m256i sum = _mm256_setzero_si256();
		for (int h = 0; h < 2; h++) {
			__m256i q =
			    _mm256_loadu_si256((const __m256i *)(const void *)(w[b].qs + 32 * h));
			for (int s = 0; s < 4; s++) {
				int g = 8 * h + 2 * s;
				__m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
				sum = _mm256_add_epi32(
				    sum, chunk_scaled(u, xq + 32 * (4 * h + s),
						      scales2(w[b].scales[g] & 15,
							      w[b].scales[g + 1] & 15)));
			}
		}
		int32_t msum = 0;
		for (int g = 0; g < QK_K / 16; g++)
			msum += (w[b].scales[g] >> 4) * bs[g];
		acc[b % QDOT_LANES] += kq_term_kmin(hsum_i32(sum), msum, _cvtsh_ss(w[b].d),
						    _cvtsh_ss(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

AVX2 static float kdot_q3_k_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ3_K *w = wv;
	float acc[QDOT_LANES] = {0};
	__m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
	for (int b = 0; b < nb; b++) {
		const int8_t *xq = x->q + b * QK_K;
		const int32_t *bs = x->bsum + b * (QK_K / 16);
		int32_t sc[QK_K / 16], off = 0;
		for (int g = 0; g < QK_K / 16; g++) {
			sc[g] = kq_scale_q3(w[b].scales, g);
			off += sc[g] * bs[g];
		}
		__m256i hm = _mm256_loadu_si256((const __m256i *)(const void *)w[b].hmask);
		__m256i sum = _mm256_setzero_si256();
		for (int h = 0; h < 2; h++) {
			__m256i q =
			    _mm256_loadu_si256((const __m256i *)(const void *)(w[b].qs + 32 * h));
			for (int s = 0; s < 4; s++) {
				int g = 8 * h + 2 * s;
				/* code + 4 = 2 low bits | 4 when the high bit is set (0..7) */
				__m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + s)));
				__m256i hi = _mm256_and_si256(
				    _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), four);
				__m256i u = _mm256_or_si256(
				    _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3), hi);
				sum =
				    _mm256_add_epi32(sum, chunk_scaled(u, xq + 32 * (4 * h + s),
								       scales2(sc[g], sc[g + 1])));
			}
		}
		acc[b % QDOT_LANES] +=
		    kq_term_d(hsum_i32(sum) - 4 * off, _cvtsh_ss(w[b].d), x->d[b]);
	}
	return qdot_tree(acc);
}

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
	return hsum_i32(_mm256_mullo_epi32(pairs, mins));
}

/* Q4_K (qh NULL) and Q5_K: the integer sums of one super-block. */
AVX2 static inline __attribute__((always_inline)) void
q45_k_sums(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs, const int8_t *xq,
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
		    sum, chunk_scaled(lo, xq + 64 * c,
				      _mm256_set1_epi16((int16_t)((sc >> (16 * c)) & 0xff))));
		sum = _mm256_add_epi32(
		    sum, chunk_scaled(hi, xq + 64 * c + 32,
				      _mm256_set1_epi16((int16_t)((sc >> (16 * c + 8)) & 0xff))));
	}
	*isum = hsum_i32(sum);
	*msum = mins_dot(m, bs);
}

AVX2 static float kdot_q4_k_avx2(const void *wv, const QAct *x, int nb)
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

AVX2 static float kdot_q5_k_avx2(const void *wv, const QAct *x, int nb)
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

AVX2 static float kdot_q6_k_avx2(const void *wv, const QAct *x, int nb)
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
				sum =
				    _mm256_add_epi32(sum, chunk_scaled(u, xq + 128 * h + 32 * k,
								       scales2(sc[g], sc[g + 1])));
			}
		}
		/* codes are u - 32 */
		acc[b % QDOT_LANES] +=
		    kq_term_d(hsum_i32(sum) - 32 * off, _cvtsh_ss(w[b].d), x->d[b]);
	}
	return qdot_tree(acc);
}

const KDotFn kdot_avx2[KQ_COUNT] = {
    [KQ_Q4_0] = kdot_q4_0_avx2, [KQ_Q4_1] = kdot_q4_1_avx2, [KQ_Q5_0] = kdot_q5_0_avx2,
    [KQ_Q5_1] = kdot_q5_1_avx2, [KQ_Q2_K] = kdot_q2_k_avx2, [KQ_Q3_K] = kdot_q3_k_avx2,
    [KQ_Q4_K] = kdot_q4_k_avx2, [KQ_Q5_K] = kdot_q5_k_avx2, [KQ_Q6_K] = kdot_q6_k_avx2,
};
