/* ops.h: the forward pass's vector steps under the seed's profile zone names, each running its
 * registry entry (core/kernels/vector.h has the kernels, their contracts and the RoPE tables). */
#ifndef OPS_H
#define OPS_H

/* o (n) = weight (n) * x (n) / sqrt(mean(x^2) + eps); o may alias x. */
void rms_norm(float *o, const float *x, const float *weight, int n, float eps);
/* x (n) = exp(x - max) / sum, in place. */
void softmax(float *x, int n);
/* Rotates adjacent pairs of q (dim) and k (kv_dim) by the position's angles. */
void rope_encoding(float *q, float *k, int dim, int kv_dim, int head_size, const float *cos_sin);

#endif
