/* dot_int8.c: rows of the seed's int8 weights (zero point, per-tensor or per-group scales)
 * against int8 activations: the scalar reference (dot.h's order) and the AVX2 and AVX-512 VNNI
 * versions that give its bits. */
#include <immintrin.h>

#include "core/kernels/dot.h"

/* --- Scalar reference --- */

float qdot_i8_ref(const int8_t *w, const float *ws, float wscale, int32_t zp, const int8_t *xq,
		  const float *xd, const int32_t *xsum, int n, int B)
{
	float acc[QDOT_LANES] = {0};
	qdot_i8_blocks(acc, 0, w, ws, wscale, zp, xq, xd, xsum, n, B);
	return qdot_tree(acc);
}

/* --- AVX2 --- */

/* 8 int32 partial sums of 32 int8 products, widened to int16 first: per-tensor weights span
 * [-128, 127] and the zero point is applied later, so maddubs' int16 pairs could overflow. */
ISA_TARGET_AVX2 static inline __m256i i8_chunk(const int8_t *w, const int8_t *x)
{
	__m128i w0 = _mm_loadu_si128((const __m128i *)(const void *)w);
	__m128i w1 = _mm_loadu_si128((const __m128i *)(const void *)(w + 16));
	__m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)x);
	__m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(x + 16));
	__m256i p0 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(w0), _mm256_cvtepi8_epi16(x0));
	__m256i p1 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(w1), _mm256_cvtepi8_epi16(x1));
	return _mm256_add_epi32(p0, p1);
}

ISA_TARGET_AVX2 float qdot_i8_avx2(const int8_t *w, const float *ws, float wscale, int32_t zp,
				   const int8_t *xq, const float *xd, const int32_t *xsum, int n,
				   int B)
{
	if (B % 32) /* small groups (llama2.c v2 files with group_size 16...) stay scalar */
		return qdot_i8_ref(w, ws, wscale, zp, xq, xd, xsum, n, B);
	int nbf = n / B; /* full blocks; a short last block goes with the tail */
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + QDOT_LANES <= nbf; b += QDOT_LANES) {
		__m256i v[8];
/* unrolled, so that v[] stays in registers */
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++) {
			const int8_t *wb = w + (size_t)(b + j) * (size_t)B;
			const int8_t *xb = xq + (size_t)(b + j) * (size_t)B;
			v[j] = i8_chunk(wb, xb);
			for (int c = 32; c < B; c += 32)
				v[j] = _mm256_add_epi32(v[j], i8_chunk(wb + c, xb + c));
		}
		__m256i zx = _mm256_mullo_epi32(
		    _mm256_set1_epi32(zp),
		    _mm256_loadu_si256((const __m256i *)(const void *)(xsum + b)));
		__m256i isum = _mm256_sub_epi32(reduce8(v), zx);
		__m256 wsv = ws ? _mm256_loadu_ps(ws + b) : _mm256_set1_ps(wscale);
		__m256 scale = _mm256_mul_ps(wsv, _mm256_loadu_ps(xd + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	qdot_i8_blocks(a, b, w, ws, wscale, zp, xq, xd, xsum, n, B);
	return qdot_tree(a);
}

/* --- AVX-512 VNNI --- */

ISA_TARGET_AVX512 float qdot_i8_avx512(const int8_t *w, const float *ws, float wscale, int32_t zp,
				       const int8_t *xq, const float *xd, const int32_t *xsum,
				       int n, int B)
{
	if (B % 32) /* small groups (llama2.c v2 files with group_size 16...) stay scalar */
		return qdot_i8_ref(w, ws, wscale, zp, xq, xd, xsum, n, B);
	int nbf = n / B;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + QDOT_LANES <= nbf; b += QDOT_LANES) {
		__m256i v[8];
/* unrolled, so that v[] stays in registers */
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++) {
			const int8_t *wb = w + (size_t)(b + j) * (size_t)B;
			const int8_t *xb = xq + (size_t)(b + j) * (size_t)B;
			v[j] = _mm256_setzero_si256();
			for (int c = 0; c < B; c += 32)
				v[j] = offset_dot(v[j], wb + c, xb + c);
		}
		/* sum x (w - zp) = sum (w + 128) x - (128 + zp) sum x */
		__m256i off = _mm256_mullo_epi32(
		    _mm256_set1_epi32(128 + zp),
		    _mm256_loadu_si256((const __m256i *)(const void *)(xsum + b)));
		__m256i isum = _mm256_sub_epi32(reduce8(v), off);
		__m256 wsv = ws ? _mm256_loadu_ps(ws + b) : _mm256_set1_ps(wscale);
		__m256 scale = _mm256_mul_ps(wsv, _mm256_loadu_ps(xd + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	qdot_i8_blocks(a, b, w, ws, wscale, zp, xq, xd, xsum, n, B);
	return qdot_tree(a);
}
