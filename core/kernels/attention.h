/* attention.h: causal attention of up to ATTN_LANES queries that share one KV head, over the f32
 * KV cache: the kernel family's signature, the scalar reference and AVX-512 and AVX2 versions
 * that give its bits (registry.h picks one). */
#ifndef ATTENTION_H
#define ATTENTION_H

#include <stddef.h>
#include <stdint.h>

/* Queries per group: one per lane of a 16-float vector. */
#define ATTN_LANES 16

typedef struct {
	const float *keys, *values; /* position t's key and value at + t * stride */
	size_t stride;
	int head_size;
	float scale;		    /* scores are q . k / scale (sqrt(head_size)) */
	int nq;			    /* queries, 1..ATTN_LANES */
	const float *q[ATTN_LANES]; /* head_size floats each */
	float *out[ATTN_LANES];	    /* head_size floats each */
	int last[ATTN_LANES];	    /* query i attends to positions 0..last[i] */
	int cold; /* 1: the rows are read once (a generated token): prefetch them ahead */
	uint64_t *softmax_cycles; /* NULL, or gets the cycles of the softmax step added */
} AttnGroup;

/* Fewer queries than this run the reference inside the SIMD versions: a mostly empty vector
 * costs more than the queries one by one. */
#define ATTN_SIMD_MIN_QUERIES 4

/* out[i] = sum over t <= last[i] of softmax(q[i] . k_t / scale)_t v_t, for each query, as
 * llama2.c computes one head: 8 partial sums of the dot folded in a fixed tree, then softmax
 * and the weighted sum in position order. att: scratch of (max last + 1) * ATTN_LANES floats. */
typedef void (*AttnGroupFn)(const AttnGroup *g, float *att);
void attn_group_ref(const AttnGroup *g, float *att);
void attn_group_avx512(const AttnGroup *g, float *att);
void attn_group_avx2(const AttnGroup *g, float *att);

#endif
