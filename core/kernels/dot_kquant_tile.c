/* dot_kquant_tile.c: the prompt tiles of Q4_K, Q5_K and Q6_K (kquant.h's KTileFn), AVX-512 VNNI,
 * AVX-VNNI and AVX2: up to 8 weight rows against 16 transposed tokens (ymm: 8 at a time), each
 * token's sums in its own int32 lane, with the integer sums and float terms of the one-token
 * kernels, so each token gets their bits. */
#include <immintrin.h>

#include "core/kernels/kquant_blocks.h"

#define AVX2 ISA_TARGET_AVX2
#define AVX512 ISA_TARGET_AVX512

typedef enum { TILE_Q2_K, TILE_Q3_K, TILE_Q4_K, TILE_Q5_K, TILE_Q6_K } TileKind;
/* Groups of 16 values (else 32) under one scale. */
#define TILE_G16(kind) ((kind) == TILE_Q2_K || (kind) == TILE_Q3_K || (kind) == TILE_Q6_K)
/* A min term (kq_term_kmin); the others' codes carry an offset (Q3_K 4, Q6_K 32: a shift) that
 * the activation sums take back off (kq_term_d). */
#define TILE_KMIN(kind) ((kind) == TILE_Q2_K || (kind) == TILE_Q4_K || (kind) == TILE_Q5_K)
#define TILE_OFFSET_SHIFT(kind) ((kind) == TILE_Q3_K ? 2 : 5)
/* A group's sum fits int16 (Q2_K 16 x 3 x 128, Q3_K 16 x 7 x 128): where vpdpwssd exists, one
 * of it scales the int32 sum (read as int16 pairs: the sum and its sign bits) by the pair
 * (scale, 0), instead of vpmulld and an add. */
#define TILE_SUM16(kind) ((kind) == TILE_Q2_K || (kind) == TILE_Q3_K)

/* The rows' current super-block, unpacked: codes (Q2_K 0..3, Q3_K 0..7, Q4_K 0..15, Q5_K 0..31,
 * Q6_K 0..63) one per byte in value order; the scales of the groups of 32 (Q4_K/Q5_K) or 16;
 * pair[p], the int16 pair that meets the activations' sums of values 32p..32p+15 and
 * 32p+16..32p+31: the group's min twice (Q4_K/Q5_K), the mins of groups 2p and 2p + 1 (Q2_K), or
 * their scales (Q3_K, Q6_K, whose codes carry the offset that these sums take back off). */
typedef struct {
	_Alignas(64) uint8_t codes[KTILE_ROWS][QK_K];
	int32_t sc[KTILE_ROWS][16], pair[KTILE_ROWS][8];
	float d[KTILE_ROWS], dmin[KTILE_ROWS];
} TileRows;

AVX2 static inline __attribute__((always_inline)) void
unpack_q45_k(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs, uint16_t d, uint16_t dmin,
	     TileRows *t, int r)
{
	uint64_t sc, m;
	kq_scales_mins_k4(scales, &sc, &m);
	for (int k = 0; k < 8; k++) {
		t->sc[r][k] = (int32_t)(sc >> (8 * k) & 0xff);
		int32_t mk = (int32_t)(m >> (8 * k) & 0xff);
		t->pair[r][k] = mk | mk << 16;
	}
	t->d[r] = _cvtsh_ss(d);
	t->dmin[r] = _cvtsh_ss(dmin);
	__m256i m15 = _mm256_set1_epi8(15), sixteen = _mm256_set1_epi8(16);
	__m256i hv =
	    qh ? _mm256_loadu_si256((const __m256i *)(const void *)qh) : _mm256_setzero_si256();
	_Pragma("GCC unroll 4") for (int c = 0; c < 4; c++)
	{
		__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(qs + 32 * c));
		__m256i lo = _mm256_and_si256(q, m15);
		__m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m15);
		if (qh) { /* bit 2c of qh[l] for the low nibbles, 2c + 1 for the high */
			__m256i blo = _mm256_set1_epi8((char)(1 << (2 * c)));
			__m256i bhi = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
			lo = _mm256_add_epi8(
			    lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hv, blo), blo),
						 sixteen));
			hi = _mm256_add_epi8(
			    hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hv, bhi), bhi),
						 sixteen));
		}
		_mm256_store_si256((__m256i *)(void *)(t->codes[r] + 64 * c), lo);
		_mm256_store_si256((__m256i *)(void *)(t->codes[r] + 64 * c + 32), hi);
	}
}

/* Q6_K: value 128 h + 32 k + l as kq_q6_code reads it, without the - 32. */
AVX2 static inline __attribute__((always_inline)) void unpack_q6_k(const BlockQ6_K *w, TileRows *t,
								   int r)
{
	__m128i s8 = _mm_loadu_si128((const __m128i *)(const void *)w->scales);
	_mm256_storeu_si256((__m256i *)(void *)t->sc[r], _mm256_cvtepi8_epi32(s8));
	_mm256_storeu_si256((__m256i *)(void *)(t->sc[r] + 8),
			    _mm256_cvtepi8_epi32(_mm_srli_si128(s8, 8)));
	for (int p = 0; p < 8; p++)
		t->pair[r][p] = (int32_t)((uint32_t)(uint16_t)w->scales[2 * p] |
					  (uint32_t)(uint16_t)w->scales[2 * p + 1] << 16);
	t->d[r] = _cvtsh_ss(w->d);
	__m256i m15 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3);
	_Pragma("GCC unroll 2") for (int h = 0; h < 2; h++)
	{
		__m256i qh = _mm256_loadu_si256((const __m256i *)(const void *)(w->qh + 32 * h));
		_Pragma("GCC unroll 4") for (int k = 0; k < 4; k++)
		{
			__m256i ql = _mm256_loadu_si256(
			    (const __m256i *)(const void *)(w->ql + 64 * h + 32 * (k & 1)));
			__m256i lo = _mm256_and_si256(k >> 1 ? _mm256_srli_epi16(ql, 4) : ql, m15);
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m3);
			_mm256_store_si256((__m256i *)(void *)(t->codes[r] + 128 * h + 32 * k),
					   _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)));
		}
	}
}

/* Q2_K: value 128 h + 32 s + l is bits 2s of qs[32 h + l]; group g's scale and min are the low
 * and high nibbles of scales[g]. */
AVX2 static inline __attribute__((always_inline)) void unpack_q2_k(const BlockQ2_K *w, TileRows *t,
								   int r)
{
	for (int g = 0; g < 16; g++)
		t->sc[r][g] = w->scales[g] & 15;
	for (int p = 0; p < 8; p++)
		t->pair[r][p] =
		    (int32_t)(w->scales[2 * p] >> 4) | (int32_t)(w->scales[2 * p + 1] >> 4) << 16;
	t->d[r] = _cvtsh_ss(w->d);
	t->dmin[r] = _cvtsh_ss(w->dmin);
	__m256i m3 = _mm256_set1_epi8(3);
	_Pragma("GCC unroll 2") for (int h = 0; h < 2; h++)
	{
		__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w->qs + 32 * h));
		_Pragma("GCC unroll 4") for (int s = 0; s < 4; s++)
		    _mm256_store_si256((__m256i *)(void *)(t->codes[r] + 128 * h + 32 * s),
				       _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3));
	}
}

/* Q3_K: Q2_K's 2 bits plus 4 where bit 4h + s of hmask[l] is set (the reference's code is that
 * minus 4); 6-bit scales minus 32 (kq_scale_q3). */
AVX2 static inline __attribute__((always_inline)) void unpack_q3_k(const BlockQ3_K *w, TileRows *t,
								   int r)
{
	for (int g = 0; g < 16; g++)
		t->sc[r][g] = kq_scale_q3(w->scales, g);
	for (int p = 0; p < 8; p++)
		t->pair[r][p] = (int32_t)((uint32_t)(uint16_t)t->sc[r][2 * p] |
					  (uint32_t)(uint16_t)t->sc[r][2 * p + 1] << 16);
	t->d[r] = _cvtsh_ss(w->d);
	__m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
	__m256i hm = _mm256_loadu_si256((const __m256i *)(const void *)w->hmask);
	_Pragma("GCC unroll 2") for (int h = 0; h < 2; h++)
	{
		__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w->qs + 32 * h));
		_Pragma("GCC unroll 4") for (int s = 0; s < 4; s++)
		{
			__m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + s)));
			__m256i hi = _mm256_and_si256(
			    _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), four);
			_mm256_store_si256(
			    (__m256i *)(void *)(t->codes[r] + 128 * h + 32 * s),
			    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3), hi));
		}
	}
}

/* Super-block b of R rows into t. */
AVX2 static inline __attribute__((always_inline)) void unpack_rows(const uint8_t *w,
								   size_t row_bytes, const int R,
								   const TileKind kind, int b,
								   TileRows *t)
{
	const size_t block_bytes = kind == TILE_Q2_K   ? sizeof(BlockQ2_K)
				   : kind == TILE_Q3_K ? sizeof(BlockQ3_K)
				   : kind == TILE_Q4_K ? sizeof(BlockQ4_K)
				   : kind == TILE_Q5_K ? sizeof(BlockQ5_K)
						       : sizeof(BlockQ6_K);
	for (int r = 0; r < R; r++) {
		const void *blk = w + (size_t)r * row_bytes + (size_t)b * block_bytes;
		if (kind == TILE_Q2_K)
			unpack_q2_k(blk, t, r);
		else if (kind == TILE_Q3_K)
			unpack_q3_k(blk, t, r);
		else if (kind == TILE_Q6_K)
			unpack_q6_k(blk, t, r);
		else if (kind == TILE_Q5_K) {
			const BlockQ5_K *k = blk;
			unpack_q45_k(k->scales, k->qh, k->qs, k->d, k->dmin, t, r);
		} else {
			const BlockQ4_K *k = blk;
			unpack_q45_k(k->scales, NULL, k->qs, k->d, k->dmin, t, r);
		}
	}
}

/* R rows (a constant after inlining) against one group of 16 tokens, their super-blocks
 * unpacked in pre[b] (NULL: unpacked here, per group). Per super-block: the sums of each group
 * of G values (32, Q6_K 16) by G / 4 vpdpbusd (codes unsigned, broadcast; x signed), times the
 * group's scale; the pairs against the activation sums by vpdpwssd (the mins' sum, or Q6_K's
 * 32 x its scaled sums); then the one-token kernels' float term into partial b % 8; the
 * partials fold as qdot_tree does. */
AVX512 static inline __attribute__((always_inline)) void
tile_group(const uint8_t *w, size_t row_bytes, const int R, const TileKind kind, int nb,
	   const TileRows *pre, const int8_t *xq, const float *xd, const int16_t *xb, float *y,
	   size_t y_stride, int ntok)
{
	const int G = TILE_G16(kind) ? 16 : 32;
	TileRows own;
	__m512 part[KTILE_ROWS][8];
	for (int r = 0; r < R; r++)
		for (int p = 0; p < 8; p++)
			part[r][p] = _mm512_setzero_ps();
	for (int b = 0; b < nb; b++) {
		if (!pre)
			unpack_rows(w, row_bytes, R, kind, b, &own);
		const TileRows *t = pre ? &pre[b] : &own;
		const int8_t *xs = xq + (size_t)b * KTILE_BLOCK_BYTES;
		__m512i isum[KTILE_ROWS], psum[KTILE_ROWS];
		for (int r = 0; r < R; r++)
			isum[r] = psum[r] = _mm512_setzero_si512();
		for (int k = 0; k < QK_K / G; k++) {
			__m512i p[KTILE_ROWS];
			for (int r = 0; r < R; r++)
				p[r] = _mm512_setzero_si512();
			_Pragma("GCC unroll 8") for (int l = 0; l < G / 4; l++)
			{
				__m512i xv = _mm512_loadu_si512(xs + (G / 4 * k + l) * 64);
				for (int r = 0; r < R; r++) {
					int32_t wl;
					__builtin_memcpy(&wl, t->codes[r] + G * k + 4 * l, 4);
					p[r] = _mm512_dpbusd_epi32(p[r], _mm512_set1_epi32(wl), xv);
				}
			}
			for (int r = 0; r < R; r++)
				isum[r] =
				    TILE_SUM16(kind)
					? _mm512_dpwssd_epi32(
					      isum[r], p[r],
					      _mm512_set1_epi32(t->sc[r][k] & 0xffff))
					: _mm512_add_epi32(
					      isum[r], _mm512_mullo_epi32(
							   p[r], _mm512_set1_epi32(t->sc[r][k])));
		}
		for (int q = 0; q < 8; q++) {
			__m512i xv =
			    _mm512_loadu_si512(xb + ((size_t)b * 8 + (size_t)q) * 2 * KTILE_TOKENS);
			for (int r = 0; r < R; r++)
				psum[r] = _mm512_dpwssd_epi32(psum[r], xv,
							      _mm512_set1_epi32(t->pair[r][q]));
		}
		__m512 vdx = _mm512_loadu_ps(xd + (size_t)b * KTILE_TOKENS);
		for (int r = 0; r < R; r++) {
			__m512 term;
			if (!TILE_KMIN(kind)) /* kq_term_d of the codes minus their offset */
				term = _mm512_mul_ps(
				    _mm512_cvtepi32_ps(_mm512_sub_epi32(
					isum[r],
					_mm512_slli_epi32(psum[r], TILE_OFFSET_SHIFT(kind)))),
				    _mm512_mul_ps(_mm512_set1_ps(t->d[r]), vdx));
			else /* kq_term_kmin */
				term = _mm512_sub_ps(
				    _mm512_mul_ps(_mm512_cvtepi32_ps(isum[r]),
						  _mm512_mul_ps(_mm512_set1_ps(t->d[r]), vdx)),
				    _mm512_mul_ps(_mm512_cvtepi32_ps(psum[r]),
						  _mm512_mul_ps(_mm512_set1_ps(t->dmin[r]), vdx)));
			part[r][b % 8] = _mm512_add_ps(part[r][b % 8], term);
		}
	}
	float v[KTILE_ROWS][KTILE_TOKENS];
	for (int r = 0; r < R; r++) {
		const __m512 *a = part[r];
		_mm512_storeu_ps(
		    v[r], _mm512_add_ps(
			      _mm512_add_ps(_mm512_add_ps(a[0], a[4]), _mm512_add_ps(a[2], a[6])),
			      _mm512_add_ps(_mm512_add_ps(a[1], a[5]), _mm512_add_ps(a[3], a[7]))));
	}
	/* a token's rows, then the next token's: y's token rows (rows x 4 bytes apart, for
	 * TinyLlama a multiple of 4 KB) share one or two L1 sets, and storing each row's 16 tokens
	 * in turn touched 16 such lines 8 times each, evicting one another (AVX-512 Q4_K tile,
	 * y 2048 floats wide: 2.73 TSC ticks per super-block x token x row, 2.10 with 2064) */
	for (int i = 0; i < ntok; i++)
		for (int r = 0; r < R; r++)
			y[(size_t)i * y_stride + (size_t)r] = v[r][i];
}

/* Super-blocks per row a tile unpacks once for all its groups (on the stack, 69 KB): TinyLlama's
 * widest rows (5632 values) have 22; longer rows unpack per group. */
#define TILE_PRE_NB 24

/* Every group of the batch against R rows. */
AVX512 static inline __attribute__((always_inline)) void
tile_rows(const uint8_t *w, size_t row_bytes, const int R, const TileKind kind, int nb,
	  const KTileAct *x, int ntok, float *y, size_t y_stride)
{
	TileRows pre[TILE_PRE_NB];
	bool once = nb <= TILE_PRE_NB;
	for (int b = 0; once && b < nb; b++)
		unpack_rows(w, row_bytes, R, kind, b, &pre[b]);
	for (int g = 0; g * KTILE_TOKENS < ntok; g++) {
		int n =
		    ntok - g * KTILE_TOKENS < KTILE_TOKENS ? ntok - g * KTILE_TOKENS : KTILE_TOKENS;
		size_t o = (size_t)g * (size_t)nb;
		tile_group(w, row_bytes, R, kind, nb, once ? pre : NULL,
			   x->q + o * KTILE_BLOCK_BYTES, x->d + o * KTILE_TOKENS,
			   x->bs + o * 8 * 2 * KTILE_TOKENS,
			   y + (size_t)g * KTILE_TOKENS * y_stride, y_stride, n);
	}
}

/* The rows 8 at a time where nrows allows, then one by one. */
AVX512 static inline __attribute__((always_inline)) void tile(const uint8_t *w, size_t row_bytes,
							      int nrows, const TileKind kind,
							      int nb, const KTileAct *x, int ntok,
							      float *y, size_t y_stride)
{
	int r = 0;
	for (; r + KTILE_ROWS <= nrows; r += KTILE_ROWS)
		tile_rows(w + (size_t)r * row_bytes, row_bytes, KTILE_ROWS, kind, nb, x, ntok,
			  y + r, y_stride);
	for (; r < nrows; r++)
		tile_rows(w + (size_t)r * row_bytes, row_bytes, 1, kind, nb, x, ntok, y + r,
			  y_stride);
}

/* --- AVX2 and AVX-VNNI: the ymm tiles, one instance per ISA --- */

#define YMM_TARGET ISA_TARGET_AVX2
#define YMM_NAME(name) name##_avx2
#define YMM_VNNI 0
#include "core/kernels/dot_kquant_tile_ymm.h"
#undef YMM_TARGET
#undef YMM_NAME
#undef YMM_VNNI
#define YMM_TARGET ISA_TARGET_AVXVNNI
#define YMM_NAME(name) name##_avxvnni
#define YMM_VNNI 1
#include "core/kernels/dot_kquant_tile_ymm.h"

/* --- AVX-512 entries --- */

/* The registry's entries, one per type (kquant.h's KTileFn). */
#define TILE_ENTRY(NAME, KIND)                                                                     \
	AVX512 void NAME(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,    \
			 int ntok, float *y, size_t y_stride)                                      \
	{                                                                                          \
		tile(w, row_bytes, nrows, KIND, nb, x, ntok, y, y_stride);                         \
	}
TILE_ENTRY(kdot_q2_k_tile_avx512, TILE_Q2_K)
TILE_ENTRY(kdot_q3_k_tile_avx512, TILE_Q3_K)
TILE_ENTRY(kdot_q4_k_tile_avx512, TILE_Q4_K)
TILE_ENTRY(kdot_q5_k_tile_avx512, TILE_Q5_K)
TILE_ENTRY(kdot_q6_k_tile_avx512, TILE_Q6_K)
