/* test_model.c: core/model/model.c and core/formats/synth.c: config checks, a deterministic
 * synthetic model, and the stories260K greedy golden tokens (llama2.c's run.c loop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/error.h"
#include "core/formats/loader.h"
#include "core/formats/synth.h"
#include "core/model/model.h"
#include "core/model/sampler.h"
#include "shim/platform.h"
#include "tests.h"

#define GOLDEN_STEPS 32
/* llama2.c run.c greedy from BOS on stories260K (temperature 0). */
static const int STORIES260K_GOLDEN[GOLDEN_STEPS] = {
    461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264,
    283, 452, 288, 13,	431, 431, 431, 431, 431, 431, 431, 431, 431, 431, 431, 431};

static const Tensor *all_tensors(const Model *m, int i)
{
	const ModelWeights *w = &m->weights;
	int L = m->config.n_layers;
	if (i == 0)
		return &w->token_embedding;
	if (i == 1)
		return &w->classifier;
	i -= 2;
	if (i >= 7 * L)
		return NULL;
	const Tensor *per[] = {w->wq, w->wk, w->wv, w->wo, w->w1, w->w2, w->w3};
	return &per[i % 7][i / 7];
}

static size_t tensor_bytes(const Tensor *t)
{
	return (size_t)t->rows * dtype_row_bytes(t->type, t->cols);
}

static void build_small(Model *m, uint64_t seed)
{
	memset(m, 0, sizeof *m);
	ck_assert_msg(synth_build(m, "small", seed) == 0, "synth_build small: %s", error_message());
	ck_assert_msg(model_state_init(m, 16) == 0, "model_state_init: %s", error_message());
}

START_TEST(test_synth_small_deterministic)
{
	static Model a, b, c;
	build_small(&a, 5);
	build_small(&b, 5);
	build_small(&c, 6);
	ck_assert_msg(a.config.dim == 128 && a.config.hidden_dim == 352 && a.config.n_layers == 4 &&
			  a.config.n_heads == 8 && a.config.n_kv_heads == 4 &&
			  a.config.vocab_size == 512,
		      "small preset shape");
	ck_assert_msg(model_config_check(&a.config) == 0, "small preset config: %s",
		      error_message());
	int differ = 0;
	for (int i = 0; all_tensors(&a, i); i++) {
		const Tensor *ta = all_tensors(&a, i), *tb = all_tensors(&b, i),
			     *tc = all_tensors(&c, i);
		ck_assert_msg(ta->type == DT_Q8_0, "synthetic weights are Q8_0 (tensor %d)", i);
		ck_assert_msg(!memcmp(ta->data, tb->data, tensor_bytes(ta)),
			      "tensor %d differs between two builds with seed 5", i);
		differ += memcmp(ta->data, tc->data, tensor_bytes(ta)) != 0;
	}
	ck_assert_msg(differ == 2 + 7 * a.config.n_layers,
		      "seed 6 must change every tensor (%d changed)", differ);
	int V = a.config.vocab_size, changed = 0;
	for (int pos = 0, tok = 1; pos < 8; pos++) {
		float *la = model_forward(&a, tok, pos), *lb = model_forward(&b, tok, pos);
		float *lc = model_forward(&c, tok, pos);
		ck_assert_msg(!memcmp(la, lb, (size_t)V * 4),
			      "logits at pos %d differ between two builds with seed 5", pos);
		for (int i = 0; i < V; i++)
			ck_assert_msg(la[i] == la[i] && la[i] - la[i] == 0,
				      "logit %d at pos %d is not finite", i, pos);
		changed += memcmp(la, lc, (size_t)V * 4) != 0;
		tok = sampler_argmax(la, V);
	}
	ck_assert_msg(changed == 8, "seed 6 must change the logits (%d of 8 positions)", changed);
}
END_TEST

/* Weights generated and logits computed on 1 thread and on a pool of 3 are bit-identical.
 * Check forks a process per test, so the pool is this test's own (with CK_FORK=no an
 * earlier pool may already run, and both halves then use it). */
START_TEST(test_threads_same_bits)
{
	static Model a, b;
	int V = 512;
	build_small(&a, 9);
	float *la = malloc(sizeof(float) * (size_t)V * 6);
	for (int pos = 0; pos < 6; pos++)
		memcpy(la + (size_t)pos * V, model_forward(&a, 3 + pos, pos), (size_t)V * 4);
	int n = plat_threads_start(3);
	build_small(&b, 9);
	for (int i = 0; all_tensors(&a, i); i++)
		ck_assert_msg(!memcmp(all_tensors(&a, i)->data, all_tensors(&b, i)->data,
				      tensor_bytes(all_tensors(&a, i))),
			      "tensor %d differs when generated on %d threads", i, n);
	for (int pos = 0; pos < 6; pos++)
		ck_assert_msg(
		    !memcmp(la + (size_t)pos * V, model_forward(&b, 3 + pos, pos), (size_t)V * 4),
		    "logits at pos %d differ between 1 and %d threads", pos, n);
	free(la);
}
END_TEST

START_TEST(test_synth_unknown_preset)
{
	Model m;
	memset(&m, 0, sizeof m);
	ck_assert_msg(synth_build(&m, "huge", 1) == -1, "an unknown preset must be refused");
	ck_assert_msg(strstr(error_message(), "huge") != NULL, "message names the preset: %s",
		      error_message());
	ModelConfig c;
	ck_assert_msg(synth_config(&c, "tinyllama") == 0 && c.dim == 2048 && c.n_layers == 22 &&
			  c.n_kv_heads == 4 && c.vocab_size == 32000 && c.hidden_dim == 5632,
		      "tinyllama preset is TinyLlama-1.1B's shape");
}
END_TEST

static ModelConfig good_config(void)
{
	return (ModelConfig){.dim = 64,
			     .hidden_dim = 172,
			     .n_layers = 2,
			     .n_heads = 8,
			     .n_kv_heads = 4,
			     .vocab_size = 100,
			     .seq_len = 32,
			     .rope_theta = 10000.0f,
			     .rms_eps = 1e-5f,
			     .bos_id = 1,
			     .eos_id = 2};
}

#define CHECK_BAD(field, value, want)                                                              \
	do {                                                                                       \
		ModelConfig c_ = good_config();                                                    \
		c_.field = value;                                                                  \
		error_clear();                                                                     \
		ck_assert_msg(model_config_check(&c_) == -1, "%s = %s must be refused", #field,    \
			      #value);                                                             \
		ck_assert_msg(strstr(error_message(), want) != NULL,                               \
			      "%s = %s: message '%s' should mention '%s'", #field, #value,         \
			      error_message(), want);                                              \
	} while (0)

START_TEST(test_config_check)
{
	ModelConfig c = good_config();
	ck_assert_msg(model_config_check(&c) == 0, "a good config passes: %s", error_message());
	CHECK_BAD(dim, 0, "positive");
	CHECK_BAD(dim, -64, "positive");
	CHECK_BAD(hidden_dim, 0, "positive");
	CHECK_BAD(n_layers, 0, "positive");
	CHECK_BAD(n_heads, 0, "positive");
	CHECK_BAD(n_kv_heads, -1, "positive");
	CHECK_BAD(vocab_size, 0, "positive");
	CHECK_BAD(seq_len, 0, "positive");
	CHECK_BAD(dim, 1 << 21, "out of range");
	CHECK_BAD(n_layers, 100000, "out of range");
	CHECK_BAD(vocab_size, 1 << 25, "out of range");
	CHECK_BAD(seq_len, 1 << 25, "out of range");
	CHECK_BAD(hidden_dim, 1 << 23, "out of range");
	CHECK_BAD(n_heads, 7, "multiple of n_heads");
	CHECK_BAD(n_kv_heads, 3, "multiple of n_kv_heads");
	CHECK_BAD(n_heads, 64, "odd"); /* head size 1 */
	CHECK_BAD(rope_theta, 0.0f, "rope theta");
	CHECK_BAD(rope_theta, 1e-30f, "RoPE angles"); /* frequencies of 1e30 rad a position */
	CHECK_BAD(rms_eps, -1.0f, "rms eps");
	CHECK_BAD(bos_id, 100, "BOS");
	CHECK_BAD(eos_id, -1, "EOS");
}
END_TEST

/* Greedy from BOS as llama2.c's run.c: forward(token, pos), next = argmax, stop at BOS. */
static void check_golden(const char *file)
{
	const char *path = shared_model(file);
	if (!path)
		return;
	const uint8_t *data;
	size_t size;
	ck_assert_msg(plat_model_map(path, &data, &size) == 0, "cannot map %s", path);
	static LoadedModel lm;
	ck_assert_msg(model_load_bytes(&lm, data, size, path, QUANT_NONE) == 0, "load %s: %s", path,
		      error_message());
	Model *m = &lm.model;
	ck_assert_msg(m->config.dim == 64 && m->config.n_layers == 5 && m->config.vocab_size == 512,
		      "%s: stories260K shape (dim %d, layers %d, vocab %d)", file, m->config.dim,
		      m->config.n_layers, m->config.vocab_size);
	ck_assert_msg(model_state_init(m, m->config.seq_len) == 0, "state: %s", error_message());
	int token = 1, got[GOLDEN_STEPS], n = 0;
	for (int pos = 0; pos < GOLDEN_STEPS; pos++) {
		float *logits = model_forward(m, token, pos);
		int next = sampler_argmax(logits, m->config.vocab_size);
		got[n++] = next;
		if (next == 1)
			break;
		token = next;
	}
	char have[512] = "", *p = have;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%d ", got[i]);
	ck_assert_msg(n == GOLDEN_STEPS, "%s: stopped at BOS after %d tokens: %s", file, n, have);
	for (int i = 0; i < GOLDEN_STEPS; i++)
		ck_assert_msg(got[i] == STORIES260K_GOLDEN[i],
			      "%s: token %d is %d, llama2.c gives %d (ids: %s)", file, i, got[i],
			      STORIES260K_GOLDEN[i], have);
}

START_TEST(test_golden_stories260k_bin)
{
	check_golden("stories260K.bin");
}
END_TEST

START_TEST(test_golden_stories260k_gguf)
{
	check_golden("stories260K-f32.gguf");
}
END_TEST

Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("synthetic");
	tcase_add_test(tc, test_synth_small_deterministic);
	tcase_add_test(tc, test_synth_unknown_preset);
	tcase_add_test(tc, test_threads_same_bits);
	tcase_add_test(tc, test_config_check);
	suite_add_tcase(s, tc);
	tc = tcase_create("golden");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_golden_stories260k_bin);
	tcase_add_test(tc, test_golden_stories260k_gguf);
	suite_add_tcase(s, tc);
	return s;
}
