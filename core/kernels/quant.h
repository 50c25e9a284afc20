/* quant.h: weight types (F32, F16, GGUF Q8_0, the seed's int8 QuantizedTensor),
 * conversions between them, and matmul y = W @ x for each, row-parallel. */
#ifndef QUANT_H
#define QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values below DT_INT8 are GGML's type ids, so GGUF files map directly (the 4/5-bit and
 * K-quant types are in kquant.h). */
typedef enum {
	DT_F32 = 0,
	DT_F16 = 1,
	DT_Q4_0 = 2,
	DT_Q4_1 = 3,
	DT_Q5_0 = 6,
	DT_Q5_1 = 7,
	DT_Q8_0 = 8,
	DT_Q2_K = 10,
	DT_Q3_K = 11,
	DT_Q4_K = 12,
	DT_Q5_K = 13,
	DT_Q6_K = 14,
	DT_INT8 = 1000
} DType;

#define QK8_0 32
/* GGUF Q8_0 block: 32 weights w[i] = d * qs[i], d stored as fp16. */
typedef struct {
	uint16_t d;
	int8_t qs[QK8_0];
} BlockQ8_0;
_Static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block is 34 bytes in GGUF");

/* The seed's int8 layout: w = scale * (q - zero_point), one scale per tensor.
 * llama2.c v2 files instead carry one scale per group_size consecutive values
 * (group_scales != NULL, zero_point 0). */
typedef struct {
	const int8_t *q;	   /* (rows, cols) */
	float scale;		   /* per-tensor scale (group_scales == NULL) */
	int32_t zero_point;	   /* per-tensor zero point */
	const float *group_scales; /* (rows * cols / group_size) or NULL */
	int group_size;		   /* values per scale; cols % group_size == 0 when grouped */
	int rows, cols;
} QuantizedTensor;

/* A weight matrix W (rows, cols), row-major: y (rows) = W @ x (cols). */
typedef struct {
	DType type;
	int rows, cols;
	const void *data;   /* F32, F16 or Q8_0 rows */
	QuantizedTensor i8; /* DT_INT8 */
} Tensor;

/* Bytes of one row of cols values of type t (0 when t cannot hold that row). */
size_t dtype_row_bytes(DType t, int cols);
const char *dtype_name(DType t);

uint16_t fp32_to_fp16(float f); /* round to nearest even, as F16C does */
float fp16_to_fp32(uint16_t h);
/* Round half away from zero, as C's roundf. */
float round_half_away(float v);

/* Reference quantizers (llama.cpp's rules): x (n) -> n/32 blocks; n % 32 == 0. */
void quantize_row_q8_0(const float *x, BlockQ8_0 *out, int n);
void dequantize_row_q8_0(const BlockQ8_0 *in, float *y, int n);
/* Per-tensor asymmetric int8 of any shape: fills q (n), scale and zero point. */
void quantize_int8(const float *w, size_t n, int8_t *q, float *scale, int32_t *zero_point);

/* Row r of W as floats (embedding lookup). */
void tensor_row(const Tensor *W, int r, float *out);

/* Scratch for the quantized copy of x: sized for the widest input (cols) and the largest
 * batch of tokens quantized at once. */
typedef struct {
	int8_t *xq;	/* (batch, cols) activations as int8 */
	float *xd;	/* (batch, cols / block) their block scales */
	int32_t *xsum;	/* (batch, cols / block) sum of each block's int8 values */
	float *xs;	/* (batch, cols / 32) Q8_1 block sums d * sum, fp16-rounded */
	uint16_t *f16;	/* (batch, cols) activations as fp16 for F16 weights */
	uint8_t *xt;	/* (batch, cols) Q8_0 batches in groups of 16 tokens, transposed */
	float *xdt;	/* (batch, cols / 32) their scales */
	int cap, batch; /* cols and tokens it holds */
} MatmulScratch;
/* Allocates scratch for one input up to max_cols from the arena; -1 on exhaustion. */
int matmul_scratch_init(MatmulScratch *s, int max_cols);
/* The same for batches of up to max_batch inputs (longer batches run in slices). */
int matmul_scratch_init_batch(MatmulScratch *s, int max_cols, int max_batch);

/* Kernel variants, chosen once at init (CPUID/XCR0) or forced by --isa. */
typedef enum { ISA_SCALAR = 0, ISA_AVX2, ISA_AVX512 } Isa;
/* Picks the best supported variant (name NULL), or the named one ("scalar", "avx2",
 * "avx512"); 0, or -1 (error set) when the CPU or the enabled register state lacks it. */
int matmul_select_isa(const char *name);
/* The CPU has the instructions and the OS enabled their registers (XCR0). avx2 means AVX2
 * and F16C (QEMU's TCG has both since 7.2); avx512 adds AVX-512 F, BW, VL and VNNI. */
bool matmul_isa_supported(Isa isa);
Isa matmul_isa(void);
const char *matmul_isa_name(void);

/* y (W.rows) = W (rows, cols) @ x (cols); rows split across the thread pool. Q8_0 and int8
 * give the same bits on every ISA and thread count. */
void matmul(float *y, const Tensor *W, const float *x, MatmulScratch *s);
/* The seed's int8 matmul: y (rows) = W @ x, x quantized per block to int8. */
void matmul_int8(float *y, const QuantizedTensor *W, const float *x, MatmulScratch *s);

/* An element-wise step on two outputs' rows [i, i + count) (SwiGLU: a = silu(a) * b). */
typedef void (*MatmulPairFn)(float *a, const float *b, int count);

/* One output of matmul_multi: y (n, y_stride) gets W @ x_t in its first W.rows of each row. */
typedef struct {
	float *y;
	const Tensor *W;
	int y_stride;
} MatmulOut;
#define MATMUL_MAX_OUTS 4
/* For every token t < n of x (n, x_stride) and every out (count <= MATMUL_MAX_OUTS, same
 * cols): out.y[t] = out.W @ x[t]. x is quantized once, each weight row is read once for the
 * whole batch, and all outs share one pass of the thread pool. Each value is bit-identical to
 * what matmul gives for that token alone. */
void matmul_multi(const MatmulOut *outs, int count, const float *x, int x_stride, int n,
		  MatmulScratch *s);
/* matmul_multi of two outs with the same rows (gate and up), then pair(out0, out1) on each
 * thread's share of the rows, in the same pool pass; pair must not touch the profiler. */
void matmul_pair(const MatmulOut outs[2], const float *x, int x_stride, int n, MatmulScratch *s,
		 MatmulPairFn pair);

#endif
