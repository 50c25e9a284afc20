/* export.c: writes the model in use as GGUF v3 (llama.cpp's tensor names, weights in
 * their current type), with the source GGUF's tokenizer metadata or a placeholder vocab. */
#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/base/str.h"
#include "core/formats/gguf.h"
#include "core/formats/gguf_keys.h"
#include "core/formats/llama_gguf.h"
#include "core/formats/loader.h"
#include "shim/platform.h"

#define EXPORT_ALIGNMENT 32
#define EXPORT_MAX_TENSORS 4096

typedef struct {
	char name[LLAMA_TENSOR_NAME_MAX];
	uint32_t n_dims;
	uint64_t ne[2];
	uint32_t type;
	const void *data;
	uint64_t bytes;
} ExportTensor;

typedef struct {
	const ModelWeights *w;
	int dim;
	bool tied;
	ExportTensor *t;
	int n;
} ExportTable;

/* Adds one table entry (a matrix in its current type, or an F32 norm vector). */
static int add_tensor(void *ctx, const LlamaTensor *lt, int layer)
{
	ExportTable *x = ctx;
	if (lt->optional && x->tied)
		return 0;
	ExportTensor *e = &x->t[x->n];
	llama_tensor_name(lt, layer, e->name);
	if (lt->norm) {
		e->n_dims = 1;
		e->ne[0] = (uint64_t)x->dim;
		e->ne[1] = 1;
		e->type = DT_F32;
		e->data = llama_norm(x->w, lt, layer, x->dim);
		e->bytes = (uint64_t)x->dim * 4;
	} else {
		const Tensor *w = llama_matrix_const(x->w, lt, layer);
		if (w->type == DT_INT8)
			return error_set(
			    "--export-gguf: tensor %s is in the seed's int8 layout, "
			    "which GGUF has no type for (use --quant q8_0 or no --quant)",
			    e->name);
		e->n_dims = 2;
		e->ne[0] = (uint64_t)w->cols;
		e->ne[1] = (uint64_t)w->rows;
		e->type = (uint32_t)w->type;
		e->data = w->data;
		e->bytes = (uint64_t)w->rows * dtype_row_bytes(w->type, w->cols);
	}
	x->n++;
	return 0;
}

/* llama.cpp's LLAMA_FTYPE of a --quant mode: what llama-quantize writes for that mix. */
static uint32_t mode_file_type(QuantMode mode)
{
	switch (mode) {
	case QUANT_Q4_0:
		return 2;
	case QUANT_Q4_1:
		return 3;
	case QUANT_Q8_0:
		return 7;
	case QUANT_Q5_0:
		return 8;
	case QUANT_Q5_1:
		return 9;
	case QUANT_Q2_K:
		return 10;
	case QUANT_Q3_K_S:
		return 11;
	case QUANT_Q3_K_M:
		return 12;
	case QUANT_Q3_K_L:
		return 13;
	case QUANT_Q4_K_S:
		return 14;
	case QUANT_Q4_K_M:
		return 15;
	case QUANT_Q5_K_S:
		return 16;
	case QUANT_Q5_K_M:
		return 17;
	default: /* QUANT_Q6_K (no --quant and int8 never come here) */
		return 18;
	}
}

/* llama.cpp's guess of LLAMA_FTYPE from a type GGML_TYPE: a K-quant is its _M mix. */
static uint32_t type_file_type(uint32_t type)
{
	switch (type) {
	case DT_F16:
		return 1;
	case DT_Q4_0:
		return 2;
	case DT_Q4_1:
		return 3;
	case DT_Q8_0:
		return 7;
	case DT_Q5_0:
		return 8;
	case DT_Q5_1:
		return 9;
	case DT_Q2_K:
		return 10;
	case DT_Q3_K:
		return 12;
	case DT_Q4_K:
		return 15;
	case DT_Q5_K:
		return 17;
	case DT_Q6_K:
		return 18;
	default: /* DT_F32 */
		return 0;
	}
}

/* general.file_type as llama.cpp writes it: the ftype of the --quant mix (llama-quantize
 * writes the one it was asked for), else the source GGUF's own (the weights are its bytes),
 * else llama.cpp's guess when a file has none: the type most tensors have. */
static uint32_t file_type(const LoadedModel *lm, const ExportTensor *t, int n)
{
	if (lm->quant != QUANT_NONE)
		return mode_file_type(lm->quant);
	uint32_t v;
	if (lm->is_gguf && gguf_get_u32(&lm->gguf, GGUF_KEY_FILE_TYPE, &v) == 0)
		return v;
	uint32_t best = DT_F32;
	int best_n = 0;
	for (int i = 0; i < n; i++) {
		int same = 0;
		for (int j = 0; j <= i; j++)
			same += t[j].type == t[i].type;
		if (same > best_n) {
			best_n = same;
			best = t[i].type;
		}
	}
	return type_file_type(best);
}

static int is_tokenizer_key(const GgufKV *kv)
{
	size_t n = sizeof GGUF_KEY_TOK_PREFIX - 1;
	return kv->key.n > n && !mem_cmp(kv->key.s, GGUF_KEY_TOK_PREFIX, n);
}

int model_export_gguf(const LoadedModel *lm, const char *path)
{
	const Model *m = &lm->model;
	const ModelConfig *c = &m->config;
	const ModelWeights *w = &m->weights;
	int L = c->n_layers, dim = c->dim;
	if (L > EXPORT_MAX_TENSORS / llama_tensor_count)
		return error_set("--export-gguf: %d layers is more than supported", L);
	int max_tensors = llama_tensor_count * (L + 1);
	size_t mark = arena_mark();
	ExportTensor *t =
	    arena_alloc(sizeof(ExportTensor) * (size_t)max_tensors, 8, "export tensor table");
	if (!t)
		return -1;
	ExportTable table = {w, dim, llama_classifier_tied(w), t, 0};
	if (llama_tensors_each(L, add_tensor, &table) < 0) {
		arena_reset(mark);
		return -1;
	}
	int n = table.n;

	/* Vocabulary: the source's tokenizer.* entries verbatim, else a placeholder one
	 * (token i is "<i>", as llama.cpp's llama2.c converter writes) so tools can load it. */
	uint64_t n_tok_kv = 0;
	if (lm->is_gguf)
		for (uint64_t i = 0; i < lm->gguf.n_kv; i++)
			n_tok_kv += is_tokenizer_key(&lm->gguf.kv[i]) != 0;
	int placeholder = n_tok_kv == 0;

	int h = plat_file_create(path);
	if (h < 0) {
		arena_reset(mark);
		return error_set("--export-gguf: %s", error_message());
	}
	GgufWriter gw = {h, 0, false};
	/* general.* (4), the llama.* table, the rope dimension count, then the vocabulary. */
	uint64_t n_kv = 4 + (uint64_t)llama_hparam_count + 1 + (placeholder ? 6 : n_tok_kv);
	gguf_w_header(&gw, (uint64_t)n, n_kv);
	gguf_w_kv_str(&gw, GGUF_KEY_ARCHITECTURE, LLAMA_ARCH);
	gguf_w_kv_str(&gw, GGUF_KEY_NAME, lm->format ? lm->format : "tinyllama");
	gguf_w_kv_u32(&gw, GGUF_KEY_FILE_TYPE, file_type(lm, t, n));
	gguf_w_kv_u32(&gw, GGUF_KEY_ALIGNMENT, EXPORT_ALIGNMENT);
	for (int i = 0; i < llama_hparam_count; i++) {
		const LlamaHparam *hp = &llama_hparams[i];
		const void *field = (const char *)c + hp->field;
		if (hp->is_float)
			gguf_w_kv_f32(&gw, hp->key, *(const float *)field);
		else
			gguf_w_kv_u32(&gw, hp->key, (uint32_t) * (const int *)field);
	}
	gguf_w_kv_u32(&gw, LLAMA_KEY_ROPE_DIMS, (uint32_t)(dim / c->n_heads));
	if (placeholder) {
		int V = c->vocab_size;
		gguf_w_kv_str(&gw, GGUF_KEY_TOK_MODEL, LLAMA_ARCH);
		gguf_w_kv_arr(&gw, GGUF_KEY_TOK_TOKENS, GGUF_STRING, (uint64_t)V);
		for (int i = 0; i < V; i++) {
			char tok[24];
			size_t len = i == c->bos_id   ? fmt_format(tok, sizeof tok, "<s>")
				     : i == c->eos_id ? fmt_format(tok, sizeof tok, "</s>")
				     : i == 0	      ? fmt_format(tok, sizeof tok, "<unk>")
						      : fmt_format(tok, sizeof tok, "<%d>", i);
			gguf_w_str(&gw, tok, len);
		}
		gguf_w_kv_arr(&gw, GGUF_KEY_TOK_SCORES, GGUF_FLOAT32, (uint64_t)V);
		for (int i = 0; i < V; i++) {
			float s = 0;
			gguf_w_raw(&gw, &s, 4);
		}
		gguf_w_kv_arr(&gw, GGUF_KEY_TOK_TYPES, GGUF_INT32, (uint64_t)V);
		for (int i = 0; i < V; i++) {
			/* 3 = control for <unk>, <s>, </s>; 1 = normal */
			int32_t type = (i == 0 || i == c->bos_id || i == c->eos_id) ? 3 : 1;
			gguf_w_raw(&gw, &type, 4);
		}
		gguf_w_kv_u32(&gw, GGUF_KEY_TOK_BOS, (uint32_t)c->bos_id);
		gguf_w_kv_u32(&gw, GGUF_KEY_TOK_EOS, (uint32_t)c->eos_id);
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
	for (int i = 0; i < n && !gw.failed; i++) {
		gguf_w_pad(&gw, EXPORT_ALIGNMENT);
		gguf_w_raw(&gw, t[i].data, t[i].bytes);
	}
	int closed = plat_file_close(h);
	arena_reset(mark);
	if (gw.failed || closed < 0)
		return error_set("--export-gguf: writing %s failed after %llu bytes", path,
				 (unsigned long long)gw.written);
	return 0;
}
