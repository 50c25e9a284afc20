/* quant_avx512.c: the AVX-512 VNNI dot kernels of matmul (Q8_0 and int8), bit-identical to
 * the scalar references in quant.c: exact int32 block sums, then quant_kernels.h's float order. */
#include <immintrin.h>

#include "quant_kernels.h"

/* How far ahead of the Q8_0 weights being read the kernel prefetches, in bytes (8 KB measured
 * best of 0.5-8 KB on the EPYC: about +15% of matmul GB/s on one thread). */
#ifndef QDOT_PREFETCH
#define QDOT_PREFETCH 8192
#endif

#define AVX512 __attribute__((target("avx2,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

/* The 8 fp16 scales of w[0..7] as floats. Block j's d is 16-bit word 17 j of the group (34
 * bytes a block), so two word permutes over four 64-byte loads (of bytes the kernel reads
 * anyway) collect them; vcvtph2ps converts exactly. Scalar loads or vpgatherdd cost 2-4 times
 * as many uops, which showed at 8 blocks per scale vector. */
AVX512 static inline __m256 q8_scales(const BlockQ8_0 *w)
{
	const uint8_t *p = (const uint8_t *)(const void *)w;
	/* words 0, 17, 34, 51 twice (16-bit pairs packed into 32-bit lanes) */
	const __m512i idx = _mm512_setr_epi32(0x00110000, 0x00330022, 0x00110000, 0x00330022, 0, 0,
					      0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	__m512i lo =
	    _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 64));
	__m512i hi = _mm512_permutex2var_epi16(_mm512_loadu_si512(p + 136), idx,
					       _mm512_loadu_si512(p + 200));
	__m512i h = _mm512_mask_blend_epi16(0xf0, lo, hi);
	return _mm256_cvtph_ps(_mm512_castsi512_si128(h));
}

/* vpdpbusd multiplies unsigned by signed bytes: w + 128 (w xor 0x80) is unsigned, and
 * sum (w + 128) x = sum w x + 128 sum x, so the block sum of x (xsum) takes the offset back. */
AVX512 static inline __m256i offset_dot(__m256i acc, const int8_t *w, const int8_t *x)
{
	__m256i vw = _mm256_loadu_si256((const __m256i *)(const void *)w);
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	return _mm256_dpbusd_epi32(acc, _mm256_xor_si256(vw, _mm256_set1_epi8((char)0x80)), vx);
}

AVX512 float qdot_q8_avx512(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
			    const int32_t *xsum, int nb)
{
	__m256 acc = _mm256_setzero_ps();
	int b = 0;
	for (; b + QDOT_LANES <= nb; b += QDOT_LANES) {
		/* one thread streams faster with the lines QDOT_PREFETCH bytes ahead requested
		 * now: the hardware prefetcher alone left ~20% of the read bandwidth unused */
		const char *ahead = (const char *)(const void *)(w + b) + QDOT_PREFETCH;
		for (int k = 0; k < (int)(8 * sizeof(BlockQ8_0)); k += 64)
			_mm_prefetch(ahead + k, _MM_HINT_T0);
		__m256i v[8];
/* unrolled, so that v[] stays in registers */
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++)
			v[j] =
			    offset_dot(_mm256_setzero_si256(), w[b + j].qs, xq + (b + j) * QK8_0);
		__m256i off = _mm256_slli_epi32(
		    _mm256_loadu_si256((const __m256i *)(const void *)(xsum + b)), 7);
		__m256i isum = _mm256_sub_epi32(reduce8(v), off);
		__m256 scale = _mm256_mul_ps(q8_scales(w + b), _mm256_loadu_ps(xd + b));
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));
	}
	float a[QDOT_LANES];
	_mm256_storeu_ps(a, acc);
	for (; b < nb; b++) /* b % 8 == its lane: the tail continues the same partials */
		a[b % QDOT_LANES] += (float)qdot_block_i32(w[b].qs, xq + b * QK8_0, QK8_0) *
				     (fp16_to_fp32(w[b].d) * xd[b]);
	return qdot_tree(a);
}

/* One 8-block group of token t: the steps of qdot_q8_avx512's loop on the shared weights. */
#define Q8_BATCH_TOKEN(acc, t)                                                                     \
	do {                                                                                       \
		const int8_t *xt = xq + (size_t)(t0 + (t)) * xstride + (size_t)b * QK8_0;          \
		__m256i v[8];                                                                      \
		_Pragma("GCC unroll 8") for (int k = 0; k < 8; k++) v[k] = _mm256_dpbusd_epi32(    \
		    _mm256_setzero_si256(), u[k],                                                  \
		    _mm256_loadu_si256((const __m256i *)(const void *)(xt + k * QK8_0)));          \
		const int32_t *st = xsum + (size_t)(t0 + (t)) * (size_t)nb + b;                    \
		__m256i off =                                                                      \
		    _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(const void *)st), 7);   \
		__m256i isum = _mm256_sub_epi32(reduce8(v), off);                                  \
		__m256 scale =                                                                     \
		    _mm256_mul_ps(dw, _mm256_loadu_ps(xd + (size_t)(t0 + (t)) * (size_t)nb + b));  \
		(acc) = _mm256_add_ps((acc), _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));      \
	} while (0)

AVX512 void qdot_q8_batch_avx512(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
				 const int32_t *xsum, int nb, int ntok, float *y, size_t y_stride)
{
	size_t xstride = (size_t)nb * QK8_0;
	int t0 = 0;
	if (nb % 8 == 0) {
		/* 4 tokens at a time share each weight load, its xor and its scales */
		const __m256i flip = _mm256_set1_epi8((char)0x80);
		for (; t0 + 4 <= ntok; t0 += 4) {
			__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
			for (int b = 0; b < nb; b += 8) {
				__m256i u[8];
#pragma GCC unroll 8
				for (int k = 0; k < 8; k++)
					u[k] = _mm256_xor_si256(
					    _mm256_loadu_si256(
						(const __m256i *)(const void *)w[b + k].qs),
					    flip);
				__m256 dw = q8_scales(w + b);
				Q8_BATCH_TOKEN(a0, 0);
				Q8_BATCH_TOKEN(a1, 1);
				Q8_BATCH_TOKEN(a2, 2);
				Q8_BATCH_TOKEN(a3, 3);
			}
			__m256 acc[4] = {a0, a1, a2, a3};
			for (int t = 0; t < 4; t++) {
				float a[QDOT_LANES];
				_mm256_storeu_ps(a, acc[t]);
				y[(size_t)(t0 + t) * y_stride] = qdot_tree(a);
			}
		}
	}
	for (; t0 < ntok; t0++) /* the rest one by one */
		y[(size_t)t0 * y_stride] =
		    qdot_q8_avx512(w, xq + (size_t)t0 * xstride, xd + (size_t)t0 * (size_t)nb,
				   xsum + (size_t)t0 * (size_t)nb, nb);
}

/* Block b + j of the row against the 8 transposed tokens, into partial sum acc (= a[j]). */
#define X8T_STEP(acc, j)                                                                           \
	do {                                                                                       \
		const BlockQ8_0 *wb = w + b + (j);                                                 \
		const int8_t *xb = xt + (size_t)(b + (j)) * 256;                                   \
		_mm256_store_si256(                                                                \
		    (__m256i *)(void *)ub,                                                         \
		    _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)wb->qs),    \
				     flip));                                                       \
		__m256i isum = _mm256_loadu_si256(                                                 \
		    (const __m256i *)(const void *)(xst + (size_t)(b + (j)) * 8));                 \
		_Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) isum = _mm256_dpbusd_epi32(    \
		    isum, _mm256_set1_epi32(ub[i]),                                                \
		    _mm256_loadu_si256((const __m256i *)(const void *)(xb + i * 32)));             \
		__m256 scale = _mm256_mul_ps(_mm256_cvtph_ps(_mm_set1_epi16((short)wb->d)),        \
					     _mm256_loadu_ps(xdt + (size_t)(b + (j)) * 8));        \
		(acc) = _mm256_add_ps((acc), _mm256_mul_ps(_mm256_cvtepi32_ps(isum), scale));      \
	} while (0)

AVX512 void qdot_q8_x8t_avx512(const BlockQ8_0 *w, int nb, const int8_t *xt, const float *xdt,
			       const int32_t *xst, float *y, size_t y_stride)
{
	const __m256i flip = _mm256_set1_epi8((char)0x80);
	int32_t ub[8] __attribute__((aligned(32))); /* the block's 8 lanes as w + 128 */
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
	       a7 = a0;
	/* lane t of a[j] is token t's partial sum acc[j]: the one-token kernel's order */
	for (int b = 0; b < nb; b += 8) {
		X8T_STEP(a0, 0);
		X8T_STEP(a1, 1);
		X8T_STEP(a2, 2);
		X8T_STEP(a3, 3);
		X8T_STEP(a4, 4);
		X8T_STEP(a5, 5);
		X8T_STEP(a6, 6);
		X8T_STEP(a7, 7);
	}
	/* qdot_tree on every token at once */
	__m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a4), _mm256_add_ps(a2, a6)),
				 _mm256_add_ps(_mm256_add_ps(a1, a5), _mm256_add_ps(a3, a7)));
	float out[8];
	_mm256_storeu_ps(out, v);
	for (int t = 0; t < 8; t++)
		y[(size_t)t * y_stride] = out[t];
}

AVX512 float qdot_i8_avx512(const int8_t *w, const float *ws, float wscale, int32_t zp,
			    const int8_t *xq, const float *xd, const int32_t *xsum, int n, int B)
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
