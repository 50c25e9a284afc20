/* dot_q4_q5.c: Q4_0, Q4_1, Q5_0 and Q5_1 weight rows (blocks of 32) against Q8_0/Q8_1
 * activations: the scalar references, which define the bits, and the AVX2 and AVX-512 VNNI
 * versions (two blocks per 512-bit step, Q4_0 four; Q4_0 and Q5_0 on AVX2 two per 256-bit step;
 * Q4_0 and Q5_0 against their activations in nibble order), eight blocks at a time: the integer
 * sums of each block exactly (codes as unsigned bytes times the int8 activations, any code offset
 * taken out through the activations' block sums), then the reference's float terms and partials. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512

/* --- Scalar references --- */

float kdot_q4_0_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_0 *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++)
		acc[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q4_0(&w[b], x->q + b * QK4), fp16_to_fp32(w[b].d), x->d[b]);
	return qdot_tree(acc);
}

float kdot_q4_1_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_1 *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++)
		acc[b % QDOT_LANES] +=
		    kq_term_dm(kq_isum_q4_1(&w[b], x->q + b * QK4), fp16_to_fp32(w[b].d),
			       fp16_to_fp32(w[b].m), x->d[b], x->s[b]);
	return qdot_tree(acc);
}

float kdot_q5_0_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_0 *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++)
		acc[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q5_0(&w[b], x->q + b * QK4), fp16_to_fp32(w[b].d), x->d[b]);
	return qdot_tree(acc);
}

float kdot_q5_1_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_1 *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++)
		acc[b % QDOT_LANES] +=
		    kq_term_dm(kq_isum_q5_1(&w[b], x->q + b * QK4), fp16_to_fp32(w[b].d),
			       fp16_to_fp32(w[b].m), x->d[b], x->s[b]);
	return qdot_tree(acc);
}

void quant_act_q4_0_order(const int8_t *q, int nb, int8_t *qn)
{
	for (int g = 0; g + 8 <= nb; g += 8, q += 8 * QK4, qn += 8 * QK4)
		for (int k = 0; k < 8; k++) {
			int at = 32 * (k % 4) + 16 * (k / 4); /* block k's place in its pair */
			__builtin_memcpy(qn + at, q + QK4 * k, 16);
			__builtin_memcpy(qn + 128 + at, q + QK4 * k + 16, 16);
		}
}

/* --- Shared by both SIMD versions (AVX2 code, callable from the AVX-512 kernels) --- */

/* kq_term_dm on 8 lanes: isum * (d_w * d_x) + m_w * s_x. */
AVX2 static inline __m256 term_dm8(__m256i isum, const uint16_t *d, const uint16_t *m, int stride,
				   const QAct *x, int b)
{
	__m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(isum),
				 _mm256_mul_ps(kq_fp16x8(d, stride), _mm256_loadu_ps(x->d + b)));
	return _mm256_add_ps(t, _mm256_mul_ps(kq_fp16x8(m, stride), _mm256_loadu_ps(x->s + b)));
}

/* The 8 blocks' integer sums of codes (unsigned) times activations by DOT, code offset
 * removed: isum = sum(u x) - offset * sum(x) (OFFSET 8 or 16: a shift). Lane j of the vectors is
 * block b + j, whose term goes to partial (b + j) % 8 as in the reference. */
#define BLOCKS8(DOT, TYPE, CODES, OFFSET)                                                          \
	kq_prefetch(&w[b], 8 * sizeof *w);                                                         \
	__m256i v[8];                                                                              \
	_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)                                        \
	{                                                                                          \
		const TYPE *blk = &w[b + j];                                                       \
		v[j] = DOT(CODES, x->q + (b + j) * QK4);                                           \
	}                                                                                          \
	__m256i isum = reduce8(v);                                                                 \
	if (OFFSET)                                                                                \
		isum = _mm256_sub_epi32(                                                           \
		    isum, _mm256_slli_epi32(                                                       \
			      _mm256_loadu_si256((const __m256i *)(const void *)(x->bsum + b)),    \
			      __builtin_ctz(OFFSET)));

/* --- AVX2 --- */

/* 8 int32 partial sums of 32 unsigned codes (< 64) times 32 int8 activations: maddubs' int16
 * pairs stay below 2 * 63 * 128, so nothing saturates. */
AVX2 static inline __m256i dot_u8_i8_avx2(__m256i u, const int8_t *x)
{
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, vx), _mm256_set1_epi16(1));
}

/* The totals of a step's 4 pairs (p, p + 4) in block order (the pairing needs no lane
 * permute), code offset removed: sum(u x) - offset * sum(x), offset 8 or 16. */
AVX2 static inline __m256i pairs_isum(const __m256i v[4], const int32_t *bsum, int offset)
{
	__m256i t01 =
	    _mm256_add_epi32(_mm256_unpacklo_epi32(v[0], v[1]), _mm256_unpackhi_epi32(v[0], v[1]));
	__m256i t23 =
	    _mm256_add_epi32(_mm256_unpacklo_epi32(v[2], v[3]), _mm256_unpackhi_epi32(v[2], v[3]));
	return _mm256_sub_epi32(
	    _mm256_add_epi32(_mm256_unpacklo_epi64(t01, t23), _mm256_unpackhi_epi64(t01, t23)),
	    _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(const void *)bsum),
			      __builtin_ctz((unsigned)offset)));
}

/* Q4_0 blocks b + p and b + p + 4 (p < 4) of a step against xn, the step's activations in
 * nibble order: lanes 0-3 block b + p's partial sums, 4-7 block b + p + 4's. Their codes side by
 * side, the low nibbles meet the two blocks' first 16 values (one load), the high nibbles the
 * last 16; the two products' int16 pairs stay below 2 x 2 x 15 x 128, so they add before one
 * vpmaddwd. */
AVX2 static inline __m256i q4_0_pair_avx2(const BlockQ4_0 *w, const int8_t *xn, int p)
{
	__m256i m15 = _mm256_set1_epi8(15);
	__m256i q = _mm256_inserti128_si256(
	    _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)w[p].qs)),
	    _mm_loadu_si128((const __m128i *)(const void *)w[p + 4].qs), 1);
	__m256i lo =
	    _mm256_maddubs_epi16(_mm256_and_si256(q, m15),
				 _mm256_loadu_si256((const __m256i *)(const void *)(xn + 32 * p)));
	__m256i hi = _mm256_maddubs_epi16(
	    _mm256_and_si256(_mm256_srli_epi16(q, 4), m15),
	    _mm256_loadu_si256((const __m256i *)(const void *)(xn + 128 + 32 * p)));
	return _mm256_madd_epi16(_mm256_add_epi16(lo, hi), _mm256_set1_epi16(1));
}

AVX2 float kdot_q4_0_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_0 *w = wv;
	const int8_t *xn = x->qn;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8, xn += 8 * QK4) {
		kq_prefetch(&w[b], 8 * sizeof *w);
		__m256i v[4];
		for (int p = 0; p < 4; p++)
			v[p] = q4_0_pair_avx2(&w[b], xn, p);
		__m256i isum = pairs_isum(v, x->bsum + b, 8);
		__m256 scale =
		    _mm256_mul_ps(kq_fp16x8(&w[b].d, sizeof *w), _mm256_loadu_ps(x->d + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++)
		a[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q4_0(&w[b], x->q + b * QK4), _cvtsh_ss(w[b].d), x->d[b]);
	return qdot_tree(a);
}

/* Q5_0 blocks b + p and b + p + 4 (p < 4) of a step against xn (Q4_0's nibble order), as
 * q4_0_pair_avx2 with each code's fifth bit: byte i of a 128-bit lane gets 16 where bit i (low
 * nibbles) or 16 + i (high nibbles) of its block's qh is set. Codes up to 31: a product pair
 * stays below 2 x 31 x 128 and the two add in int16 before one vpmaddwd. */
AVX2 static inline __m256i q5_0_pair_avx2(const BlockQ5_0 *w, const int8_t *xn, int p)
{
	__m256i m15 = _mm256_set1_epi8(15), u16 = _mm256_set1_epi8(16);
	__m256i bit = _mm256_set1_epi64x((int64_t)0x8040201008040201);
	__m256i q = _mm256_inserti128_si256(
	    _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)w[p].qs)),
	    _mm_loadu_si128((const __m128i *)(const void *)w[p + 4].qs), 1);
	/* both blocks' qh in every 64 bits: bytes 0-3 block p's, 4-7 block p + 4's */
	__m256i h = _mm256_set1_epi64x(
	    (int64_t)((uint64_t)kq_qh(w[p].qh) | (uint64_t)kq_qh(w[p + 4].qh) << 32));
	__m256i hl = _mm256_shuffle_epi8(
	    h, _mm256_setr_epi64x(0, 0x0101010101010101, 0x0404040404040404, 0x0505050505050505));
	__m256i hh =
	    _mm256_shuffle_epi8(h, _mm256_setr_epi64x(0x0202020202020202, 0x0303030303030303,
						      0x0606060606060606, 0x0707070707070707));
	__m256i lo = _mm256_or_si256(
	    _mm256_and_si256(q, m15),
	    _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hl, bit), bit), u16));
	__m256i hi = _mm256_or_si256(
	    _mm256_and_si256(_mm256_srli_epi16(q, 4), m15),
	    _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hh, bit), bit), u16));
	__m256i sl = _mm256_maddubs_epi16(
	    lo, _mm256_loadu_si256((const __m256i *)(const void *)(xn + 32 * p)));
	__m256i sh = _mm256_maddubs_epi16(
	    hi, _mm256_loadu_si256((const __m256i *)(const void *)(xn + 128 + 32 * p)));
	return _mm256_madd_epi16(_mm256_add_epi16(sl, sh), _mm256_set1_epi16(1));
}

AVX2 float kdot_q5_0_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_0 *w = wv;
	const int8_t *xn = x->qn;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8, xn += 8 * QK4) {
		kq_prefetch(&w[b], 8 * sizeof *w);
		__m256i v[4];
		for (int p = 0; p < 4; p++)
			v[p] = q5_0_pair_avx2(&w[b], xn, p);
		__m256i isum = pairs_isum(v, x->bsum + b, 16);
		__m256 scale =
		    _mm256_mul_ps(kq_fp16x8(&w[b].d, sizeof *w), _mm256_loadu_ps(x->d + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++)
		a[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q5_0(&w[b], x->q + b * QK4), _cvtsh_ss(w[b].d), x->d[b]);
	return qdot_tree(a);
}

AVX2 float kdot_q4_1_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_1 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8(dot_u8_i8_avx2, BlockQ4_1, kq_nibbles(blk->qs), 0)
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

AVX2 float kdot_q5_1_avx2(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_1 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8(dot_u8_i8_avx2, BlockQ5_1,
			_mm256_or_si256(kq_nibbles(blk->qs), kq_q5_high(blk->qh)), 0)
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

/* --- AVX-512 (VNNI) --- */

/* reduce8 of four 512-bit vectors that hold blocks 2k (low 256 bits) and 2k + 1 (high) of
 * v[k]: lane j the total of block j (exact). */
AVX512 static inline __m256i reduce_pairs4(const __m512i v[4])
{
	__m512i t0 =
	    _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
	__m512i t1 =
	    _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
	/* per 128-bit lane: the partial sums of v[0..3]; lanes 0-1 hold blocks 0 2 4 6, 2-3
	 * blocks 1 3 5 7 */
	__m512i a = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
	a = _mm512_add_epi32(a, _mm512_shuffle_i64x2(a, a, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm512_castsi512_si256(_mm512_permutexvar_epi32(
	    _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 0, 0, 0, 0, 0, 0, 0, 0), a));
}

/* The fp16 scales of Q4_0 blocks b..b + 7 (18 bytes each: all eight within the first 128
 * bytes) as floats, by one word permute of two loads. */
AVX512 static inline __m256 q4_0_d8(const BlockQ4_0 *w)
{
	__m512i lo = _mm512_loadu_si512(w), hi = _mm512_loadu_si512((const char *)w + 64);
	__m512i d = _mm512_permutex2var_epi16(lo,
					      _mm512_setr_epi32(9 << 16, 27 << 16 | 18,
								45 << 16 | 36, 63 << 16 | 54, 0, 0,
								0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
					      hi);
	return _mm256_cvtph_ps(_mm512_castsi512_si128(d));
}

/* BLOCKS8 two blocks per 512-bit step: CODES(j) gives blocks j and j + 1's codes; lane j of
 * isum is block b + j's integer sum, code offset removed. */
#define BLOCKS8_512(CODES, OFFSET)                                                                 \
	kq_prefetch(&w[b], 8 * sizeof *w);                                                         \
	__m512i v[4];                                                                              \
	_Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) v[j] =                                 \
	    _mm512_dpbusd_epi32(_mm512_setzero_si512(), CODES(b + 2 * j),                          \
				_mm512_loadu_si512(x->q + (b + 2 * j) * QK4));                     \
	__m256i isum = reduce_pairs4(v);                                                           \
	if (OFFSET)                                                                                \
		isum = _mm256_sub_epi32(                                                           \
		    isum, _mm256_slli_epi32(                                                       \
			      _mm256_loadu_si256((const __m256i *)(const void *)(x->bsum + b)),    \
			      __builtin_ctz(OFFSET)));

#define Q4_PAIR(j) kq_nibbles_pair(w[j].qs, w[(j) + 1].qs)
#define Q5_PAIR(j) kq_q5_high_pair(kq_nibbles_pair(w[j].qs, w[(j) + 1].qs), w[j].qh, w[(j) + 1].qh)

/* Q4_0 blocks b + p, b + p + 4, b + p + 1, b + p + 5 (p 0 or 2) of a step against xn, the
 * step's activations in nibble order: 128-bit lane k holds the k-th's partial sums. Their codes
 * a lane each, the low nibbles meet one load of xn (the blocks' first 16 values), the high
 * nibbles another. */
AVX512 static inline __m512i q4_0_quad_avx512(const BlockQ4_0 *w, const int8_t *xn, int p)
{
#define QS(j) _mm_loadu_si128((const __m128i *)(const void *)w[p + (j)].qs)
	__m512i q = _mm512_inserti32x4(
	    _mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(QS(0)), QS(4), 1), QS(1),
			       2),
	    QS(5), 3);
#undef QS
	__m512i m15 = _mm512_set1_epi8(15);
	__m512i v = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, m15),
					_mm512_loadu_si512(xn + 32 * p));
	return _mm512_dpbusd_epi32(v, _mm512_and_si512(_mm512_srli_epi16(q, 4), m15),
				   _mm512_loadu_si512(xn + 128 + 32 * p));
}

AVX512 float kdot_q4_0_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_0 *w = wv;
	const int8_t *xn = x->qn;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8, xn += 8 * QK4) {
		kq_prefetch(&w[b], 8 * sizeof *w);
		__m512i v0 = q4_0_quad_avx512(&w[b], xn, 0), v1 = q4_0_quad_avx512(&w[b], xn, 2);
		/* dword 0 of 128-bit lane k: v0's k-th block's total (blocks 0 4 1 5), dword 1:
		 * v1's (2 6 3 7) */
		__m512i t =
		    _mm512_add_epi32(_mm512_unpacklo_epi32(v0, v1), _mm512_unpackhi_epi32(v0, v1));
		t = _mm512_add_epi32(t, _mm512_shuffle_epi32(t, _MM_PERM_BADC));
		__m256i isum = _mm256_sub_epi32(
		    _mm512_castsi512_si256(_mm512_permutexvar_epi32(
			_mm512_setr_epi32(0, 8, 1, 9, 4, 12, 5, 13, 0, 0, 0, 0, 0, 0, 0, 0), t)),
		    _mm256_slli_epi32(
			_mm256_loadu_si256((const __m256i *)(const void *)(x->bsum + b)), 3));
		__m256 scale = _mm256_mul_ps(q4_0_d8(&w[b]), _mm256_loadu_ps(x->d + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++)
		a[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q4_0(&w[b], x->q + b * QK4), _cvtsh_ss(w[b].d), x->d[b]);
	return qdot_tree(a);
}

AVX512 float kdot_q5_0_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_0 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8_512(Q5_PAIR, 16)
		__m256 scale =
		    _mm256_mul_ps(kq_fp16x8(&w[b].d, sizeof *w), _mm256_loadu_ps(x->d + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++)
		a[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q5_0(&w[b], x->q + b * QK4), _cvtsh_ss(w[b].d), x->d[b]);
	return qdot_tree(a);
}

AVX512 float kdot_q4_1_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_1 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8_512(Q4_PAIR, 0)
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

AVX512 float kdot_q5_1_avx512(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_1 *w = wv;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + 8 <= nb; b += 8) {
		BLOCKS8_512(Q5_PAIR, 0)
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
