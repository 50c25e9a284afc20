/* dtype.c: names and row sizes of the weight types, and a row of any of them as floats. */
#include "core/kernels/dtype.h"

#include "core/kernels/fp16.h"
#include "core/kernels/kquant.h"
#include "core/kernels/quantize.h"

size_t dtype_row_bytes(DType t, int cols)
{
	switch (t) {
	case DT_F32:
		return (size_t)cols * 4;
	case DT_F16:
		return (size_t)cols * 2;
	case DT_Q8_0:
		return cols % QK8_0 ? 0 : (size_t)(cols / QK8_0) * sizeof(BlockQ8_0);
	case DT_INT8:
		return (size_t)cols;
	default: /* the 4/5-bit and K-quant blocks */
		return kquant_block(t) && cols % kquant_block(t) == 0
			   ? (size_t)(cols / kquant_block(t)) * kquant_block_bytes(t)
			   : 0;
	}
}

const char *dtype_name(DType t)
{
	switch (t) {
	case DT_F32:
		return "F32";
	case DT_F16:
		return "F16";
	case DT_Q8_0:
		return "Q8_0";
	case DT_INT8:
		return "INT8";
	case DT_Q4_0:
		return "Q4_0";
	case DT_Q4_1:
		return "Q4_1";
	case DT_Q5_0:
		return "Q5_0";
	case DT_Q5_1:
		return "Q5_1";
	case DT_Q2_K:
		return "Q2_K";
	case DT_Q3_K:
		return "Q3_K";
	case DT_Q4_K:
		return "Q4_K";
	case DT_Q5_K:
		return "Q5_K";
	case DT_Q6_K:
		return "Q6_K";
	}
	return "?";
}

void tensor_row(const Tensor *W, int r, float *out)
{
	size_t off = (size_t)r * (size_t)W->cols;
	switch (W->type) {
	case DT_F32:
		for (int j = 0; j < W->cols; j++)
			out[j] = ((const float *)W->data)[off + j];
		break;
	case DT_F16:
		for (int j = 0; j < W->cols; j++)
			out[j] = fp16_to_fp32(((const uint16_t *)W->data)[off + j]);
		break;
	case DT_Q8_0:
		dequantize_row_q8_0((const BlockQ8_0 *)W->data + off / QK8_0, out, W->cols);
		break;
	case DT_INT8: {
		const QuantizedTensor *t = &W->i8;
		for (int j = 0; j < W->cols; j++) {
			size_t i = off + (size_t)j;
			float s =
			    t->group_scales ? t->group_scales[i / (size_t)t->group_size] : t->scale;
			out[j] = s * (float)(t->q[i] - t->zero_point);
		}
		break;
	}
	default:
		kquant_dequantize_row(W->type,
				      (const uint8_t *)W->data +
					  (size_t)r * dtype_row_bytes(W->type, W->cols),
				      out, W->cols);
		break;
	}
}
