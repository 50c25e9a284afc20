/* app.c: the generation driver shared by the host and the kernel: load the model and its
 * vocabulary, feed the prompt, generate (llama2.c's loop), stream tokens, stats, profile. */
#include "core/app/app.h"

#include "core/base/error.h"
#include "core/base/str.h"
#include "core/codecache/codecache.h"
#include "core/formats/gguf_keys.h"
#include "core/formats/loader.h"
#include "core/io/console.h"
#include "core/kernels/registry.h"
#include "core/model/model.h"
#include "core/model/sampler.h"
#include "core/model/session.h"
#include "core/model/shapes.h"
#include "core/profile/features.h"
#include "core/profile/profiler.h"
#include "core/text/chat.h"
#include "core/text/tokenizer.h"
#include "shim/platform.h"

static double cycles_to_ms(uint64_t cycles)
{
	uint64_t hz = plat_cycles_hz();
	return hz ? (double)cycles * 1000.0 / (double)hz : 0.0;
}

static int fail(void)
{
	log_printf("error: %s\n", error_message());
	return 1;
}

int app_parse(Options *o, int argc, char **argv)
{
	if (cli_parse(o, argc, argv) < 0) {
		fail();
		return -1;
	}
	if (o->help) {
		cli_usage(argc > 0 ? argv[0] : "tinyllama");
		return 1;
	}
	return 0;
}

static LoadedModel loaded;
static GgufFile vocab_gguf;
static Tokenizer vocab;
static int prompt[MAX_PROMPT_IDS];

/* Loads the vocabulary: --vocab FILE, else the GGUF model's own. Returns 1 when there is
 * none, 0 when loaded, -1 on error. */
static int load_vocab(const Options *o)
{
	if (o->vocab_path) {
		if (FEATURE_NEED(TOKENIZER) < 0)
			return -1;
		const uint8_t *data;
		size_t size;
		if (plat_model_map(o->vocab_path, &data, &size) < 0)
			return -1;
		if (!gguf_is(data, size))
			return tokenizer_load_bin(&vocab, data, size, o->vocab_path);
		if (FEATURE_NEED(GGUF) < 0)
			return -1;
		if (gguf_open(&vocab_gguf, data, size, o->vocab_path) < 0)
			return -1;
		int r = tokenizer_load_gguf(&vocab, &vocab_gguf);
		if (r == 1)
			return error_set("%s: the file holds no vocabulary (tokenizer.ggml.tokens)",
					 o->vocab_path);
		return r;
	}
	if (!loaded.is_gguf || !gguf_find(&loaded.gguf, GGUF_KEY_TOK_TOKENS))
		return 1;
	if (FEATURE_NEED(TOKENIZER) < 0)
		return -1;
	return tokenizer_load_gguf(&vocab, &loaded.gguf);
}

static const char *model_name(const Options *o)
{
	return o->model_path ? o->model_path : "the synthetic model";
}

/* --tokenize TEXT: ids on one line, no BOS. */
static int tokenize_only(const Options *o)
{
	if (FEATURE_NEED(TOKENIZER) < 0)
		return fail();
	if (o->model_path && !o->vocab_path) {
		LoadOptions lo = {o->model_path, o->synthetic, o->synth_seed, QUANT_NONE};
		if (model_load(&loaded, &lo) < 0)
			return fail();
	}
	int r = load_vocab(o);
	if (r < 0)
		return fail();
	if (r == 1) {
		error_set("--tokenize needs a vocabulary: %s has none; give --vocab FILE",
			  o->model_path ? o->model_path : "no model file was given and");
		return fail();
	}
	int n;
	if (tokenizer_encode(&vocab, o->tokenize_text, str_len(o->tokenize_text), prompt,
			     MAX_PROMPT_IDS, &n) < 0)
		return fail();
	for (int i = 0; i < n; i++)
		out_printf(i ? " %d" : "%d", prompt[i]);
	out_printf("\n");
	plat_flush(PLAT_OUT);
	return 0;
}

/* The prompt: --prompt-ids as given, -p as [BOS] + its tokens, or BOS alone. */
static int build_prompt(const Options *o, const Tokenizer *tok, int *n_prompt)
{
	const ModelConfig *c = &loaded.model.config;
	if (o->prompt) {
		if (!tok)
			return error_set(
			    "-p needs a vocabulary: %s has none; give --vocab FILE "
			    "(a tokenizer.bin or a GGUF with a vocab) or the prompt as "
			    "--prompt-ids",
			    model_name(o));
		int n = 0;
		if (tok->add_bos || !o->prompt[0])
			prompt[n++] = tok->bos_id;
		int m;
		if (tokenizer_encode(tok, o->prompt, str_len(o->prompt), prompt + n,
				     MAX_PROMPT_IDS - n, &m) < 0)
			return error_set("-p: %s", error_message());
		*n_prompt = n + m;
		if (*n_prompt == 0)
			prompt[(*n_prompt)++] = tok->bos_id;
	} else if (o->n_prompt_ids > 0) {
		*n_prompt = o->n_prompt_ids;
		for (int i = 0; i < *n_prompt; i++) {
			if (o->prompt_ids[i] >= c->vocab_size)
				return error_set("--prompt-ids: token %d is outside the vocabulary "
						 "(%d tokens)",
						 o->prompt_ids[i], c->vocab_size);
			prompt[i] = o->prompt_ids[i];
		}
	} else {
		*n_prompt = 1;
		prompt[0] = c->bos_id;
	}
	return 0;
}

static bool model_runs(const void *model, const CodeCacheKey *k)
{
	return k->rows <= INT32_MAX && k->cols <= INT32_MAX &&
	       model_runs_shape(model, k->slot, k->dtype, (int)k->rows, (int)k->cols);
}

/* --code-cache FILE: kernels compiled for this machine, build and model replace registry
 * entries. Nothing here fails the run: an unreadable file, or each entry that does not fit,
 * is one "code-cache:" line on the log, and the registry's own kernels run instead. */
static void load_code_cache(const char *path, const Model *m)
{
	const uint8_t *data;
	size_t size;
	if (plat_model_map(path, &data, &size) < 0) {
		log_printf("code-cache: nothing loaded: %s\n", error_message());
		return;
	}
	CodeCacheMachine here;
	codecache_machine_this(&here, (uint32_t)platform_code_target());
	codecache_apply(path, data, size, &here, model_runs, m);
}

/* Loads, generates and prints the stats line; returns the exit status. */
static int generate(const Options *o)
{
	int threads = plat_threads_start(o->threads);
	if (threads < 1) {
		error_set("cannot start %d threads", o->threads);
		return fail();
	}
	if (o->profile) /* stderr stays one line on errors: only profiled runs report it */
		log_printf("kernels: %s, threads: %d\n", kernels_isa_name(), threads);

	uint64_t t_load = plat_cycles();
	LoadOptions lo = {o->model_path, o->synthetic, o->synth_seed, o->quant};
	if (model_load(&loaded, &lo) < 0)
		return fail();
	Model *m = &loaded.model;
	const ModelConfig *c = &m->config;
	int have_vocab = load_vocab(o);
	if (have_vocab < 0)
		return fail();
	/* after every input is mapped, so that an output naming one of them is refused */
	if (o->export_path &&
	    (FEATURE_NEED(EXPORT) < 0 || model_export_gguf(&loaded, o->export_path) < 0))
		return fail();
	const Tokenizer *tok = FEATURE_KEPT(TOKENIZER) && have_vocab == 0 ? &vocab : NULL;
	if (tok && tok->vocab_size != c->vocab_size) {
		error_set("the vocabulary has %d tokens but the model has %d", tok->vocab_size,
			  c->vocab_size);
		return fail();
	}

	int ctx = o->ctx_size ? o->ctx_size : c->seq_len;
	if (ctx > c->seq_len) {
		error_set("context %d is longer than the model's (%d)", ctx, c->seq_len);
		return fail();
	}
	if (o->chat && !tok) {
		error_set("--chat needs a vocabulary: %s has none; give --vocab FILE",
			  model_name(o));
		return fail();
	}
	int n_prompt = 0;
	if (!o->chat && build_prompt(o, tok, &n_prompt) < 0)
		return fail();
	if (n_prompt > ctx) {
		error_set("the prompt has %d tokens, more than the context (%d)", n_prompt, ctx);
		return fail();
	}
	if (model_state_init(m, ctx) < 0)
		return fail();
	if (o->code_cache) {
		if (FEATURE_NEED(CODE_CACHE) < 0)
			return fail();
		load_code_cache(o->code_cache, m);
	}
	Sampler sampler;
	if (sampler_init(&sampler, c->vocab_size, o->temp, o->top_k, o->top_p, o->min_p, o->seed) <
		0 ||
	    sampler_set_penalty(&sampler, o->repeat_penalty, o->repeat_last_n) < 0)
		return fail();
	uint64_t load_cycles = plat_cycles() - t_load;

	Session s;
	session_init(&s, m, &sampler, o->print_ids ? NULL : tok, ctx);
	if (o->chat) {
		if (FEATURE_NEED(CHAT) < 0)
			return fail();
		int r = chat_run(&s, o, &loaded);
		return r < 0 ? fail() : 0;
	}

	/* Prompt processing: all but the last prompt token, in one batch; the last one's forward
	 * is the first step of generation, so that G generated tokens cost G forwards. */
	session_echo_prompt(&s, prompt, n_prompt);
	uint64_t t_prompt = plat_cycles();
	if (session_feed(&s, prompt, n_prompt - 1) < 0)
		return fail();
	uint64_t t_gen = plat_cycles();
	if (session_feed(&s, prompt + n_prompt - 1, 1) < 0)
		return fail();
	int generated = 0;
	bool context_full = false;
	int r = session_generate(&s, o->n_predict, &generated, &context_full);
	uint64_t t_end = plat_cycles();
	session_finish_line(&s);
	if (r < 0)
		return fail();
	if (context_full)
		log_printf("note: generation stopped at the end of the context (%d tokens)\n", ctx);

	int batch = n_prompt - 1;
	double prompt_ms = batch ? cycles_to_ms(t_gen - t_prompt) : 0.0;
	double gen_ms = cycles_to_ms(t_end - t_gen);
	log_printf("stats: prompt_tokens=%d gen_tokens=%d load_ms=%.2f prompt_ms=%.2f "
		   "prompt_tok_per_s=%.2f gen_ms=%.2f tok_per_s=%.2f\n",
		   n_prompt, generated, cycles_to_ms(load_cycles), prompt_ms,
		   prompt_ms > 0 ? batch * 1000.0 / prompt_ms : 0.0, gen_ms,
		   gen_ms > 0 ? generated * 1000.0 / gen_ms : 0.0);
	return 0;
}

#ifndef PROFILER_COMPILED_OUT
static int report_profile(const Options *o)
{
	if (!o->profile)
		return 0;
	if (profiler_write_report(o->profile_format, o->profile_out) < 0)
		return -1;
	if (o->profile_svg && profiler_write_svg(o->profile_svg) < 0)
		return -1;
	return 0;
}
#endif

int app_run(const Options *o)
{
	if (o->fault) {
		plat_debug_fault(o->fault);
		error_set("--fault: unknown kind '%s' (ud, gp, pf or stack)", o->fault);
		return fail();
	}
	if (kernels_select_named(o->isa) < 0)
		return fail();
	if (o->tokenize_text)
		return tokenize_only(o);
#ifdef PROFILER_COMPILED_OUT
	if (o->profile) { /* an image built without PROFILER=1 */
		error_set("this image was built without the profiler (--profile and its outputs, "
			  "--perf-check): make image PROFILER=1 keeps it");
		return fail();
	}
	return generate(o);
#else
	profiler_init();
	if (o->profile || o->tierup != TIERUP_OFF) /* the tier-up reads the kernel records */
		profiler_enable();
	/* A root zone over the whole run: every cycle of it is attributed to some zone. */
	PROFILE_BEGIN(run, "run");
	int status = generate(o);
	PROFILE_END(run);
	profiler_disable();
	if (status == 0 && report_profile(o) < 0)
		status = fail();
	return status;
#endif
}

int app_main(int argc, char **argv)
{
	static Options opts;
	int r = app_parse(&opts, argc, argv);
	if (r != 0)
		return r < 0 ? 1 : 0;
	return app_run(&opts);
}
