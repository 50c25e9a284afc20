/* matmul.h: y = W @ x for weights of every DType, one token or a batch, several outputs per
 * pass, split across the platform's thread pool by rows; the kernels come from registry.h. */
#ifndef MATMUL_H
#define MATMUL_H

#include <stdint.h>

#include "core/kernels/dtype.h"

/* Scratch for the quantized copy of x: sized for the widest input (cols) and the largest
 * batch of tokens quantized at once. */
typedef struct {
	int8_t *xq;	/* (batch, cols) activations as int8 */
	int8_t *xn;	/* (batch, cols) xq in the weight type's nibble order (kquant.h: QAct) */
	int16_t *xs32;	/* (batch, cols / 32) Q4_K/Q5_K: sums of each 32 values of xq */
	float *xd;	/* (batch, cols / block) their block scales; F16 prompt tiles: (batch,
			   cols) fp16-rounded x as floats (F16 weights have no block scales) */
	int32_t *xsum;	/* (batch, cols / block) sum of each block's int8 values */
	float *xs;	/* (batch, cols / 32) Q8_1 block sums d * sum, fp16-rounded */
	uint16_t *f16;	/* (batch, cols) activations as fp16 for F16 weights */
	uint8_t *xt;	/* (batch, cols) Q8_0 batches in groups of 16 tokens, transposed */
	float *xdt;	/* (batch, cols / 32) their scales */
	int16_t *xbt;	/* (batch, cols / 16) K-quant tiles' activation sums (kquant.h) */
	int cap, batch; /* cols and tokens it holds */
} MatmulScratch;
/* Allocates scratch for one input up to max_cols from the arena; -1 on exhaustion. */
int matmul_scratch_init(MatmulScratch *s, int max_cols);
/* The same for batches of up to max_batch inputs (longer batches run in slices). */
int matmul_scratch_init_batch(MatmulScratch *s, int max_cols, int max_batch);

/* y (W.rows) = W (rows, cols) @ x (cols); rows split across the thread pool. Q8_0 and int8
 * give the same bits on every ISA and thread count. */
void matmul(float *y, const Tensor *W, const float *x, MatmulScratch *s);
/* The seed's int8 matmul: y (rows) = W @ x, x quantized per block to int8. */
void matmul_int8(float *y, const QuantizedTensor *W, const float *x, MatmulScratch *s);

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
/* The FFN's gate and up: matmul_multi of two outs with the same rows, then SwiGLU (the
 * registry's swiglu: out0 = silu(out0) * out1) on each thread's share of the rows, in the same
 * pool pass. Profiled as the matmul zone with a swiglu child (see matmul.c). */
void matmul_swiglu(const MatmulOut outs[2], const float *x, int x_stride, int n, MatmulScratch *s);

#endif
