/* llama_gguf.c: the Llama hyper-parameter and tensor tables of GGUF files, and access to
 * the ModelWeights field each tensor fills. */
#include "core/formats/llama_gguf.h"

#include "core/base/core_assert.h"
#include "core/base/fmt.h"

#define CFG(f) offsetof(ModelConfig, f)
/* In the reader's order: the first missing required key is the one reported. */
const LlamaHparam llama_hparams[] = {
    {"llama.embedding_length", false, true, CFG(dim)},
    {"llama.feed_forward_length", false, true, CFG(hidden_dim)},
    {"llama.block_count", false, true, CFG(n_layers)},
    {"llama.attention.head_count", false, true, CFG(n_heads)},
    {"llama.context_length", false, true, CFG(seq_len)},
    {"llama.attention.head_count_kv", false, false, CFG(n_kv_heads)},
    {"llama.rope.freq_base", true, false, CFG(rope_theta)},
    {"llama.attention.layer_norm_rms_epsilon", true, false, CFG(rms_eps)},
};
const int llama_hparam_count = sizeof llama_hparams / sizeof llama_hparams[0];

#define W(f) offsetof(ModelWeights, f)
const LlamaTensor llama_tensors[] = {
    {"token_embd.weight", false, false, false, LLAMA_VOCAB, LLAMA_DIM, W(token_embedding),
     LLAMA_ROLE_EMBD},
    {"output_norm.weight", false, true, false, LLAMA_ONE, LLAMA_DIM, W(rms_final), LLAMA_ROLE_NONE},
    {"output.weight", false, false, true, LLAMA_VOCAB, LLAMA_DIM, W(classifier), LLAMA_ROLE_OUTPUT},
    {"attn_norm.weight", true, true, false, LLAMA_ONE, LLAMA_DIM, W(rms_att), LLAMA_ROLE_NONE},
    {"attn_q.weight", true, false, false, LLAMA_DIM, LLAMA_DIM, W(wq), LLAMA_ROLE_ATTN_Q},
    {"attn_k.weight", true, false, false, LLAMA_KV_DIM, LLAMA_DIM, W(wk), LLAMA_ROLE_ATTN_K},
    {"attn_v.weight", true, false, false, LLAMA_KV_DIM, LLAMA_DIM, W(wv), LLAMA_ROLE_ATTN_V},
    {"attn_output.weight", true, false, false, LLAMA_DIM, LLAMA_DIM, W(wo), LLAMA_ROLE_ATTN_OUT},
    {"ffn_norm.weight", true, true, false, LLAMA_ONE, LLAMA_DIM, W(rms_ffn), LLAMA_ROLE_NONE},
    {"ffn_gate.weight", true, false, false, LLAMA_HIDDEN, LLAMA_DIM, W(w1), LLAMA_ROLE_FFN_GATE},
    {"ffn_down.weight", true, false, false, LLAMA_DIM, LLAMA_HIDDEN, W(w2), LLAMA_ROLE_FFN_DOWN},
    {"ffn_up.weight", true, false, false, LLAMA_HIDDEN, LLAMA_DIM, W(w3), LLAMA_ROLE_FFN_UP},
};
const int llama_tensor_count = sizeof llama_tensors / sizeof llama_tensors[0];

void llama_tensor_name(const LlamaTensor *t, int layer, char *buf)
{
	CORE_ASSERT(layer >= 0 && (t->per_layer || layer == 0));
	if (t->per_layer)
		fmt_format(buf, LLAMA_TENSOR_NAME_MAX, "blk.%d.%s", layer, t->name);
	else
		fmt_format(buf, LLAMA_TENSOR_NAME_MAX, "%s", t->name);
}

int llama_size(const ModelConfig *c, LlamaSize s)
{
	switch (s) {
	case LLAMA_DIM:
		return c->dim;
	case LLAMA_KV_DIM:
		return c->dim / c->n_heads * c->n_kv_heads;
	case LLAMA_HIDDEN:
		return c->hidden_dim;
	case LLAMA_VOCAB:
		return c->vocab_size;
	case LLAMA_ONE:
		break;
	}
	return 1;
}

int llama_tensors_each(int n_layers, LlamaTensorFn fn, void *ctx)
{
	for (int i = 0; i < llama_tensor_count; i++) {
		int r = llama_tensors[i].per_layer ? 0 : fn(ctx, &llama_tensors[i], 0);
		if (r)
			return r;
	}
	for (int l = 0; l < n_layers; l++)
		for (int i = 0; i < llama_tensor_count; i++) {
			int r = llama_tensors[i].per_layer ? fn(ctx, &llama_tensors[i], l) : 0;
			if (r)
				return r;
		}
	return 0;
}

Tensor *llama_matrix(ModelWeights *w, const LlamaTensor *t, int layer)
{
	CORE_ASSERT(!t->norm && layer >= 0);
	char *field = (char *)w + t->field;
	return t->per_layer ? *(Tensor **)field + layer : (Tensor *)field;
}

const Tensor *llama_matrix_const(const ModelWeights *w, const LlamaTensor *t, int layer)
{
	CORE_ASSERT(!t->norm && layer >= 0);
	const char *field = (const char *)w + t->field;
	return t->per_layer ? *(Tensor *const *)field + layer : (const Tensor *)field;
}

const float **llama_norm_field(ModelWeights *w, const LlamaTensor *t)
{
	CORE_ASSERT(t->norm);
	return (const float **)((char *)w + t->field);
}

const float *llama_norm(const ModelWeights *w, const LlamaTensor *t, int layer, int dim)
{
	CORE_ASSERT(t->norm && layer >= 0 && dim > 0);
	const float *v = *(const float *const *)((const char *)w + t->field);
	return t->per_layer ? v + (size_t)layer * (size_t)dim : v;
}

bool llama_classifier_tied(const ModelWeights *w)
{
	return w->classifier.data == w->token_embedding.data &&
	       w->classifier.i8.q == w->token_embedding.i8.q;
}
