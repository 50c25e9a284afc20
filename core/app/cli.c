/* cli.c: parses options with llama.cpp's spellings; every value is checked strictly. */
#include "core/app/cli.h"

#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/base/str.h"
#include "core/formats/quant_mix.h"
#include "core/io/console.h"

#define STR_(x) #x
#define STR(x) STR_(x)

typedef enum {
	OPT_MODEL,
	OPT_SYNTHETIC,
	OPT_QUANT,
	OPT_EXPORT_GGUF,
	OPT_CTX_SIZE,
	OPT_ARENA,
	OPT_HUGEPAGES,
	OPT_CODE_CACHE,
	OPT_PROMPT,
	OPT_VOCAB,
	OPT_TOKENIZE,
	OPT_CHAT,
	OPT_CHAT_TEMPLATE,
	OPT_SYSTEM,
	OPT_PROMPT_IDS,
	OPT_N_PREDICT,
	OPT_TEMP,
	OPT_TOP_K,
	OPT_TOP_P,
	OPT_MIN_P,
	OPT_REPEAT_PENALTY,
	OPT_REPEAT_LAST_N,
	OPT_SEED,
	OPT_THREADS,
	OPT_ISA,
	OPT_JIT,
	OPT_IDS,
	OPT_PROFILE,
	OPT_PROFILE_OUT,
	OPT_PROFILE_SVG,
	OPT_PERF_CHECK,
	OPT_FAULT,
	OPT_HELP,
	OPT_COUNT
} OptionId;

/* The option list, written once: the parser, the usage text and the defaults come from it
 * (tests/reliability.sh checks that README.md and tests/fuzz/cli.dict name every option). */
typedef struct {
	const char *group; /* usage heading that starts here, or NULL */
	const char *name, *short_name;
	const char *value; /* NULL: a flag; "[=...]": an optional =value; else a required one */
	const char *def;   /* default, parsed like a given value; NULL: none or see the help */
	const char *help;
} OptionSpec;

static const OptionSpec options[OPT_COUNT] = {
    [OPT_MODEL] = {"model", "--model", "-m", "FILE", NULL,
		   "GGUF (F32/F16/Q8_0) or llama2.c checkpoint (v0/v1/v2)"},
    [OPT_SYNTHETIC] = {NULL, "--synthetic", NULL, "NAME[:SEED]", "tinyllama",
		       "synthetic model when no -m: tinyllama or small"},
    [OPT_QUANT] = {NULL, "--quant", NULL, "q8_0|int8|TYPE", NULL,
		   "quantize the weights at load (TYPE: a llama.cpp type, q4_0 ... q6_k)"},
    [OPT_EXPORT_GGUF] = {NULL, "--export-gguf", NULL, "FILE", NULL,
			 "write the model in use as GGUF v3, then generate"},
    [OPT_CTX_SIZE] = {NULL, "--ctx-size", "-c", "N", NULL, "context length (default: the model's)"},
    [OPT_ARENA] = {NULL, "--arena", NULL, "SIZE", NULL,
		   "memory arena, e.g. 4G (default: 3/4 of RAM, lazily; host)"},
    [OPT_HUGEPAGES] = {NULL, "--hugepages", NULL, NULL, NULL,
		       "2 MB pages for the arena: faster streaming (host)"},
    [OPT_CODE_CACHE] = {NULL, "--code-cache", NULL, "FILE", NULL,
			"kernels compiled for this machine and model: loaded when FILE exists"},
    [OPT_PROMPT] = {"generation", "--prompt", "-p", "TEXT", NULL,
		    "prompt text: BOS (if the vocab adds it) + its tokens"},
    [OPT_VOCAB] = {NULL, "--vocab", NULL, "FILE", NULL,
		   "tokenizer.bin or a GGUF holding one (default: the GGUF model's)"},
    [OPT_TOKENIZE] = {NULL, "--tokenize", NULL, "TEXT", NULL,
		      "print the ids of TEXT (no BOS) on one line and exit"},
    [OPT_CHAT] = {NULL, "--chat", NULL, NULL, NULL,
		  "interactive chat on stdin with the model's template (host)"},
    [OPT_CHAT_TEMPLATE] = {NULL, "--chat-template", NULL, "NAME", NULL,
			   "zephyr, llama2 or chatml (default: from the GGUF)"},
    [OPT_SYSTEM] = {NULL, "--system", NULL, "TEXT", NULL, "system message for --chat"},
    [OPT_PROMPT_IDS] = {NULL, "--prompt-ids", NULL, "\"1 2 3\"", NULL,
			"exact token ids fed from position 0 (nothing added)"},
    [OPT_N_PREDICT] = {NULL, "--n-predict", "-n", "N", STR(DEFAULT_N_PREDICT),
		       "tokens to generate"},
    [OPT_TEMP] = {NULL, "--temp", NULL, "T", "0.8", "temperature, 0 = greedy"},
    [OPT_TOP_K] = {NULL, "--top-k", NULL, "N", "40", "top-k sampling, 0 = off"},
    [OPT_TOP_P] = {NULL, "--top-p", NULL, "P", "0.95", "nucleus sampling, 1 = off"},
    [OPT_MIN_P] = {NULL, "--min-p", NULL, "P", "0.05", "min-p sampling, 0 = off"},
    [OPT_REPEAT_PENALTY] = {NULL, "--repeat-penalty", NULL, "P", "1",
			    "penalise recent tokens, 1 = off"},
    [OPT_REPEAT_LAST_N] = {NULL, "--repeat-last-n", NULL, "N", "64",
			   "tokens the penalty looks back at"},
    [OPT_SEED] = {NULL, "--seed", "-s", "N", STR(DEFAULT_SAMPLER_SEED), "sampler seed"},
    [OPT_THREADS] = {NULL, "--threads", "-t", "N", NULL, "worker threads (default: all CPUs)"},
    [OPT_ISA] = {NULL, "--isa", NULL, "scalar|avx2|avxvnni|avx512", NULL,
		 "force a kernel variant (default: the best the CPU has)"},
    [OPT_JIT] = {NULL, "--jit", NULL, "off|auto|always", "off",
		 "recompile the hot kernels for this model and CPU with LLVM (host)"},
    [OPT_IDS] = {NULL, "--ids", NULL, NULL, NULL,
		 "print generated token ids on one line instead of text"},
    [OPT_PROFILE] = {"profiling", "--profile", NULL, "[=text|json|folded]", NULL,
		     "cycle profile report at the end (stderr)"},
    [OPT_PROFILE_OUT] = {NULL, "--profile-out", NULL, "FILE", NULL,
			 "write the profile report to FILE"},
    [OPT_PROFILE_SVG] = {NULL, "--profile-svg", NULL, "FILE", NULL,
			 "write an SVG chart of the hot paths"},
    [OPT_PERF_CHECK] = {NULL, "--perf-check", NULL, NULL, NULL,
			"compare the profiler with perf counters (host)"},
    [OPT_FAULT] = {"debug", "--fault", NULL, "ud|gp|pf|stack", NULL,
		   "raise a CPU exception on purpose"},
    [OPT_HELP] = {NULL, "--help", "-h", NULL, NULL, "this text"},
};

void cli_usage(const char *program)
{
	out_printf("usage: %s [options]\n"
		   "\n"
		   "Runs a Llama-2 model (GGUF v2/v3, llama2.c checkpoint, or the built-in "
		   "synthetic\n"
		   "TinyLlama-1.1B when no -m is given) and prints the generated tokens.\n",
		   program);
	for (int i = 0; i < OPT_COUNT; i++) {
		const OptionSpec *op = &options[i];
		if (op->group)
			out_printf("\n%s:\n", op->group);
		char left[64];
		fmt_format(left, sizeof left, "%s%s%s%s%s", op->short_name ? op->short_name : "",
			   op->short_name ? ", " : "", op->name,
			   op->value && op->value[0] != '[' ? " " : "", op->value ? op->value : "");
		if (str_len(left) > 22)
			out_printf("  %s\n  %-22s", left, "");
		else
			out_printf("  %-22s", left);
		out_printf("  %s", op->help);
		if (op->def)
			out_printf(" (default %s)", op->def);
		out_printf("\n");
	}
	out_printf("\nAt exit one line goes to stderr:\n%s\n", STATS_LINE_FORMAT);
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

/* Sets the option from val (NULL for a flag, or an absent optional value). */
static int apply(Options *o, OptionId id, const char *opt, const char *val)
{
	switch (id) {
	case OPT_MODEL:
		o->model_path = val;
		break;
	case OPT_SYNTHETIC:
		return parse_synthetic(o, opt, val);
	case OPT_QUANT:
		if (str_eq(val, "q8_0"))
			o->quant = QUANT_Q8_0;
		else if (str_eq(val, "int8"))
			o->quant = QUANT_INT8;
		else if (quant_mix_parse(val, &o->quant) < 0)
			return error_set("%s: '%s' is not q8_0, int8, %s", opt, val,
					 quant_mix_names);
		break;
	case OPT_EXPORT_GGUF:
		o->export_path = val;
		break;
	case OPT_CTX_SIZE:
		if (parse_int(val, &o->ctx_size) < 0 || o->ctx_size < 0)
			return bad_value(opt, val, "a context length >= 0");
		break;
	case OPT_ARENA:
		if (parse_size(val, &o->arena_bytes) < 0 || o->arena_bytes == 0)
			return bad_value(opt, val, "a size such as 512M or 4G");
		break;
	case OPT_HUGEPAGES:
		o->hugepages = true;
		break;
	case OPT_CODE_CACHE:
		o->code_cache = val;
		break;
	case OPT_PROMPT:
		o->prompt = val;
		break;
	case OPT_VOCAB:
		o->vocab_path = val;
		break;
	case OPT_TOKENIZE:
		o->tokenize_text = val;
		break;
	case OPT_CHAT:
		o->chat = true;
		break;
	case OPT_CHAT_TEMPLATE:
		if (!str_eq(val, "zephyr") && !str_eq(val, "llama2") && !str_eq(val, "chatml"))
			return bad_value(opt, val, "zephyr, llama2 or chatml");
		o->chat_template = val;
		break;
	case OPT_SYSTEM:
		o->system_prompt = val;
		break;
	case OPT_PROMPT_IDS:
		return parse_ids(o, opt, val);
	case OPT_N_PREDICT:
		if (parse_int(val, &o->n_predict) < 0 || o->n_predict < 0)
			return bad_value(opt, val, "a count >= 0");
		break;
	case OPT_TEMP: /* parse_float refuses what does not fit a float: values are finite */
		if (parse_float(val, &o->temp) < 0 || o->temp < 0)
			return bad_value(opt, val, "a temperature >= 0");
		break;
	case OPT_TOP_K:
		if (parse_int(val, &o->top_k) < 0 || o->top_k < 0)
			return bad_value(opt, val, "a count >= 0");
		break;
	case OPT_TOP_P:
		if (parse_float(val, &o->top_p) < 0 || o->top_p <= 0 || o->top_p > 1)
			return bad_value(opt, val, "a probability in (0, 1]");
		break;
	case OPT_MIN_P:
		if (parse_float(val, &o->min_p) < 0 || o->min_p < 0 || o->min_p > 1)
			return bad_value(opt, val, "a probability in [0, 1]");
		break;
	case OPT_REPEAT_PENALTY:
		if (parse_float(val, &o->repeat_penalty) < 0 || o->repeat_penalty <= 0)
			return bad_value(opt, val, "a penalty > 0");
		break;
	case OPT_REPEAT_LAST_N:
		if (parse_int(val, &o->repeat_last_n) < 0 || o->repeat_last_n < 0 ||
		    o->repeat_last_n > 1 << 20)
			return bad_value(opt, val, "a count >= 0");
		break;
	case OPT_SEED:
		if (parse_u64(val, &o->seed) < 0)
			return bad_value(opt, val, "a seed (an integer >= 0)");
		break;
	case OPT_THREADS:
		if (parse_int(val, &o->threads) < 0 || o->threads < 1 || o->threads > MAX_THREADS)
			return error_set("%s: '%s' is not a thread count (1 to %d)", opt, val,
					 MAX_THREADS);
		break;
	case OPT_ISA:
		if (!str_eq(val, "scalar") && !str_eq(val, "avx2") && !str_eq(val, "avxvnni") &&
		    !str_eq(val, "avx512"))
			return bad_value(opt, val, "scalar, avx2, avxvnni or avx512");
		o->isa = val;
		break;
	case OPT_JIT:
		if (str_eq(val, "off"))
			o->tierup = TIERUP_OFF;
		else if (str_eq(val, "auto"))
			o->tierup = TIERUP_AUTO;
		else if (str_eq(val, "always"))
			o->tierup = TIERUP_ALWAYS;
		else
			return bad_value(opt, val, "off, auto or always");
		break;
	case OPT_IDS:
		o->print_ids = true;
		break;
	case OPT_PROFILE:
		o->profile = true;
		o->profile_format = PROFILE_TEXT;
		if (val && str_eq(val, "json"))
			o->profile_format = PROFILE_JSON;
		else if (val && str_eq(val, "folded"))
			o->profile_format = PROFILE_FOLDED;
		else if (val && !str_eq(val, "text"))
			return bad_value(opt, val, "text, json or folded");
		break;
	case OPT_PROFILE_OUT:
		o->profile_out = val;
		o->profile = true;
		break;
	case OPT_PROFILE_SVG:
		o->profile_svg = val;
		o->profile = true;
		break;
	case OPT_PERF_CHECK:
		o->perf_check = true;
		o->profile = true; /* perf's figures are compared with the profiler's */
		break;
	case OPT_FAULT:
		o->fault = val;
		break;
	case OPT_HELP:
		o->help = true;
		break;
	case OPT_COUNT:
		break;
	}
	return 0;
}

static int find_option(const char *arg)
{
	for (int i = 0; i < OPT_COUNT; i++)
		if (str_eq(arg, options[i].name) ||
		    (options[i].short_name && str_eq(arg, options[i].short_name)))
			return i;
	return -1;
}

/* Options that would otherwise be dropped without a word. */
static int check_conflicts(const Options *o)
{
	if (o->prompt && o->n_prompt_ids >= 0)
		return error_set("-p and --prompt-ids both give the prompt: give one of them");
	if (o->chat && (o->prompt || o->n_prompt_ids >= 0))
		return error_set("--chat reads its prompts from the input: -p and --prompt-ids "
				 "cannot be used with it");
	if (o->chat && o->print_ids)
		return error_set("--chat prints text: --ids cannot be used with it");
	if (!o->chat && (o->system_prompt || o->chat_template))
		return error_set("%s is for --chat, which was not given",
				 o->system_prompt ? "--system" : "--chat-template");
	if (o->tokenize_text && (o->prompt || o->n_prompt_ids >= 0 || o->chat || o->export_path ||
				 o->profile || o->print_ids))
		return error_set("--tokenize prints the ids of its text and exits: -p, "
				 "--prompt-ids, --chat, --export-gguf, --ids and the profile "
				 "options cannot be used with it");
	return 0;
}

int cli_parse(Options *o, int argc, char **argv)
{
	mem_set(o, 0, sizeof *o);
	o->synth_seed = SYNTH_DEFAULT_SEED;
	o->n_prompt_ids = -1;
	for (int i = 0; i < OPT_COUNT; i++)
		if (options[i].def && apply(o, (OptionId)i, options[i].name, options[i].def) < 0)
			return -1;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		/* --name=value is accepted for every long option that takes a value */
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
		int id = find_option(arg);
		if (id < 0) {
			if (val)
				return error_set("unknown option '%s' (see -h)", argv[i]);
			return error_set("unknown %s '%s' (see -h)",
					 arg[0] == '-' ? "option" : "argument", arg);
		}
		const char *kind = options[id].value;
		if (!kind && val)
			return error_set("%s takes no value (given '%s')", arg, val);
		if (kind && kind[0] != '[' && !val) {
			if (i + 1 >= argc)
				return error_set("%s needs a value", arg);
			val = argv[++i];
		}
		if (apply(o, (OptionId)id, arg, val) < 0)
			return -1;
		if (id == OPT_N_PREDICT)
			o->n_predict_set = true;
	}
	return check_conflicts(o);
}
