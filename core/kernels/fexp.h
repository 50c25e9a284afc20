/* fexp.h: e^x in float (Cephes' expf), as one scalar function and AVX-512 (16 lanes) and AVX2
 * (8 lanes) functions that give each lane the scalar's bits: the same constants, steps, order. */
#ifndef FEXP_H
#define FEXP_H

#include <stdint.h>

#include "core/kernels/isa.h"

/* x = k ln2 + r, ln2 split in two so that k ln2 is exact enough; e^r by a degree-7 polynomial;
 * times 2^k in two exact steps below k = -100, so that subnormal results round once. Within 2
 * ulp. math_expf (a Taylor series in double with a division per term) cost ~120 cycles, ~9 % of
 * a token in SwiGLU; this one is plain float arithmetic. */
#define FEXP_HI 88.72283935546875f /* above: +inf */
#define FEXP_LO -103.972084045410f /* below: 0 */
#define FEXP_LOG2E 1.44269504088896341f
#define FEXP_LN2_HI 0.693359375f
#define FEXP_LN2_LO -2.12194440e-4f
#define FEXP_P0 1.9875691500e-4f
#define FEXP_P1 1.3981999507e-3f
#define FEXP_P2 8.3334519073e-3f
#define FEXP_P3 4.1665795894e-2f
#define FEXP_P4 1.6666665459e-1f
#define FEXP_P5 5.0000001201e-1f
#define FEXP_TWO_M100 7.88860905e-31f /* 2^-100 */

static inline float fexp(float x)
{
	if (x != x)
		return x; /* NaN: no float-to-int cast below */
	if (x > FEXP_HI)
		return 1.0f / 0.0f;
	if (x < FEXP_LO)
		return 0.0f;
	float kf = x * FEXP_LOG2E;
	int k = (int)(kf < 0 ? kf - 0.5f : kf + 0.5f);
	float r = x - (float)k * FEXP_LN2_HI;
	r = r - (float)k * FEXP_LN2_LO;
	float p = FEXP_P0;
	p = p * r + FEXP_P1;
	p = p * r + FEXP_P2;
	p = p * r + FEXP_P3;
	p = p * r + FEXP_P4;
	p = p * r + FEXP_P5;
	p = p * (r * r) + r + 1.0f;
	int k1 = k < -100 ? k + 100 : k;
	union {
		uint32_t u;
		float f;
	} s1 = {.u = (uint32_t)(k1 + 127) << 23};
	p *= s1.f;
	if (k1 != k)
		p *= FEXP_TWO_M100;
	return p;
}

#include <immintrin.h>

/* fexp on 16 lanes. Multiply then add, never fused: the scalar's rounding at every step. */
ISA_TARGET_AVX512 static inline __m512 fexp16(__m512 x)
{
	__m512 kf = _mm512_mul_ps(x, _mm512_set1_ps(FEXP_LOG2E));
	__mmask16 neg = _mm512_cmp_ps_mask(kf, _mm512_setzero_ps(), _CMP_LT_OQ);
	__m512 half = _mm512_mask_blend_ps(neg, _mm512_set1_ps(0.5f), _mm512_set1_ps(-0.5f));
	/* in range |kf| < 2^31: the out-of-range lanes are replaced below */
	__mmask16 in = _mm512_cmp_ps_mask(x, _mm512_set1_ps(FEXP_HI), _CMP_LE_OQ) &
		       _mm512_cmp_ps_mask(x, _mm512_set1_ps(FEXP_LO), _CMP_GE_OQ);
	__m512i k = _mm512_maskz_cvttps_epi32(in, _mm512_add_ps(kf, half));
	__m512 fk = _mm512_cvtepi32_ps(k);
	__m512 r = _mm512_sub_ps(x, _mm512_mul_ps(fk, _mm512_set1_ps(FEXP_LN2_HI)));
	r = _mm512_sub_ps(r, _mm512_mul_ps(fk, _mm512_set1_ps(FEXP_LN2_LO)));
	__m512 p = _mm512_set1_ps(FEXP_P0);
	p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(FEXP_P1));
	p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(FEXP_P2));
	p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(FEXP_P3));
	p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(FEXP_P4));
	p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(FEXP_P5));
	p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r),
			  _mm512_set1_ps(1.0f));
	__mmask16 low = _mm512_cmp_epi32_mask(k, _mm512_set1_epi32(-100), _MM_CMPINT_LT);
	__m512i k1 = _mm512_mask_add_epi32(k, low, k, _mm512_set1_epi32(100));
	__m512 s1 = _mm512_castsi512_ps(
	    _mm512_slli_epi32(_mm512_add_epi32(k1, _mm512_set1_epi32(127)), 23));
	p = _mm512_mul_ps(p, s1);
	p = _mm512_mask_mul_ps(p, low, p, _mm512_set1_ps(FEXP_TWO_M100));
	/* NaN stays NaN (x), above the range +inf, below it 0 */
	__mmask16 hi = _mm512_cmp_ps_mask(x, _mm512_set1_ps(FEXP_HI), _CMP_GT_OQ);
	__mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
	p = _mm512_maskz_mov_ps(in | hi | nan, p);
	p = _mm512_mask_mov_ps(p, hi, _mm512_set1_ps(1.0f / 0.0f));
	return _mm512_mask_mov_ps(p, nan, x);
}

/* fexp on 8 lanes with AVX2: the same steps, masks as all-ones lanes and blends. */
ISA_TARGET_AVX2 static inline __m256 fexp8(__m256 x)
{
	__m256 kf = _mm256_mul_ps(x, _mm256_set1_ps(FEXP_LOG2E));
	__m256 neg = _mm256_cmp_ps(kf, _mm256_setzero_ps(), _CMP_LT_OQ);
	__m256 half = _mm256_blendv_ps(_mm256_set1_ps(0.5f), _mm256_set1_ps(-0.5f), neg);
	__m256 in = _mm256_and_ps(_mm256_cmp_ps(x, _mm256_set1_ps(FEXP_HI), _CMP_LE_OQ),
				  _mm256_cmp_ps(x, _mm256_set1_ps(FEXP_LO), _CMP_GE_OQ));
	/* out-of-range lanes convert 0 (replaced below) */
	__m256i k = _mm256_cvttps_epi32(_mm256_and_ps(_mm256_add_ps(kf, half), in));
	__m256 fk = _mm256_cvtepi32_ps(k);
	__m256 r = _mm256_sub_ps(x, _mm256_mul_ps(fk, _mm256_set1_ps(FEXP_LN2_HI)));
	r = _mm256_sub_ps(r, _mm256_mul_ps(fk, _mm256_set1_ps(FEXP_LN2_LO)));
	__m256 p = _mm256_set1_ps(FEXP_P0);
	p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(FEXP_P1));
	p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(FEXP_P2));
	p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(FEXP_P3));
	p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(FEXP_P4));
	p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(FEXP_P5));
	p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r),
			  _mm256_set1_ps(1.0f));
	__m256i low = _mm256_cmpgt_epi32(_mm256_set1_epi32(-100), k);
	__m256i k1 = _mm256_add_epi32(k, _mm256_and_si256(low, _mm256_set1_epi32(100)));
	__m256 s1 = _mm256_castsi256_ps(
	    _mm256_slli_epi32(_mm256_add_epi32(k1, _mm256_set1_epi32(127)), 23));
	p = _mm256_mul_ps(p, s1);
	p = _mm256_blendv_ps(p, _mm256_mul_ps(p, _mm256_set1_ps(FEXP_TWO_M100)),
			     _mm256_castsi256_ps(low));
	__m256 hi = _mm256_cmp_ps(x, _mm256_set1_ps(FEXP_HI), _CMP_GT_OQ);
	__m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
	p = _mm256_and_ps(p, _mm256_or_ps(in, _mm256_or_ps(hi, nan)));
	p = _mm256_blendv_ps(p, _mm256_set1_ps(1.0f / 0.0f), hi);
	return _mm256_blendv_ps(p, x, nan);
}

#endif
