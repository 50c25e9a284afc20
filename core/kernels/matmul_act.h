/* matmul_act.h: matmul.c's side of matmul_act.c (the scratch's activations). */
#ifndef MATMUL_ACT_H
#define MATMUL_ACT_H

#include <stdbool.h>

#include "core/kernels/kquant.h"
#include "core/kernels/matmul.h"

/* x's n tokens (x_stride apart, cols values, activation blocks of B) quantized into s for
 * weights of type (not F32); tiled: also into the tile entry's transposed groups, the last one
 * padded (F16: its floats in xd); k4_order: also in Q4_K/Q5_K's nibble order with sums of 32
 * (a pass that holds Q4_K or Q5_K outs, untiled). Splits the tokens across the pool when n > 1. */
void matmul_act_prepare(const float *x, int x_stride, int n, int cols, int B, DType type,
			MatmulScratch *s, bool tiled, bool k4_order);
/* The scratch's transposed K-quant activations (kquant.h's tile layout). */
KTileAct matmul_scratch_ktile(const MatmulScratch *s);

#endif
