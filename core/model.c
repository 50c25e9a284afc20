/* model.c: the Llama-2 forward pass with llama2.c run.c's semantics (RMSNorm, RoPE on
 * adjacent pairs, grouped-query attention, SwiGLU FFN, f32 KV cache). */
#include "model.h"

#include "error.h"
#include "mathx.h"
#include "ops.h"
#include "profiler.h"
#include "shim/platform.h"
#include "str.h"

int model_config_check(const ModelConfig *c)
{
	if (c->dim <= 0 || c->hidden_dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
	    c->n_kv_heads <= 0 || c->vocab_size <= 0 || c->seq_len <= 0)
		return error_set("bad hyper-parameters: dim %d, hidden_dim %d, n_layers %d, "
				 "n_heads %d, n_kv_heads %d, vocab_size %d, context %d "
				 "(all must be positive)",
				 c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
				 c->vocab_size, c->seq_len);
	if (c->dim > (1 << 20) || c->hidden_dim > (1 << 22) || c->n_layers > 4096 ||
	    c->vocab_size > (1 << 24) || c->seq_len > (1 << 24))
		return error_set("hyper-parameters out of range: dim %d, hidden_dim %d, "
				 "n_layers %d, vocab_size %d, context %d",
				 c->dim, c->hidden_dim, c->n_layers, c->vocab_size, c->seq_len);
	if (c->dim % c->n_heads)
		return error_set("dim %d is not a multiple of n_heads %d", c->dim, c->n_heads);
	if (c->n_heads % c->n_kv_heads)
		return error_set("n_heads %d is not a multiple of n_kv_heads %d", c->n_heads,
				 c->n_kv_heads);
	if ((c->dim / c->n_heads) % 2)
		return error_set("head size %d is odd: RoPE rotates pairs", c->dim / c->n_heads);
	if (!(c->rope_theta > 0) || !(c->rms_eps >= 0))
		return error_set("bad rope theta %g or rms eps %g", (double)c->rope_theta,
				 (double)c->rms_eps);
	if (c->bos_id < 0 || c->bos_id >= c->vocab_size || c->eos_id < 0 ||
	    c->eos_id >= c->vocab_size)
		return error_set("BOS %d or EOS %d is outside the vocabulary (%d tokens)",
				 c->bos_id, c->eos_id, c->vocab_size);
	return 0;
}

int model_weights_alloc(Model *m)
{
	int L = m->config.n_layers;
	Tensor **arrays[] = {&m->weights.wq, &m->weights.wk, &m->weights.wv, &m->weights.wo,
			     &m->weights.w1, &m->weights.w2, &m->weights.w3};
	for (unsigned i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
		*arrays[i] = arena_alloc(sizeof(Tensor) * (size_t)L, 64, "layer tensor table");
		if (!*arrays[i])
			return error_set("out of memory for the layer tables");
		mem_set(*arrays[i], 0, sizeof(Tensor) * (size_t)L);
	}
	return 0;
}

static float *state_floats(size_t n, const char *what)
{
	float *p = arena_alloc(n * sizeof(float), 64, what);
	if (p)
		mem_set(p, 0, n * sizeof(float));
	return p;
}

int model_state_init(Model *m, int ctx_len)
{
	const ModelConfig *c = &m->config;
	RunState *s = &m->state;
	int head_size = c->dim / c->n_heads;
	size_t kv_dim = (size_t)head_size * (size_t)c->n_kv_heads;
	size_t cache = (size_t)c->n_layers * (size_t)ctx_len * kv_dim;
	m->ctx_len = ctx_len;
	s->x = state_floats((size_t)c->dim, "activations");
	s->xb = state_floats((size_t)c->dim, "activations");
	s->xb2 = state_floats((size_t)c->dim, "activations");
	s->hb = state_floats((size_t)c->hidden_dim, "activations");
	s->hb2 = state_floats((size_t)c->hidden_dim, "activations");
	s->q = state_floats((size_t)c->dim, "activations");
	s->att = state_floats((size_t)c->n_heads * (size_t)ctx_len, "attention scores");
	s->logits = state_floats((size_t)c->vocab_size, "logits");
	s->key_cache = state_floats(cache, "KV cache (keys)");
	s->value_cache = state_floats(cache, "KV cache (values)");
	s->rope_freq = state_floats((size_t)head_size / 2, "rope table");
	s->rope_cs = state_floats((size_t)head_size, "rope table");
	if (!s->x || !s->xb || !s->xb2 || !s->hb || !s->hb2 || !s->q || !s->att || !s->logits ||
	    !s->key_cache || !s->value_cache || !s->rope_freq || !s->rope_cs)
		return error_set("not enough memory for the run state (context %d)", ctx_len);
	int widest = c->dim > c->hidden_dim ? c->dim : c->hidden_dim;
	if (matmul_scratch_init(&s->scratch, widest) < 0)
		return error_set("not enough memory for the matmul scratch");
	rope_freqs(s->rope_freq, head_size, c->rope_theta);
	return 0;
}

static void attention(Model *m, int l, int pos)
{
	PROFILE_BEGIN(zone, "attention");
	const ModelConfig *c = &m->config;
	RunState *s = &m->state;
	int head_size = c->dim / c->n_heads;
	int kv_dim = head_size * c->n_kv_heads;
	int kv_mul = c->n_heads / c->n_kv_heads;
	size_t loff = (size_t)l * (size_t)m->ctx_len * (size_t)kv_dim;
	float scale = math_sqrtf((float)head_size);
	for (int h = 0; h < c->n_heads; h++) {
		const float *q = s->q + h * head_size;
		float *att = s->att + (size_t)h * (size_t)m->ctx_len;
		for (int t = 0; t <= pos; t++) {
			const float *k = s->key_cache + loff + (size_t)t * (size_t)kv_dim +
					 (size_t)(h / kv_mul) * (size_t)head_size;
			float score = 0.0f;
			for (int i = 0; i < head_size; i++)
				score += q[i] * k[i];
			att[t] = score / scale;
		}
		softmax(att, pos + 1);
		float *xb = s->xb + h * head_size;
		mem_set(xb, 0, (size_t)head_size * sizeof(float));
		for (int t = 0; t <= pos; t++) {
			const float *v = s->value_cache + loff + (size_t)t * (size_t)kv_dim +
					 (size_t)(h / kv_mul) * (size_t)head_size;
			float a = att[t];
			for (int i = 0; i < head_size; i++)
				xb[i] += a * v[i];
		}
	}
	PROFILE_END(zone);
}

static void feed_forward(Model *m, int l)
{
	PROFILE_BEGIN(zone, "feed_forward");
	const ModelConfig *c = &m->config;
	const ModelWeights *w = &m->weights;
	RunState *s = &m->state;
	rms_norm(s->xb, s->x, w->rms_ffn + (size_t)l * (size_t)c->dim, c->dim, c->rms_eps);
	matmul(s->hb, &w->w1[l], s->xb, &s->scratch);
	matmul(s->hb2, &w->w3[l], s->xb, &s->scratch);
	swiglu(s->hb, s->hb2, c->hidden_dim);
	matmul(s->xb, &w->w2[l], s->hb, &s->scratch);
	for (int i = 0; i < c->dim; i++)
		s->x[i] += s->xb[i];
	PROFILE_END(zone);
}

float *model_forward(Model *m, int token, int pos)
{
	PROFILE_BEGIN(zone, "forward");
	const ModelConfig *c = &m->config;
	const ModelWeights *w = &m->weights;
	RunState *s = &m->state;
	int dim = c->dim;
	int head_size = dim / c->n_heads;
	int kv_dim = head_size * c->n_kv_heads;

	tensor_row(&w->token_embedding, token, s->x);
	rope_angles(s->rope_cs, s->rope_freq, head_size, pos);

	for (int l = 0; l < c->n_layers; l++) {
		PROFILE_BEGIN(layer, "layer");
		size_t loff = (size_t)l * (size_t)m->ctx_len * (size_t)kv_dim;
		float *k = s->key_cache + loff + (size_t)pos * (size_t)kv_dim;
		float *v = s->value_cache + loff + (size_t)pos * (size_t)kv_dim;

		rms_norm(s->xb, s->x, w->rms_att + (size_t)l * (size_t)dim, dim, c->rms_eps);
		matmul(s->q, &w->wq[l], s->xb, &s->scratch);
		matmul(k, &w->wk[l], s->xb, &s->scratch);
		matmul(v, &w->wv[l], s->xb, &s->scratch);
		rope_encoding(s->q, k, dim, kv_dim, head_size, s->rope_cs);
		attention(m, l, pos);
		matmul(s->xb2, &w->wo[l], s->xb, &s->scratch);
		for (int i = 0; i < dim; i++)
			s->x[i] += s->xb2[i];
		feed_forward(m, l);
		PROFILE_END(layer);
	}

	rms_norm(s->x, s->x, w->rms_final, dim, c->rms_eps);
	{
		PROFILE_BEGIN(cls, "classifier");
		matmul(s->logits, &w->classifier, s->x, &s->scratch);
		PROFILE_END(cls);
	}
	PROFILE_END(zone);
	return s->logits;
}
