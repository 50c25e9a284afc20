/* llama_gguf.h: how a Llama model is laid out in GGUF, written once for the reader
 * (loader.c), the writer (export.c) and --quant: the llama.* hyper-parameter table and the
 * tensor table (llama.cpp's names, the ModelWeights field each fills, its shape). */
#ifndef LLAMA_GGUF_H
#define LLAMA_GGUF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/model/model.h"

#define LLAMA_ARCH "llama"
/* Written by the exporter as the head size and checked by the reader: partial rotary
 * embeddings are not supported, so it is no free hyper-parameter. */
#define LLAMA_KEY_ROPE_DIMS "llama.rope.dimension_count"

/* One llama.* hyper-parameter: an int field of ModelConfig (read as u32, 1..2^31-1) or a
 * float one. An absent optional key leaves the field as it was (its default). */
typedef struct {
	const char *key;
	bool is_float;
	bool required;
	size_t field; /* offsetof(ModelConfig, ...) */
} LlamaHparam;

extern const LlamaHparam llama_hparams[];
extern const int llama_hparam_count;

/* Dimensions in terms of the hyper-parameters. */
typedef enum { LLAMA_ONE, LLAMA_DIM, LLAMA_KV_DIM, LLAMA_HIDDEN, LLAMA_VOCAB } LlamaSize;

/* What a matrix does, for rules that treat matrices by their job (--quant's mixes); the norm
 * vectors have none. */
typedef enum {
	LLAMA_ROLE_NONE,
	LLAMA_ROLE_EMBD,
	LLAMA_ROLE_OUTPUT,
	LLAMA_ROLE_ATTN_Q,
	LLAMA_ROLE_ATTN_K,
	LLAMA_ROLE_ATTN_V,
	LLAMA_ROLE_ATTN_OUT,
	LLAMA_ROLE_FFN_GATE,
	LLAMA_ROLE_FFN_DOWN,
	LLAMA_ROLE_FFN_UP,
} LlamaRole;

/* One tensor of the model, in file order. */
typedef struct {
	const char *name; /* llama.cpp's name; a per-layer one is prefixed "blk.N." */
	bool per_layer;
	bool norm;	/* an RMSNorm weight vector (const float *), else a Tensor matrix */
	bool optional;	/* output.weight: absent when the classifier is the embedding */
	LlamaSize rows; /* LLAMA_ONE for vectors */
	LlamaSize cols;
	size_t field; /* offsetof(ModelWeights, ...); per-layer norms are (layer, dim) arrays */
	LlamaRole role;
} LlamaTensor;

extern const LlamaTensor llama_tensors[];
extern const int llama_tensor_count;

/* Longest tensor name (with the "blk.N." prefix) plus its NUL. */
#define LLAMA_TENSOR_NAME_MAX 48

/* The GGUF name of t in layer into buf (LLAMA_TENSOR_NAME_MAX bytes). */
void llama_tensor_name(const LlamaTensor *t, int layer, char *buf);
int llama_size(const ModelConfig *c, LlamaSize s);
/* Calls fn for every tensor of a model of n_layers in file order: the global ones, then
 * layer by layer. Stops at the first non-zero return and returns it. */
typedef int (*LlamaTensorFn)(void *ctx, const LlamaTensor *t, int layer);
int llama_tensors_each(int n_layers, LlamaTensorFn fn, void *ctx);

/* The matrix slot of t (not a norm) in layer. */
Tensor *llama_matrix(ModelWeights *w, const LlamaTensor *t, int layer);
const Tensor *llama_matrix_const(const ModelWeights *w, const LlamaTensor *t, int layer);
/* The field of a norm t: a pointer to its (const float *). Per-layer norms keep layer l's
 * vector at (*field) + l * dim. */
const float **llama_norm_field(ModelWeights *w, const LlamaTensor *t);
const float *llama_norm(const ModelWeights *w, const LlamaTensor *t, int layer, int dim);
/* True when the classifier is the token embedding (no output.weight of its own). */
bool llama_classifier_tied(const ModelWeights *w);

#endif
