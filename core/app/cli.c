/* cli.c: parses options with llama.cpp's spellings; every value is checked strictly. */
#include "core/app/cli.h"

#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/base/str.h"
#include "core/formats/quant_mix.h"

void cli_usage(const char *program)
{
	out_printf(
	    "usage: %s [options]\n"
	    "\n"
	    "Runs a Llama-2 model (GGUF v2/v3, llama2.c checkpoint, or the built-in synthetic\n"
	    "TinyLlama-1.1B when no -m is given) and prints the generated tokens.\n"
	    "\n"
	    "model:\n"
	    "  -m, --model FILE        GGUF (F32/F16/Q8_0) or llama2.c checkpoint (v0/v1/v2)\n"
	    "  --synthetic NAME[:SEED] synthetic model: tinyllama (default) or small\n"
	    "  --quant q8_0|int8       quantize the weights at load\n"
	    "  --export-gguf FILE      write the model in use as GGUF v3, then generate\n"
	    "  -c, --ctx-size N        context length (default: the model's)\n"
	    "  --arena SIZE            memory arena, e.g. 4G (default: 3/4 of RAM, lazily)\n"
	    "  --hugepages             2 MB pages for the arena: faster streaming (host)\n"
	    "\n"
	    "generation:\n"
	    "  -p, --prompt TEXT       prompt text: BOS (if the vocab adds it) + its tokens\n"
	    "  --vocab FILE            vocabulary: llama2.c tokenizer.bin or a GGUF with one\n"
	    "                          (default: the GGUF model's own)\n"
	    "  --tokenize TEXT         print the ids of TEXT (no BOS) on one line and exit\n"
	    "  --chat                  interactive chat on stdin with the model's template\n"
	    "  --chat-template NAME    zephyr, llama2 or chatml (default: from the GGUF)\n"
	    "  --system TEXT           system message for --chat\n"
	    "  --prompt-ids \"1 2 3\"    exact token ids fed from position 0 (nothing added)\n"
	    "  -n, --n-predict N       tokens to generate (default %d)\n"
	    "  --temp T                temperature, 0 = greedy (default 0.8)\n"
	    "  --top-k N               top-k sampling, 0 = off (default 40)\n"
	    "  --top-p P               nucleus sampling, 1 = off (default 0.95)\n"
	    "  --min-p P               min-p sampling, 0 = off (default 0.05)\n"
	    "  --repeat-penalty P      penalise recent tokens, 1 = off (default 1)\n"
	    "  --repeat-last-n N       tokens the penalty looks back at (default 64)\n"
	    "  -s, --seed N            sampler seed (default %u)\n"
	    "  -t, --threads N         worker threads (default: all CPUs)\n"
	    "  --isa scalar|avx2|avx512  force a kernel variant (default: the best the CPU has)\n"
	    "  --ids                   print generated token ids on one line instead of text\n"
	    "\n"
	    "profiling:\n"
	    "  --profile[=text|json|folded]  cycle profile report at the end (stderr)\n"
	    "  --profile-out FILE      write the profile report to FILE\n"
	    "  --profile-svg FILE      write an SVG chart of the hot paths\n"
	    "  --perf-check            compare the profiler with perf counters (host)\n"
	    "\n"
	    "debug:\n"
	    "  --fault ud|gp|pf|stack  raise a CPU exception on purpose\n"
	    "  -h, --help              this text\n"
	    "\n"
	    "At exit one line goes to stderr:\n"
	    "stats: prompt_tokens=P gen_tokens=G load_ms=L gen_ms=M tok_per_s=R\n",
	    program, DEFAULT_N_PREDICT, DEFAULT_SAMPLER_SEED);
}

static int bad_value(const char *opt, const char *val, const char *want)
{
	return error_set("%s: '%s' is not %s", opt, val, want);
}

static int parse_ids(Options *o, const char *opt, const char *text)
{
	o->n_prompt_ids = 0;
	const char *p = text;
	for (;;) {
		while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		char num[24];
		size_t n = 0;
		while (*p && *p != ' ' && *p != ',' && *p != '\t' && *p != '\n') {
			if (n + 1 >= sizeof num)
				return bad_value(opt, text, "a list of token ids");
			num[n++] = *p++;
		}
		num[n] = 0;
		int id;
		if (parse_int(num, &id) < 0 || id < 0)
			return error_set("%s: '%s' is not a token id", opt, num);
		if (o->n_prompt_ids >= MAX_PROMPT_IDS)
			return error_set("%s: more than %d ids", opt, MAX_PROMPT_IDS);
		o->prompt_ids[o->n_prompt_ids++] = id;
	}
	if (o->n_prompt_ids == 0)
		return error_set("%s: no token ids in '%s'", opt, text);
	return 0;
}

static int parse_synthetic(Options *o, const char *opt, const char *val)
{
	static char name[32];
	size_t n = 0;
	while (val[n] && val[n] != ':' && n + 1 < sizeof name) {
		name[n] = val[n];
		n++;
	}
	name[n] = 0;
	if (!str_eq(name, "tinyllama") && !str_eq(name, "small"))
		return error_set("%s: unknown synthetic model '%s' (tinyllama or small)", opt, val);
	o->synthetic = name;
	if (val[n] == ':' && parse_u64(val + n + 1, &o->synth_seed) < 0)
		return bad_value(opt, val + n + 1, "a seed");
	if (val[n] && val[n] != ':')
		return bad_value(opt, val, "a synthetic model name");
	return 0;
}

int cli_parse(Options *o, int argc, char **argv)
{
	mem_set(o, 0, sizeof *o);
	o->synthetic = "tinyllama";
	o->synth_seed = SYNTH_DEFAULT_SEED;
	o->n_prompt_ids = -1;
	o->n_predict = DEFAULT_N_PREDICT;
	o->temp = 0.8f;
	o->top_k = 40;
	o->top_p = 0.95f;
	o->min_p = 0.05f;
	o->repeat_penalty = 1.0f;
	o->repeat_last_n = 64;
	o->seed = DEFAULT_SAMPLER_SEED;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		/* --name=value is accepted for every long option */
		static char name[40];
		const char *val = NULL;
		size_t eq = 0;
		while (arg[eq] && arg[eq] != '=')
			eq++;
		if (str_starts(arg, "--") && arg[eq] == '=' && eq < sizeof name) {
			mem_copy(name, arg, eq);
			name[eq] = 0;
			val = arg + eq + 1;
			arg = name;
		}
		if (str_eq(arg, "-h") || str_eq(arg, "--help")) {
			o->help = true;
			continue;
		}
		if (str_eq(arg, "--ids")) {
			o->print_ids = true;
			continue;
		}
		if (str_eq(arg, "--hugepages")) {
			o->hugepages = true;
			continue;
		}
		if (str_eq(arg, "--chat")) {
			o->chat = true;
			continue;
		}
		if (str_eq(arg, "--perf-check")) {
			o->perf_check = true;
			o->profile = true; /* perf's figures are compared with the profiler's */
			continue;
		}
		if (str_eq(arg, "--profile")) {
			o->profile = true;
			o->profile_format = PROFILE_TEXT;
			if (val) {
				if (str_eq(val, "json"))
					o->profile_format = PROFILE_JSON;
				else if (str_eq(val, "folded"))
					o->profile_format = PROFILE_FOLDED;
				else if (!str_eq(val, "text"))
					return bad_value("--profile", val, "text, json or folded");
			}
			continue;
		}
		/* Every other option takes a value. */
		static const char *const with_value[] = {"-m",
							 "--model",
							 "-p",
							 "--prompt",
							 "--prompt-ids",
							 "-n",
							 "--n-predict",
							 "--temp",
							 "--top-k",
							 "--top-p",
							 "--min-p",
							 "-s",
							 "--seed",
							 "-t",
							 "--threads",
							 "--quant",
							 "--export-gguf",
							 "--profile-out",
							 "--profile-svg",
							 "--synthetic",
							 "-c",
							 "--ctx-size",
							 "--fault",
							 "--arena",
							 "--isa",
							 "--repeat-penalty",
							 "--repeat-last-n",
							 "--vocab",
							 "--tokenize",
							 "--chat-template",
							 "--system"};
		bool known = false;
		for (unsigned k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
			known |= str_eq(arg, with_value[k]);
		if (!known) {
			if (val)
				return error_set("unknown option '%s' (see -h)", argv[i]);
			return error_set("unknown %s '%s' (see -h)",
					 arg[0] == '-' ? "option" : "argument", arg);
		}
		if (!val) {
			if (i + 1 >= argc)
				return error_set("%s needs a value", arg);
			val = argv[++i];
		}
		if (str_eq(arg, "-m") || str_eq(arg, "--model")) {
			o->model_path = val;
		} else if (str_eq(arg, "-p") || str_eq(arg, "--prompt")) {
			o->prompt = val;
		} else if (str_eq(arg, "--prompt-ids")) {
			if (parse_ids(o, arg, val) < 0)
				return -1;
		} else if (str_eq(arg, "-n") || str_eq(arg, "--n-predict")) {
			if (parse_int(val, &o->n_predict) < 0 || o->n_predict < 0)
				return bad_value(arg, val, "a count >= 0");
			o->n_predict_set = true;
		} else if (str_eq(arg, "-c") || str_eq(arg, "--ctx-size")) {
			if (parse_int(val, &o->ctx_size) < 0 || o->ctx_size < 0)
				return bad_value(arg, val, "a context length >= 0");
		} else if (str_eq(arg, "--temp")) {
			if (parse_float(val, &o->temp) < 0 || o->temp < 0)
				return bad_value(arg, val, "a temperature >= 0");
		} else if (str_eq(arg, "--top-k")) {
			if (parse_int(val, &o->top_k) < 0 || o->top_k < 0)
				return bad_value(arg, val, "a count >= 0");
		} else if (str_eq(arg, "--top-p")) {
			if (parse_float(val, &o->top_p) < 0 || o->top_p <= 0 || o->top_p > 1)
				return bad_value(arg, val, "a probability in (0, 1]");
		} else if (str_eq(arg, "--min-p")) {
			if (parse_float(val, &o->min_p) < 0 || o->min_p < 0 || o->min_p > 1)
				return bad_value(arg, val, "a probability in [0, 1]");
		} else if (str_eq(arg, "-s") || str_eq(arg, "--seed")) {
			if (parse_u64(val, &o->seed) < 0)
				return bad_value(arg, val, "a seed (an integer >= 0)");
		} else if (str_eq(arg, "-t") || str_eq(arg, "--threads")) {
			if (parse_int(val, &o->threads) < 0 || o->threads < 1 ||
			    o->threads > MAX_THREADS)
				return error_set("%s: '%s' is not a thread count (1 to %d)", arg,
						 val, MAX_THREADS);
		} else if (str_eq(arg, "--quant")) {
			if (str_eq(val, "q8_0"))
				o->quant = QUANT_Q8_0;
			else if (str_eq(val, "int8"))
				o->quant = QUANT_INT8;
			else if (quant_mix_parse(val, &o->quant) < 0)
				return error_set("--quant: '%s' is not q8_0, int8, %s", val,
						 quant_mix_names);
		} else if (str_eq(arg, "--export-gguf")) {
			o->export_path = val;
		} else if (str_eq(arg, "--profile-out")) {
			o->profile_out = val;
			o->profile = true;
		} else if (str_eq(arg, "--profile-svg")) {
			o->profile_svg = val;
			o->profile = true;
		} else if (str_eq(arg, "--synthetic")) {
			if (parse_synthetic(o, arg, val) < 0)
				return -1;
		} else if (str_eq(arg, "--repeat-penalty")) {
			if (parse_float(val, &o->repeat_penalty) < 0 || o->repeat_penalty <= 0)
				return bad_value(arg, val, "a penalty > 0");
		} else if (str_eq(arg, "--repeat-last-n")) {
			if (parse_int(val, &o->repeat_last_n) < 0 || o->repeat_last_n < 0 ||
			    o->repeat_last_n > 1 << 20)
				return bad_value(arg, val, "a count >= 0");
		} else if (str_eq(arg, "--vocab")) {
			o->vocab_path = val;
		} else if (str_eq(arg, "--tokenize")) {
			o->tokenize_text = val;
		} else if (str_eq(arg, "--system")) {
			o->system_prompt = val;
		} else if (str_eq(arg, "--chat-template")) {
			if (!str_eq(val, "zephyr") && !str_eq(val, "llama2") &&
			    !str_eq(val, "chatml"))
				return bad_value(arg, val, "zephyr, llama2 or chatml");
			o->chat_template = val;
		} else if (str_eq(arg, "--isa")) {
			if (!str_eq(val, "scalar") && !str_eq(val, "avx2") &&
			    !str_eq(val, "avx512"))
				return bad_value(arg, val, "scalar, avx2 or avx512");
			o->isa = val;
		} else if (str_eq(arg, "--fault")) {
			o->fault = val;
		} else if (str_eq(arg, "--arena")) {
			if (parse_size(val, &o->arena_bytes) < 0 || o->arena_bytes == 0)
				return bad_value(arg, val, "a size such as 512M or 4G");
		}
	}
	return 0;
}
