/* loader.c: picks the model source by content, maps GGUF llama tensors onto the Model,
 * converts weights for --quant, and exports the model in use as GGUF v3. */
#include "core/formats/loader.h"

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/base/str.h"
#include "core/formats/gguf_keys.h"
#include "core/formats/llama2c.h"
#include "core/formats/llama_gguf.h"
#include "core/formats/quant_mix.h"
#include "core/formats/synth.h"
#include "core/kernels/fp16.h"
#include "core/kernels/kquant.h"
#include "core/kernels/quantize.h"
#include "core/profile/features.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"

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
			  g->path, name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
			  (unsigned long long)t->ne[2], (unsigned long long)t->ne[3],
			  (unsigned long long)cols, (unsigned long long)rows);
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
	float *f = malloc_simple((size_t)n * 4);
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

/* A llama.* integer hyper-parameter: 0, 1 when absent (an error when required), or -1. */
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

static int read_hparams(const GgufFile *g, ModelConfig *c)
{
	for (int i = 0; i < llama_hparam_count; i++) {
		const LlamaHparam *h = &llama_hparams[i];
		void *field = (char *)c + h->field;
		int r = h->is_float ? gguf_get_f32(g, h->key, field)
				    : get_dim(g, h->key, field, h->required);
		if (r < 0)
			return -1;
		if (r == 1 && h->required)
			return error_set("%s: metadata %s is missing", g->path, h->key);
	}
	return 0;
}

/* Fills the ModelWeights field of one table entry from the file. */
static int load_tensor(void *ctx, const LlamaTensor *t, int layer)
{
	LoadedModel *lm = ctx;
	const GgufFile *g = &lm->gguf;
	ModelWeights *w = &lm->model.weights;
	const ModelConfig *c = &lm->model.config;
	char name[LLAMA_TENSOR_NAME_MAX];
	llama_tensor_name(t, layer, name);
	if (t->optional && !gguf_tensor(g, name)) {
		w->classifier = w->token_embedding;
		return 0;
	}
	if (!t->norm)
		return gguf_matrix(g, llama_matrix(w, t, layer), name, llama_size(c, t->rows),
				   llama_size(c, t->cols));
	const float *v = NULL;
	if (gguf_vector(g, &v, name, c->dim) < 0)
		return -1;
	const float **field = llama_norm_field(w, t);
	if (!t->per_layer)
		*field = v;
	else /* into the (layer, dim) array load_gguf allocated */
		mem_copy((float *)*field + (size_t)layer * (size_t)c->dim, v, (size_t)c->dim * 4);
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
	int r = gguf_get_str(g, GGUF_KEY_ARCHITECTURE, &arch);
	if (r < 0)
		return -1;
	if (r == 1)
		return error_set("%s: metadata %s is missing", path, GGUF_KEY_ARCHITECTURE);
	if (!str_eq_n(arch.s, (size_t)arch.n, LLAMA_ARCH))
		return error_set("%s: architecture '%.*s' is not supported (%s is)", path,
				 (int)(arch.n > 64 ? 64 : arch.n), arch.s, LLAMA_ARCH);
	Model *m = &lm->model;
	ModelConfig *c = &m->config;
	c->rope_theta = 10000.0f;
	c->rms_eps = 1e-5f;
	c->bos_id = 1;
	c->eos_id = 2;
	if (read_hparams(g, c) < 0)
		return -1;
	if (c->n_kv_heads == 0)
		c->n_kv_heads = c->n_heads;
	uint32_t id;
	if ((r = gguf_get_u32(g, GGUF_KEY_TOK_BOS, &id)) < 0)
		return -1;
	if (r == 0)
		c->bos_id = (int)id;
	if ((r = gguf_get_u32(g, GGUF_KEY_TOK_EOS, &id)) < 0)
		return -1;
	if (r == 0)
		c->eos_id = (int)id;
	/* The vocabulary size is the embedding's row count. */
	const char *emb_name = llama_tensors[0].name;
	const GgufTensor *emb = gguf_tensor(g, emb_name);
	if (!emb)
		return error_set("%s: tensor %s is missing", path, emb_name);
	if (emb->ne[1] > 0x7fffffff)
		return error_set("%s: %s has %llu rows", path, emb_name,
				 (unsigned long long)emb->ne[1]);
	c->vocab_size = (int)emb->ne[1];
	if (model_config_check(c) < 0)
		return error_set("%s: %s", path, error_message());
	int rope_dims = 0;
	if ((r = get_dim(g, LLAMA_KEY_ROPE_DIMS, &rope_dims, 0)) < 0)
		return -1;
	if (r == 0 && rope_dims != c->dim / c->n_heads)
		return error_set("%s: %s %d differs from the head size %d (partial rotary "
				 "embeddings are not supported)",
				 path, LLAMA_KEY_ROPE_DIMS, rope_dims, c->dim / c->n_heads);
	if (model_weights_alloc(m) < 0)
		return -1;
	/* Per-layer norms are used as one (layer, dim) array each. */
	for (int i = 0; i < llama_tensor_count; i++) {
		const LlamaTensor *t = &llama_tensors[i];
		if (!t->norm || !t->per_layer)
			continue;
		const float **field = llama_norm_field(&m->weights, t);
		*field = malloc_simple((size_t)c->n_layers * (size_t)c->dim * 4);
		if (!*field)
			return error_set("not enough memory for the norm weights");
	}
	return llama_tensors_each(c->n_layers, load_tensor, lm);
}

/* --- Non-finite weights --- */

/* Whether any of n values of size bytes each (4: F32, 2: F16), stride bytes apart, has all
 * exponent bits set (NaN or infinity); *at is the first such index. Checked in chunks
 * without an early exit, so that the common clean case runs as a flat loop. */
static bool any_non_finite(const uint8_t *p, size_t n, size_t size, size_t stride, size_t *at)
{
	const size_t chunk = 4096;
	uint32_t mask = size == 4 ? 0x7f800000u : 0x7c00u;
	for (size_t i0 = 0; i0 < n; i0 += chunk) {
		size_t i1 = n - i0 < chunk ? n : i0 + chunk;
		bool bad = false;
		for (size_t i = i0; i < i1; i++) {
			const uint8_t *q = p + i * stride;
			uint32_t bits = size == 4 ? load_u32(q) : load_u16(q);
			bad |= (bits & mask) == mask;
		}
		for (size_t i = i0; bad && i < i1; i++) {
			const uint8_t *q = p + i * stride;
			uint32_t bits = size == 4 ? load_u32(q) : load_u16(q);
			if ((bits & mask) == mask) {
				*at = i;
				return true;
			}
		}
	}
	return false;
}

/* Where the fp16 scales of each block type sit: the first one's offset and how many follow
 * it (d, or d and its min/offset). */
static const struct {
	DType type;
	int values; /* per block */
	size_t offset;
	int count;
} block_scales[] = {
    {DT_Q8_0, QK8_0, offsetof(BlockQ8_0, d), 1}, {DT_Q4_0, QK4, offsetof(BlockQ4_0, d), 1},
    {DT_Q4_1, QK4, offsetof(BlockQ4_1, d), 2},	 {DT_Q5_0, QK4, offsetof(BlockQ5_0, d), 1},
    {DT_Q5_1, QK4, offsetof(BlockQ5_1, d), 2},	 {DT_Q2_K, QK_K, offsetof(BlockQ2_K, d), 2},
    {DT_Q3_K, QK_K, offsetof(BlockQ3_K, d), 1},	 {DT_Q4_K, QK_K, offsetof(BlockQ4_K, d), 2},
    {DT_Q5_K, QK_K, offsetof(BlockQ5_K, d), 2},	 {DT_Q6_K, QK_K, offsetof(BlockQ6_K, d), 1},
};

/* Whether a block-quantized matrix has a NaN or infinite block scale (at: its block). */
static bool blocks_non_finite(const Tensor *x, size_t *at)
{
	for (size_t i = 0; i < sizeof block_scales / sizeof block_scales[0]; i++) {
		if (block_scales[i].type != x->type)
			continue;
		int per = block_scales[i].values;
		size_t bytes = dtype_row_bytes(x->type, per);
		size_t blocks = (size_t)x->rows * (size_t)(x->cols / per);
		for (int k = 0; k < block_scales[i].count; k++)
			if (any_non_finite((const uint8_t *)x->data + block_scales[i].offset +
					       2 * k,
					   blocks, 2, bytes, at))
				return true;
	}
	return false;
}

/* Refuses one table entry that holds a NaN or an infinity (for block types: a block scale;
 * for llama2.c v2 int8: a group scale), naming it. */
static int check_finite(void *ctx, const LlamaTensor *t, int layer)
{
	const Model *m = ctx;
	const ModelWeights *w = &m->weights;
	size_t at = 0;
	bool bad;
	const char *what = "value";
	if (t->norm) {
		bad = any_non_finite((const uint8_t *)llama_norm(w, t, layer, m->config.dim),
				     (size_t)m->config.dim, 4, 4, &at);
	} else {
		const Tensor *x = llama_matrix_const(w, t, layer);
		if (t->optional && llama_classifier_tied(w))
			return 0;
		size_t n = (size_t)x->rows * (size_t)x->cols;
		switch (x->type) {
		case DT_F32:
			bad = any_non_finite(x->data, n, 4, 4, &at);
			break;
		case DT_F16:
			bad = any_non_finite(x->data, n, 2, 2, &at);
			break;
		case DT_INT8:
			what = "group scale";
			bad = x->i8.group_scales &&
			      any_non_finite((const uint8_t *)x->i8.group_scales,
					     n / (size_t)x->i8.group_size, 4, 4, &at);
			break;
		default:
			what = "block scale";
			bad = blocks_non_finite(x, &at);
		}
	}
	if (!bad)
		return 0;
	char name[LLAMA_TENSOR_NAME_MAX];
	llama_tensor_name(t, layer, name);
	return error_set("%s: tensor %s holds a NaN or infinite %s (at %zu): the weights are "
			 "broken",
			 m->source, name, what, at);
}

/* Marks the weight type of a matrix used, or refuses it in an image without it. */
static int need_type(void *ctx, const LlamaTensor *t, int layer)
{
	const ModelWeights *w = ctx;
	if (t->norm || (t->optional && llama_classifier_tied(w)))
		return 0;
	switch (llama_matrix_const(w, t, layer)->type) {
	case DT_F32:
		return FEATURE_NEED(DTYPE_F32);
	case DT_F16:
		return FEATURE_NEED(DTYPE_F16);
	case DT_Q8_0:
		return FEATURE_NEED(DTYPE_Q8_0);
	case DT_INT8:
		return FEATURE_NEED(DTYPE_INT8);
	default:
		return FEATURE_NEED(DTYPE_KQUANT);
	}
}

/* --quant, then the weight types in use: each one the image keeps, and recorded. */
static int quantize_and_check_types(Model *m, QuantMode quant)
{
	if (model_quantize(m, quant) < 0)
		return -1;
	return llama_tensors_each(m->config.n_layers, need_type, &m->weights);
}

int model_load_bytes(LoadedModel *lm, const uint8_t *data, size_t size, const char *name,
		     QuantMode quant)
{
	mem_set(lm, 0, sizeof *lm);
	lm->model.source = name;
	int r;
	if (gguf_is(data, size)) {
		if (FEATURE_NEED(GGUF) < 0)
			return -1;
		r = load_gguf(lm, data, size, name);
	} else {
		if (FEATURE_NEED(LLAMA2C) < 0)
			return -1;
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
	if (r < 0 || llama_tensors_each(lm->model.config.n_layers, check_finite, &lm->model) < 0)
		return -1;
	lm->quant = quant;
	return quantize_and_check_types(&lm->model, quant);
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
		lm->format =
		    str_eq(o->synthetic, "small") ? "synthetic small" : "synthetic tinyllama";
		r = FEATURE_NEED(SYNTHETIC) < 0
			? -1
			: synth_build(&lm->model, o->synthetic, o->synth_seed);
		lm->quant = o->quant;
		if (r == 0)
			r = quantize_and_check_types(&lm->model, o->quant);
	}
	PROFILE_END(zone);
	return r;
}

/* --- --quant --- */

/* Converts one matrix to mode (name names it in messages). */
static int quantize_tensor(Tensor *t, QuantMode mode, const char *name)
{
	if (mode == QUANT_NONE || (mode == QUANT_Q8_0 && t->type == DT_Q8_0) ||
	    (mode == QUANT_INT8 && t->type == DT_INT8 && !t->i8.group_scales))
		return 0;
	if (mode == QUANT_Q8_0 && t->cols % QK8_0)
		return error_set("--quant q8_0: tensor %s has rows of %d values, not a multiple "
				 "of %d",
				 name, t->cols, QK8_0);
	size_t n = (size_t)t->rows * (size_t)t->cols;
	if (mode == QUANT_Q8_0) {
		float *row = malloc_simple((size_t)t->cols * 4);
		BlockQ8_0 *blocks =
		    malloc_simple((size_t)t->rows * dtype_row_bytes(DT_Q8_0, t->cols));
		if (!row || !blocks)
			return error_set("not enough memory to quantize %s", name);
		size_t nb = (size_t)t->cols / QK8_0;
		for (int r = 0; r < t->rows; r++) {
			tensor_row(t, r, row);
			quantize_row_q8_0(row, blocks + (size_t)r * nb, t->cols);
		}
		*t = (Tensor){.type = DT_Q8_0, .rows = t->rows, .cols = t->cols, .data = blocks};
		return 0;
	}
	/* Per-tensor int8 needs the whole tensor as floats for its range: a float copy above
	 * the int8 result, given back once it is quantized. */
	int8_t *q = malloc_simple(n);
	size_t mark = arena_mark();
	float *all = malloc_simple(n * 4);
	if (!all || !q)
		return error_set("not enough memory to quantize %s", name);
	for (int r = 0; r < t->rows; r++)
		tensor_row(t, r, all + (size_t)r * (size_t)t->cols);
	QuantizedTensor qt = {.q = q, .rows = t->rows, .cols = t->cols};
	quantize_int8(all, n, q, &qt.scale, &qt.zero_point);
	arena_reset(mark);
	*t = (Tensor){.type = DT_INT8, .rows = t->rows, .cols = t->cols, .i8 = qt};
	return 0;
}

typedef struct {
	ModelWeights *w;
	QuantMode mode;
	bool tied;
} QuantizeJob;

static int quantize_entry(void *ctx, const LlamaTensor *t, int layer)
{
	QuantizeJob *j = ctx;
	if (t->norm || (t->optional && j->tied))
		return 0;
	char name[LLAMA_TENSOR_NAME_MAX];
	llama_tensor_name(t, layer, name);
	return quantize_tensor(llama_matrix(j->w, t, layer), j->mode, name);
}

int model_quantize(Model *m, QuantMode mode)
{
	if (mode == QUANT_NONE)
		return 0;
	if (FEATURE_NEED(QUANTIZE) < 0)
		return -1;
	if (mode >= QUANT_Q4_0)
		return quant_mix_apply(m, mode);
	QuantizeJob j = {&m->weights, mode, llama_classifier_tied(&m->weights)};
	if (llama_tensors_each(m->config.n_layers, quantize_entry, &j) < 0)
		return -1;
	if (j.tied)
		m->weights.classifier = m->weights.token_embedding;
	return 0;
}
