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

/* The same steps on n tokens of a batch, token t's rows t dim (k: t kv_dim, cos_sin: t head_size)
 * along, across the thread pool when there is enough work (each token is computed the same way
 * on any thread). The zones count a call per token either way; a pooled step files its
 * wall-clock time and one kernel record of n tokens. */
void rms_norm_tokens(float *o, const float *x, const float *weight, int n, int dim, float eps);
void rope_tokens(float *q, float *k, int n, int dim, int kv_dim, int head_size,
		 const float *cos_sin);

#endif
