/* quant_avx2.c: the AVX2 dot kernels of matmul (Q8_0, int8, F32, F16), bit-identical to the
 * scalar references in quant.c: exact int32 block sums, then quant_kernels.h's float order. */
#include <immintrin.h>

#include "core/kernels/quant_kernels.h"

/* How far ahead of the Q8_0 weights being read the kernel prefetches, in bytes. */
#define QDOT_PREFETCH 8192

#define AVX2 __attribute__((target("avx2,f16c")))

/* The 8 fp16 block scales of w[0..7], 34 bytes apart, as floats. */
AVX2 static inline __m256 q8_scales(const BlockQ8_0 *w)
{
	/* 8 scalar loads beat vpgatherdd on AMD (a gather is microcoded there) */
	__m128i h = _mm_cvtsi32_si128(w[0].d);
	h = _mm_insert_epi16(h, w[1].d, 1);
	h = _mm_insert_epi16(h, w[2].d, 2);
	h = _mm_insert_epi16(h, w[3].d, 3);
	h = _mm_insert_epi16(h, w[4].d, 4);
	h = _mm_insert_epi16(h, w[5].d, 5);
	h = _mm_insert_epi16(h, w[6].d, 6);
	h = _mm_insert_epi16(h, w[7].d, 7);
	return _mm256_cvtph_ps(h); /* exact: every fp16 is a float */
}

/* 8 int32 partial sums of one Q8_0 block: maddubs wants unsigned * signed, so |w| times x
 * with w's sign (|w| <= 128 and |x| <= 127 keep the pairs inside int16). */
AVX2 static inline __m256i q8_block(const int8_t *w, const int8_t *x)
{
	__m256i vw = _mm256_loadu_si256((const __m256i *)(const void *)w);
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	__m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(vw), _mm256_sign_epi8(vx, vw));
	return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

AVX2 float qdot_q8_avx2(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
			int nb)
{
	(void)xsum;
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + QDOT_LANES <= nb; b += QDOT_LANES) {
		/* see quant_avx512.c: one thread streams faster with lines requested ahead */
		const char *ahead = (const char *)(const void *)(w + b) + QDOT_PREFETCH;
		for (int k = 0; k < (int)(8 * sizeof(BlockQ8_0)); k += 64)
			_mm_prefetch(ahead + k, _MM_HINT_T0);
		__m256i v[8];
/* unrolled, so that v[] stays in registers */
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++)
			v[j] = q8_block(w[b + j].qs, xq + (b + j) * QK8_0);
		__m256 scale = _mm256_mul_ps(q8_scales(w + b), _mm256_loadu_ps(xd + b));
		__m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(reduce8(v)), scale);
		acc = _mm256_add_ps(acc, term);
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++) /* b % 8 == its lane: the tail continues the same partials */
		a[b % QDOT_LANES] += (float)qdot_block_i32(w[b].qs, xq + b * QK8_0, QK8_0) *
				     (fp16_to_fp32(w[b].d) * xd[b]);
	return qdot_tree(a);
}

AVX2 void qdot_q8_batch_avx2(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
			     const int32_t *xsum, int nb, int ntok, float *y, size_t y_stride)
{
	for (int t = 0; t < ntok; t++)
		y[(size_t)t * y_stride] =
		    qdot_q8_avx2(w, xq + (size_t)t * (size_t)nb * QK8_0,
				 xd + (size_t)t * (size_t)nb, xsum + (size_t)t * (size_t)nb, nb);
}

/* 8 int32 partial sums of 32 int8 products, widened to int16 first: per-tensor weights span
 * [-128, 127] and the zero point is applied later, so maddubs' int16 pairs could overflow. */
AVX2 static inline __m256i i8_chunk(const int8_t *w, const int8_t *x)
{
	__m128i w0 = _mm_loadu_si128((const __m128i *)(const void *)w);
	__m128i w1 = _mm_loadu_si128((const __m128i *)(const void *)(w + 16));
	__m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)x);
	__m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(x + 16));
	__m256i p0 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(w0), _mm256_cvtepi8_epi16(x0));
	__m256i p1 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(w1), _mm256_cvtepi8_epi16(x1));
	return _mm256_add_epi32(p0, p1);
}

AVX2 float qdot_i8_avx2(const int8_t *w, const float *ws, float wscale, int32_t zp,
			const int8_t *xq, const float *xd, const int32_t *xsum, int n, int B)
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

/* round_half_away on 8 floats of magnitude < 2^23, as quant.c computes it: truncate the
 * magnitude, add 1 when the dropped fraction is >= 0.5, put the sign back. */
AVX2 static inline __m256i round_away_i32(__m256 v)
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

AVX2 void quant_act_q8_avx2(const float *x, int n, int8_t *q, float *scales, int32_t *sums)
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
		__m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
		m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
		m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
		float amax = _mm_cvtss_f32(m4);
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

AVX2 float fdot_f32_avx2(const float *w, const float *x, int n)
{
	__m256 a[8]; /* lanes 8 i .. 8 i + 7 of the 64 partials */
	for (int i = 0; i < 8; i++)
		a[i] = _mm256_setzero_ps();
	int k = 0;
	for (; k + FDOT_F32_LANES <= n; k += FDOT_F32_LANES)
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++)
			a[i] = _mm256_add_ps(a[i], _mm256_mul_ps(_mm256_loadu_ps(w + k + 8 * i),
								 _mm256_loadu_ps(x + k + 8 * i)));
	float p[FDOT_F32_LANES];
	for (int i = 0; i < 8; i++)
		_mm256_storeu_ps(p + 8 * i, a[i]);
	return fdot_f32_finish(p, k, w, x, n);
}

AVX2 float fdot_f16_avx2(const uint16_t *w, const uint16_t *x, int n)
{
	__m256d a[8]; /* lanes 4 i .. 4 i + 3 of the 32 partials */
	for (int i = 0; i < 8; i++)
		a[i] = _mm256_setzero_pd();
	int k = 0;
	for (; k + FDOT_F16_LANES <= n; k += FDOT_F16_LANES)
#pragma GCC unroll 4
		for (int i = 0; i < 4; i++) {
			__m256 pw = _mm256_cvtph_ps(
			    _mm_loadu_si128((const __m128i *)(const void *)(w + k + 8 * i)));
			__m256 px = _mm256_cvtph_ps(
			    _mm_loadu_si128((const __m128i *)(const void *)(x + k + 8 * i)));
			__m256 prod = _mm256_mul_ps(pw, px); /* exact */
			a[2 * i] =
			    _mm256_add_pd(a[2 * i], _mm256_cvtps_pd(_mm256_castps256_ps128(prod)));
			a[2 * i + 1] = _mm256_add_pd(
			    a[2 * i + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(prod, 1)));
		}
	double p[FDOT_F16_LANES];
	for (int i = 0; i < 8; i++)
		_mm256_storeu_pd(p + 4 * i, a[i]);
	return fdot_f16_finish(p, k, w, x, n);
}
