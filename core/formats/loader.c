/* loader.c: picks the model source by content, maps GGUF llama tensors onto the Model,
 * converts weights for --quant, and exports the model in use as GGUF v3. */
#include "core/formats/loader.h"

#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/formats/llama2c.h"
#include "core/formats/quant_mix.h"
#include "core/kernels/kquant.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"
#include "core/base/str.h"
#include "core/formats/synth.h"

/* A GGUF tensor by name with an exact expected shape (ne0 = cols, ne1 = rows). */
static const GgufTensor *gguf_expect(const GgufFile *g, const char *name, uint64_t cols,
				     uint64_t rows, int required)
{
	const GgufTensor *t = gguf_tensor(g, name);
	if (!t) {
		if (required)
			error_set("%s: tensor %s is missing", g->path, name);
		return NULL;
	}
	uint64_t want_dims = rows > 1 ? 2 : 1;
	if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != 1 || t->ne[3] != 1 ||
	    (t->n_dims != want_dims && !(t->n_dims == 2 && rows == 1))) {
		error_set("%s: tensor %s has shape [%llu, %llu, %llu, %llu], expected [%llu, "
			  "%llu]",
			  g->path, name, (unsigned long long)t->ne[0],
			  (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
			  (unsigned long long)t->ne[3], (unsigned long long)cols,
			  (unsigned long long)rows);
		return NULL;
	}
	return t;
}

static int gguf_matrix(const GgufFile *g, Tensor *out, const char *name, int rows, int cols)
{
	const GgufTensor *t = gguf_expect(g, name, (uint64_t)cols, (uint64_t)rows, 1);
	if (!t)
		return -1;
	if (t->type != DT_F32 && t->type != DT_F16 && t->type != DT_Q8_0 &&
	    !kquant_block((DType)t->type))
		return error_set("%s: tensor %s has type %s; supported types are F32, F16, Q8_0, "
				 "Q4_0, Q4_1, Q5_0, Q5_1 and Q2_K to Q6_K",
				 g->path, name, ggml_type_name(t->type));
	/* every block type starts with 16-bit fields and has an even size */
	if ((t->type == DT_F32 && (uintptr_t)t->data % 4) ||
	    (t->type != DT_F32 && (uintptr_t)t->data % 2))
		return error_set("%s: tensor %s is not aligned for its type", g->path, name);
	*out = (Tensor){.type = (DType)t->type, .rows = rows, .cols = cols, .data = t->data};
	return 0;
}

/* Norm vectors are used as floats: F32 in place, F16 converted into the arena. */
static int gguf_vector(const GgufFile *g, const float **out, const char *name, int n)
{
	const GgufTensor *t = gguf_expect(g, name, (uint64_t)n, 1, 1);
	if (!t)
		return -1;
	if (t->type == DT_F32 && (uintptr_t)t->data % 4 == 0) {
		*out = (const float *)t->data;
		return 0;
	}
	if (t->type != DT_F32 && t->type != DT_F16)
		return error_set("%s: tensor %s has type %s; norms must be F32 or F16", g->path,
				 name, ggml_type_name(t->type));
	float *f = arena_alloc((size_t)n * 4, 64, "norm weights");
	if (!f)
		return error_set("not enough memory for %s", name);
	for (int i = 0; i < n; i++) {
		if (t->type == DT_F16)
			f[i] = fp16_to_fp32(load_u16(t->data + 2 * i));
		else /* F32 at an address that is not a multiple of 4: copied bytewise */
			mem_copy(&f[i], t->data + (size_t)i * 4, 4);
	}
	*out = f;
	return 0;
}

static int get_dim(const GgufFile *g, const char *key, int *out, int required)
{
	uint32_t v;
	int r = gguf_get_u32(g, key, &v);
	if (r < 0)
		return -1;
	if (r == 1) {
		if (required)
			return error_set("%s: metadata %s is missing", g->path, key);
		return 1;
	}
	if (v == 0 || v > 0x7fffffff)
		return error_set("%s: metadata %s = %u is out of range", g->path, key, v);
	*out = (int)v;
	return 0;
}

static int load_gguf(LoadedModel *lm, const uint8_t *data, size_t size, const char *path)
{
	GgufFile *g = &lm->gguf;
	if (gguf_open(g, data, size, path) < 0)
		return -1;
	lm->is_gguf = 1;
	lm->format = g->version == 3 ? "gguf v3" : "gguf v2";
	GgufStr arch;
	int r = gguf_get_str(g, "general.architecture", &arch);
	if (r < 0)
		return -1;
	if (r == 1)
		return error_set("%s: metadata general.architecture is missing", path);
	if (!str_eq_n(arch.s, (size_t)arch.n, "llama"))
		return error_set("%s: architecture '%.*s' is not supported (llama is)", path,
				 (int)(arch.n > 64 ? 64 : arch.n), arch.s);
	Model *m = &lm->model;
	ModelConfig *c = &m->config;
	c->rope_theta = 10000.0f;
	c->rms_eps = 1e-5f;
	c->bos_id = 1;
	c->eos_id = 2;
	if (get_dim(g, "llama.embedding_length", &c->dim, 1) < 0 ||
	    get_dim(g, "llama.feed_forward_length", &c->hidden_dim, 1) < 0 ||
	    get_dim(g, "llama.block_count", &c->n_layers, 1) < 0 ||
	    get_dim(g, "llama.attention.head_count", &c->n_heads, 1) < 0 ||
	    get_dim(g, "llama.context_length", &c->seq_len, 1) < 0)
		return -1;
	c->n_kv_heads = c->n_heads;
	if (get_dim(g, "llama.attention.head_count_kv", &c->n_kv_heads, 0) < 0 ||
	    gguf_get_f32(g, "llama.rope.freq_base", &c->rope_theta) < 0 ||
	    gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &c->rms_eps) < 0)
		return -1;
	uint32_t id;
	if ((r = gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &id)) < 0)
		return -1;
	if (r == 0)
		c->bos_id = (int)id;
	if ((r = gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &id)) < 0)
		return -1;
	if (r == 0)
		c->eos_id = (int)id;
	const GgufTensor *emb = gguf_tensor(g, "token_embd.weight");
	if (!emb)
		return error_set("%s: tensor token_embd.weight is missing", path);
	if (emb->ne[1] > 0x7fffffff)
		return error_set("%s: token_embd.weight has %llu rows", path,
				 (unsigned long long)emb->ne[1]);
	c->vocab_size = (int)emb->ne[1];
	if (model_config_check(c) < 0)
		return error_set("%s: %s", path, error_message());
	int rope_dims = 0;
	if ((r = get_dim(g, "llama.rope.dimension_count", &rope_dims, 0)) < 0)
		return -1;
	if (r == 0 && rope_dims != c->dim / c->n_heads)
		return error_set("%s: llama.rope.dimension_count %d differs from the head size %d "
				 "(partial rotary embeddings are not supported)",
				 path, rope_dims, c->dim / c->n_heads);
	if (model_weights_alloc(m) < 0)
		return -1;

	ModelWeights *w = &m->weights;
	int dim = c->dim, hid = c->hidden_dim, L = c->n_layers;
	int kv = dim / c->n_heads * c->n_kv_heads;
	if (gguf_matrix(g, &w->token_embedding, "token_embd.weight", c->vocab_size, dim) < 0 ||
	    gguf_vector(g, &w->rms_final, "output_norm.weight", dim) < 0)
		return -1;
	if (gguf_tensor(g, "output.weight")) {
		if (gguf_matrix(g, &w->classifier, "output.weight", c->vocab_size, dim) < 0)
			return -1;
	} else {
		w->classifier = w->token_embedding;
	}
	float *rms_att = arena_alloc((size_t)L * dim * 4, 64, "norm weights");
	float *rms_ffn = arena_alloc((size_t)L * dim * 4, 64, "norm weights");
	if (!rms_att || !rms_ffn)
		return error_set("not enough memory for the norm weights");
	for (int l = 0; l < L; l++) {
		char name[96];
		const float *v;
#define BLK(suffix) (fmt_format(name, sizeof name, "blk.%d." suffix, l), name)
		if (gguf_vector(g, &v, BLK("attn_norm.weight"), dim) < 0)
			return -1;
		mem_copy(rms_att + (size_t)l * dim, v, (size_t)dim * 4);
		if (gguf_vector(g, &v, BLK("ffn_norm.weight"), dim) < 0)
			return -1;
		mem_copy(rms_ffn + (size_t)l * dim, v, (size_t)dim * 4);
		if (gguf_matrix(g, &w->wq[l], BLK("attn_q.weight"), dim, dim) < 0 ||
		    gguf_matrix(g, &w->wk[l], BLK("attn_k.weight"), kv, dim) < 0 ||
		    gguf_matrix(g, &w->wv[l], BLK("attn_v.weight"), kv, dim) < 0 ||
		    gguf_matrix(g, &w->wo[l], BLK("attn_output.weight"), dim, dim) < 0 ||
		    gguf_matrix(g, &w->w1[l], BLK("ffn_gate.weight"), hid, dim) < 0 ||
		    gguf_matrix(g, &w->w2[l], BLK("ffn_down.weight"), dim, hid) < 0 ||
		    gguf_matrix(g, &w->w3[l], BLK("ffn_up.weight"), hid, dim) < 0)
			return -1;
#undef BLK
	}
	w->rms_att = rms_att;
	w->rms_ffn = rms_ffn;
	return 0;
}

int model_load_bytes(LoadedModel *lm, const uint8_t *data, size_t size, const char *name,
		     QuantMode quant)
{
	mem_set(lm, 0, sizeof *lm);
	lm->model.source = name;
	int r;
	if (gguf_is(data, size)) {
		r = load_gguf(lm, data, size, name);
	} else {
		int version = 0;
		r = llama2c_load(&lm->model, data, size, name, &version);
		static const char *names[] = {"llama2.c v0", "llama2.c v1", "llama2.c v2"};
		lm->format = names[version >= 0 && version <= 2 ? version : 0];
		if (r < 0 && !llama2c_has_magic(data, size) && !llama2c_v0_plausible(data, size))
			/* Neither magic matched and the bytes are no v0 header either. */
			return error_set("%s: unknown model format (expected GGUF or a llama2.c "
					 "checkpoint; first bytes %02x %02x %02x %02x)",
					 name, size > 0 ? data[0] : 0, size > 1 ? data[1] : 0,
					 size > 2 ? data[2] : 0, size > 3 ? data[3] : 0);
	}
	if (r < 0)
		return -1;
	return model_quantize(&lm->model, quant);
}

int model_load(LoadedModel *lm, const LoadOptions *o)
{
	PROFILE_BEGIN(zone, "load");
	int r;
	if (o->path) {
		const uint8_t *data;
		size_t size;
		if (plat_model_map(o->path, &data, &size) < 0)
			r = -1;
		else
			r = model_load_bytes(lm, data, size, o->path, o->quant);
	} else {
		mem_set(lm, 0, sizeof *lm);
		lm->model.source = o->synthetic;
		lm->format = str_eq(o->synthetic, "small") ? "synthetic small"
							    : "synthetic tinyllama";
		r = synth_build(&lm->model, o->synthetic, o->synth_seed);
		if (r == 0)
			r = model_quantize(&lm->model, o->quant);
	}
	PROFILE_END(zone);
	return r;
}

/* --- --quant --- */

/* Converts one matrix to mode (what and layer name it in messages). */
static int quantize_tensor(Tensor *t, QuantMode mode, const char *what, int layer)
{
	if (mode == QUANT_NONE || (mode == QUANT_Q8_0 && t->type == DT_Q8_0) ||
	    (mode == QUANT_INT8 && t->type == DT_INT8 && !t->i8.group_scales))
		return 0;
	if (mode == QUANT_Q8_0 && t->cols % QK8_0)
		return error_set("--quant q8_0: tensor %s (layer %d) has rows of %d values, not a "
				 "multiple of %d",
				 what, layer, t->cols, QK8_0);
	size_t n = (size_t)t->rows * (size_t)t->cols;
	if (mode == QUANT_Q8_0) {
		float *row = arena_alloc((size_t)t->cols * 4, 64, "quantization row");
		BlockQ8_0 *blocks = arena_alloc((size_t)t->rows * dtype_row_bytes(DT_Q8_0, t->cols),
						64, "quantized weights");
		if (!row || !blocks)
			return error_set("not enough memory to quantize %s", what);
		size_t nb = (size_t)t->cols / QK8_0;
		for (int r = 0; r < t->rows; r++) {
			tensor_row(t, r, row);
			quantize_row_q8_0(row, blocks + (size_t)r * nb, t->cols);
		}
		*t = (Tensor){.type = DT_Q8_0, .rows = t->rows, .cols = t->cols, .data = blocks};
		return 0;
	}
	/* Per-tensor int8 needs the whole tensor as floats for its range. */
	size_t mark = arena_mark();
	float *all = arena_alloc(n * 4, 64, "quantization buffer");
	int8_t *q = arena_alloc(n, 64, "quantized weights");
	if (!all || !q)
		return error_set("not enough memory to quantize %s", what);
	for (int r = 0; r < t->rows; r++)
		tensor_row(t, r, all + (size_t)r * (size_t)t->cols);
	QuantizedTensor qt = {.q = q, .rows = t->rows, .cols = t->cols};
	quantize_int8(all, n, q, &qt.scale, &qt.zero_point);
	/* Keep q: move it down over the float buffer, then release the rest. */
	arena_reset(mark);
	int8_t *kept = arena_alloc(n, 64, "quantized weights");
	mem_copy(kept, q, n); /* kept <= q: a forward copy is safe */
	qt.q = kept;
	*t = (Tensor){.type = DT_INT8, .rows = t->rows, .cols = t->cols, .i8 = qt};
	return 0;
}

int model_quantize(Model *m, QuantMode mode)
{
	if (mode == QUANT_NONE)
		return 0;
	if (mode >= QUANT_Q4_0)
		return quant_mix_apply(m, mode);
	ModelWeights *w = &m->weights;
	int tied = w->classifier.data == w->token_embedding.data &&
		   w->classifier.i8.q == w->token_embedding.i8.q;
	for (int l = 0; l < m->config.n_layers; l++) {
		if (quantize_tensor(&w->wq[l], mode, "attn_q", l) < 0 ||
		    quantize_tensor(&w->wk[l], mode, "attn_k", l) < 0 ||
		    quantize_tensor(&w->wv[l], mode, "attn_v", l) < 0 ||
		    quantize_tensor(&w->wo[l], mode, "attn_output", l) < 0 ||
		    quantize_tensor(&w->w1[l], mode, "ffn_gate", l) < 0 ||
		    quantize_tensor(&w->w2[l], mode, "ffn_down", l) < 0 ||
		    quantize_tensor(&w->w3[l], mode, "ffn_up", l) < 0)
			return -1;
	}
	if (quantize_tensor(&w->token_embedding, mode, "token_embd", 0) < 0)
		return -1;
	if (tied)
		w->classifier = w->token_embedding;
	else if (quantize_tensor(&w->classifier, mode, "output", 0) < 0)
		return -1;
	return 0;
}
