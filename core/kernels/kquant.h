/* kquant.h: GGML's 4/5-bit block types (Q4_0, Q4_1, Q5_0, Q5_1) and K-quants (Q2_K..Q6_K):
 * their block layouts, the activation types they meet (Q8_0, Q8_1, Q8_K), row dequantizers
 * and the dot kernels of one weight row against quantized activations. */
#ifndef KQUANT_H
#define KQUANT_H

#include <stddef.h>
#include <stdint.h>

#include "core/kernels/dtype.h"

#define QK4 32	 /* values per block of Q4_0, Q4_1, Q5_0, Q5_1 (and Q8_0, Q8_1) */
#define QK_K 256 /* values per super-block of the K-quants (and Q8_K) */

/* Q4_0: w = d * (q - 8), q 4 bits; byte j holds value j (low nibble) and j + 16 (high). */
typedef struct {
	uint16_t d;
	uint8_t qs[QK4 / 2];
} BlockQ4_0;
_Static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block is 18 bytes in GGUF");

/* Q4_1: w = d * q + m, q 4 bits packed as in Q4_0. */
typedef struct {
	uint16_t d, m;
	uint8_t qs[QK4 / 2];
} BlockQ4_1;
_Static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block is 20 bytes in GGUF");

/* Q5_0: w = d * (q - 16), q 5 bits: the low 4 as in Q4_0, bit 4 of value j is bit j of qh
 * (a little-endian uint32). */
typedef struct {
	uint16_t d;
	uint8_t qh[4];
	uint8_t qs[QK4 / 2];
} BlockQ5_0;
_Static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block is 22 bytes in GGUF");

/* Q5_1: w = d * q + m, q 5 bits packed as in Q5_0. */
typedef struct {
	uint16_t d, m;
	uint8_t qh[4];
	uint8_t qs[QK4 / 2];
} BlockQ5_1;
_Static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block is 24 bytes in GGUF");

/* Q8_1 (activations of Q4_1/Q5_1): x = d * q, s = d * sum(q) rounded to fp16. */
typedef struct {
	uint16_t d, s;
	int8_t qs[QK4];
} BlockQ8_1;
_Static_assert(sizeof(BlockQ8_1) == 36, "Q8_1 block is 36 bytes in GGML");

/* Q2_K: 16 groups of 16; scales[g] = scale (low 4 bits) | min (high 4 bits);
 * w = d * scale * q - dmin * min, q 2 bits: value 128 h + 32 s + l (h < 2, s < 4, l < 32)
 * is bits 2 s of qs[32 h + l]. */
typedef struct {
	uint8_t scales[QK_K / 16];
	uint8_t qs[QK_K / 4];
	uint16_t d, dmin;
} BlockQ2_K;
_Static_assert(sizeof(BlockQ2_K) == 84, "Q2_K block is 84 bytes in GGUF");

/* Q3_K: 16 groups of 16, 6-bit scales packed in 12 bytes; w = d * (scale - 32) * q,
 * q = 2 low bits (as Q2_K) - 4 unless bit (4 h + s) of hmask[l] is set (value 128 h + 32 s +
 * l). */
typedef struct {
	uint8_t hmask[QK_K / 8];
	uint8_t qs[QK_K / 4];
	uint8_t scales[12];
	uint16_t d;
} BlockQ3_K;
_Static_assert(sizeof(BlockQ3_K) == 110, "Q3_K block is 110 bytes in GGUF");

/* Q4_K: 8 groups of 32 with 6-bit scales and mins packed in 12 bytes;
 * w = d * scale * q - dmin * min; value 64 c + l (l < 32) is the low nibble of qs[32 c + l],
 * value 64 c + 32 + l its high nibble. */
typedef struct {
	uint16_t d, dmin;
	uint8_t scales[12];
	uint8_t qs[QK_K / 2];
} BlockQ4_K;
_Static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block is 144 bytes in GGUF");

/* Q5_K: Q4_K plus a fifth bit: bit 2 c (low nibbles) or 2 c + 1 (high) of qh[l]. */
typedef struct {
	uint16_t d, dmin;
	uint8_t scales[12];
	uint8_t qh[QK_K / 8];
	uint8_t qs[QK_K / 2];
} BlockQ5_K;
_Static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block is 176 bytes in GGUF");

/* Q6_K: 16 groups of 16 with int8 scales; w = d * scale * (q - 32), q 6 bits: in half h
 * (128 values), value 32 k + l has its low 4 bits in ql[64 h + l + 32 (k & 1)] (the high
 * nibble when k >= 2) and its high 2 bits at bit 2 k of qh[32 h + l]. */
typedef struct {
	uint8_t ql[QK_K / 2];
	uint8_t qh[QK_K / 4];
	int8_t scales[QK_K / 16];
	uint16_t d;
} BlockQ6_K;
_Static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block is 210 bytes in GGUF");

/* Q8_K (activations of the K-quants): x = d * q, d a float; bsums: sums of each 16 q. */
typedef struct {
	float d;
	int8_t qs[QK_K];
	int16_t bsums[QK_K / 16];
} BlockQ8_K;
_Static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block is 292 bytes in GGML");

/* Values per block of a type of this family, 0 for any other type. */
int kquant_block(DType t);
/* Bytes per block (0 for other types). */
size_t kquant_block_bytes(DType t);

/* Which activation type a weight type is multiplied with. */
typedef enum { ACT_Q8_0, ACT_Q8_1, ACT_Q8_K } ActKind;
ActKind kquant_act(DType t);
/* Values per entry of the activation sums (xsum/xs): 32 for Q8_0/Q8_1, 16 for Q8_K. */
int kquant_act_block(ActKind k);

/* One token's quantized activations, unpacked: q (n) int8 values; d their scales (one per 32
 * values, one per 256 for Q8_K); s the Q8_1 fp16 block sums as floats; bsum the Q8_K sums of
 * each 16 values; for Q4_0, Q5_0, Q4_K and Q5_K weights qn, the values of q in the weight type's
 * nibble order (below), and for Q4_K and Q5_K bs32, the sums of each 32 values of q (int16:
 * |sum| <= 32 x 128). */
typedef struct {
	const int8_t *q;
	const float *d;
	const float *s;
	const int32_t *bsum;
	const int8_t *qn;
	const int16_t *bs32;
} QAct;

/* Q4_0's and Q5_0's nibble order of Q8_0 activations q of nb blocks into qn: per whole group of 8
 * blocks (256 values), for each pair of blocks (k, k + 4), k < 4, the first 16 values of both, then
 * (from byte 128) the last 16 of both, so that the low nibbles of two blocks' codes side by side
 * meet one contiguous load and the high nibbles another, and the blocks' totals come out of the
 * reduction in block order. Blocks past the last whole group are left out (the kernels take
 * them from q). */
void quant_act_q4_0_order(const int8_t *q, int nb, int8_t *qn);
/* Q4_K and Q5_K's nibble order of Q8_K activations q of nsb super-blocks into qn, and their
 * sums of 32 (from bsum) into bs32: per 128 values, whose codes are 64 bytes (groups 2c, 2c + 1
 * of chunks c, c + 1 in the low and high nibbles), the low nibbles' values first (0-31, 64-95),
 * then the high nibbles' (32-63, 96-127), so that one 64-byte load of codes meets two
 * contiguous loads of activations. */
void quant_act_k4_order(const int8_t *q, const int32_t *bsum, int nsb, int8_t *qn, int16_t *bs32);

/* Q8_1 activations of x (n % 32 == 0), as quantize_row_q8_1 gives them: d = amax / 127
 * rounded to fp16, values round(x / d) from the unrounded d, s = fp16(d * sum). */
typedef void (*QuantActQ81Fn)(const float *x, int n, int8_t *q, float *d, float *s);
void quant_act_q8_1(const float *x, int n, int8_t *q, float *d, float *s);
/* Q8_K activations of x (n % 256 == 0), llama.cpp's rule: per super-block the value of largest
 * magnitude max, iscale = -127 / max, q = min(127, round-half-even(iscale x)), d = 1 / iscale,
 * bsum the sums of each 16 q. */
typedef void (*QuantActQ8KFn)(const float *x, int n, int8_t *q, float *d, int32_t *bsum);
void quant_act_q8_k(const float *x, int n, int8_t *q, float *d, int32_t *bsum);
void quant_act_q8_k_avx2(const float *x, int n, int8_t *q, float *d, int32_t *bsum);

/* Row of n values (n a multiple of the type's block) of type t as floats, GGML's
 * dequantizers' arithmetic (what its get_rows gives for an embedding). */
void kquant_dequantize_row(DType t, const void *row, float *y, int n);

/* Quantizes the row x (n values, a multiple of the type's block) to type t by llama.cpp's
 * reference quantizers (no importance matrix). */
void kquant_quantize_row(DType t, const float *x, void *row, int n);

/* A weight row of nb blocks (super-blocks for the K-quants) of one type against one token's
 * activations. Each block gives an exact integer sum (and, for types with mins, the exact
 * integer sum that multiplies the min); the block's float term, in the order the reference
 * writes, goes into partial acc[b % QDOT_LANES]; partials fold with qdot_tree. Every ISA's
 * version gives the same bits. */
typedef float (*KDotFn)(const void *w, const QAct *x, int nb);

/* The versions, one file per family holding the scalar reference and its SIMD versions:
 * dot_q4_q5.c (blocks of 32), dot_q2_q3_k.c, dot_q4_q5_k.c, dot_q6_k.c. */
typedef float KDotKernel(const void *w, const QAct *x, int nb);
KDotKernel kdot_q4_0_ref, kdot_q4_1_ref, kdot_q5_0_ref, kdot_q5_1_ref, kdot_q2_k_ref, kdot_q3_k_ref,
    kdot_q4_k_ref, kdot_q5_k_ref, kdot_q6_k_ref;
KDotKernel kdot_q4_0_avx2, kdot_q4_1_avx2, kdot_q5_0_avx2, kdot_q5_1_avx2, kdot_q2_k_avx2,
    kdot_q3_k_avx2, kdot_q4_k_avx2, kdot_q5_k_avx2, kdot_q6_k_avx2;
KDotKernel kdot_q4_0_avx512, kdot_q4_1_avx512, kdot_q5_0_avx512, kdot_q5_1_avx512, kdot_q2_k_avx512,
    kdot_q3_k_avx512, kdot_q4_k_avx512, kdot_q5_k_avx512, kdot_q6_k_avx512;

/* The kernels of one ISA, indexed by kquant_index (NULL where that ISA has none), gathered in
 * kquant.c. */
enum { KQ_Q4_0, KQ_Q4_1, KQ_Q5_0, KQ_Q5_1, KQ_Q2_K, KQ_Q3_K, KQ_Q4_K, KQ_Q5_K, KQ_Q6_K, KQ_COUNT };
/* Index of t in these tables, -1 when t is not one of these types. */
int kquant_index(DType t);

extern const KDotFn kdot_ref[KQ_COUNT];
extern const KDotFn kdot_avx2[KQ_COUNT];
extern const KDotFn kdot_avx512[KQ_COUNT];

/* Two adjacent rows (w, and w + row_bytes) of nb blocks against one token: y[0] and y[1] get
 * exactly the KDotFn's bits of each. One call runs both rows' steps interleaved, so that one
 * row's reductions and float terms overlap the other's loads: on TinyLlama's 2048-wide rows
 * (8 super-blocks a row) a generated token's one-token passes took ~9 % fewer cycles. */
typedef void (*KDot2Fn)(const void *w, size_t row_bytes, const QAct *x, int nb, float y[2]);
typedef void KDot2Kernel(const void *w, size_t row_bytes, const QAct *x, int nb, float y[2]);
/* The references: the row references one row after the other (what a pair must equal). */
KDot2Kernel kdot2_q2_k_ref, kdot2_q3_k_ref, kdot2_q4_k_ref, kdot2_q5_k_ref, kdot2_q6_k_ref;
KDot2Kernel kdot2_q2_k_avx512, kdot2_q3_k_avx512, kdot2_q4_k_avx512, kdot2_q5_k_avx512,
    kdot2_q6_k_avx512;
/* The pair kernels of AVX-512, by kquant_index (NULL for the types without one: their rows
 * run one at a time). */
extern const KDot2Fn kdot2_avx512[KQ_COUNT];

/* Prompts: one weight row against ntok >= 1 tokens (x[0..ntok)): y[t * y_stride] gets exactly
 * the bits of the KDotFn of x[t]. Each (super-)block's codes and scales are unpacked once for
 * up to KQ_BATCH_TOKENS tokens, whose integer sums and float terms follow the one-token
 * kernel's order token by token. */
typedef void (*KDotBatchFn)(const void *w, const QAct *x, int ntok, int nb, float *y,
			    size_t y_stride);
#define KQ_BATCH_TOKENS 8 /* the largest group a batch kernel takes at once */

/* The versions, beside the one-token kernels in dot_q4_q5_batch.c (the K-quants' prompts run
 * as tiles, below; Q2_K and Q3_K's through their one-token kernels). */
typedef void KDotBatchKernel(const void *w, const QAct *x, int ntok, int nb, float *y,
			     size_t y_stride);
KDotBatchKernel kdot_q4_0_batch_avx2, kdot_q4_1_batch_avx2, kdot_q5_0_batch_avx2,
    kdot_q5_1_batch_avx2;
KDotBatchKernel kdot_q4_0_batch_avx512, kdot_q4_1_batch_avx512, kdot_q5_0_batch_avx512,
    kdot_q5_1_batch_avx512;

/* Each ISA's batch kernels (NULL where it has none: the one-token kernel runs prompts). */
extern const KDotBatchFn kdot_batch_avx2[KQ_COUNT];
extern const KDotBatchFn kdot_batch_avx512[KQ_COUNT];

/* A Q4_0 or Q5_0 row of nb blocks as Q8_0 blocks with the same scales, codes minus 8 (16):
 * the Q8_0 kernels' integer sums and float terms on them are the Q4_0/Q5_0 kernels', so the
 * Q8_0 prompt tiles serve these rows too. */
typedef void (*KToQ8Fn)(DType t, const void *row, int nb, BlockQ8_0 *out);
void kquant_row_to_q8_0_ref(DType t, const void *row, int nb, BlockQ8_0 *out);
void kquant_row_to_q8_0_avx2(DType t, const void *row, int nb, BlockQ8_0 *out);

/* Prompt tiles (AVX-512 VNNI, AVX-VNNI and AVX2; the K-quants): a batch's Q8_K activations also
 * held in groups of KTILE_TOKENS tokens, transposed, so that one vpdpbusd multiplies 4 values of a
 * weight row, broadcast, by the same 4 values of 16 tokens and each token's sum stays in its
 * own int32 lane (no horizontal sums). For group g and super-block b of a row of nb:
 *   q  + (g nb + b) KTILE_BLOCK_BYTES: 64 lanes of 64 bytes, lane l holding values 4l..4l+3
 *      of token 0, then of token 1, ...;
 *   d  + (g nb + b) KTILE_TOKENS: each token's Q8_K scale;
 *   bs + ((g nb + b) 8 + p) 2 KTILE_TOKENS: each token's sums of values 32p..32p+15 and
 *      32p+16..32p+31 (Q8_K's bsums 2p and 2p + 1), an int16 pair.
 * A padding token has q = 0 and d = 0. */
#define KTILE_TOKENS 16
#define KTILE_BLOCK_BYTES (QK_K * KTILE_TOKENS)
typedef struct {
	int8_t *q;
	float *d;
	int16_t *bs;
} KTileAct;
/* Writes one token's Q8_K activations (q, d, bsum as quant_act_q8_k gives them; NULL for a
 * padding token) into lane t % KTILE_TOKENS of its group. */
void ktile_put_token(const KTileAct *x, int nb, int t, const int8_t *q, const float *d,
		     const int32_t *bsum);
/* Rows w + r row_bytes (r < nrows <= KTILE_ROWS) of nb super-blocks against ntok tokens in
 * the layout above: y[t * y_stride + r] gets exactly the bits of the KDotFn of token t. */
typedef void (*KTileFn)(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			int ntok, float *y, size_t y_stride);
#define KTILE_ROWS 8
void kdot_q2_k_tile_avx512(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			   int ntok, float *y, size_t y_stride);
void kdot_q3_k_tile_avx512(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			   int ntok, float *y, size_t y_stride);
void kdot_q4_k_tile_avx512(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			   int ntok, float *y, size_t y_stride);
void kdot_q5_k_tile_avx512(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			   int ntok, float *y, size_t y_stride);
void kdot_q6_k_tile_avx512(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			   int ntok, float *y, size_t y_stride);
void kdot_q2_k_tile_avx2(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			 int ntok, float *y, size_t y_stride);
void kdot_q3_k_tile_avx2(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			 int ntok, float *y, size_t y_stride);
void kdot_q4_k_tile_avx2(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			 int ntok, float *y, size_t y_stride);
void kdot_q5_k_tile_avx2(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			 int ntok, float *y, size_t y_stride);
void kdot_q6_k_tile_avx2(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			 int ntok, float *y, size_t y_stride);
void kdot_q2_k_tile_avxvnni(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			    int ntok, float *y, size_t y_stride);
void kdot_q3_k_tile_avxvnni(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			    int ntok, float *y, size_t y_stride);
void kdot_q4_k_tile_avxvnni(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			    int ntok, float *y, size_t y_stride);
void kdot_q5_k_tile_avxvnni(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			    int ntok, float *y, size_t y_stride);
void kdot_q6_k_tile_avxvnni(const void *w, size_t row_bytes, int nrows, int nb, const KTileAct *x,
			    int ntok, float *y, size_t y_stride);

#endif
