/* export.c: writes the model in use as GGUF v3 (llama.cpp's tensor names, weights in
 * their current type), with the source GGUF's tokenizer metadata or a placeholder vocab. */
#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "shim/platform.h"
#include "core/base/str.h"

#define EXPORT_ALIGNMENT 32
#define EXPORT_MAX_TENSORS 4096

typedef struct {
	char name[48];
	uint32_t n_dims;
	uint64_t ne[2];
	uint32_t type;
	const void *data;
	uint64_t bytes;
} ExportTensor;

static int add_matrix(ExportTensor *t, int *n, const char *name, const Tensor *w)
{
	if (w->type == DT_INT8)
		return error_set("--export-gguf: tensor %s is in the seed's int8 layout, which "
				 "GGUF has no type for (use --quant q8_0 or no --quant)",
				 name);
	ExportTensor *e = &t[(*n)++];
	fmt_format(e->name, sizeof e->name, "%s", name);
	e->n_dims = 2;
	e->ne[0] = (uint64_t)w->cols;
	e->ne[1] = (uint64_t)w->rows;
	e->type = (uint32_t)w->type;
	e->data = w->data;
	e->bytes = (uint64_t)w->rows * dtype_row_bytes(w->type, w->cols);
	return 0;
}

static void add_vector(ExportTensor *t, int *n, const char *name, const float *v, int len)
{
	ExportTensor *e = &t[(*n)++];
	fmt_format(e->name, sizeof e->name, "%s", name);
	e->n_dims = 1;
	e->ne[0] = (uint64_t)len;
	e->ne[1] = 1;
	e->type = DT_F32;
	e->data = v;
	e->bytes = (uint64_t)len * 4;
}

static int is_tokenizer_key(const GgufKV *kv)
{
	return kv->key.n > 10 && !mem_cmp(kv->key.s, "tokenizer.", 10);
}

int model_export_gguf(const LoadedModel *lm, const char *path)
{
	const Model *m = &lm->model;
	const ModelConfig *c = &m->config;
	const ModelWeights *w = &m->weights;
	int L = c->n_layers, dim = c->dim;
	int n_tensors = 3 + 9 * L;
	if (n_tensors > EXPORT_MAX_TENSORS)
		return error_set("--export-gguf: %d layers is more than supported", L);
	size_t mark = arena_mark();
	ExportTensor *t = arena_alloc(sizeof(ExportTensor) * (size_t)n_tensors, 8, "export table");
	if (!t)
		return error_set("not enough memory to export");
	int n = 0;
	int tied = w->classifier.data == w->token_embedding.data;
	if (add_matrix(t, &n, "token_embd.weight", &w->token_embedding) < 0)
		goto fail;
	add_vector(t, &n, "output_norm.weight", w->rms_final, dim);
	if (!tied && add_matrix(t, &n, "output.weight", &w->classifier) < 0)
		goto fail;
	for (int l = 0; l < L; l++) {
		char name[48];
#define BLK(suffix) (fmt_format(name, sizeof name, "blk.%d." suffix, l), name)
		add_vector(t, &n, BLK("attn_norm.weight"), w->rms_att + (size_t)l * dim, dim);
		if (add_matrix(t, &n, BLK("attn_q.weight"), &w->wq[l]) < 0 ||
		    add_matrix(t, &n, BLK("attn_k.weight"), &w->wk[l]) < 0 ||
		    add_matrix(t, &n, BLK("attn_v.weight"), &w->wv[l]) < 0 ||
		    add_matrix(t, &n, BLK("attn_output.weight"), &w->wo[l]) < 0)
			goto fail;
		add_vector(t, &n, BLK("ffn_norm.weight"), w->rms_ffn + (size_t)l * dim, dim);
		if (add_matrix(t, &n, BLK("ffn_gate.weight"), &w->w1[l]) < 0 ||
		    add_matrix(t, &n, BLK("ffn_down.weight"), &w->w2[l]) < 0 ||
		    add_matrix(t, &n, BLK("ffn_up.weight"), &w->w3[l]) < 0)
			goto fail;
#undef BLK
	}

	/* Vocabulary: the source's tokenizer.* entries verbatim, else a placeholder one
	 * (token i is "<i>", as llama.cpp's llama2.c converter writes) so tools can load it. */
	uint64_t n_tok_kv = 0;
	if (lm->is_gguf)
		for (uint64_t i = 0; i < lm->gguf.n_kv; i++)
			n_tok_kv += is_tokenizer_key(&lm->gguf.kv[i]) != 0;
	int placeholder = n_tok_kv == 0;
	uint32_t file_type = w->wq[0].type == DT_Q8_0 ? 7 : w->wq[0].type == DT_F16 ? 1 : 0;

	int h = plat_file_create(path);
	if (h < 0) {
		arena_reset(mark);
		return error_set("--export-gguf: %s", error_message());
	}
	GgufWriter gw = {h, 0, 0};
	gguf_w_header(&gw, (uint64_t)n, 13 + (placeholder ? 6 : n_tok_kv));
	gguf_w_kv_str(&gw, "general.architecture", "llama");
	gguf_w_kv_str(&gw, "general.name", lm->format ? lm->format : "tinyllama");
	gguf_w_kv_u32(&gw, "general.file_type", file_type);
	gguf_w_kv_u32(&gw, "general.alignment", EXPORT_ALIGNMENT);
	gguf_w_kv_u32(&gw, "llama.context_length", (uint32_t)c->seq_len);
	gguf_w_kv_u32(&gw, "llama.embedding_length", (uint32_t)dim);
	gguf_w_kv_u32(&gw, "llama.block_count", (uint32_t)L);
	gguf_w_kv_u32(&gw, "llama.feed_forward_length", (uint32_t)c->hidden_dim);
	gguf_w_kv_u32(&gw, "llama.rope.dimension_count", (uint32_t)(dim / c->n_heads));
	gguf_w_kv_u32(&gw, "llama.attention.head_count", (uint32_t)c->n_heads);
	gguf_w_kv_u32(&gw, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads);
	gguf_w_kv_f32(&gw, "llama.attention.layer_norm_rms_epsilon", c->rms_eps);
	gguf_w_kv_f32(&gw, "llama.rope.freq_base", c->rope_theta);
	if (placeholder) {
		int V = c->vocab_size;
		gguf_w_kv_str(&gw, "tokenizer.ggml.model", "llama");
		gguf_w_kv_arr(&gw, "tokenizer.ggml.tokens", GGUF_STRING, (uint64_t)V);
		for (int i = 0; i < V; i++) {
			char tok[24];
			size_t len = i == c->bos_id   ? fmt_format(tok, sizeof tok, "<s>")
				     : i == c->eos_id ? fmt_format(tok, sizeof tok, "</s>")
				     : i == 0	      ? fmt_format(tok, sizeof tok, "<unk>")
						      : fmt_format(tok, sizeof tok, "<%d>", i);
			gguf_w_str(&gw, tok, len);
		}
		gguf_w_kv_arr(&gw, "tokenizer.ggml.scores", GGUF_FLOAT32, (uint64_t)V);
		for (int i = 0; i < V; i++) {
			float s = 0;
			gguf_w_raw(&gw, &s, 4);
		}
		gguf_w_kv_arr(&gw, "tokenizer.ggml.token_type", GGUF_INT32, (uint64_t)V);
		for (int i = 0; i < V; i++) {
			/* 3 = control for <unk>, <s>, </s>; 1 = normal */
			int32_t type = (i == 0 || i == c->bos_id || i == c->eos_id) ? 3 : 1;
			gguf_w_raw(&gw, &type, 4);
		}
		gguf_w_kv_u32(&gw, "tokenizer.ggml.bos_token_id", (uint32_t)c->bos_id);
		gguf_w_kv_u32(&gw, "tokenizer.ggml.eos_token_id", (uint32_t)c->eos_id);
	} else {
		for (uint64_t i = 0; i < lm->gguf.n_kv; i++)
			if (is_tokenizer_key(&lm->gguf.kv[i]))
				gguf_w_raw(&gw, lm->gguf.kv[i].raw, lm->gguf.kv[i].raw_n);
	}
	uint64_t offset = 0;
	for (int i = 0; i < n; i++) {
		gguf_w_tensor_info(&gw, t[i].name, t[i].n_dims, t[i].ne, t[i].type, offset);
		offset += (t[i].bytes + EXPORT_ALIGNMENT - 1) / EXPORT_ALIGNMENT * EXPORT_ALIGNMENT;
	}
	for (int i = 0; i < n; i++) {
		gguf_w_pad(&gw, EXPORT_ALIGNMENT);
		gguf_w_raw(&gw, t[i].data, t[i].bytes);
	}
	int closed = plat_file_close(h);
	arena_reset(mark);
	if (gw.failed || closed < 0)
		return error_set("%s: writing the GGUF file failed", path);
	return 0;
fail:
	arena_reset(mark);
	return -1;
}
