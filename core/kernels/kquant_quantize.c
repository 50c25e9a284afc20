/* kquant_quantize.c: rows of floats to Q4_0, Q4_1, Q5_0, Q5_1 and Q2_K..Q6_K by the rules of
 * llama.cpp's reference quantizers (no importance matrix): the same searches for scales and
 * mins, the same roundings, so that a file we write holds the codes llama-quantize writes. */
#include <float.h>

#include "core/base/mathx.h"
#include "core/kernels/kquant_blocks.h"

#define GROUP_MAX_EPS 1e-15f

/* Round half to even, as llama.cpp's nearest_int (|v| < 2^22; NaN and huge values clamp). */
static int nearest_int(float v)
{
	if (!(v > -4194303.0f))
		return -4194303;
	if (!(v < 4194303.0f))
		return 4194303;
	float t = v + 12582912.0f; /* no fraction bits left: the FPU rounds half to even */
	return (int)(t - 12582912.0f);
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* A code of the blocks of 32: v truncated, at most hi, as llama.cpp's MIN(hi, (int8_t)v). A NaN
 * or infinite v (1/d overflowed on a subnormal d, which is 0 as fp16) gives 0, as that cast
 * gives on x86, instead of an undefined conversion. */
static int code32(float v, int hi)
{
	if (!(math_fabsf(v) <= FLT_MAX))
		return 0;
	return v < 0.0f ? 0 : v >= (float)hi ? hi : (int)v;
}

/* The value of largest magnitude (its sign kept) and that magnitude. */
static float signed_max(const float *x, int n, float *amax)
{
	float max = 0, a = 0;
	for (int i = 0; i < n; i++)
		if (math_fabsf(x[i]) > a) {
			a = math_fabsf(x[i]);
			max = x[i];
		}
	*amax = a;
	return max;
}

/* --- Blocks of 32 --- */

static void quant_q4_0(const float *x, BlockQ4_0 *y)
{
	float amax, max = signed_max(x, QK4, &amax);
	float d = max / -8, id = d ? 1.0f / d : 0.0f;
	y->d = fp32_to_fp16(d);
	for (int j = 0; j < QK4 / 2; j++) {
		int a = code32(x[j] * id + 8.5f, 15);
		int b = code32(x[j + 16] * id + 8.5f, 15);
		y->qs[j] = (uint8_t)(a | b << 4);
	}
}

static void min_max(const float *x, int n, float *min, float *max)
{
	*min = *max = x[0];
	for (int i = 1; i < n; i++) {
		*min = x[i] < *min ? x[i] : *min;
		*max = x[i] > *max ? x[i] : *max;
	}
}

static void quant_q4_1(const float *x, BlockQ4_1 *y)
{
	float min, max;
	min_max(x, QK4, &min, &max);
	float d = (max - min) / 15, id = d ? 1.0f / d : 0.0f;
	y->d = fp32_to_fp16(d);
	y->m = fp32_to_fp16(min);
	for (int j = 0; j < QK4 / 2; j++) {
		int a = code32((x[j] - min) * id + 0.5f, 15);
		int b = code32((x[j + 16] - min) * id + 0.5f, 15);
		y->qs[j] = (uint8_t)(a | b << 4);
	}
}

/* Q5 codes (< 32) into 4-bit nibbles and the 32 high bits. */
static void pack_q5(const int *q, uint8_t qs[16], uint8_t qh[4])
{
	uint32_t h = 0;
	for (int j = 0; j < QK4 / 2; j++) {
		qs[j] = (uint8_t)((q[j] & 15) | (q[j + 16] & 15) << 4);
		h |= (uint32_t)(q[j] >> 4) << j | (uint32_t)(q[j + 16] >> 4) << (j + 16);
	}
	for (int k = 0; k < 4; k++)
		qh[k] = (uint8_t)(h >> (8 * k));
}

static void quant_q5_0(const float *x, BlockQ5_0 *y)
{
	float amax, max = signed_max(x, QK4, &amax);
	float d = max / -16, id = d ? 1.0f / d : 0.0f;
	y->d = fp32_to_fp16(d);
	int q[QK4];
	for (int j = 0; j < QK4; j++)
		q[j] = code32(x[j] * id + 16.5f, 31);
	pack_q5(q, y->qs, y->qh);
}

static void quant_q5_1(const float *x, BlockQ5_1 *y)
{
	float min, max;
	min_max(x, QK4, &min, &max);
	float d = (max - min) / 31, id = d ? 1.0f / d : 0.0f;
	y->d = fp32_to_fp16(d);
	y->m = fp32_to_fp16(min);
	int q[QK4];
	for (int j = 0; j < QK4; j++)
		q[j] = code32((x[j] - min) * id + 0.5f, 31);
	pack_q5(q, y->qs, y->qh);
}

/* --- Scale searches of the K-quants (llama.cpp's make_qkx2_quants, make_qx_quants,
 * make_q3_quants) --- */

/* Codes L (0..nmax) with a scale and a min (returned negated in *the_min) for n values,
 * weighted least error (absolute with use_mad) over nstep + 1 trial scales. */
static float search_scale_min(int n, int nmax, const float *x, const float *weights, uint8_t *L,
			      float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
			      int use_mad)
{
	float min = x[0], max = x[0], sum_w = weights[0], sum_x = sum_w * x[0];
	for (int i = 1; i < n; i++) {
		min = x[i] < min ? x[i] : min;
		max = x[i] > max ? x[i] : max;
		sum_w += weights[i];
		sum_x += weights[i] * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		*the_min = -min;
		return 0.0f;
	}
	float iscale = nmax / (max - min), scale = 1 / iscale, best_error = 0;
	for (int i = 0; i < n; i++) {
		L[i] = (uint8_t)clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
		float diff = scale * L[i] + min - x[i];
		diff = use_mad ? math_fabsf(diff) : diff * diff;
		best_error += weights[i] * diff;
	}
	for (int is = 0; is <= nstep; is++) {
		iscale = (rmin + rdelta * is + nmax) / (max - min);
		float sum_l = 0, sum_l2 = 0, sum_xl = 0;
		for (int i = 0; i < n; i++) {
			int l = clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
			Laux[i] = (uint8_t)l;
			float w = weights[i];
			sum_l += w * l;
			sum_l2 += w * l * l;
			sum_xl += w * l * x[i];
		}
		float D = sum_w * sum_l2 - sum_l * sum_l;
		if (!(D > 0))
			continue;
		float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
		float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
		if (this_min > 0) {
			this_min = 0;
			this_scale = sum_xl / sum_l2;
		}
		float cur_error = 0;
		for (int i = 0; i < n; i++) {
			float diff = this_scale * Laux[i] + this_min - x[i];
			diff = use_mad ? math_fabsf(diff) : diff * diff;
			cur_error += weights[i] * diff;
		}
		if (cur_error < best_error) {
			for (int i = 0; i < n; i++)
				L[i] = Laux[i];
			best_error = cur_error;
			scale = this_scale;
			min = this_min;
		}
	}
	*the_min = -min;
	return scale;
}

/* Signed codes L (stored + nmax, 0..2 nmax - 1) and a scale for n values, weights x^2, the
 * scale refined over 18 trial scales (make_qx_quants with rmse_type 1). */
static float search_scale_signed(int n, int nmax, const float *x, uint8_t *L)
{
	float amax, max = signed_max(x, n, &amax);
	if (amax < GROUP_MAX_EPS) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		return 0.0f;
	}
	float iscale = -nmax / max, sumlx = 0, suml2 = 0;
	for (int i = 0; i < n; i++) {
		int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
		L[i] = (uint8_t)(l + nmax);
		float w = x[i] * x[i];
		sumlx += w * x[i] * l;
		suml2 += w * l * l;
	}
	float scale = suml2 ? sumlx / suml2 : 0.0f, best = scale * sumlx;
	for (int is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = -(nmax + 0.1f * is) / max;
		sumlx = suml2 = 0;
		for (int i = 0; i < n; i++) {
			int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
			float w = x[i] * x[i];
			sumlx += w * x[i] * l;
			suml2 += w * l * l;
		}
		if (suml2 > 0 && sumlx * sumlx > best * suml2) {
			for (int i = 0; i < n; i++)
				L[i] = (uint8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax,
							       nmax - 1));
			scale = sumlx / suml2;
			best = scale * sumlx;
		}
	}
	return scale;
}

/* Q3_K's search: signed codes (-nmax..nmax - 1, stored + nmax), refined code by code while the
 * weighted fit improves (make_q3_quants with do_rmse). */
static float search_scale_q3(int n, int nmax, const float *x, uint8_t *Lout)
{
	float amax, max = signed_max(x, n, &amax);
	if (amax < GROUP_MAX_EPS) {
		for (int i = 0; i < n; i++)
			Lout[i] = 0;
		return 0.0f;
	}
	float iscale = -nmax / max, sumlx = 0, suml2 = 0;
	int L[16];
	for (int i = 0; i < n; i++) {
		L[i] = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
		float w = x[i] * x[i];
		sumlx += w * x[i] * L[i];
		suml2 += w * L[i] * L[i];
	}
	for (int itry = 0; itry < 5; itry++) {
		int changed = 0;
		for (int i = 0; i < n; i++) {
			float w = x[i] * x[i];
			float slx = sumlx - w * x[i] * L[i];
			if (!(slx > 0))
				continue;
			float sl2 = suml2 - w * L[i] * L[i];
			int nl = clampi(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
			if (nl == L[i])
				continue;
			slx += w * x[i] * nl;
			sl2 += w * nl * nl;
			if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
				L[i] = nl;
				sumlx = slx;
				suml2 = sl2;
				changed++;
			}
		}
		if (!changed)
			break;
	}
	for (int i = 0; i < n; i++)
		Lout[i] = (uint8_t)(L[i] + nmax);
	return sumlx / suml2;
}

/* 2-bit codes L (value 128 h + 32 s + l at bits 2 s of byte 32 h + l). */
static void pack_2bit(const uint8_t *L, uint8_t *qs)
{
	for (int h = 0; h < 2; h++)
		for (int l = 0; l < 32; l++)
			qs[32 * h + l] =
			    (uint8_t)(L[128 * h + l] | L[128 * h + l + 32] << 2 |
				      L[128 * h + l + 64] << 4 | L[128 * h + l + 96] << 6);
}

static void quant_q2_k(const float *x, BlockQ2_K *y)
{
	uint8_t L[QK_K], Laux[16];
	float weights[16], scales[16], mins[16], max_scale = 0, max_min = 0;
	for (int j = 0; j < 16; j++) {
		for (int l = 0; l < 16; l++)
			weights[l] = math_fabsf(x[16 * j + l]);
		scales[j] = search_scale_min(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
					     -0.5f, 0.1f, 15, 1);
		max_scale = scales[j] > max_scale ? scales[j] : max_scale;
		max_min = mins[j] > max_min ? mins[j] : max_min;
	}
	for (int j = 0; j < 16; j++)
		y->scales[j] = 0;
	y->d = y->dmin = 0;
	if (max_scale > 0) {
		float iscale = 15.0f / max_scale;
		for (int j = 0; j < 16; j++)
			y->scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
		y->d = fp32_to_fp16(max_scale / 15.0f);
	}
	if (max_min > 0) {
		float iscale = 15.0f / max_min;
		for (int j = 0; j < 16; j++)
			y->scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
		y->dmin = fp32_to_fp16(max_min / 15.0f);
	}
	for (int j = 0; j < 16; j++) {
		float d = fp16_to_fp32(y->d) * (y->scales[j] & 15);
		if (!d)
			continue;
		float dm = fp16_to_fp32(y->dmin) * (y->scales[j] >> 4);
		for (int i = 0; i < 16; i++)
			L[16 * j + i] =
			    (uint8_t)clampi(nearest_int((x[16 * j + i] + dm) / d), 0, 3);
	}
	pack_2bit(L, y->qs);
}

static void quant_q3_k(const float *x, BlockQ3_K *y)
{
	uint8_t L[QK_K];
	float scales[16], amax = 0, max_scale = 0;
	for (int j = 0; j < 16; j++) {
		scales[j] = search_scale_q3(16, 4, x + 16 * j, L + 16 * j);
		if (math_fabsf(scales[j]) > amax) {
			amax = math_fabsf(scales[j]);
			max_scale = scales[j];
		}
	}
	for (int k = 0; k < 12; k++)
		y->scales[k] = 0;
	y->d = 0;
	if (max_scale) {
		float iscale = -32.0f / max_scale;
		for (int j = 0; j < 16; j++) {
			int l = clampi(nearest_int(iscale * scales[j]), -32, 31) + 32;
			if (j < 8)
				y->scales[j] = (uint8_t)(l & 15);
			else
				y->scales[j - 8] |= (uint8_t)((l & 15) << 4);
			y->scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
		}
		y->d = fp32_to_fp16(1 / iscale);
	}
	for (int j = 0; j < 16; j++) {
		float d = fp16_to_fp32(y->d) * (float)kq_scale_q3(y->scales, j);
		if (!d)
			continue;
		for (int i = 0; i < 16; i++)
			L[16 * j + i] =
			    (uint8_t)(clampi(nearest_int(x[16 * j + i] / d), -4, 3) + 4);
	}
	for (int k = 0; k < 32; k++)
		y->hmask[k] = 0;
	for (int j = 0; j < QK_K; j++)
		if (L[j] > 3) {
			y->hmask[j % 32] |= (uint8_t)(1 << (j / 32));
			L[j] -= 4;
		}
	pack_2bit(L, y->qs);
}

/* Q4_K (nmax 15, qh NULL) and Q5_K (nmax 31): 8 groups of 32 with 6-bit scales and mins. */
static void quant_q45_k(const float *x, int nmax, uint16_t *d16, uint16_t *dmin16, uint8_t *sc12,
			uint8_t *qh, uint8_t *qs)
{
	uint8_t L[QK_K], Laux[32];
	float weights[32], scales[8], mins[8], max_scale = 0, max_min = 0;
	for (int j = 0; j < 8; j++) {
		float sum_x2 = 0;
		for (int l = 0; l < 32; l++)
			sum_x2 += x[32 * j + l] * x[32 * j + l];
		float av_x = math_sqrtf(sum_x2 / 32);
		for (int l = 0; l < 32; l++)
			weights[l] = av_x + math_fabsf(x[32 * j + l]);
		scales[j] =
		    search_scale_min(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
				     nmax == 15 ? -1.0f : -0.5f, 0.1f, nmax == 15 ? 20 : 15, 0);
		max_scale = scales[j] > max_scale ? scales[j] : max_scale;
		max_min = mins[j] > max_min ? mins[j] : max_min;
	}
	float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
	float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
	for (int j = 0; j < 8; j++) {
		int ls = nearest_int(inv_scale * scales[j]), lm = nearest_int(inv_min * mins[j]);
		ls = ls < 63 ? ls : 63;
		lm = lm < 63 ? lm : 63;
		if (j < 4) {
			sc12[j] = (uint8_t)ls;
			sc12[j + 4] = (uint8_t)lm;
		} else {
			sc12[j + 4] = (uint8_t)((ls & 15) | (lm & 15) << 4);
			sc12[j - 4] |= (uint8_t)((ls >> 4) << 6);
			sc12[j] |= (uint8_t)((lm >> 4) << 6);
		}
	}
	*d16 = fp32_to_fp16(max_scale / 63.0f);
	*dmin16 = fp32_to_fp16(max_min / 63.0f);
	for (int j = 0; j < 8; j++) {
		int32_t sc, m;
		kq_scale_min_k4(sc12, j, &sc, &m);
		float d = fp16_to_fp32(*d16) * (float)sc;
		if (!d)
			continue;
		float dm = fp16_to_fp32(*dmin16) * (float)m;
		for (int i = 0; i < 32; i++)
			L[32 * j + i] =
			    (uint8_t)clampi(nearest_int((x[32 * j + i] + dm) / d), 0, nmax);
	}
	if (qh)
		for (int l = 0; l < 32; l++)
			qh[l] = 0;
	for (int c = 0; c < 4; c++)
		for (int l = 0; l < 32; l++) {
			int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
			if (qh) {
				qh[l] |= (uint8_t)((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
				lo &= 15;
				hi &= 15;
			}
			qs[32 * c + l] = (uint8_t)(lo | hi << 4);
		}
}

static void quant_q6_k(const float *x, BlockQ6_K *y)
{
	uint8_t L[QK_K];
	float scales[16], max_scale = 0, max_abs = 0;
	for (int g = 0; g < 16; g++) {
		scales[g] = search_scale_signed(16, 32, x + 16 * g, L + 16 * g);
		if (math_fabsf(scales[g]) > max_abs) {
			max_abs = math_fabsf(scales[g]);
			max_scale = scales[g];
		}
	}
	if (max_abs < GROUP_MAX_EPS) {
		uint8_t *p = (uint8_t *)y;
		for (size_t k = 0; k < sizeof *y; k++)
			p[k] = 0;
		return;
	}
	float iscale = -128.0f / max_scale;
	y->d = fp32_to_fp16(1 / iscale);
	for (int g = 0; g < 16; g++) {
		int s = nearest_int(iscale * scales[g]);
		y->scales[g] = (int8_t)(s < 127 ? s : 127);
	}
	for (int g = 0; g < 16; g++) {
		float d = fp16_to_fp32(y->d) * y->scales[g];
		if (!d)
			continue;
		for (int i = 0; i < 16; i++)
			L[16 * g + i] =
			    (uint8_t)(clampi(nearest_int(x[16 * g + i] / d), -32, 31) + 32);
	}
	for (int h = 0; h < 2; h++)
		for (int l = 0; l < 32; l++) {
			const uint8_t *q = L + 128 * h + l;
			y->ql[64 * h + l] = (uint8_t)((q[0] & 15) | (q[64] & 15) << 4);
			y->ql[64 * h + l + 32] = (uint8_t)((q[32] & 15) | (q[96] & 15) << 4);
			y->qh[32 * h + l] = (uint8_t)(q[0] >> 4 | (q[32] >> 4) << 2 |
						      (q[64] >> 4) << 4 | (q[96] >> 4) << 6);
		}
}

void kquant_quantize_row(DType t, const float *x, void *row, int n)
{
	int nb = n / kquant_block(t);
	for (int b = 0; b < nb; b++) {
		const float *xb = x + (size_t)b * (size_t)kquant_block(t);
		switch (t) {
		case DT_Q4_0:
			quant_q4_0(xb, (BlockQ4_0 *)row + b);
			break;
		case DT_Q4_1:
			quant_q4_1(xb, (BlockQ4_1 *)row + b);
			break;
		case DT_Q5_0:
			quant_q5_0(xb, (BlockQ5_0 *)row + b);
			break;
		case DT_Q5_1:
			quant_q5_1(xb, (BlockQ5_1 *)row + b);
			break;
		case DT_Q2_K:
			quant_q2_k(xb, (BlockQ2_K *)row + b);
			break;
		case DT_Q3_K:
			quant_q3_k(xb, (BlockQ3_K *)row + b);
			break;
		case DT_Q4_K: {
			BlockQ4_K *y = (BlockQ4_K *)row + b;
			quant_q45_k(xb, 15, &y->d, &y->dmin, y->scales, NULL, y->qs);
			break;
		}
		case DT_Q5_K: {
			BlockQ5_K *y = (BlockQ5_K *)row + b;
			quant_q45_k(xb, 31, &y->d, &y->dmin, y->scales, y->qh, y->qs);
			break;
		}
		case DT_Q6_K:
			quant_q6_k(xb, (BlockQ6_K *)row + b);
			break;
		default:
			return;
		}
	}
}
