/* attention.c: causal attention of a group of queries over one KV head (attention.h): the
 * scalar reference and the ISA_TARGET_AVX2 and AVX-512 versions that give its bits. */
#include "core/kernels/attention.h"

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/base/core_assert.h"
#include "core/base/str.h"
#include "core/kernels/fexp.h"
#include "core/kernels/isa.h"
#include "core/kernels/vector.h"
#include "shim/platform.h"

/* The widest head the AVX-512 version takes (its transposed queries sit on the stack). */
#define ATTN_MAX_HEAD 256
/* Positions ahead whose key and value rows the AVX-512 version prefetches. */
#define ATTN_AHEAD 8

/* q . k over one head: 8 partial sums (value i into sum i % 8) folded as ((p0 + p4) + (p2 + p6))
 * + ((p1 + p5) + (p3 + p7)). Written with SSE2, which every x86-64 has, so the kernel and the
 * host run the same instructions; the sequential sum was ~1 cycle a product. */
static float head_dot(const float *q, const float *k, int n)
{
	__m128 lo = _mm_setzero_ps(), hi = lo; /* p0..p3, p4..p7 */
	int i = 0;
	for (; i + 8 <= n; i += 8) {
		lo = _mm_add_ps(lo, _mm_mul_ps(_mm_loadu_ps(q + i), _mm_loadu_ps(k + i)));
		hi = _mm_add_ps(hi, _mm_mul_ps(_mm_loadu_ps(q + i + 4), _mm_loadu_ps(k + i + 4)));
	}
	float p[8];
	_mm_storeu_ps(p, lo);
	_mm_storeu_ps(p + 4, hi);
	for (; i < n; i++)
		p[i % 8] += q[i] * k[i];
	return ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
}

/* xb (n) += a * v (n), element by element. */
static void head_axpy(float *xb, float a, const float *v, int n)
{
	__m128 va = _mm_set1_ps(a);
	int i = 0;
	for (; i + 4 <= n; i += 4)
		_mm_storeu_ps(
		    xb + i, _mm_add_ps(_mm_loadu_ps(xb + i), _mm_mul_ps(va, _mm_loadu_ps(v + i))));
	for (; i < n; i++)
		xb[i] += a * v[i];
}

/* Cycles from t0 to now into *sum, when the caller measures the softmax step. */
static inline void add_cycles(uint64_t *sum, uint64_t t0)
{
	if (sum)
		*sum += plat_cycles() - t0;
}

void attn_group_ref(const AttnGroup *g, float *att)
{
	CORE_ASSERT(g->nq >= 1 && g->nq <= ATTN_LANES && g->head_size > 0);
	int hs = g->head_size;
	for (int i = 0; i < g->nq; i++) {
		for (int t = 0; t <= g->last[i]; t++)
			att[t] = head_dot(g->q[i], g->keys + (size_t)t * g->stride, hs) / g->scale;
		uint64_t t0 = g->softmax_cycles ? plat_cycles() : 0;
		softmax_ref(att, g->last[i] + 1);
		add_cycles(g->softmax_cycles, t0);
		float *xb = g->out[i];
		mem_set(xb, 0, (size_t)hs * sizeof(float));
		for (int t = 0; t <= g->last[i]; t++)
			head_axpy(xb, att[t], g->values + (size_t)t * g->stride, hs);
	}
}

/* qT[d * ATTN_LANES + i] = value d of query i (0 for lanes past nq), last[i] its last position
 * (-1 past nq); returns the largest. */
static int transpose_queries(const AttnGroup *g, float *qT, int32_t last[ATTN_LANES])
{
	int tmax = 0;
	for (int i = 0; i < ATTN_LANES; i++) {
		bool real = i < g->nq;
		last[i] = real ? g->last[i] : -1;
		if (last[i] > tmax)
			tmax = last[i];
		for (int d = 0; d < g->head_size; d++)
			qT[d * ATTN_LANES + i] = real ? g->q[i][d] : 0.0f;
	}
	return tmax;
}

/* out (hs) = sum over t <= last of att[t][i] v_t, as head_axpy adds them: 64 values of the
 * head per pass in 4 vectors; prefetch (a constant) asks for the rows ATTN_AHEAD on. */
ISA_TARGET_AVX512 static inline __attribute__((always_inline)) void
weighted_sum(const float *values, size_t stride, int hs, const float *att, int i, int last,
	     float *out, const int prefetch)
{
	for (int d0 = 0; d0 < hs; d0 += 64) {
		__mmask16 m[4];
		__m512 o[4];
		for (int u = 0; u < 4; u++) {
			int left = hs - d0 - 16 * u;
			m[u] = left >= 16 ? 0xffff : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
			o[u] = _mm512_setzero_ps();
		}
		for (int t = 0; t <= last; t++) {
			__m512 w = _mm512_set1_ps(att[(size_t)t * ATTN_LANES + (size_t)i]);
			const float *v = values + (size_t)t * stride + d0;
			for (int u = 0; prefetch && u < 4; u++)
				_mm_prefetch((const char *)(v + ATTN_AHEAD * stride + 16 * u),
					     _MM_HINT_T0);
#pragma GCC unroll 4
			for (int u = 0; u < 4; u++)
				o[u] = _mm512_add_ps(o[u], _mm512_mul_ps(w, _mm512_maskz_loadu_ps(
										m[u], v + 16 * u)));
		}
		for (int u = 0; u < 4; u++)
			_mm512_mask_storeu_ps(out + d0 + 16 * u, m[u], o[u]);
	}
}

/* Lanes are queries: the transposed queries (qT[d] holds value d of the 16) meet one key at a
 * time, each lane running head_dot's 8 partial sums and tree; softmax runs down the positions
 * of all lanes at once (masked past each lane's last); the weighted sum runs per query, 16
 * values of the head per vector, positions in order as head_axpy does. */
ISA_TARGET_AVX512 void attn_group_avx512(const AttnGroup *g, float *att)
{
	/* locals: the stores to att could alias *g */
	const int hs = g->head_size, nq = g->nq, cold = g->cold;
	const float *const keys = g->keys, *const values = g->values;
	const size_t stride = g->stride;
	/* a few queries are cheaper one by one than in a mostly empty vector */
	if (hs > ATTN_MAX_HEAD || nq < ATTN_SIMD_MIN_QUERIES) {
		attn_group_ref(g, att);
		return;
	}
	float qT[ATTN_MAX_HEAD * ATTN_LANES] __attribute__((aligned(64)));
	int32_t last[ATTN_LANES];
	int tmax = transpose_queries(g, qT, last);
	__m512i lim = _mm512_loadu_si512(last);
	__m512 scale = _mm512_set1_ps(g->scale);
	for (int t = 0; t <= tmax; t++) {
		const float *k = keys + (size_t)t * stride;
		/* keys are rows of the cache kv_dim apart, from memory when the group is alone on
		 * them (a generated token): ask for the ones ATTN_AHEAD positions on (in a batch
		 * they are in cache, and the prefetches cost ~30 % of its attention) */
		for (int d = 0; cold && d < hs; d += 16)
			_mm_prefetch((const char *)(k + ATTN_AHEAD * stride + d), _MM_HINT_T0);
		__m512 a[8];
		for (int j = 0; j < 8; j++)
			a[j] = _mm512_setzero_ps();
		int d = 0;
		for (; d + 8 <= hs; d += 8)
#pragma GCC unroll 8
			for (int j = 0; j < 8; j++)
				a[j] = _mm512_add_ps(
				    a[j], _mm512_mul_ps(_mm512_load_ps(qT + (d + j) * ATTN_LANES),
							_mm512_set1_ps(k[d + j])));
		for (; d < hs; d++)
			a[d % 8] = _mm512_add_ps(a[d % 8],
						 _mm512_mul_ps(_mm512_load_ps(qT + d * ATTN_LANES),
							       _mm512_set1_ps(k[d])));
		__m512 s = _mm512_add_ps(
		    _mm512_add_ps(_mm512_add_ps(a[0], a[4]), _mm512_add_ps(a[2], a[6])),
		    _mm512_add_ps(_mm512_add_ps(a[1], a[5]), _mm512_add_ps(a[3], a[7])));
		_mm512_store_ps(att + (size_t)t * ATTN_LANES, _mm512_div_ps(s, scale));
	}
	/* softmax_ref per lane: the max (exact in any order), exp, the sum in position order */
	uint64_t t0 = g->softmax_cycles ? plat_cycles() : 0;
	__m512 max = _mm512_load_ps(att);
	for (int t = 1; t <= tmax; t++) {
		__mmask16 m = _mm512_cmp_epi32_mask(_mm512_set1_epi32(t), lim, _MM_CMPINT_LE);
		__m512 s = _mm512_load_ps(att + (size_t)t * ATTN_LANES);
		max = _mm512_mask_mov_ps(max, m & _mm512_cmp_ps_mask(s, max, _CMP_GT_OQ), s);
	}
	__m512 sum = _mm512_setzero_ps();
	for (int t = 0; t <= tmax; t++) {
		__mmask16 m = _mm512_cmp_epi32_mask(_mm512_set1_epi32(t), lim, _MM_CMPINT_LE);
		float *row = att + (size_t)t * ATTN_LANES;
		__m512 e = fexp16(_mm512_sub_ps(_mm512_load_ps(row), max));
		_mm512_store_ps(row, e);
		sum = _mm512_mask_add_ps(sum, m, sum, e);
	}
	for (int t = 0; t <= tmax; t++) {
		float *row = att + (size_t)t * ATTN_LANES;
		_mm512_store_ps(row, _mm512_div_ps(_mm512_load_ps(row), sum));
	}
	add_cycles(g->softmax_cycles, t0);
	for (int i = 0; i < nq; i++) /* the first query brings the values in for the others */
		if (cold && i == 0)
			weighted_sum(values, stride, hs, att, i, g->last[i], g->out[i], 1);
		else
			weighted_sum(values, stride, hs, att, i, g->last[i], g->out[i], 0);
}

/* The AVX-512 version's steps on AVX2: the 16 lanes as two halves of 8, masks as all-ones lanes
 * (a masked-out lane adds +0, which leaves a sum >= +0 as it was). */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) void
weighted_sum8(const float *values, size_t stride, int hs, const float *att, int i, int last,
	      float *out, const int prefetch)
{
	for (int d0 = 0; d0 < hs; d0 += 32) {
		__m256i m[4];
		__m256 o[4];
		for (int u = 0; u < 4; u++) {
			int left = hs - d0 - 8 * u;
			m[u] = _mm256_cmpgt_epi32(_mm256_set1_epi32(left),
						  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
			o[u] = _mm256_setzero_ps();
		}
		for (int t = 0; t <= last; t++) {
			__m256 w = _mm256_set1_ps(att[(size_t)t * ATTN_LANES + (size_t)i]);
			const float *v = values + (size_t)t * stride + d0;
			for (int u = 0; prefetch && u < 2; u++)
				_mm_prefetch((const char *)(v + ATTN_AHEAD * stride + 16 * u),
					     _MM_HINT_T0);
#pragma GCC unroll 4
			for (int u = 0; u < 4; u++)
				o[u] = _mm256_add_ps(
				    o[u], _mm256_mul_ps(w, _mm256_maskload_ps(v + 8 * u, m[u])));
		}
		for (int u = 0; u < 4; u++)
			_mm256_maskstore_ps(out + d0 + 8 * u, m[u], o[u]);
	}
}

ISA_TARGET_AVX2 void attn_group_avx2(const AttnGroup *g, float *att)
{
	const int hs = g->head_size, nq = g->nq, cold = g->cold;
	const float *const keys = g->keys, *const values = g->values;
	const size_t stride = g->stride;
	/* a few queries are cheaper one by one than in a mostly empty vector */
	if (hs > ATTN_MAX_HEAD || nq < ATTN_SIMD_MIN_QUERIES) {
		attn_group_ref(g, att);
		return;
	}
	float qT[ATTN_MAX_HEAD * ATTN_LANES] __attribute__((aligned(64)));
	int32_t last[ATTN_LANES];
	int tmax = transpose_queries(g, qT, last);
	__m256i lim[2] = {_mm256_loadu_si256((const __m256i *)(const void *)last),
			  _mm256_loadu_si256((const __m256i *)(const void *)(last + 8))};
	__m256 scale = _mm256_set1_ps(g->scale);
	for (int t = 0; t <= tmax; t++) {
		const float *k = keys + (size_t)t * stride;
		for (int d = 0; cold && d < hs; d += 16)
			_mm_prefetch((const char *)(k + ATTN_AHEAD * stride + d), _MM_HINT_T0);
		for (int h = 0; h < 2; h++) { /* lanes 8 h .. 8 h + 7 */
			__m256 a[8];
			for (int j = 0; j < 8; j++)
				a[j] = _mm256_setzero_ps();
			int d = 0;
			for (; d + 8 <= hs; d += 8)
#pragma GCC unroll 8
				for (int j = 0; j < 8; j++)
					a[j] = _mm256_add_ps(
					    a[j],
					    _mm256_mul_ps(
						_mm256_load_ps(qT + (d + j) * ATTN_LANES + 8 * h),
						_mm256_set1_ps(k[d + j])));
			for (; d < hs; d++)
				a[d % 8] = _mm256_add_ps(
				    a[d % 8],
				    _mm256_mul_ps(_mm256_load_ps(qT + d * ATTN_LANES + 8 * h),
						  _mm256_set1_ps(k[d])));
			__m256 s = _mm256_add_ps(
			    _mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6])),
			    _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7])));
			_mm256_store_ps(att + (size_t)t * ATTN_LANES + 8 * h,
					_mm256_div_ps(s, scale));
		}
	}
	uint64_t t0 = g->softmax_cycles ? plat_cycles() : 0;
	for (int h = 0; h < 2; h++) {
		float *col = att + 8 * h;
		__m256 max = _mm256_load_ps(col);
		for (int t = 1; t <= tmax; t++) {
			__m256 m = _mm256_castsi256_ps(
			    _mm256_cmpgt_epi32(lim[h], _mm256_set1_epi32(t - 1)));
			__m256 s = _mm256_load_ps(col + (size_t)t * ATTN_LANES);
			max = _mm256_blendv_ps(max, s,
					       _mm256_and_ps(m, _mm256_cmp_ps(s, max, _CMP_GT_OQ)));
		}
		__m256 sum = _mm256_setzero_ps();
		for (int t = 0; t <= tmax; t++) {
			__m256 m = _mm256_castsi256_ps(
			    _mm256_cmpgt_epi32(lim[h], _mm256_set1_epi32(t - 1)));
			float *row = col + (size_t)t * ATTN_LANES;
			__m256 e = fexp8(_mm256_sub_ps(_mm256_load_ps(row), max));
			_mm256_store_ps(row, e);
			sum = _mm256_add_ps(sum, _mm256_and_ps(e, m));
		}
		for (int t = 0; t <= tmax; t++) {
			float *row = col + (size_t)t * ATTN_LANES;
			_mm256_store_ps(row, _mm256_div_ps(_mm256_load_ps(row), sum));
		}
	}
	add_cycles(g->softmax_cycles, t0);
	for (int i = 0; i < nq; i++)
		if (cold && i == 0)
			weighted_sum8(values, stride, hs, att, i, g->last[i], g->out[i], 1);
		else
			weighted_sum8(values, stride, hs, att, i, g->last[i], g->out[i], 0);
}
