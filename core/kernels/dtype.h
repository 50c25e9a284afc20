/* dtype.h: the weight types (F32, F16, GGUF Q8_0, the seed's int8 QuantizedTensor), their
 * names and row sizes, and the Tensor that holds a weight matrix of any of them. */
#ifndef DTYPE_H
#define DTYPE_H

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

/* Row r of W as floats (embedding lookup). */
void tensor_row(const Tensor *W, int r, float *out);

#endif
