/* cli.h: the command-line options of tinyllama-host and of the kernel command line,
 * parsed by one function (llama.cpp's spellings) into one struct. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/base/config.h"
#include "core/formats/loader.h"
#include "core/profile/profiler.h"

/* --jit: when the host recompiles hot kernels (auto: where the saving pays the compile). */
typedef enum { TIERUP_OFF, TIERUP_AUTO, TIERUP_ALWAYS } TierUpMode;

typedef struct {
	const char *model_path; /* -m; NULL: synthetic */
	const char *synthetic;	/* --synthetic NAME[:SEED] preset */
	uint64_t synth_seed;
	const char *prompt;	   /* -p; NULL when not given */
	const char *vocab_path;	   /* --vocab: tokenizer.bin or a GGUF with a vocab */
	const char *tokenize_text; /* --tokenize: print the ids of this text and exit */
	bool chat;		   /* --chat: interactive loop on stdin (host) */
	const char *chat_template; /* --chat-template zephyr|llama2|chatml */
	const char *system_prompt; /* --system */
	int prompt_ids[MAX_PROMPT_IDS];
	int n_prompt_ids;   /* --prompt-ids; -1 when not given */
	int n_predict;	    /* -n */
	bool n_predict_set; /* -n was given (--chat replies run to EOS otherwise) */
	int ctx_size;	    /* -c; 0 = the model's */
	float temp, top_p, min_p;
	int top_k;
	float repeat_penalty; /* 1 = off */
	int repeat_last_n;
	uint64_t seed;
	int threads; /* -t; 0 = every CPU the platform has */
	QuantMode quant;
	const char *export_path; /* --export-gguf */
	const char *code_cache;	 /* --code-cache FILE (core/codecache) */
	bool print_ids;		 /* --ids */
	bool profile;		 /* --profile[=FORMAT] */
	ProfileFormat profile_format;
	const char *profile_out; /* --profile-out */
	const char *profile_svg; /* --profile-svg */
	bool perf_check;	 /* --perf-check (host) */
	const char *fault;	 /* --fault KIND (debug) */
	uint64_t arena_bytes;	 /* --arena SIZE (host); 0 = default */
	bool hugepages;		 /* --hugepages: 2 MB pages for the arena (host) */
	const char *isa;	 /* --isa scalar|avx2|avxvnni|avx512; NULL = best available */
	TierUpMode tierup;	 /* --jit (host) */
	bool help;
} Options;

/* The line app_run prints to PLAT_LOG at the end of a generation, as the usage shows it. */
#define STATS_LINE_FORMAT                                                                          \
	"stats: prompt_tokens=P gen_tokens=G load_ms=L prompt_ms=X prompt_tok_per_s=Y gen_ms=M "   \
	"tok_per_s=R"

/* 0, or -1 with error_message() saying which option and why; conflicting options (two
 * prompts, a prompt with --chat, ...) and values given to flags are errors. */
int cli_parse(Options *o, int argc, char **argv);
/* Writes the usage text to PLAT_OUT. */
void cli_usage(const char *program);

#endif
