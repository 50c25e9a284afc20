/* kquant_blocks.h: what every ISA's kquant kernels share: the packed-scale decoders, the scalar
 * integer sum of one block (the reference, and the tails of the SIMD kernels) and each type's
 * float term of a block, written once so that every ISA rounds the same way. */
#ifndef KQUANT_BLOCKS_H
#define KQUANT_BLOCKS_H

#include "core/kernels/kquant.h"
#include "core/kernels/quant_kernels.h"

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

/* Q4_0, Q5_0: isum * (d_w * d_x). */
static inline float kq_term_d(int32_t isum, uint16_t dw, float dx)
{
	return (float)isum * (fp16_to_fp32(dw) * dx);
}

/* Q4_1, Q5_1: isum * (d_w * d_x) + m_w * s_x (s_x = d_x * sum of the activations, fp16). */
static inline float kq_term_dm(int32_t isum, uint16_t dw, uint16_t mw, float dx, float sx)
{
	return (float)isum * (fp16_to_fp32(dw) * dx) + fp16_to_fp32(mw) * sx;
}

/* Q2_K, Q4_K, Q5_K: isum * (d_w * d_x) - msum * (dmin_w * d_x), msum the mins' integer sum
 * (Q3_K and Q6_K, without mins, take kq_term_d with d_x the Q8_K scale). */
static inline float kq_term_kmin(int32_t isum, int32_t msum, uint16_t dw, uint16_t dminw, float dx)
{
	return (float)isum * (fp16_to_fp32(dw) * dx) - (float)msum * (fp16_to_fp32(dminw) * dx);
}

#endif
