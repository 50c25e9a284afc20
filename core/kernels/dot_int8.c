/* dot_int8.c: rows of the seed's int8 weights (zero point, per-tensor or per-group scales)
 * against int8 activations, for one token and a tile of rows x tokens: the scalar references
 * (dot.h's order) and the AVX2 (one token and tile) and AVX-512 VNNI versions that give their
 * bits. */
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

void qdot_i8_tile_ref(const int8_t *w, const float *ws, size_t ws_stride, float wscale, int32_t zp,
		      int nrows, const int8_t *xq, const float *xd, const int32_t *xsum, int n,
		      int B, int ntok, float *y, size_t y_stride)
{
	size_t nb = (size_t)((n + B - 1) / B);
	for (int t = 0; t < ntok; t++)
		for (int r = 0; r < nrows; r++)
			y[(size_t)t * y_stride + (size_t)r] = qdot_i8_ref(
			    w + (size_t)r * (size_t)n, ws ? ws + (size_t)r * ws_stride : NULL,
			    wscale, zp, xq + (size_t)t * (size_t)n, xd + (size_t)t * nb,
			    xsum + (size_t)t * nb, n, B);
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

/* --- AVX2 tile --- */

/* 32-value pieces regrouped at once (16 KB of weights: in L1 while every token passes), tokens
 * whose float partials are held at once (16 KB), tokens per pass (block sums in registers). */
#define I8TILE_PIECES 64
#define I8TILE_TOKENS 64
#define I8TILE_PASS 8

/* Full blocks b0 .. b0 + nblk - 1 (B = 32 per values each) of R rows, xor flip (0, or 0x80
 * bytes for vpdpbusd's unsigned operand), regrouped: piece s of block b at wp + 8 (b per + s)
 * (tile_transpose8; absent rows 0), the rows' scales of the block at dw + 8 b (0 for absent
 * rows). */
ISA_TARGET_AVX2 static void i8_regroup(const int8_t *w, int n, int R, int per, int b0, int nblk,
				       const float *ws, size_t ws_stride, float wscale,
				       __m256i flip, __m256i *wp, float *dw)
{
	for (int b = 0; b < nblk; b++) {
		for (int s = 0; s < per; s++) {
			size_t off = ((size_t)(b0 + b) * (size_t)per + (size_t)s) * 32;
			__m256i r[8];
			for (int k = 0; k < 8; k++) {
				const int8_t *p = w + (size_t)k * (size_t)n + off;
				r[k] = k < R ? _mm256_xor_si256(
						   flip, _mm256_loadu_si256(
							     (const __m256i *)(const void *)p))
					     : _mm256_setzero_si256();
			}
			tile_transpose8(r, wp + 8 * (b * per + s));
		}
		for (int k = 0; k < 8; k++)
			dw[8 * b + k] = k >= R ? 0.0f
					: ws   ? ws[(size_t)k * ws_stride + (size_t)(b0 + b)]
					       : wscale;
	}
}

/* 8 tokens (x[k]: token k's values, xd[k], xs[k]: its block scales and sums) against the
 * regrouped blocks: block b's term goes into partial b % 8 of each token (8 rows), in block
 * order, as in the one-token kernel. */
ISA_TARGET_AVX2 static void i8_pass8(const __m256i *wp, const float *dw, int nblk, int per, int b0,
				     int32_t zp, const int8_t *const x[I8TILE_PASS],
				     const float *const xd[I8TILE_PASS],
				     const int32_t *const xs[I8TILE_PASS],
				     float part[I8TILE_PASS][8][8])
{
	for (int b = 0; b < nblk; b++) {
		__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
			a6 = a0, a7 = a0;
		for (int s = 0; s < per; s++) {
			size_t off = ((size_t)(b0 + b) * (size_t)per + (size_t)s) * 32;
			const __m256i *wv8 = wp + 8 * (b * per + s);
			for (int i = 0; i < 8; i++) {
				__m256i wv = _mm256_load_si256(wv8 + i);
				__m256i aw = _mm256_abs_epi8(wv);
				size_t o = off + (size_t)i * 4;
				a0 = tile_lane_dot(a0, aw, wv, x[0] + o);
				a1 = tile_lane_dot(a1, aw, wv, x[1] + o);
				a2 = tile_lane_dot(a2, aw, wv, x[2] + o);
				a3 = tile_lane_dot(a3, aw, wv, x[3] + o);
				a4 = tile_lane_dot(a4, aw, wv, x[4] + o);
				a5 = tile_lane_dot(a5, aw, wv, x[5] + o);
				a6 = tile_lane_dot(a6, aw, wv, x[6] + o);
				a7 = tile_lane_dot(a7, aw, wv, x[7] + o);
				TILE_KEEP8(a0, a1, a2, a3, a4, a5, a6, a7);
			}
		}
		/* sum x (w - zp) = sum x w - zp sum x, exactly, in int32 */
		int bb = b0 + b;
		__m256i acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
		__m256 d = _mm256_loadu_ps(dw + 8 * b);
		for (int k = 0; k < I8TILE_PASS; k++)
			tile_add_term(part[k][bb % 8],
				      _mm256_sub_epi32(acc[k], _mm256_set1_epi32(zp * xs[k][bb])),
				      d, xd[k][bb]);
	}
}

/* i8_pass8 with AVX-VNNI: vpdpbusd of the weights + 128 (unsigned) and the token's values, so
 * each lane sums x w + 128 x, and (128 + zp) times the token's block sum takes both offsets
 * back, exactly, in int32. */
ISA_TARGET_AVXVNNI static inline __m256i i8_lane_vnni(__m256i acc, __m256i wv, const int8_t *x)
{
	return _mm256_dpbusd_avx_epi32(acc, wv,
				       _mm256_set1_epi32(*(const u32_unaligned *)(const void *)x));
}

ISA_TARGET_AVXVNNI static void i8_pass8_vnni(const __m256i *wp, const float *dw, int nblk, int per,
					     int b0, int32_t zp, const int8_t *const x[I8TILE_PASS],
					     const float *const xd[I8TILE_PASS],
					     const int32_t *const xs[I8TILE_PASS],
					     float part[I8TILE_PASS][8][8])
{
	for (int b = 0; b < nblk; b++) {
		__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
			a6 = a0, a7 = a0;
		for (int s = 0; s < per; s++) {
			size_t off = ((size_t)(b0 + b) * (size_t)per + (size_t)s) * 32;
			const __m256i *wv8 = wp + 8 * (b * per + s);
			for (int i = 0; i < 8; i++) {
				__m256i wv = _mm256_load_si256(wv8 + i);
				size_t o = off + (size_t)i * 4;
				a0 = i8_lane_vnni(a0, wv, x[0] + o);
				a1 = i8_lane_vnni(a1, wv, x[1] + o);
				a2 = i8_lane_vnni(a2, wv, x[2] + o);
				a3 = i8_lane_vnni(a3, wv, x[3] + o);
				a4 = i8_lane_vnni(a4, wv, x[4] + o);
				a5 = i8_lane_vnni(a5, wv, x[5] + o);
				a6 = i8_lane_vnni(a6, wv, x[6] + o);
				a7 = i8_lane_vnni(a7, wv, x[7] + o);
				TILE_KEEP8(a0, a1, a2, a3, a4, a5, a6, a7);
			}
		}
		int bb = b0 + b;
		__m256i acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
		__m256 d = _mm256_loadu_ps(dw + 8 * b);
		for (int k = 0; k < I8TILE_PASS; k++)
			tile_add_term(
			    part[k][bb % 8],
			    _mm256_sub_epi32(acc[k], _mm256_set1_epi32((128 + zp) * xs[k][bb])), d,
			    xd[k][bb]);
	}
}

/* Both tiles: chunks of whole blocks regrouped, then every 8-token pass over them, then each
 * row's short last block as the one-token kernel's tail; vnni (a constant in each caller) picks
 * the pass. */
ISA_TARGET_AVX2 static inline __attribute__((always_inline)) void
i8_tile(const int8_t *w, const float *ws, size_t ws_stride, float wscale, int32_t zp, int nrows,
	const int8_t *xq, const float *xd, const int32_t *xsum, int n, int B, int ntok, float *y,
	size_t y_stride, const bool vnni)
{
	int per = B / 32;
	if (B % 32 || per > I8TILE_PIECES) {
		qdot_i8_tile_ref(w, ws, ws_stride, wscale, zp, nrows, xq, xd, xsum, n, B, ntok, y,
				 y_stride);
		return;
	}
	int nb = (n + B - 1) / B, nbf = n / B, chunk = I8TILE_PIECES / per;
	__m256i wp[I8TILE_PIECES * 8];
	float dw[I8TILE_PIECES * 8];
	float part[I8TILE_TOKENS][8][8];
	for (int t0 = 0; t0 < ntok; t0 += I8TILE_TOKENS) {
		int nt = ntok - t0 < I8TILE_TOKENS ? ntok - t0 : I8TILE_TOKENS;
		int npass = (nt + I8TILE_PASS - 1) / I8TILE_PASS;
		for (int t = 0; t < npass * I8TILE_PASS; t++)
			for (int j = 0; j < 8; j++)
				_mm256_storeu_ps(part[t][j], _mm256_setzero_ps());
		for (int c0 = 0; c0 < nbf; c0 += chunk) {
			int nblk = nbf - c0 < chunk ? nbf - c0 : chunk;
			i8_regroup(w, n, nrows, per, c0, nblk, ws, ws_stride, wscale,
				   _mm256_set1_epi8(vnni ? (char)0x80 : 0), wp, dw);
			for (int p = 0; p < npass; p++) {
				const int8_t *x[I8TILE_PASS];
				const float *xdk[I8TILE_PASS];
				const int32_t *xsk[I8TILE_PASS];
				for (int k = 0; k < I8TILE_PASS; k++) {
					/* past the batch: the last token, results unused */
					int t = t0 + p * I8TILE_PASS + k;
					size_t tk = (size_t)(t < ntok ? t : ntok - 1);
					x[k] = xq + tk * (size_t)n;
					xdk[k] = xd + tk * (size_t)nb;
					xsk[k] = xsum + tk * (size_t)nb;
				}
				if (vnni)
					i8_pass8_vnni(wp, dw, nblk, per, c0, zp, x, xdk, xsk,
						      part + p * I8TILE_PASS);
				else
					i8_pass8(wp, dw, nblk, per, c0, zp, x, xdk, xsk,
						 part + p * I8TILE_PASS);
			}
		}
		for (int t = 0; t < nt; t++) {
			size_t tk = (size_t)t0 + (size_t)t;
			for (int r = 0; r < nrows; r++) {
				float a[QDOT_LANES];
				for (int j = 0; j < QDOT_LANES; j++)
					a[j] = part[t][j][r];
				/* the short last block, as the one-token kernel's tail */
				qdot_i8_blocks(a, nbf, w + (size_t)r * (size_t)n,
					       ws ? ws + (size_t)r * ws_stride : NULL, wscale, zp,
					       xq + tk * (size_t)n, xd + tk * (size_t)nb,
					       xsum + tk * (size_t)nb, n, B);
				y[tk * y_stride + (size_t)r] = qdot_tree(a);
			}
		}
	}
}

ISA_TARGET_AVX2 void qdot_i8_tile_avx2(const int8_t *w, const float *ws, size_t ws_stride,
				       float wscale, int32_t zp, int nrows, const int8_t *xq,
				       const float *xd, const int32_t *xsum, int n, int B, int ntok,
				       float *y, size_t y_stride)
{
	i8_tile(w, ws, ws_stride, wscale, zp, nrows, xq, xd, xsum, n, B, ntok, y, y_stride, false);
}

ISA_TARGET_AVXVNNI void qdot_i8_tile_avxvnni(const int8_t *w, const float *ws, size_t ws_stride,
					     float wscale, int32_t zp, int nrows, const int8_t *xq,
					     const float *xd, const int32_t *xsum, int n, int B,
					     int ntok, float *y, size_t y_stride)
{
	i8_tile(w, ws, ws_stride, wscale, zp, nrows, xq, xd, xsum, n, B, ntok, y, y_stride, true);
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
