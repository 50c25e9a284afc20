/* dot.h: the kernels behind matmul (dot products, prompt tiles, activation quantizers): one
 * signature per family, its variants (scalar reference, AVX2, AVX-VNNI, AVX-512; registry.h
 * picks one), and the canonical reduction order they all follow. */
#ifndef DOT_H
#define DOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/kernels/dtype.h"
#include "core/kernels/fp16.h"
#include "core/kernels/isa.h"

/* Every kernel computes the exact integer sum of each block (block b of the row times block b
 * of x), scales it by (weight scale * activation scale) into a float, and adds that into
 * partial sum acc[b % QDOT_LANES], multiply then add, never fused. The partials are combined
 * by qdot_tree. Integer sums are exact and float steps happen in this one order, so every ISA
 * and every thread count gives the same bits. */
#define QDOT_LANES 8

/* How far ahead of the weights being read the one-token kernels prefetch, in bytes (8 KB
 * measured best of 0.5-8 KB on the EPYC for Q8_0: about +15% of matmul GB/s on one thread). */
#define QDOT_PREFETCH 8192

/* ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)): the order in which a vector of 8 lanes
 * folds in halves (256 -> 128 -> 64 -> 32 bits), written out for the scalar code. */
static inline float qdot_tree(const float a[QDOT_LANES])
{
	float s04 = a[0] + a[4], s15 = a[1] + a[5], s26 = a[2] + a[6], s37 = a[3] + a[7];
	return (s04 + s26) + (s15 + s37);
}

/* Q8_0 row (nb blocks) . x, x given as int8 values xq (nb * 32), their block scales xd (nb)
 * and block sums xsum (nb, sum of the 32 xq of each block). */
typedef float (*QDotQ8Fn)(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
			  const int32_t *xsum, int nb);

/* int8 row of n values w, weight value (w[k] - zp) * scale, scale = ws[b] per block of B
 * values (ws != NULL, grouped) or wscale (per tensor); x blocks of the same B (the last one
 * may be short): int8 xq (n), scales xd, sums xsum. */
typedef float (*QDotI8Fn)(const int8_t *w, const float *ws, float wscale, int32_t zp,
			  const int8_t *xq, const float *xd, const int32_t *xsum, int n, int B);

/* The same row against ntok tokens: y[t * y_stride] = row . token t, whose activations are
 * at xq + t * nb * 32, xd + t * nb and xsum + t * nb. Each result has the bits of the one-token
 * kernel (batched prompts must give the one-token path's logits). */
typedef void (*QDotQ8BatchFn)(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
			      const int32_t *xsum, int nb, int ntok, float *y, size_t y_stride);
void qdot_q8_batch_ref(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
		       int nb, int ntok, float *y, size_t y_stride);
void qdot_q8_batch_avx2(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
			int nb, int ntok, float *y, size_t y_stride);

/* Batches on AVX-512 also hold their tokens in groups of QTILE_TOKENS, transposed: for group
 * g and block b, xt + (g nb + b) * 512 holds the block's 8 lanes of 4 values, each lane as 16
 * tokens x 4 bytes (bytes 4 i..4 i + 3 of token t at i * 64 + t * 4), stored as x + 128 (x xor
 * 0x80, unsigned), and xdt + (g nb + b) * 16 the 16 tokens' scales. One vpdpbusd multiplies
 * that lane by the row's 4 signed weight bytes (broadcast from memory), so int32 lane t sums
 * token t's block; minus 128 times the weights' block sum it is exact. Padding tokens of the
 * last group hold x = 0 (0x80) and scale 0. */
#define QTILE_TOKENS 16
#define QTILE_LANE_BYTES (QTILE_TOKENS * 4)
#define QTILE_BLOCK_BYTES (8 * QTILE_LANE_BYTES)
/* Rows per call, and the widest row (in blocks) a call takes (the row's block sums and scales
 * sit on the stack: 32 KB). */
#define QTILE_ROWS 8
#define QTILE_MAX_NB 512

/* Rows w + r nb (r < nrows <= QTILE_ROWS, nb <= QTILE_MAX_NB) against ntok tokens in groups
 * (g at xt + g nb QTILE_BLOCK_BYTES, xdt + g nb QTILE_TOKENS): y[t * y_stride + r] gets the
 * one-token kernel's bits. */
typedef void (*QDotQ8TileFn)(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
			     const float *xdt, int ntok, float *y, size_t y_stride);
void qdot_q8_tile_ref(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
		      int ntok, float *y, size_t y_stride);
void qdot_q8_tile_avx512(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
			 int ntok, float *y, size_t y_stride);

/* The AVX2 tile (no VNNI) reads the same transposed groups with one difference: the values are
 * stored as they are (signed), not as x + 128, because without VNNI the products go through
 * vpmaddubsw on |w| and x with w's sign (as qdot_q8_avx2 does). Padding tokens hold x = 0 and
 * scale 0. Any nb; each result has the bits of qdot_q8_avx2 for that row and token. */
#define TILE2_X_OFFSET 0
void qdot_q8_tile_avx2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
		       int ntok, float *y, size_t y_stride);
/* Q4_0 or Q5_0 rows unpacked to Q8_0 (each w = code - 8, or code - 16) in the AVX2 layout: the
 * codes unsigned in vpmaddubsw, block sums of x (xsum: token t's block b at xsum[t nb + b], as
 * the activations' quantizer writes them) for the offset. The bits of qdot_q8_avx2 on those
 * rows. */
typedef void (*QDotCodesTileFn)(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
				const float *xdt, const int32_t *xsum, int ntok, float *y,
				size_t y_stride);
void qdot_q4_0_tile_avx2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
			 const int32_t *xsum, int ntok, float *y, size_t y_stride);
void qdot_q5_0_tile_avx2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
			 const int32_t *xsum, int ntok, float *y, size_t y_stride);
/* The same tile with AVX-VNNI's vpdpbusd: it reads the AVX-512 layout (x + 128). */
void qdot_q8_tile_avxvnni(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
			  const float *xdt, int ntok, float *y, size_t y_stride);

float qdot_q8_ref(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
		  int nb);
float qdot_q8_avx2(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
		   int nb);
float qdot_q8_avx512(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
		     int nb);
/* The JIT's sources (jit/jit_slots.c): the kernels above with a tuning knob as a last
 * argument, which the JIT passes as a constant: the one-token dots' prefetch distance in bytes
 * (0 = none; the kernels above use QDOT_PREFETCH) and the AVX-512 tile's rows per pass (the
 * kernel above does all QTILE_ROWS at once). Same bits for every value. */
float qdot_q8_avx2_tuned(const BlockQ8_0 *w, const int8_t *xq, const float *xd, const int32_t *xsum,
			 int nb, int prefetch);
float qdot_q8_avx512_tuned(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
			   const int32_t *xsum, int nb, int prefetch);
void qdot_q8_tile_avx512_tuned(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt,
			       const float *xdt, int ntok, float *y, size_t y_stride,
			       int rows_per_pass);

float qdot_i8_ref(const int8_t *w, const float *ws, float wscale, int32_t zp, const int8_t *xq,
		  const float *xd, const int32_t *xsum, int n, int B);
float qdot_i8_avx2(const int8_t *w, const float *ws, float wscale, int32_t zp, const int8_t *xq,
		   const float *xd, const int32_t *xsum, int n, int B);
float qdot_i8_avx512(const int8_t *w, const float *ws, float wscale, int32_t zp, const int8_t *xq,
		     const float *xd, const int32_t *xsum, int n, int B);

/* int8 rows w + r n (r < nrows <= QTILE_ROWS; group scales at ws + r ws_stride, or wscale per
 * tensor when ws is NULL; zero point zp) against ntok tokens, token t's activations at xq + t n,
 * xd + t nb and xsum + t nb (nb = ceil(n / B)): y[t * y_stride + r] gets the one-token kernel's
 * bits. */
typedef void (*QDotI8TileFn)(const int8_t *w, const float *ws, size_t ws_stride, float wscale,
			     int32_t zp, int nrows, const int8_t *xq, const float *xd,
			     const int32_t *xsum, int n, int B, int ntok, float *y,
			     size_t y_stride);
void qdot_i8_tile_ref(const int8_t *w, const float *ws, size_t ws_stride, float wscale, int32_t zp,
		      int nrows, const int8_t *xq, const float *xd, const int32_t *xsum, int n,
		      int B, int ntok, float *y, size_t y_stride);
/* 8 rows x 8 tokens per pass as the Q8_0 AVX2 tile, reading each token's values in place (the
 * int8 x stay in [-127, 127], so |w| x pairs fit int16 for any weight byte). Groups that are
 * not whole multiples of 32 values, or longer than 2048, take the reference. */
void qdot_i8_tile_avx2(const int8_t *w, const float *ws, size_t ws_stride, float wscale, int32_t zp,
		       int nrows, const int8_t *xq, const float *xd, const int32_t *xsum, int n,
		       int B, int ntok, float *y, size_t y_stride);
/* The same tile with AVX-VNNI's vpdpbusd. */
void qdot_i8_tile_avxvnni(const int8_t *w, const float *ws, size_t ws_stride, float wscale,
			  int32_t zp, int nrows, const int8_t *xq, const float *xd,
			  const int32_t *xsum, int n, int B, int ntok, float *y, size_t y_stride);

/* Q8_0 activations of x (n, n % 32 == 0): int8 values q (n), block scales (n / 32, the fp16
 * rounded scale as a float) and block sums (n / 32), the values quantize_row_q8_0 gives. The
 * AVX2 one (also used by the avx512 ISA) gives the same bytes. */
typedef void (*QuantActQ8Fn)(const float *x, int n, int8_t *q, float *scales, int32_t *sums);
void quant_act_q8_ref(const float *x, int n, int8_t *q, float *scales, int32_t *sums);
void quant_act_q8_avx2(const float *x, int n, int8_t *q, float *scales, int32_t *sums);
/* int8 activations of x (n) in blocks of B values (the last may be short): int8 values q (n),
 * a float scale (llama2.c runq's rule) and the integer sum of each block. */
typedef void (*QuantActI8Fn)(const float *x, int n, int B, int8_t *q, float *scales, int32_t *sums);
void quant_act_i8_ref(const float *x, int n, int B, int8_t *q, float *scales, int32_t *sums);
/* fp16 activations of x (n) for F16 weights, rounded to nearest even; outf, unless NULL, gets
 * the same values as floats (what the F16 prompt tile reads). */
typedef void (*QuantActF16Fn)(const float *x, int n, uint16_t *out, float *outf);
void quant_act_f16_ref(const float *x, int n, uint16_t *out, float *outf);
void quant_act_f16_avx2(const float *x, int n, uint16_t *out, float *outf);

/* F32 and F16 rows against x. F32: product k (multiply then add) into float partial sum
 * k % FDOT_F32_LANES; F16 (x rounded to fp16 too, as ggml does): the float product of the two
 * halves (exact: 11 x 11 bits, so a fused multiply-add rounds as multiply then add) into float
 * partial k % FDOT_F16_LANES. The partials are folded in halves, lane i + half into lane i, down
 * to one. Enough lanes that the SIMD versions keep several independent vector sums in flight,
 * few enough that a prompt tile holds 3 (AVX2) or 12 (AVX-512) rows x tokens of them in
 * registers (F32 had 64: its AVX2 tile then held one). */
#define FDOT_F32_LANES 32
#define FDOT_F16_LANES 32
typedef float (*FDotF32Fn)(const float *w, const float *x, int n);
typedef float (*FDotF16Fn)(const uint16_t *w, const uint16_t *x, int n);
float fdot_f32_ref(const float *w, const float *x, int n);
float fdot_f32_avx2(const float *w, const float *x, int n);
float fdot_f32_avx512(const float *w, const float *x, int n);
float fdot_f16_ref(const uint16_t *w, const uint16_t *x, int n);
float fdot_f16_avx2(const uint16_t *w, const uint16_t *x, int n);
float fdot_f16_avx512(const uint16_t *w, const uint16_t *x, int n);
/* The F16 prompt tile: rows w + r cols (r < nrows) against ntok tokens whose fp16-rounded
 * activations are floats at xf + t x_stride (quant_act_f16's outf): y[t y_stride + r] gets
 * fdot_f16's bits for that row and token (the same 32 partials, summed in the same order). */
typedef void (*FDotF16TileFn)(const uint16_t *w, int cols, int nrows, const float *xf,
			      size_t x_stride, int ntok, float *y, size_t y_stride);
void fdot_f16_tile_avx2(const uint16_t *w, int cols, int nrows, const float *xf, size_t x_stride,
			int ntok, float *y, size_t y_stride);
void fdot_f16_tile_avx512(const uint16_t *w, int cols, int nrows, const float *xf, size_t x_stride,
			  int ntok, float *y, size_t y_stride);

/* The F32 prompt tile, as F16's with F32 rows and float activations: fdot_f32's bits. */
typedef void (*FDotF32TileFn)(const float *w, int cols, int nrows, const float *x, size_t x_stride,
			      int ntok, float *y, size_t y_stride);
void fdot_f32_tile_avx2(const float *w, int cols, int nrows, const float *x, size_t x_stride,
			int ntok, float *y, size_t y_stride);
void fdot_f32_tile_avx512(const float *w, int cols, int nrows, const float *x, size_t x_stride,
			  int ntok, float *y, size_t y_stride);

/* The F32 partials p (FDOT_F32_LANES): the products k0.. added (the SIMD tails), then folded. */
static inline float fdot_f32_finish(float *p, int k0, const float *w, const float *x, int n)
{
	for (int k = k0; k < n; k++)
		p[k % FDOT_F32_LANES] += w[k] * x[k];
	for (int h = FDOT_F32_LANES / 2; h >= 1; h /= 2)
		for (int i = 0; i < h; i++)
			p[i] = p[i] + p[i + h];
	return p[0];
}

/* The F16 partials p folded; with the products k0.. of w and x added first (the SIMD tails),
 * x as fp16 (xh) or as fp16-rounded floats (xf). */
static inline float fdot_f16_fold(float *p)
{
	for (int h = FDOT_F16_LANES / 2; h >= 1; h /= 2)
		for (int i = 0; i < h; i++)
			p[i] = p[i] + p[i + h];
	return p[0];
}

static inline float fdot_f16_finish(float *p, int k0, const uint16_t *w, const uint16_t *xh, int n)
{
	for (int k = k0; k < n; k++)
		p[k % FDOT_F16_LANES] += fp16_to_fp32(w[k]) * fp16_to_fp32(xh[k]);
	return fdot_f16_fold(p);
}

static inline float fdot_f16_finish_xf(float *p, int k0, const uint16_t *w, const float *xf, int n)
{
	for (int k = k0; k < n; k++)
		p[k % FDOT_F16_LANES] += fp16_to_fp32(w[k]) * xf[k];
	return fdot_f16_fold(p);
}

/* The scalar integer sum of one block, for the tails of the SIMD kernels. */
static inline int32_t qdot_block_i32(const int8_t *a, const int8_t *b, int n)
{
	int32_t s = 0;
	for (int k = 0; k < n; k++)
		s += (int32_t)a[k] * (int32_t)b[k];
	return s;
}

/* int8 blocks b0.. of B values (the last may be short) into the partials acc, scalar: the
 * whole int8 reference, and the tail of its SIMD versions. */
static inline void qdot_i8_blocks(float acc[QDOT_LANES], int b0, const int8_t *w, const float *ws,
				  float wscale, int32_t zp, const int8_t *xq, const float *xd,
				  const int32_t *xsum, int n, int B)
{
	for (int k0 = b0 * B, b = b0; k0 < n; k0 += B, b++) {
		int k1 = k0 + B < n ? k0 + B : n;
		/* sum x (w - zp) = sum x w - zp sum x, exactly, in int32 */
		int32_t isum = qdot_block_i32(w + k0, xq + k0, k1 - k0) - zp * xsum[b];
		acc[b % QDOT_LANES] += (float)isum * ((ws ? ws[b] : wscale) * xd[b]);
	}
}

#include <immintrin.h>

/* Shared by the AVX2 and AVX-512 kernels (callable from both targets).
 * Block sums of 8 vectors of 8 int32 partial sums each: lane j of the result is the sum of
 * v[j]. Integer adds are exact, so only the lane order matters. */
ISA_TARGET_AVX2 static inline __m256i reduce8(const __m256i v[8])
{
	/* unpack + add rather than vphaddd: single-uop shuffles, twice the throughput */
	__m256i t01 =
	    _mm256_add_epi32(_mm256_unpacklo_epi32(v[0], v[1]), _mm256_unpackhi_epi32(v[0], v[1]));
	__m256i t23 =
	    _mm256_add_epi32(_mm256_unpacklo_epi32(v[2], v[3]), _mm256_unpackhi_epi32(v[2], v[3]));
	__m256i t45 =
	    _mm256_add_epi32(_mm256_unpacklo_epi32(v[4], v[5]), _mm256_unpackhi_epi32(v[4], v[5]));
	__m256i t67 =
	    _mm256_add_epi32(_mm256_unpacklo_epi32(v[6], v[7]), _mm256_unpackhi_epi32(v[6], v[7]));
	__m256i a =
	    _mm256_add_epi32(_mm256_unpacklo_epi64(t01, t23), _mm256_unpackhi_epi64(t01, t23));
	__m256i b =
	    _mm256_add_epi32(_mm256_unpacklo_epi64(t45, t67), _mm256_unpackhi_epi64(t45, t67));
	/* a: v0..v3's sums of their low 128 bits, then of their high 128 bits */
	return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20),
				_mm256_permute2x128_si256(a, b, 0x31));
}

/* Shared by the AVX2 prompt tiles (dot_q8_0.c, dot_int8.c): 8 weight rows, one per 32-bit lane,
 * against one token's 4 values at a time. */

/* Unaligned 4 bytes, read in place (broadcast to every lane, or vpdpbusd's embedded broadcast). */
typedef int32_t u32_unaligned __attribute__((may_alias, aligned(1)));

/* 32 bytes of each of 8 rows (r[k]: row k) regrouped: out[i] holds bytes 4 i .. 4 i + 3 of row
 * k in 32-bit lane k. An 8 x 8 transpose of 32-bit lanes. */
ISA_TARGET_AVX2 static inline void tile_transpose8(const __m256i r[8], __m256i *out)
{
	__m256i t[8], u[8];
/* unrolled, so that t[] and u[] stay in registers */
#pragma GCC unroll 4
	for (int k = 0; k < 8; k += 2) {
		t[k] = _mm256_unpacklo_epi32(r[k], r[k + 1]);
		t[k + 1] = _mm256_unpackhi_epi32(r[k], r[k + 1]);
	}
#pragma GCC unroll 2
	for (int k = 0; k < 8; k += 4) {
		u[k] = _mm256_unpacklo_epi64(t[k], t[k + 2]);
		u[k + 1] = _mm256_unpackhi_epi64(t[k], t[k + 2]);
		u[k + 2] = _mm256_unpacklo_epi64(t[k + 1], t[k + 3]);
		u[k + 3] = _mm256_unpackhi_epi64(t[k + 1], t[k + 3]);
	}
	/* u[k]: rows 0-3 (k < 4) or 4-7 of lane k % 4 (low half) and k % 4 + 4 (high) */
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		out[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
		out[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
	}
}

/* Holds an accumulator (TILE_KEEP8: a pass's 8 token accumulators) in registers at this point
 * of each step. Without it gcc -O3 reassociates the unrolled integer sums, computes a block's
 * products first and spills them to the stack: ~5 % of the AVX2 Q8_0 tile's time, 10-33 % of
 * the AVX2 K-quant tiles'. Changes no bits (integer sums). */
#define TILE_KEEP(v) __asm__("" : "+x"(v))
#define TILE_KEEP8(a0, a1, a2, a3, a4, a5, a6, a7)                                                 \
	__asm__("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7))

/* A token's 4 values x (int8) times lane i of 8 rows (wv, aw = |wv|), into each row's int32
 * lane: |w| times x with w's sign, pairs summed in int16 (exact while |x| <= 127, as in
 * qdot_q8_avx2), then in int32. */
ISA_TARGET_AVX2 static inline __m256i tile_lane_dot(__m256i acc, __m256i aw, __m256i wv,
						    const void *x)
{
	__m256i xv = _mm256_set1_epi32(*(const u32_unaligned *)x);
	__m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv, wv));
	return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

/* The canonical float step for one token and 8 rows: partial += (float)isum * (d * xd). */
ISA_TARGET_AVX2 static inline void tile_add_term(float *partial, __m256i isum, __m256 d, float xd)
{
	__m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, _mm256_set1_ps(xd)));
	_mm256_storeu_ps(partial, _mm256_add_ps(_mm256_loadu_ps(partial), term));
}

/* vpdpbusd multiplies unsigned by signed bytes: w + 128 (w xor 0x80) is unsigned, and
 * sum (w + 128) x = sum w x + 128 sum x, so the block sum of x (xsum) takes the offset back. */
ISA_TARGET_AVX512 static inline __m256i offset_dot(__m256i acc, const int8_t *w, const int8_t *x)
{
	__m256i vw = _mm256_loadu_si256((const __m256i *)(const void *)w);
	__m256i vx = _mm256_loadu_si256((const __m256i *)(const void *)x);
	return _mm256_dpbusd_epi32(acc, _mm256_xor_si256(vw, _mm256_set1_epi8((char)0x80)), vx);
}

#endif
