/* llama2c.c: maps llama2.c checkpoints (v0 legacy, v1 fp32, v2 int8) onto a Model in place,
 * after checking that the header's dimensions account for the file size exactly. */
#include "core/formats/llama2c.h"

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/base/str.h"

#define LLAMA2C_MAGIC 0x616b3432u /* "ak42" */
#define LLAMA2C_HEADER 256	  /* v1/v2 header size */

int llama2c_has_magic(const uint8_t *data, size_t size)
{
	return size >= 4 && load_u32(data) == LLAMA2C_MAGIC;
}

static void set_config(ModelConfig *c, const uint8_t *h)
{
	c->dim = (int32_t)load_u32(h);
	c->hidden_dim = (int32_t)load_u32(h + 4);
	c->n_layers = (int32_t)load_u32(h + 8);
	c->n_heads = (int32_t)load_u32(h + 12);
	c->n_kv_heads = (int32_t)load_u32(h + 16);
	c->vocab_size = (int32_t)load_u32(h + 20);
	c->seq_len = (int32_t)load_u32(h + 24);
	c->rope_theta = 10000.0f;
	c->rms_eps = 1e-5f;
	c->bos_id = 1;
	c->eos_id = 2;
	c->stop_at_bos = true;
}

int llama2c_v0_plausible(const uint8_t *data, size_t size)
{
	ModelConfig c;
	if (size < 28)
		return 0;
	set_config(&c, data);
	if (c.vocab_size < 0 && c.vocab_size != -2147483647 - 1)
		c.vocab_size = -c.vocab_size;
	return model_config_check(&c) == 0;
}

/* Walks the weight section, one typed tensor after another. */
typedef struct {
	const uint8_t *p;
	int group; /* v2 group size */
} Walk;

static const float *take_f32(Walk *w, uint64_t n)
{
	const float *f = (const float *)w->p;
	w->p += n * 4;
	return f;
}

static void take_f32_tensors(Walk *w, Tensor *t, int layers, int rows, int cols)
{
	for (int l = 0; l < layers; l++)
		t[l] = (Tensor){.type = DT_F32,
				.rows = rows,
				.cols = cols,
				.data = take_f32(w, (uint64_t)rows * (uint64_t)cols)};
}

/* v2: per tensor, rows*cols int8 values then rows*cols/group float scales. */
static int take_i8_tensors(Walk *w, Tensor *t, int layers, int rows, int cols)
{
	for (int l = 0; l < layers; l++) {
		uint64_t n = (uint64_t)rows * (uint64_t)cols;
		QuantizedTensor *q = &t[l].i8;
		t[l] = (Tensor){.type = DT_INT8, .rows = rows, .cols = cols};
		q->q = (const int8_t *)w->p;
		w->p += n;
		uint64_t ns = n / (uint64_t)w->group;
		if ((uintptr_t)w->p % 4) { /* scales follow int8 data: copy when unaligned */
			float *s = malloc_simple(ns * 4);
			if (!s)
				return error_set("not enough memory for the v2 scales");
			mem_copy(s, w->p, ns * 4);
			q->group_scales = s;
		} else {
			q->group_scales = (const float *)w->p;
		}
		w->p += ns * 4;
		q->group_size = w->group;
		q->rows = rows;
		q->cols = cols;
	}
	return 0;
}

/* Bytes of all weights as the file lays them out; elem: 4 (fp32) or 1 + 4/group (v2). */
static uint64_t weights_bytes(const ModelConfig *c, int version, int shared, int group)
{
	uint64_t dim = (uint64_t)c->dim, hid = (uint64_t)c->hidden_dim, L = (uint64_t)c->n_layers;
	uint64_t kv = dim / (uint64_t)c->n_heads * (uint64_t)c->n_kv_heads;
	uint64_t vocab = (uint64_t)c->vocab_size;
	uint64_t norms = (2 * L + 1) * dim * 4;
	uint64_t mats = vocab * dim + L * (2 * dim * dim + 2 * dim * kv + 3 * dim * hid);
	if (!shared)
		mats += vocab * dim;
	if (version == 2)
		return norms + mats + mats / (uint64_t)group * 4;
	uint64_t total = norms + mats * 4;
	if (version == 0) /* legacy files keep the unused RoPE tables (freq_cis_real/imag) */
		total += (uint64_t)c->seq_len * (dim / (uint64_t)c->n_heads) * 4;
	return total;
}

int llama2c_load(Model *m, const uint8_t *data, size_t size, const char *path, int *version)
{
	ModelConfig *c = &m->config;
	int shared, group = 0;
	uint64_t header;
	if (llama2c_has_magic(data, size)) {
		if (size < LLAMA2C_HEADER)
			return error_set(
			    "%s: truncated: a llama2.c v1/v2 header needs %d bytes, the "
			    "file has %llu",
			    path, LLAMA2C_HEADER, (unsigned long long)size);
		*version = (int32_t)load_u32(data + 4);
		if (*version != 1 && *version != 2)
			return error_set("%s: llama2.c checkpoint version %d is not supported (1 "
					 "and 2 are)",
					 path, *version);
		set_config(c, data + 8);
		shared = data[36];
		if (shared > 1)
			return error_set("%s: shared-classifier flag is %d (0 or 1 expected)", path,
					 shared);
		if (*version == 2) {
			group = (int32_t)load_u32(data + 37);
			if (group <= 0 || group > (1 << 20))
				return error_set("%s: v2 group size %d is not positive", path,
						 group);
		}
		header = LLAMA2C_HEADER;
	} else {
		if (size < 28)
			return error_set("%s: unknown model format: %llu bytes is too short for "
					 "any supported header",
					 path, (unsigned long long)size);
		*version = 0;
		set_config(c, data);
		shared = c->vocab_size > 0;
		if (c->vocab_size < 0 && c->vocab_size != -2147483647 - 1)
			c->vocab_size = -c->vocab_size;
		header = 28;
	}
	if (model_config_check(c) < 0)
		return error_set("%s: %s", path, error_message());
	if (group && (c->dim % group || c->hidden_dim % group))
		return error_set("%s: v2 group size %d does not divide dim %d and hidden_dim %d",
				 path, group, c->dim, c->hidden_dim);
	uint64_t want = header + weights_bytes(c, *version, shared, group);
	if (want != size)
		return error_set("%s: llama2.c v%d header (dim %d, hidden %d, layers %d, heads "
				 "%d, kv heads %d, vocab %d, context %d) needs %llu bytes, the "
				 "file has %llu",
				 path, *version, c->dim, c->hidden_dim, c->n_layers, c->n_heads,
				 c->n_kv_heads, c->vocab_size, c->seq_len, (unsigned long long)want,
				 (unsigned long long)size);
	if (model_weights_alloc(m) < 0)
		return -1;

	ModelWeights *w = &m->weights;
	int dim = c->dim, hid = c->hidden_dim, L = c->n_layers, vocab = c->vocab_size;
	int kv = dim / c->n_heads * c->n_kv_heads;
	Walk wk = {data + header, group};
	if (*version == 0) {
		take_f32_tensors(&wk, &w->token_embedding, 1, vocab, dim);
		w->rms_att = take_f32(&wk, (uint64_t)L * dim);
		take_f32_tensors(&wk, w->wq, L, dim, dim);
		take_f32_tensors(&wk, w->wk, L, kv, dim);
		take_f32_tensors(&wk, w->wv, L, kv, dim);
		take_f32_tensors(&wk, w->wo, L, dim, dim);
		w->rms_ffn = take_f32(&wk, (uint64_t)L * dim);
		take_f32_tensors(&wk, w->w1, L, hid, dim);
		take_f32_tensors(&wk, w->w2, L, dim, hid);
		take_f32_tensors(&wk, w->w3, L, hid, dim);
		w->rms_final = take_f32(&wk, (uint64_t)dim);
		take_f32(&wk, (uint64_t)c->seq_len * (uint64_t)(dim / c->n_heads));
	} else {
		w->rms_att = take_f32(&wk, (uint64_t)L * dim);
		w->rms_ffn = take_f32(&wk, (uint64_t)L * dim);
		w->rms_final = take_f32(&wk, (uint64_t)dim);
	}
	if (*version == 1) {
		take_f32_tensors(&wk, &w->token_embedding, 1, vocab, dim);
		take_f32_tensors(&wk, w->wq, L, dim, dim);
		take_f32_tensors(&wk, w->wk, L, kv, dim);
		take_f32_tensors(&wk, w->wv, L, kv, dim);
		take_f32_tensors(&wk, w->wo, L, dim, dim);
		take_f32_tensors(&wk, w->w1, L, hid, dim);
		take_f32_tensors(&wk, w->w2, L, dim, hid);
		take_f32_tensors(&wk, w->w3, L, hid, dim);
	}
	if (*version == 2) {
		if (take_i8_tensors(&wk, &w->token_embedding, 1, vocab, dim) < 0 ||
		    take_i8_tensors(&wk, w->wq, L, dim, dim) < 0 ||
		    take_i8_tensors(&wk, w->wk, L, kv, dim) < 0 ||
		    take_i8_tensors(&wk, w->wv, L, kv, dim) < 0 ||
		    take_i8_tensors(&wk, w->wo, L, dim, dim) < 0 ||
		    take_i8_tensors(&wk, w->w1, L, hid, dim) < 0 ||
		    take_i8_tensors(&wk, w->w2, L, dim, hid) < 0 ||
		    take_i8_tensors(&wk, w->w3, L, hid, dim) < 0)
			return -1;
	}
	if (shared)
		w->classifier = w->token_embedding;
	else if (*version == 2)
		return take_i8_tensors(&wk, &w->classifier, 1, vocab, dim);
	else
		take_f32_tensors(&wk, &w->classifier, 1, vocab, dim);
	return 0;
}
