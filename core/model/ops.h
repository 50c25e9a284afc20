/* ops.h: the element-wise and reduction steps of the Llama-2 forward pass,
 * with llama2.c run.c's exact arithmetic (profiled under the seed's names). */
#ifndef OPS_H
#define OPS_H

/* o (n) = weight (n) * x (n) / sqrt(mean(x^2) + eps); o may alias x. */
void rms_norm(float *o, const float *x, const float *weight, int n, float eps);
/* x (n) = exp(x - max) / sum, in place. */
void softmax(float *x, int n);
/* The same without a profiler zone, for the thread pool's workers (zones are per thread 0). */
void softmax_nozone(float *x, int n);
/* Cosine/sine table for one position: cos_sin (head_size) holds cos,sin pairs of
 * the angle pos * freq[j], freq (head_size/2) = 1 / theta^(2j/head_size). */
void rope_freqs(float *freq, int head_size, float theta);
void rope_angles(float *cos_sin, const float *freq, int head_size, int pos);
/* Rotates adjacent pairs of q (dim) and k (kv_dim) by the position's angles. */
void rope_encoding(float *q, float *k, int dim, int kv_dim, int head_size, const float *cos_sin);
/* hb (n) = silu(hb) * hb2 (n). */
void swiglu(float *hb, const float *hb2, int n);
/* The same without a profiler zone (run by the pool's workers inside the gate/up matmul). */
void swiglu_nozone(float *hb, const float *hb2, int n);
/* swiglu_nozone on AVX-512 (fexp16) and AVX2 (fexp8), with its bits. */
void swiglu_avx512(float *hb, const float *hb2, int n);
void swiglu_avx2(float *hb, const float *hb2, int n);

#endif
