/* model.c: the Llama-2 forward pass with llama2.c run.c's semantics (RMSNorm, RoPE on
 * adjacent pairs, grouped-query attention, SwiGLU FFN, f32 KV cache). */
#include "core/model/model.h"

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/base/mathx.h"
#include "core/base/str.h"
#include "core/kernels/registry.h"
#include "core/model/ops.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"

/* The largest RoPE angle a model may reach (radians): far past any real model's, far below
 * where mathx.h's sine stops being defined. */
#define ROPE_MAX_ANGLE 1073741824.0f /* 2^30 */

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
	/* RoPE's angles (position times frequency) must stay where the sine's argument reduction
	 * is defined (mathx.h): the largest frequency is 1 for theta >= 1 (every real model; the
	 * context limit above keeps those angles below 2^25), theta^-(hs - 2)/hs below */
	int hs = c->dim / c->n_heads;
	float top = c->rope_theta >= 1
			? 1.0f
			: 1.0f / math_powf(c->rope_theta, (float)(hs - 2) / (float)hs);
	if (!((float)(c->seq_len - 1) * top < ROPE_MAX_ANGLE))
		return error_set("rope theta %g: RoPE angles reach %g rad within the context of %d "
				 "positions, past %g",
				 (double)c->rope_theta, (double)((float)(c->seq_len - 1) * top),
				 c->seq_len, (double)ROPE_MAX_ANGLE);
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

/* Floats of one position's keys (or values) in the KV cache: a head's size times the KV
 * heads. */
static int kv_dim_of(const ModelConfig *c)
{
	return c->dim / c->n_heads * c->n_kv_heads;
}

int model_state_init(Model *m, int ctx_len)
{
	const ModelConfig *c = &m->config;
	RunState *s = &m->state;
	int head_size = c->dim / c->n_heads;
	size_t kv_dim = (size_t)kv_dim_of(c);
	size_t cache = (size_t)c->n_layers * (size_t)ctx_len * kv_dim;
	m->ctx_len = ctx_len;
	s->x = state_floats((size_t)c->dim, "activations");
	s->xb = state_floats((size_t)c->dim, "activations");
	s->xb2 = state_floats((size_t)c->dim, "activations");
	s->hb = state_floats((size_t)c->hidden_dim, "activations");
	s->hb2 = state_floats((size_t)c->hidden_dim, "activations");
	s->q = state_floats((size_t)c->dim, "activations");
	s->kv_row = state_floats(2 * kv_dim, "activations");
	/* score rows of one query group per thread of the pool started by now (a larger pool
	 * later runs attention on one thread) */
	s->att_slots = plat_threads();
	s->att = arena_alloc((size_t)s->att_slots * ATTN_LANES * (size_t)ctx_len * sizeof(float),
			     64, "attention scores");
	s->logits = state_floats((size_t)c->vocab_size, "logits");
	/* not zeroed: attention reads only positions already written, and touching the whole
	 * cache up front (92 MB for TinyLlama at 2048) cost ~0.3 s of page faults per run; its
	 * pages are populated KV_POPULATE positions at a time as they come (kv_populate) */
	s->key_cache = arena_alloc_lazy(cache * sizeof(float), 64, "KV cache (keys)");
	s->value_cache = arena_alloc_lazy(cache * sizeof(float), 64, "KV cache (values)");
	s->kv_populated = 0;
	s->rope_freq = state_floats((size_t)head_size / 2, "rope table");
	s->rope_cs = state_floats((size_t)MODEL_BATCH * (size_t)head_size, "rope table");
	s->bx = state_floats((size_t)MODEL_BATCH * (size_t)c->dim, "batch activations");
	s->bxb = state_floats((size_t)MODEL_BATCH * (size_t)c->dim, "batch activations");
	s->bxb2 = state_floats((size_t)MODEL_BATCH * (size_t)c->dim, "batch activations");
	s->bq = state_floats((size_t)MODEL_BATCH * (size_t)c->dim, "batch activations");
	s->bhb = state_floats((size_t)MODEL_BATCH * (size_t)c->hidden_dim, "batch activations");
	s->bhb2 = state_floats((size_t)MODEL_BATCH * (size_t)c->hidden_dim, "batch activations");
	if (!s->bx || !s->bxb || !s->bxb2 || !s->bq || !s->bhb || !s->bhb2)
		return error_set("not enough memory for the prompt batch (%d tokens)", MODEL_BATCH);
	if (!s->x || !s->xb || !s->xb2 || !s->hb || !s->hb2 || !s->q || !s->kv_row || !s->att ||
	    !s->logits || !s->key_cache || !s->value_cache || !s->rope_freq || !s->rope_cs)
		return error_set("not enough memory for the run state (context %d)", ctx_len);
	int widest = c->dim > c->hidden_dim ? c->dim : c->hidden_dim;
	if (matmul_scratch_init_batch(&s->scratch, widest, MODEL_BATCH) < 0)
		return error_set("not enough memory for the matmul scratch");
	rope_freqs(s->rope_freq, head_size, c->rope_theta);
	return 0;
}

/* Attention of n consecutive positions. The queries of one KV head (the heads that share it, at
 * every position) go in groups of ATTN_LANES, and the groups are split across the thread pool,
 * each thread with its own score rows; each query is computed the same way in any group. */
typedef struct {
	Model *m;
	int l, pos0, n;
	const float *q; /* (n, dim) the positions' queries */
	float *out;	/* (n, dim) */
	int groups_per_head;
	bool profiled;		 /* thread 0 measures its softmax steps: */
	uint64_t softmax_cycles; /* their cycles */
	int softmax_calls;	 /* and the queries they normalised */
} AttentionJob;

static void attention_task(void *ctx, int ith, int nth)
{
	AttentionJob *j = ctx;
	Model *m = j->m;
	const ModelConfig *c = &m->config;
	int head_size = c->dim / c->n_heads;
	int kv_dim = kv_dim_of(c);
	int kv_mul = c->n_heads / c->n_kv_heads;
	size_t loff = (size_t)j->l * (size_t)m->ctx_len * (size_t)kv_dim;
	float *att = m->state.att + (size_t)ith * ATTN_LANES * (size_t)m->ctx_len;
	float scale = math_sqrtf((float)head_size);
	int units = c->n_kv_heads * j->groups_per_head;
	int u0 = units * ith / nth, u1 = units * (ith + 1) / nth;
	for (int u = u0; u < u1; u++) {
		int kvh = u / j->groups_per_head, first = u % j->groups_per_head * ATTN_LANES;
		AttnGroup g = {m->state.key_cache + loff + (size_t)kvh * (size_t)head_size,
			       m->state.value_cache + loff + (size_t)kvh * (size_t)head_size,
			       (size_t)kv_dim,
			       head_size,
			       scale,
			       0,
			       {0},
			       {0},
			       {0},
			       j->n == 1,
			       j->profiled && ith == 0 ? &j->softmax_cycles : NULL};
		/* query i of the head: position i / kv_mul, head kvh * kv_mul + i % kv_mul */
		for (int i = first; i < j->n * kv_mul && g.nq < ATTN_LANES; i++, g.nq++) {
			int tk = i / kv_mul, h = kvh * kv_mul + i % kv_mul;
			size_t off = (size_t)tk * (size_t)c->dim + (size_t)h * (size_t)head_size;
			g.q[g.nq] = j->q + off;
			g.out[g.nq] = j->out + off;
			/* causal: keys up to itself, all cached by now */
			g.last[g.nq] = j->pos0 + tk;
		}
		kernels.attention_group(&g, att);
		if (ith == 0)
			j->softmax_calls += g.nq;
	}
}

static void attention(Model *m, int l, int pos0, int n, const float *q, float *out)
{
	PROFILE_BEGIN(zone, "attention");
	const ModelConfig *c = &m->config;
	int kv_mul = c->n_heads / c->n_kv_heads;
	/* a local, not j.profiled: a constant where the profiler is compiled out (j escapes) */
	bool profiled = profiler_enabled();
	int groups = (n * kv_mul + ATTN_LANES - 1) / ATTN_LANES;
	AttentionJob j = {m, l, pos0, n, q, out, groups, profiled, 0, 0};
	uint64_t t0 = profiled ? plat_cycles() : 0;
	/* a short context is cheaper than waking the pool */
	size_t work = ((size_t)pos0 + (size_t)n) * (size_t)n * (size_t)m->config.dim;
	if (plat_threads() > 1 && plat_threads() <= m->state.att_slots &&
	    work >= plat_parallel_min_work())
		plat_parallel(attention_task, &j);
	else
		attention_task(&j, 0, 1);
	/* one record per pass, its cycles the wall-clock time with the softmax steps (part of the
	 * kernel). The shape is the query heads and the head size: the KV length grows by one
	 * each token, so as a key it would make a record per position; bytes counts the keys and
	 * values in the queries' reach instead. */
	if (profiled) {
		int head_size = c->dim / c->n_heads;
		uint64_t kv_bytes = 2u * (uint64_t)(pos0 + n) * (uint64_t)head_size *
				    (uint64_t)c->n_kv_heads * sizeof(float);
		profiler_kernel_record("attention_group", dtype_name(DT_F32), c->n_heads, head_size,
				       n, kernels_isa_name(), plat_cycles() - t0, kv_bytes);
	}
	/* the softmax steps ran inside the kernel on every thread: the zone gets thread 0's (the
	 * calling thread's) share of the wall-clock time, so that self cycles still add up to the
	 * run total; calls are the queries thread 0 normalised */
	PROFILE_ADD(sm, "softmax", j.softmax_cycles, (uint64_t)j.softmax_calls);
	PROFILE_END(zone);
}

/* x (n, dim) += the FFN of x, for n tokens: gate and up share one pass over x. */
static void feed_forward(Model *m, int l, float *x, float *xb, float *hb, float *hb2, int n)
{
	PROFILE_BEGIN(zone, "feed_forward");
	const ModelConfig *c = &m->config;
	const ModelWeights *w = &m->weights;
	RunState *s = &m->state;
	int dim = c->dim, hid = c->hidden_dim;
	rms_norm_tokens(xb, x, w->rms_ffn + (size_t)l * dim, n, dim, c->rms_eps);
	/* gate and up in one pass, SwiGLU on each thread's rows right after them */
	MatmulOut up[2] = {{hb, &w->w1[l], hid}, {hb2, &w->w3[l], hid}};
	matmul_swiglu(up, xb, dim, n, &s->scratch);
	MatmulOut down = {xb, &w->w2[l], dim};
	matmul_multi(&down, 1, hb, hid, n, &s->scratch);
	for (size_t i = 0; i < (size_t)n * (size_t)dim; i++)
		x[i] += xb[i];
	PROFILE_END(zone);
}

/* One layer for n consecutive tokens at pos0..: x (n, dim) in and out. The one-token path is
 * n = 1 on the single-token buffers, so both compute every value the same way. */
static void layer_forward(Model *m, int l, int pos0, int n, float *x, float *xb, float *xb2,
			  float *q, float *hb, float *hb2)
{
	const ModelConfig *c = &m->config;
	const ModelWeights *w = &m->weights;
	RunState *s = &m->state;
	int dim = c->dim;
	int head_size = dim / c->n_heads;
	int kv_dim = kv_dim_of(c);
	size_t loff = (size_t)l * (size_t)m->ctx_len * (size_t)kv_dim;
	float *k = s->key_cache + loff + (size_t)pos0 * (size_t)kv_dim;
	float *v = s->value_cache + loff + (size_t)pos0 * (size_t)kv_dim;

	rms_norm_tokens(xb, x, w->rms_att + (size_t)l * dim, n, dim, c->rms_eps);
	/* q, k and v share one quantization of xb and one pass of the thread pool */
	/* one token's k and v rows go to kv_row, then to the cache: stored by the dots into the
	 * cache's lines, not touched for a while, the q/k/v pass ran at 0.84 of the wo pass's bytes
	 * a cycle at -t 1 and 0.78 at -t 2, the thread with the k and v rows the late one */
	float *kd = n == 1 ? s->kv_row : k, *vd = n == 1 ? s->kv_row + kv_dim : v;
	MatmulOut qkv[3] = {{q, &w->wq[l], dim}, {kd, &w->wk[l], kv_dim}, {vd, &w->wv[l], kv_dim}};
	matmul_multi(qkv, 3, xb, dim, n, &s->scratch);
	if (n == 1) {
		mem_copy(k, kd, (size_t)kv_dim * sizeof(float));
		mem_copy(v, vd, (size_t)kv_dim * sizeof(float));
	}
	/* the caller has set the positions' angles (rope_positions) */
	rope_tokens(q, k, n, dim, kv_dim, head_size, s->rope_cs);
	attention(m, l, pos0, n, q, xb);
	MatmulOut o = {xb2, &w->wo[l], dim};
	matmul_multi(&o, 1, xb, dim, n, &s->scratch);
	for (size_t i = 0; i < (size_t)n * (size_t)dim; i++)
		x[i] += xb2[i];
	feed_forward(m, l, x, xb, hb, hb2, n);
}

static float *classify(Model *m, float *x)
{
	const ModelConfig *c = &m->config;
	RunState *s = &m->state;
	rms_norm(x, x, m->weights.rms_final, c->dim, c->rms_eps);
	PROFILE_BEGIN(cls, "classifier");
	matmul(s->logits, &m->weights.classifier, x, &s->scratch);
	PROFILE_END(cls);
	return s->logits;
}

/* The angles of positions pos0..pos0 + n - 1 (n <= MODEL_BATCH), once for every layer. */
static void rope_positions(Model *m, int pos0, int n)
{
	RunState *s = &m->state;
	int head_size = m->config.dim / m->config.n_heads;
	for (int t = 0; t < n; t++)
		rope_angles(s->rope_cs + (size_t)t * (size_t)head_size, s->rope_freq, head_size,
			    pos0 + t);
}

/* Positions of the KV cache populated per call of plat_memory_populate. Faulted in as they
 * were written, each layer's keys and values took a new 4 KB page every 4 TinyLlama tokens:
 * 11 faults a token at ~10 us each on the EPYC VM (populated: ~0.6 us a page). */
#define KV_POPULATE 64

/* Populates the KV cache's pages for positions below end and up to KV_POPULATE beyond. */
static void kv_populate(Model *m, int end)
{
	RunState *s = &m->state;
	if (end <= s->kv_populated)
		return;
	int to = end + KV_POPULATE < m->ctx_len ? end + KV_POPULATE : m->ctx_len;
	size_t kv_dim = (size_t)kv_dim_of(&m->config);
	size_t bytes = (size_t)(to - s->kv_populated) * kv_dim * sizeof(float);
	for (int l = 0; l < m->config.n_layers; l++) {
		size_t off = ((size_t)l * (size_t)m->ctx_len + (size_t)s->kv_populated) * kv_dim;
		plat_memory_populate(s->key_cache + off, bytes);
		plat_memory_populate(s->value_cache + off, bytes);
	}
	s->kv_populated = to;
}

float *model_forward(Model *m, int token, int pos)
{
	PROFILE_BEGIN(zone, "forward");
	const ModelConfig *c = &m->config;
	RunState *s = &m->state;
	tensor_row(&m->weights.token_embedding, token, s->x);
	kv_populate(m, pos + 1);
	rope_positions(m, pos, 1);
	for (int l = 0; l < c->n_layers; l++) {
		PROFILE_BEGIN(layer, "layer");
		layer_forward(m, l, pos, 1, s->x, s->xb, s->xb2, s->q, s->hb, s->hb2);
		PROFILE_END(layer);
	}
	float *logits = classify(m, s->x);
	PROFILE_END(zone);
	return logits;
}

float *model_forward_batch(Model *m, const int *tokens, int n, int pos0)
{
	PROFILE_BEGIN(zone, "forward_batch");
	const ModelConfig *c = &m->config;
	RunState *s = &m->state;
	int dim = c->dim;
	int done = 0, b = 0;
	kv_populate(m, pos0 + n);
	while (done < n) {
		b = n - done < MODEL_BATCH ? n - done : MODEL_BATCH;
		for (int t = 0; t < b; t++)
			tensor_row(&m->weights.token_embedding, tokens[done + t],
				   s->bx + (size_t)t * dim);
		rope_positions(m, pos0 + done, b);
		for (int l = 0; l < c->n_layers; l++) {
			PROFILE_BEGIN(layer, "layer");
			layer_forward(m, l, pos0 + done, b, s->bx, s->bxb, s->bxb2, s->bq, s->bhb,
				      s->bhb2);
			PROFILE_END(layer);
		}
		done += b;
	}
	/* only the last token's logits are wanted: its row goes through the classifier */
	float *logits = classify(m, s->bx + (size_t)(b - 1) * (size_t)dim);
	PROFILE_END(zone);
	return logits;
}
