/* app.c: the generation driver shared by the host and the kernel: load, prompt,
 * generate (llama2.c's loop), stream tokens, stats line, profile report. */
#include "app.h"

#include "error.h"
#include "fmt.h"
#include "loader.h"
#include "model.h"
#include "profiler.h"
#include "sampler.h"
#include "shim/platform.h"
#include "str.h"

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
static int prompt[MAX_PROMPT_IDS];

/* Writes one generated token to PLAT_OUT (ids until a vocabulary is available). */
static void emit_token(int token, int index)
{
	out_printf(index ? " %d" : "%d", token);
	plat_flush(PLAT_OUT);
}

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

int app_run(const Options *o)
{
	if (o->fault) {
		plat_debug_fault(o->fault);
		error_set("--fault: unknown kind '%s' (ud, gp, pf or stack)", o->fault);
		return fail();
	}
	profiler_init();
	if (o->profile)
		profiler_enable();
	if (matmul_select_isa(o->isa) < 0)
		return fail();
	int threads = plat_threads_start(o->threads);
	if (threads < 1) {
		error_set("cannot start %d threads", o->threads);
		return fail();
	}
	if (o->profile) /* stderr stays one line on errors: only profiled runs report it */
		log_printf("kernels: %s, threads: %d\n", matmul_isa_name(), threads);

	uint64_t t_load = plat_cycles();
	LoadOptions lo = {o->model_path, o->synthetic, o->synth_seed, o->quant};
	if (model_load(&loaded, &lo) < 0)
		return fail();
	Model *m = &loaded.model;
	const ModelConfig *c = &m->config;
	if (o->export_path && model_export_gguf(&loaded, o->export_path) < 0)
		return fail();

	int ctx = o->ctx_size ? o->ctx_size : c->seq_len;
	if (ctx > c->seq_len) {
		error_set("context %d is longer than the model's (%d)", ctx, c->seq_len);
		return fail();
	}
	int n_prompt;
	if (o->prompt) {
		error_set("-p needs a tokenizer, which this build does not have yet; give the "
			  "prompt as ids with --prompt-ids");
		return fail();
	} else if (o->n_prompt_ids > 0) {
		n_prompt = o->n_prompt_ids;
		for (int i = 0; i < n_prompt; i++) {
			if (o->prompt_ids[i] >= c->vocab_size) {
				error_set("--prompt-ids: token %d is outside the vocabulary (%d "
					  "tokens)",
					  o->prompt_ids[i], c->vocab_size);
				return fail();
			}
			prompt[i] = o->prompt_ids[i];
		}
	} else {
		n_prompt = 1;
		prompt[0] = c->bos_id;
	}
	if (n_prompt > ctx) {
		error_set("the prompt has %d tokens, more than the context (%d)", n_prompt, ctx);
		return fail();
	}
	if (model_state_init(m, ctx) < 0)
		return fail();
	Sampler sampler;
	if (sampler_init(&sampler, c->vocab_size, o->temp, o->top_k, o->top_p, o->min_p,
			 o->seed) < 0 ||
	    sampler_set_penalty(&sampler, o->repeat_penalty, o->repeat_last_n) < 0)
		return fail();
	for (int i = 0; i < n_prompt; i++)
		sampler_accept(&sampler, prompt[i]);
	uint64_t load_cycles = plat_cycles() - t_load;

	/* llama2.c's loop: feed the prompt, then sample; every forward predicts pos + 1. */
	uint64_t t_gen = 0;
	int token = prompt[0], pos = 0, generated = 0;
	bool context_full = false;
	while (generated < o->n_predict) {
		if (pos >= ctx) {
			context_full = true;
			break;
		}
		if (pos == n_prompt - 1)
			t_gen = plat_cycles();
		float *logits = model_forward(m, token, pos);
		pos++;
		if (pos < n_prompt) {
			token = prompt[pos];
			continue;
		}
		int next = sampler_sample(&sampler, logits);
		if (next == c->eos_id || (c->stop_at_bos && next == c->bos_id))
			break;
		sampler_accept(&sampler, next);
		emit_token(next, generated);
		generated++;
		token = next;
	}
	uint64_t t_end = plat_cycles();
	if (!t_gen)
		t_gen = t_end;
	if (generated)
		out_printf("\n");
	plat_flush(PLAT_OUT);
	if (context_full)
		log_printf("note: generation stopped at the end of the context (%d tokens)\n",
			   ctx);
	if (o->profile)
		profiler_disable();

	double gen_ms = cycles_to_ms(t_end - t_gen);
	log_printf("stats: prompt_tokens=%d gen_tokens=%d load_ms=%.2f gen_ms=%.2f "
		   "tok_per_s=%.2f\n",
		   n_prompt, generated, cycles_to_ms(load_cycles), gen_ms,
		   gen_ms > 0 ? generated * 1000.0 / gen_ms : 0.0);
	if (report_profile(o) < 0)
		return fail();
	return 0;
}

int app_main(int argc, char **argv)
{
	static Options opts;
	int r = app_parse(&opts, argc, argv);
	if (r != 0)
		return r < 0 ? 1 : 0;
	return app_run(&opts);
}
