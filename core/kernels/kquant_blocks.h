/* kquant_blocks.h: what the 4/5-bit and K-quant family files (dot_q4_q5.c, dot_q2_q3_k.c,
 * dot_q4_q5_k.c, dot_q6_k.c) share across ISAs: the packed-scale decoders, the scalar integer sum
 * of one block (the reference, and the tails of the SIMD kernels), each type's float term of a
 * block, written once so that every ISA rounds the same way, and the AVX2/AVX-512 steps that
 * spread group scales over vector lanes. */
#ifndef KQUANT_BLOCKS_H
#define KQUANT_BLOCKS_H

#include "core/kernels/dot.h"
#include "core/kernels/kquant.h"

/* Q4_K/Q5_K group j (< 8): 6-bit scale and min. Groups 0-3 keep theirs in the low 6 bits of
 * bytes j and j + 4; groups 4-7 put their low 4 bits in byte j + 4 (scale low nibble, min high)
 * and their high 2 bits in the top bits of bytes j - 4 (scale) and j (min). */
static inline void kq_scale_min_k4(const uint8_t *s, int j, int32_t *sc, int32_t *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
		*m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
	}
}

/* Q3_K group g (< 16): its 6-bit scale minus 32. Low 4 bits: nibble g / 8 of byte g % 8; high 2
 * bits: bits 2 (g / 4) of byte 8 + g % 4. */
static inline int32_t kq_scale_q3(const uint8_t *s, int g)
{
	int32_t lo = (s[g % 8] >> (4 * (g / 8))) & 15;
	int32_t hi = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
	return (lo | (hi << 4)) - 32;
}

/* --- Blocks of 32: the exact integer sum of the 32 weight codes times the int8 activations --- */

static inline int32_t kq_isum_q4_0(const BlockQ4_0 *w, const int8_t *x)
{
	int32_t s = 0;
	for (int j = 0; j < QK4 / 2; j++)
		s += ((w->qs[j] & 15) - 8) * x[j] + ((w->qs[j] >> 4) - 8) * x[j + 16];
	return s;
}

static inline int32_t kq_isum_q4_1(const BlockQ4_1 *w, const int8_t *x)
{
	int32_t s = 0;
	for (int j = 0; j < QK4 / 2; j++)
		s += (w->qs[j] & 15) * x[j] + (w->qs[j] >> 4) * x[j + 16];
	return s;
}

static inline uint32_t kq_qh(const uint8_t qh[4])
{
	return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
	       (uint32_t)qh[3] << 24;
}

static inline int32_t kq_isum_q5_0(const BlockQ5_0 *w, const int8_t *x)
{
	uint32_t qh = kq_qh(w->qh);
	int32_t s = 0;
	for (int j = 0; j < QK4 / 2; j++) {
		int32_t lo = (int32_t)((w->qs[j] & 15) | (((qh >> j) & 1) << 4)) - 16;
		int32_t hi = (int32_t)((w->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
		s += lo * x[j] + hi * x[j + 16];
	}
	return s;
}

static inline int32_t kq_isum_q5_1(const BlockQ5_1 *w, const int8_t *x)
{
	uint32_t qh = kq_qh(w->qh);
	int32_t s = 0;
	for (int j = 0; j < QK4 / 2; j++) {
		int32_t lo = (int32_t)((w->qs[j] & 15) | (((qh >> j) & 1) << 4));
		int32_t hi = (int32_t)((w->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
		s += lo * x[j] + hi * x[j + 16];
	}
	return s;
}

/* --- Float terms of one block: the only float arithmetic of the kernels besides the sum of
 * the partials. --- */

/* The fp16 scales arrive as floats (every ISA converts them exactly). */

/* Q4_0, Q5_0, Q3_K, Q6_K: isum * (d_w * d_x). */
static inline float kq_term_d(int32_t isum, float dw, float dx)
{
	return (float)isum * (dw * dx);
}

/* Q4_1, Q5_1: isum * (d_w * d_x) + m_w * s_x (s_x = d_x * sum of the activations, fp16). */
static inline float kq_term_dm(int32_t isum, float dw, float mw, float dx, float sx)
{
	return (float)isum * (dw * dx) + mw * sx;
}

/* Q2_K, Q4_K, Q5_K: isum * (d_w * d_x) - msum * (dmin_w * d_x), msum the mins' integer sum. */
static inline float kq_term_kmin(int32_t isum, int32_t msum, float dw, float dminw, float dx)
{
	return (float)isum * (dw * dx) - (float)msum * (dminw * dx);
}

/* Q4_K/Q5_K: the 8 6-bit scales (bytes of *sc, group j in byte j) and mins (*m), unpacked
 * from the 12 bytes as kq_scale_min_k4 reads them, four groups at a time. */
static inline void kq_scales_mins_k4(const uint8_t *s, uint64_t *sc, uint64_t *m)
{
	uint32_t u0 =
	    (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
	uint32_t u1 =
	    (uint32_t)s[4] | (uint32_t)s[5] << 8 | (uint32_t)s[6] << 16 | (uint32_t)s[7] << 24;
	uint32_t u2 =
	    (uint32_t)s[8] | (uint32_t)s[9] << 8 | (uint32_t)s[10] << 16 | (uint32_t)s[11] << 24;
	uint32_t s_hi = (u2 & 0x0f0f0f0f) | ((u0 >> 6) & 0x03030303) << 4;
	uint32_t m_hi = ((u2 >> 4) & 0x0f0f0f0f) | ((u1 >> 6) & 0x03030303) << 4;
	*sc = (uint64_t)(u0 & 0x3f3f3f3f) | (uint64_t)s_hi << 32;
	*m = (uint64_t)(u1 & 0x3f3f3f3f) | (uint64_t)m_hi << 32;
}

/* Q6_K's code of value 32 k + l of half h (see kquant.h), minus 32. */
static inline int32_t kq_q6_code(const BlockQ6_K *w, int h, int k, int l)
{
	int32_t lo = (w->ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 15;
	int32_t hi = (w->qh[32 * h + l] >> (2 * k)) & 3;
	return (lo | (hi << 4)) - 32;
}

/* --- SIMD steps of the K-quants (dot.h brings immintrin.h); the AVX2 ones are callable from
 * the AVX-512 kernels too. Integer arithmetic only: exact on every target. --- */

/* Sum of the 8 int32 lanes (exact). */
ISA_TARGET_AVX2 static inline int32_t kq_hsum_i32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/* Two groups' scales for one 32-value chunk: int16 lanes 0-7 (values 0-15) get s0, 8-15 s1. */
ISA_TARGET_AVX2 static inline __m256i kq_scales2(int32_t s0, int32_t s1)
{
	return _mm256_set_m128i(_mm_set1_epi16((int16_t)s1), _mm_set1_epi16((int16_t)s0));
}

/* sum over a chunk of 32 codes u (unsigned, < 64) times x, each half of 16 by its scale. */
ISA_TARGET_AVX2 static inline __m256i kq_chunk_scaled(__m256i u, const int8_t *x, __m256i sc)
{
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, vx), sc);
}

/* AVX-512: sum of codes u (unsigned, < 64) times x, each int16 pair of products times its
 * scale. */
ISA_TARGET_AVX512 static inline __m512i kq_scaled512(__m512i u, __m512i x, __m512i sc)
{
	return _mm512_madd_epi16(_mm512_maddubs_epi16(u, x), sc);
}

#endif
