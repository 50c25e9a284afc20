/* quant_act.c: activations quantized for the dot kernels: Q8_0 blocks (the scalar reference and
 * the AVX2 version, byte for byte the same), int8 blocks of any size, fp16 (the same two), and the
 * K-quant family's Q8_1 (scalar) and Q8_K (the scalar reference and the AVX2 version). */
#include <float.h>
#include <immintrin.h>

#include "core/kernels/dot.h"
#include "core/kernels/kquant.h"
#include "core/kernels/quantize.h"

/* Activations in blocks of B values: int8 with a float scale each (llama2.c runq's rule),
 * plus each block's integer sum. */
void quant_act_i8_ref(const float *x, int n, int B, int8_t *q, float *scales, int32_t *sums)
{
	for (int k0 = 0, b = 0; k0 < n; k0 += B, b++) {
		int k1 = k0 + B < n ? k0 + B : n;
		float s = block_amax(x + k0, k1 - k0) / 127.0f;
		scales[b] = s;
		int32_t sum = 0;
		for (int k = k0; k < k1; k++) {
			q[k] = s ? quant_i8(round_half_away(x[k] / s)) : 0;
			sum += q[k];
		}
		sums[b] = sum;
	}
}

/* Q8_0 activations, the same values as quantize_row_q8_0 gives (scale rounded to fp16, values
 * from the unrounded scale), unpacked into values, float scales and block sums. */
void quant_act_q8_ref(const float *x, int n, int8_t *q, float *scales, int32_t *sums)
{
	for (int b = 0; b < n / QK8_0; b++) {
		const float *xb = x + b * QK8_0;
		float d = block_amax(xb, QK8_0) / 127.0f;
		float id = d ? 1.0f / d : 0.0f;
		scales[b] = fp16_to_fp32(fp32_to_fp16(d));
		int32_t sum = 0;
		for (int j = 0; j < QK8_0; j++) {
			q[b * QK8_0 + j] = quant_i8(round_half_away(xb[j] * id));
			sum += q[b * QK8_0 + j];
		}
		sums[b] = sum;
	}
}

void quant_act_f16_ref(const float *x, int n, uint16_t *out, float *outf)
{
	for (int k = 0; k < n; k++) {
		out[k] = fp32_to_fp16(x[k]);
		if (outf)
			outf[k] = fp16_to_fp32(out[k]);
	}
}

/* F16C's conversions, nearest even (the reference's rounding, NaN and subnormals alike). */
ISA_TARGET_AVX2 void quant_act_f16_avx2(const float *x, int n, uint16_t *out, float *outf)
{
	int k = 0;
	for (; k + 8 <= n; k += 8) {
		__m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + k), _MM_FROUND_TO_NEAREST_INT);
		_mm_storeu_si128((__m128i *)(void *)(out + k), h);
		if (outf)
			_mm256_storeu_ps(outf + k, _mm256_cvtph_ps(h));
	}
	quant_act_f16_ref(x + k, n - k, out + k, outf ? outf + k : NULL);
}

/* --- The K-quant family's activations (scalar): Q8_1 and Q8_K --- */

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

/* One super-block of Q8_K activations (quant_act_q8_k). */
static void q8_k_block(const float *xb, int8_t *qb, float *d, int32_t *bsum)
{
	float amax = 0, max = 0;
	for (int j = 0; j < QK_K; j++)
		if (math_fabsf(xb[j]) > amax) {
			amax = math_fabsf(xb[j]);
			max = xb[j];
		}
	if (amax == 0) {
		*d = 0;
		for (int j = 0; j < QK_K; j++)
			qb[j] = 0;
		for (int g = 0; g < QK_K / 16; g++)
			bsum[g] = 0;
		return;
	}
	float iscale = -127.0f / max;
	for (int j = 0; j < QK_K; j++)
		qb[j] = clamp_i8(round_half_even(iscale * xb[j]));
	for (int g = 0; g < QK_K / 16; g++) {
		int32_t s = 0;
		for (int j = 0; j < 16; j++)
			s += qb[g * 16 + j];
		bsum[g] = s;
	}
	*d = 1.0f / iscale;
}

void quant_act_q8_k(const float *x, int n, int8_t *q, float *d, int32_t *bsum)
{
	for (int b = 0; b < n / QK_K; b++)
		q8_k_block(x + b * QK_K, q + b * QK_K, &d[b], bsum + b * (QK_K / 16));
}

/* The largest of 8 floats (maxps: exact, in any order). */
ISA_TARGET_AVX2 static inline float hmax8(__m256 m)
{
	__m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
	m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
	return _mm_cvtss_f32(_mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1)));
}

/* AVX2, the same bytes: the largest magnitude by maxps (exact), the first value that has it by a
 * compare; then every |iscale x| <= 127 (|x| <= |max|), so vcvtps2dq's round-half-even needs no
 * clamp. A super-block holding NaN or infinity takes the scalar loop (its clamp and its NaN
 * rule). */
ISA_TARGET_AVX2 void quant_act_q8_k_avx2(const float *x, int n, int8_t *q, float *d, int32_t *bsum)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	for (int b = 0; b < n / QK_K; b++) {
		const float *xb = x + b * QK_K;
		int8_t *qb = q + b * QK_K;
		__m256 m = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
		for (int j = 0; j < QK_K; j += 8) {
			__m256 a = _mm256_and_ps(_mm256_loadu_ps(xb + j), absmask);
			m = _mm256_max_ps(a, m);
			bad = _mm256_or_ps(bad,
					   _mm256_cmp_ps(a, _mm256_set1_ps(FLT_MAX), _CMP_NLE_UQ));
		}
		float amax = hmax8(m);
		if (_mm256_movemask_ps(bad) || amax == 0) {
			q8_k_block(xb, qb, &d[b], bsum + b * (QK_K / 16));
			continue;
		}
		float max = 0;
		for (int j = 0; j < QK_K; j += 8) {
			int hit = _mm256_movemask_ps(
			    _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(xb + j), absmask),
					  _mm256_set1_ps(amax), _CMP_EQ_OQ));
			if (hit) {
				max = xb[j + __builtin_ctz((unsigned)hit)];
				break;
			}
		}
		float iscale = -127.0f / max;
		__m256 vs = _mm256_set1_ps(iscale);
		__m256i g8[8];
		for (int k = 0; k < QK_K / 32; k++) {
			__m256i i[4];
			for (int l = 0; l < 4; l++)
				i[l] = _mm256_cvtps_epi32(
				    _mm256_mul_ps(vs, _mm256_loadu_ps(xb + 32 * k + 8 * l)));
			/* int32 -> int8 keeping the order: the packs work per 128-bit half */
			__m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]),
						       _mm256_packs_epi32(i[2], i[3]));
			p = _mm256_permutevar8x32_epi32(p,
							_mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
			_mm256_storeu_si256((__m256i *)(void *)(qb + 32 * k), p);
			/* groups 2k and 2k + 1 (16 values each) as 8 partial sums */
			g8[(2 * k) % 8] = _mm256_add_epi32(i[0], i[1]);
			g8[(2 * k + 1) % 8] = _mm256_add_epi32(i[2], i[3]);
			if (k % 4 == 3)
				_mm256_storeu_si256(
				    (__m256i *)(void *)(bsum + b * (QK_K / 16) + 8 * (k / 4)),
				    reduce8(g8));
		}
		d[b] = 1.0f / iscale;
	}
}

/* round_half_away on 8 floats of magnitude < 2^23, as quantize.c computes it: truncate the
 * magnitude, add 1 when the dropped fraction is >= 0.5, put the sign back. */
ISA_TARGET_AVX2 static inline __m256i round_away_i32(__m256 v)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 a = _mm256_andnot_ps(sign, v);
	__m256 t = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	__m256 up =
	    _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(a, t), _mm256_set1_ps(0.5f), _CMP_GE_OQ),
			  _mm256_set1_ps(1.0f));
	__m256 r = _mm256_or_ps(_mm256_add_ps(t, up), _mm256_and_ps(v, sign));
	return _mm256_cvttps_epi32(r);
}

ISA_TARGET_AVX2 void quant_act_q8_avx2(const float *x, int n, int8_t *q, float *scales,
				       int32_t *sums)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	for (int b = 0; b < n / QK8_0; b++) {
		const float *xb = x + b * QK8_0;
		__m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
		__m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
		/* the largest magnitude: max is exact, so any order gives the scalar loop's; the
		 * running max is maxps' second operand, which it returns when the first is NaN:
		 * NaN inputs are skipped, as the scalar loop's ">" skips them */
		__m256 m = _mm256_max_ps(_mm256_and_ps(v0, absmask), _mm256_setzero_ps());
		m = _mm256_max_ps(_mm256_and_ps(v1, absmask), m);
		m = _mm256_max_ps(_mm256_and_ps(v2, absmask), m);
		m = _mm256_max_ps(_mm256_and_ps(v3, absmask), m);
		float amax = hmax8(m);
		float d = amax / 127.0f;
		float id = d ? 1.0f / d : 0.0f;
		/* F16C rounds to nearest even, as fp32_to_fp16 */
		scales[b] = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
		__m256 vid = _mm256_set1_ps(id);
		__m256i i0 = round_away_i32(_mm256_mul_ps(v0, vid));
		__m256i i1 = round_away_i32(_mm256_mul_ps(v1, vid));
		__m256i i2 = round_away_i32(_mm256_mul_ps(v2, vid));
		__m256i i3 = round_away_i32(_mm256_mul_ps(v3, vid));
		/* NaN lanes came out as INT_MIN: the sums count them as -128, as the packs do */
		const __m256i lo = _mm256_set1_epi32(-128);
		__m256i s = _mm256_add_epi32(
		    _mm256_add_epi32(_mm256_max_epi32(i0, lo), _mm256_max_epi32(i1, lo)),
		    _mm256_add_epi32(_mm256_max_epi32(i2, lo), _mm256_max_epi32(i3, lo)));
		__m128i s4 =
		    _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
		sums[b] = _mm_cvtsi128_si32(s4);
		/* int32 -> int8 keeping the order: the packs work per 128-bit half */
		__m256i p01 = _mm256_packs_epi32(i0, i1), p23 = _mm256_packs_epi32(i2, i3);
		__m256i p = _mm256_packs_epi16(p01, p23);
		p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
		_mm256_storeu_si256((__m256i *)(void *)(q + b * QK8_0), p);
	}
}
