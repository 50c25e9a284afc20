/* shapes.h: whether the loaded model runs a registry kernel at a given shape (the code cache
 * refuses compiled kernels for shapes the model never uses). */
#ifndef SHAPES_H
#define SHAPES_H

#include <stdbool.h>

#include "core/model/model.h"

/* Shapes as the profile's kernel records give them: a matmul dot ("dot_*") is the weight type
 * and rows x cols of one weight matrix or of a fused group (wq+wk+wv, w1+w3, rows summed);
 * the vector kernels 1 x length (dim, hidden_dim, or a softmax over at most ctx_len scores);
 * attention_group and rope heads (query or KV) x head size. 0 matches any rows or cols. */
bool model_runs_shape(const Model *m, const char *slot, const char *dtype, int rows, int cols);

#endif
