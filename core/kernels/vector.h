/* vector.h: the per-layer vector kernels besides matmul and attention (RMSNorm, softmax, RoPE,
 * SwiGLU): one signature per family and its variants, with llama2.c run.c's exact arithmetic.
 * registry.h picks the variant; core/model/ops.h runs them under their profile zones. */
#ifndef VECTOR_H
#define VECTOR_H

/* o (n) = weight (n) * x (n) / sqrt(mean(x^2) + eps); o may alias x. */
typedef void (*RmsNormFn)(float *o, const float *x, const float *weight, int n, float eps);
void rms_norm_ref(float *o, const float *x, const float *weight, int n, float eps);

/* x (n) = exp(x - max) / sum, in place; n >= 1. */
typedef void (*SoftmaxFn)(float *x, int n);
void softmax_ref(float *x, int n);

/* Rotates adjacent pairs of q (dim) and k (kv_dim) by the position's angles cos_sin. */
typedef void (*RopeFn)(float *q, float *k, int dim, int kv_dim, int head_size,
		       const float *cos_sin);
void rope_encoding_ref(float *q, float *k, int dim, int kv_dim, int head_size,
		       const float *cos_sin);
/* Cosine/sine table for one position: cos_sin (head_size) holds cos,sin pairs of
 * the angle pos * freq[j], freq (head_size/2) = 1 / theta^(2j/head_size). */
void rope_freqs(float *freq, int head_size, float theta);
void rope_angles(float *cos_sin, const float *freq, int head_size, int pos);

/* hb (n) = silu(hb) * hb2 (n); the SIMD versions (fexp16, fexp8) give the reference's bits. */
typedef void (*SwigluFn)(float *hb, const float *hb2, int n);
void swiglu_ref(float *hb, const float *hb2, int n);
void swiglu_avx2(float *hb, const float *hb2, int n);
void swiglu_avx512(float *hb, const float *hb2, int n);

#endif
