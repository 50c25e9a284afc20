/* sampler.h: picks the next token from logits: greedy, or temperature with top-k,
 * top-p (nucleus) and min-p, seeded by the project's PRNG so runs repeat exactly. */
#ifndef SAMPLER_H
#define SAMPLER_H

#include <stdint.h>

#include "core/base/rng.h"

typedef struct {
	float prob;
	int index;
} ProbIndex;

typedef struct {
	int vocab_size;
	float temperature;    /* 0 = greedy */
	int top_k;	      /* 0 = off */
	float top_p;	      /* 1 = off */
	float min_p;	      /* 0 = off */
	float repeat_penalty; /* 1 = off: logits of recent tokens are divided (if > 0) or
				 multiplied (if < 0) by it, as llama.cpp does */
	int repeat_last_n;    /* how many recent tokens the penalty looks at */
	int *recent;	      /* (repeat_last_n) ring of recent tokens */
	int n_recent, recent_pos;
	Rng rng;
	ProbIndex *cand; /* (vocab_size) scratch */
} Sampler;

/* Scratch from the arena; 0 or -1 (error set). */
int sampler_init(Sampler *s, int vocab_size, float temperature, int top_k, float top_p, float min_p,
		 uint64_t seed);
/* Turns on the repetition penalty over the last last_n tokens; 0 or -1 (error set). */
int sampler_set_penalty(Sampler *s, float penalty, int last_n);
/* Records a token of the sequence (prompt or generated) for the penalty. */
void sampler_accept(Sampler *s, int token);
/* Returns the next token, always one of the vocabulary; logits (vocab_size) are modified in
 * place. A temperature so small that the scaled logits overflow samples greedily. */
int sampler_sample(Sampler *s, float *logits);
/* Index of the largest value (the first one on ties). */
int sampler_argmax(const float *x, int n);
/* Keeps the smallest prefix of cand (sorted by prob, descending) whose mass reaches p;
 * returns its length. Exposed for tests. */
int sampler_top_p_cut(const ProbIndex *cand, int n, float p);
/* Sorts cand by prob descending (index ascending on ties). */
void sampler_sort(ProbIndex *cand, int n);

#endif
