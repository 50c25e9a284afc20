/* model.h: the Llama-2 transformer: hyper-parameters, weights (any DType, used in
 * place where the file allows), the run state with its KV cache, and the forward pass. */
#ifndef MODEL_H
#define MODEL_H

#include <stdbool.h>

#include "core/kernels/dtype.h"
#include "core/kernels/matmul.h"

typedef struct {
	int dim;	/* transformer width */
	int hidden_dim; /* FFN width */
	int n_layers;
	int n_heads;
	int n_kv_heads; /* < n_heads for grouped-query attention */
	int vocab_size;
	int seq_len; /* context length the model was trained for */
	float rope_theta;
	float rms_eps;
	int bos_id, eos_id;
	bool stop_at_bos; /* llama2.c checkpoints end a sequence at BOS */
} ModelConfig;

typedef struct {
	Tensor token_embedding; /* (vocab_size, dim) */
	const float *rms_att;	/* (layer, dim) */
	const float *rms_ffn;	/* (layer, dim) */
	Tensor *wq;		/* [layer] (n_heads * head_size, dim) */
	Tensor *wk;		/* [layer] (n_kv_heads * head_size, dim) */
	Tensor *wv;		/* [layer] (n_kv_heads * head_size, dim) */
	Tensor *wo;		/* [layer] (dim, n_heads * head_size) */
	Tensor *w1;		/* [layer] (hidden_dim, dim) gate */
	Tensor *w2;		/* [layer] (dim, hidden_dim) down */
	Tensor *w3;		/* [layer] (hidden_dim, dim) up */
	const float *rms_final; /* (dim) */
	Tensor classifier;	/* (vocab_size, dim), the embedding itself when tied */
} ModelWeights;

typedef struct {
	float *x;	       /* (dim) residual stream */
	float *xb, *xb2;       /* (dim) */
	float *hb, *hb2;       /* (hidden_dim) */
	float *q;	       /* (dim) */
	float *kv_row;	       /* (2 kv_dim) one token's k and v on their way to the cache */
	float *att;	       /* (att_slots, ATTN_LANES, seq_len) score rows */
	int att_slots;	       /* threads that can run attention at once */
	float *logits;	       /* (vocab_size) */
	float *key_cache;      /* (layer, seq_len, kv_dim) */
	float *value_cache;    /* (layer, seq_len, kv_dim) */
	int kv_populated;      /* positions of the KV cache whose pages are populated */
	float *rope_freq;      /* (head_size / 2) */
	float *rope_cs;	       /* (MODEL_BATCH, head_size) cos,sin of the positions in work */
	MatmulScratch scratch; /* holds MODEL_BATCH tokens of quantized activations */
	/* Prompt batches: the same as above for up to MODEL_BATCH tokens, one row each. */
	float *bx, *bxb, *bxb2, *bq; /* (MODEL_BATCH, dim) */
	float *bhb, *bhb2;	     /* (MODEL_BATCH, hidden_dim) */
} RunState;

/* Prompt tokens per batch of model_forward_batch: each weight row is read and regrouped once
 * per batch. 128 against 64, TinyLlama Q8_0 pp128 on the EPYC (alternated, three sets): AVX-512
 * +3-12 %; AVX2 level within the host's noise (+2.5-4 % in one set, -4 % in one with a
 * neighbour on the host). An 8-row tile then reads its 128 tokens' activations (704 KB at 5632
 * wide) from L2 or L3 at ~2 bytes a cycle. */
#define MODEL_BATCH 128

typedef struct {
	ModelConfig config;
	ModelWeights weights;
	RunState state;
	int ctx_len;	    /* positions the KV cache holds (<= config.seq_len) */
	const char *source; /* what the model came from, for messages */
} Model;

/* Checks the hyper-parameters (positive, consistent, no overflow); 0 or -1 (error set). */
int model_config_check(const ModelConfig *c);
/* Allocates the per-layer tensor arrays of the weights from the arena. */
int model_weights_alloc(Model *m);
/* Allocates the run state with a KV cache for ctx_len positions. */
int model_state_init(Model *m, int ctx_len);
/* Runs token at pos through the model; returns the logits (vocab_size). */
float *model_forward(Model *m, int token, int pos);
/* Runs n prompt tokens at positions pos0.. through the model as matrix-matrix products
 * (batches of MODEL_BATCH) and returns the logits of the last one (vocab_size): the same bits
 * model_forward(m, tokens[n - 1], pos0 + n - 1) gives after the n - 1 before it. n >= 1. */
float *model_forward_batch(Model *m, const int *tokens, int n, int pos0);

#endif
