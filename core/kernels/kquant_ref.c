/* kquant_ref.c: the scalar reference of the 4/5-bit and K-quant types: block sizes, the
 * activation quantizers (Q8_1, Q8_K), row dequantizers and the dot kernels whose bits every
 * SIMD version must reproduce. */
#include "core/base/mathx.h"
#include "core/kernels/kquant_blocks.h"
#include "core/kernels/quantize.h"

int kquant_index(DType t)
{
	switch (t) {
	case DT_Q4_0:
		return KQ_Q4_0;
	case DT_Q4_1:
		return KQ_Q4_1;
	case DT_Q5_0:
		return KQ_Q5_0;
	case DT_Q5_1:
		return KQ_Q5_1;
	case DT_Q2_K:
		return KQ_Q2_K;
	case DT_Q3_K:
		return KQ_Q3_K;
	case DT_Q4_K:
		return KQ_Q4_K;
	case DT_Q5_K:
		return KQ_Q5_K;
	case DT_Q6_K:
		return KQ_Q6_K;
	default:
		return -1;
	}
}

int kquant_block(DType t)
{
	int i = kquant_index(t);
	return i < 0 ? 0 : i < KQ_Q2_K ? QK4 : QK_K;
}

size_t kquant_block_bytes(DType t)
{
	static const size_t bytes[KQ_COUNT] = {
	    [KQ_Q4_0] = sizeof(BlockQ4_0), [KQ_Q4_1] = sizeof(BlockQ4_1),
	    [KQ_Q5_0] = sizeof(BlockQ5_0), [KQ_Q5_1] = sizeof(BlockQ5_1),
	    [KQ_Q2_K] = sizeof(BlockQ2_K), [KQ_Q3_K] = sizeof(BlockQ3_K),
	    [KQ_Q4_K] = sizeof(BlockQ4_K), [KQ_Q5_K] = sizeof(BlockQ5_K),
	    [KQ_Q6_K] = sizeof(BlockQ6_K)};
	int i = kquant_index(t);
	return i < 0 ? 0 : bytes[i];
}

ActKind kquant_act(DType t)
{
	if (t == DT_Q4_1 || t == DT_Q5_1)
		return ACT_Q8_1;
	return kquant_block(t) == QK_K ? ACT_Q8_K : ACT_Q8_0;
}

int kquant_act_block(ActKind k)
{
	return k == ACT_Q8_K ? 16 : QK4;
}

/* --- Activation quantizers --- */

/* A value already rounded to an integer, clamped into int8 (NaN, from NaN inputs, to 0), so
 * that no out-of-range conversion happens. */
static int8_t clamp_i8(float v)
{
	return v != v ? 0 : v > 127.0f ? 127 : v < -128.0f ? -128 : (int8_t)v;
}

void quant_act_q8_1(const float *x, int n, int8_t *q, float *d, float *s)
{
	for (int b = 0; b < n / QK4; b++) {
		const float *xb = x + b * QK4;
		float amax = 0;
		for (int j = 0; j < QK4; j++)
			if (math_fabsf(xb[j]) > amax)
				amax = math_fabsf(xb[j]);
		float db = amax / 127.0f;
		float id = db ? 1.0f / db : 0.0f;
		int32_t sum = 0;
		for (int j = 0; j < QK4; j++) {
			q[b * QK4 + j] = clamp_i8(round_half_away(xb[j] * id));
			sum += q[b * QK4 + j];
		}
		d[b] = fp16_to_fp32(fp32_to_fp16(db));
		s[b] = fp16_to_fp32(fp32_to_fp16((float)sum * db));
	}
}

/* Round half to even for |v| < 2^22: the sum with 1.5 * 2^23 has no fraction bits left, so
 * the FPU rounds it to the nearest even integer (llama.cpp's nearest_int). */
static float round_half_even(float v)
{
	if (!(math_fabsf(v) < 4194304.0f))
		return v;
	float t = v + 12582912.0f;
	return t - 12582912.0f;
}

void quant_act_q8_k(const float *x, int n, int8_t *q, float *d, int32_t *bsum)
{
	for (int b = 0; b < n / QK_K; b++) {
		const float *xb = x + b * QK_K;
		int8_t *qb = q + b * QK_K;
		float amax = 0, max = 0;
		for (int j = 0; j < QK_K; j++)
			if (math_fabsf(xb[j]) > amax) {
				amax = math_fabsf(xb[j]);
				max = xb[j];
			}
		if (amax == 0) {
			d[b] = 0;
			for (int j = 0; j < QK_K; j++)
				qb[j] = 0;
			for (int g = 0; g < QK_K / 16; g++)
				bsum[b * (QK_K / 16) + g] = 0;
			continue;
		}
		float iscale = -127.0f / max;
		for (int j = 0; j < QK_K; j++)
			qb[j] = clamp_i8(round_half_even(iscale * xb[j]));
		for (int g = 0; g < QK_K / 16; g++) {
			int32_t s = 0;
			for (int j = 0; j < 16; j++)
				s += qb[g * 16 + j];
			bsum[b * (QK_K / 16) + g] = s;
		}
		d[b] = 1.0f / iscale;
	}
}

/* --- Dequantizers: GGML's float arithmetic, value by value --- */

static void deq_q4_0(const BlockQ4_0 *w, float *y, int nb)
{
	for (int b = 0; b < nb; b++, y += QK4) {
		float d = fp16_to_fp32(w[b].d);
		for (int j = 0; j < QK4 / 2; j++) {
			y[j] = (float)((w[b].qs[j] & 15) - 8) * d;
			y[j + 16] = (float)((w[b].qs[j] >> 4) - 8) * d;
		}
	}
}

static void deq_q4_1(const BlockQ4_1 *w, float *y, int nb)
{
	for (int b = 0; b < nb; b++, y += QK4) {
		float d = fp16_to_fp32(w[b].d), m = fp16_to_fp32(w[b].m);
		for (int j = 0; j < QK4 / 2; j++) {
			y[j] = (float)(w[b].qs[j] & 15) * d + m;
			y[j + 16] = (float)(w[b].qs[j] >> 4) * d + m;
		}
	}
}

/* Q5_0 (offset 16, no min) and Q5_1 (offset 0, min m) share the code layout. */
static void deq_q5(const uint8_t *qh4, const uint8_t *qs, float d, float m, int offset, float *y)
{
	uint32_t qh = kq_qh(qh4);
	for (int j = 0; j < QK4 / 2; j++) {
		int32_t lo = (int32_t)((qs[j] & 15) | (((qh >> j) & 1) << 4)) - offset;
		int32_t hi = (int32_t)((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - offset;
		y[j] = offset ? (float)lo * d : (float)lo * d + m;
		y[j + 16] = offset ? (float)hi * d : (float)hi * d + m;
	}
}

static void deq_q2_k(const BlockQ2_K *w, float *y, int nb)
{
	for (int b = 0; b < nb; b++) {
		float d = fp16_to_fp32(w[b].d), dmin = fp16_to_fp32(w[b].dmin);
		for (int g = 0; g < QK_K / 16; g++) {
			int h = g / 8, s = (g % 8) / 2, l0 = (g % 2) * 16;
			float dl = d * (float)(w[b].scales[g] & 15);
			float ml = dmin * (float)(w[b].scales[g] >> 4);
			for (int l = l0; l < l0 + 16; l++)
				*y++ = dl * (float)((w[b].qs[32 * h + l] >> (2 * s)) & 3) - ml;
		}
	}
}

static void deq_q3_k(const BlockQ3_K *w, float *y, int nb)
{
	for (int b = 0; b < nb; b++) {
		float d = fp16_to_fp32(w[b].d);
		for (int g = 0; g < QK_K / 16; g++) {
			int h = g / 8, s = (g % 8) / 2, l0 = (g % 2) * 16;
			float dl = d * (float)kq_scale_q3(w[b].scales, g);
			for (int l = l0; l < l0 + 16; l++) {
				int32_t q = (w[b].qs[32 * h + l] >> (2 * s)) & 3;
				q -= (w[b].hmask[l] >> (4 * h + s)) & 1 ? 0 : 4;
				*y++ = dl * (float)q;
			}
		}
	}
}

/* Q4_K (qh NULL) and Q5_K: 8 groups of 32. */
static void deq_q45_k(uint16_t d16, uint16_t dmin16, const uint8_t *scales, const uint8_t *qh,
		      const uint8_t *qs, float *y)
{
	float d = fp16_to_fp32(d16), dmin = fp16_to_fp32(dmin16);
	for (int j = 0; j < 8; j++) {
		int32_t sc, m;
		kq_scale_min_k4(scales, j, &sc, &m);
		float dl = d * (float)sc, ml = dmin * (float)m;
		int c = j / 2, shift = 4 * (j % 2);
		for (int l = 0; l < 32; l++) {
			int32_t q = (qs[32 * c + l] >> shift) & 15;
			if (qh)
				q += ((qh[l] >> j) & 1) << 4;
			*y++ = dl * (float)q - ml;
		}
	}
}

/* Q6_K's code of value 32 k + l of half h (see kquant.h), minus 32. */
static inline int32_t q6_code(const BlockQ6_K *w, int h, int k, int l)
{
	int32_t lo = (w->ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 15;
	int32_t hi = (w->qh[32 * h + l] >> (2 * k)) & 3;
	return (lo | (hi << 4)) - 32;
}

static void deq_q6_k(const BlockQ6_K *w, float *y, int nb)
{
	for (int b = 0; b < nb; b++) {
		float d = fp16_to_fp32(w[b].d);
		for (int v = 0; v < QK_K; v++) {
			int h = v / 128, k = (v % 128) / 32, l = v % 32;
			int8_t scale = w[b].scales[v / 16];
			*y++ = d * (float)scale * (float)q6_code(&w[b], h, k, l);
		}
	}
}

void kquant_dequantize_row(DType t, const void *row, float *y, int n)
{
	int nb = n / kquant_block(t);
	switch (t) {
	case DT_Q4_0:
		deq_q4_0(row, y, nb);
		break;
	case DT_Q4_1:
		deq_q4_1(row, y, nb);
		break;
	case DT_Q5_0:
		for (const BlockQ5_0 *w = row; nb-- > 0; w++, y += QK4)
			deq_q5(w->qh, w->qs, fp16_to_fp32(w->d), 0, 16, y);
		break;
	case DT_Q5_1:
		for (const BlockQ5_1 *w = row; nb-- > 0; w++, y += QK4)
			deq_q5(w->qh, w->qs, fp16_to_fp32(w->d), fp16_to_fp32(w->m), 0, y);
		break;
	case DT_Q2_K:
		deq_q2_k(row, y, nb);
		break;
	case DT_Q3_K:
		deq_q3_k(row, y, nb);
		break;
	case DT_Q4_K:
		for (const BlockQ4_K *w = row; nb-- > 0; w++, y += QK_K)
			deq_q45_k(w->d, w->dmin, w->scales, NULL, w->qs, y);
		break;
	case DT_Q5_K:
		for (const BlockQ5_K *w = row; nb-- > 0; w++, y += QK_K)
			deq_q45_k(w->d, w->dmin, w->scales, w->qh, w->qs, y);
		break;
	case DT_Q6_K:
		deq_q6_k(row, y, nb);
		break;
	default:
		break;
	}
}

/* --- Reference dot kernels --- */

static float kdot_q4_0_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_0 *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++)
		acc[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q4_0(&w[b], x->q + b * QK4), fp16_to_fp32(w[b].d), x->d[b]);
	return qdot_tree(acc);
}

static float kdot_q4_1_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_1 *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++)
		acc[b % QDOT_LANES] +=
		    kq_term_dm(kq_isum_q4_1(&w[b], x->q + b * QK4), fp16_to_fp32(w[b].d),
			       fp16_to_fp32(w[b].m), x->d[b], x->s[b]);
	return qdot_tree(acc);
}

static float kdot_q5_0_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_0 *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++)
		acc[b % QDOT_LANES] +=
		    kq_term_d(kq_isum_q5_0(&w[b], x->q + b * QK4), fp16_to_fp32(w[b].d), x->d[b]);
	return qdot_tree(acc);
}

static float kdot_q5_1_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_1 *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++)
		acc[b % QDOT_LANES] +=
		    kq_term_dm(kq_isum_q5_1(&w[b], x->q + b * QK4), fp16_to_fp32(w[b].d),
			       fp16_to_fp32(w[b].m), x->d[b], x->s[b]);
	return qdot_tree(acc);
}

/* Sum of the 16 activations of group g times the 2-bit codes (Q2_K and Q3_K layout). */
static int32_t q2_group(const uint8_t *qs, int g, const int8_t *x)
{
	int h = g / 8, s = (g % 8) / 2, l0 = (g % 2) * 16;
	int32_t sum = 0;
	for (int l = l0; l < l0 + 16; l++)
		sum += ((qs[32 * h + l] >> (2 * s)) & 3) * x[l - l0];
	return sum;
}

static float kdot_q2_k_ref(const void *wv, const QAct *x, int nb)
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

static float kdot_q3_k_ref(const void *wv, const QAct *x, int nb)
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

/* Q4_K (qh NULL) and Q5_K: the integer sums of one super-block. */
static void q45_k_sums(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs,
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

static float kdot_q4_k_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ4_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums(w[b].scales, NULL, w[b].qs, x->q + b * QK_K, x->bsum + b * (QK_K / 16),
			   &isum, &msum);
		acc[b % QDOT_LANES] += kq_term_kmin(isum, msum, fp16_to_fp32(w[b].d),
						    fp16_to_fp32(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

static float kdot_q5_k_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ5_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		int32_t isum, msum;
		q45_k_sums(w[b].scales, w[b].qh, w[b].qs, x->q + b * QK_K,
			   x->bsum + b * (QK_K / 16), &isum, &msum);
		acc[b % QDOT_LANES] += kq_term_kmin(isum, msum, fp16_to_fp32(w[b].d),
						    fp16_to_fp32(w[b].dmin), x->d[b]);
	}
	return qdot_tree(acc);
}

static float kdot_q6_k_ref(const void *wv, const QAct *x, int nb)
{
	const BlockQ6_K *w = wv;
	float acc[QDOT_LANES] = {0};
	for (int b = 0; b < nb; b++) {
		const int8_t *xq = x->q + b * QK_K;
		int32_t isum = 0;
		for (int g = 0; g < QK_K / 16; g++) {
			int32_t sum = 0;
			for (int v = 16 * g; v < 16 * g + 16; v++)
				sum += q6_code(&w[b], v / 128, (v % 128) / 32, v % 32) * xq[v];
			isum += w[b].scales[g] * sum;
		}
		acc[b % QDOT_LANES] += kq_term_d(isum, fp16_to_fp32(w[b].d), x->d[b]);
	}
	return qdot_tree(acc);
}

const KDotFn kdot_ref[KQ_COUNT] = {
    [KQ_Q4_0] = kdot_q4_0_ref, [KQ_Q4_1] = kdot_q4_1_ref, [KQ_Q5_0] = kdot_q5_0_ref,
    [KQ_Q5_1] = kdot_q5_1_ref, [KQ_Q2_K] = kdot_q2_k_ref, [KQ_Q3_K] = kdot_q3_k_ref,
    [KQ_Q4_K] = kdot_q4_k_ref, [KQ_Q5_K] = kdot_q5_k_ref, [KQ_Q6_K] = kdot_q6_k_ref,
};
