/* kquant.c: the 4/5-bit and K-quant types: block sizes, the activation type each meets, row
 * dequantizers (GGML's arithmetic), and each ISA's tables of their dot kernels (one token, row
 * pairs, the prompt batches), which live in one file per family (dot_q4_q5.c, dot_q2_q3_k.c,
 * dot_q4_q5_k.c, dot_q6_k.c; the batches in dot_q4_q5_batch.c; the K-quant tiles in
 * dot_kquant_tile.c). */
#include "core/kernels/kquant_blocks.h"

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

static void deq_q6_k(const BlockQ6_K *w, float *y, int nb)
{
	for (int b = 0; b < nb; b++) {
		float d = fp16_to_fp32(w[b].d);
		for (int v = 0; v < QK_K; v++) {
			int h = v / 128, k = (v % 128) / 32, l = v % 32;
			int8_t scale = w[b].scales[v / 16];
			*y++ = d * (float)scale * (float)kq_q6_code(&w[b], h, k, l);
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

const KDotFn kdot_ref[KQ_COUNT] = {
    [KQ_Q4_0] = kdot_q4_0_ref, [KQ_Q4_1] = kdot_q4_1_ref, [KQ_Q5_0] = kdot_q5_0_ref,
    [KQ_Q5_1] = kdot_q5_1_ref, [KQ_Q2_K] = kdot_q2_k_ref, [KQ_Q3_K] = kdot_q3_k_ref,
    [KQ_Q4_K] = kdot_q4_k_ref, [KQ_Q5_K] = kdot_q5_k_ref, [KQ_Q6_K] = kdot_q6_k_ref,
};

const KDotFn kdot_avx2[KQ_COUNT] = {
    [KQ_Q4_0] = kdot_q4_0_avx2, [KQ_Q4_1] = kdot_q4_1_avx2, [KQ_Q5_0] = kdot_q5_0_avx2,
    [KQ_Q5_1] = kdot_q5_1_avx2, [KQ_Q2_K] = kdot_q2_k_avx2, [KQ_Q3_K] = kdot_q3_k_avx2,
    [KQ_Q4_K] = kdot_q4_k_avx2, [KQ_Q5_K] = kdot_q5_k_avx2, [KQ_Q6_K] = kdot_q6_k_avx2,
};

const KDotFn kdot_avx512[KQ_COUNT] = {
    [KQ_Q4_0] = kdot_q4_0_avx512, [KQ_Q4_1] = kdot_q4_1_avx512, [KQ_Q5_0] = kdot_q5_0_avx512,
    [KQ_Q5_1] = kdot_q5_1_avx512, [KQ_Q2_K] = kdot_q2_k_avx512, [KQ_Q3_K] = kdot_q3_k_avx512,
    [KQ_Q4_K] = kdot_q4_k_avx512, [KQ_Q5_K] = kdot_q5_k_avx512, [KQ_Q6_K] = kdot_q6_k_avx512,
};

#define KDOT2_REF(name, row)                                                                       \
	void name(const void *w, size_t row_bytes, const QAct *x, int nb, float y[2])              \
	{                                                                                          \
		y[0] = row(w, x, nb);                                                              \
		y[1] = row((const char *)w + row_bytes, x, nb);                                    \
	}
KDOT2_REF(kdot2_q2_k_ref, kdot_q2_k_ref)
KDOT2_REF(kdot2_q3_k_ref, kdot_q3_k_ref)
KDOT2_REF(kdot2_q4_k_ref, kdot_q4_k_ref)
KDOT2_REF(kdot2_q5_k_ref, kdot_q5_k_ref)
KDOT2_REF(kdot2_q6_k_ref, kdot_q6_k_ref)

const KDot2Fn kdot2_avx512[KQ_COUNT] = {[KQ_Q2_K] = kdot2_q2_k_avx512,
					[KQ_Q3_K] = kdot2_q3_k_avx512,
					[KQ_Q4_K] = kdot2_q4_k_avx512,
					[KQ_Q5_K] = kdot2_q5_k_avx512,
					[KQ_Q6_K] = kdot2_q6_k_avx512};

const KDotBatchFn kdot_batch_avx2[KQ_COUNT] = {
    [KQ_Q4_0] = kdot_q4_0_batch_avx2,
    [KQ_Q4_1] = kdot_q4_1_batch_avx2,
    [KQ_Q5_0] = kdot_q5_0_batch_avx2,
    [KQ_Q5_1] = kdot_q5_1_batch_avx2,
};

const KDotBatchFn kdot_batch_avx512[KQ_COUNT] = {
    [KQ_Q4_0] = kdot_q4_0_batch_avx512,
    [KQ_Q4_1] = kdot_q4_1_batch_avx512,
    [KQ_Q5_0] = kdot_q5_0_batch_avx512,
    [KQ_Q5_1] = kdot_q5_1_batch_avx512,
};

void ktile_put_token(const KTileAct *x, int nb, int t, const int8_t *q, const float *d,
		     const int32_t *bsum)
{
	int lane = t % KTILE_TOKENS;
	size_t g = (size_t)(t / KTILE_TOKENS) * (size_t)nb;
	for (int b = 0; b < nb; b++) {
		int8_t *dst = x->q + (g + (size_t)b) * KTILE_BLOCK_BYTES + lane * 4;
		for (int l = 0; l < QK_K / 4; l++)
			for (int i = 0; i < 4; i++)
				dst[l * 4 * KTILE_TOKENS + i] = q ? q[b * QK_K + 4 * l + i] : 0;
		x->d[(g + (size_t)b) * KTILE_TOKENS + (size_t)lane] = q ? d[b] : 0.0f;
		for (int i = 0; i < QK_K / 16; i++)
			x->bs[((g + (size_t)b) * 8 + (size_t)i / 2) * 2 * KTILE_TOKENS +
			      (size_t)lane * 2 + (size_t)i % 2] =
			    q ? (int16_t)bsum[b * (QK_K / 16) + i] : 0;
	}
}
