/* test_cli.c: core/app/cli.c: every documented option, --name=value, strict value checks,
 * flags without values, conflicting options. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "core/app/cli.h"
#include "core/base/error.h"
#include "tests.h"

#define MAX_ARGS 64

static Options opts;

/* Parses the NULL-terminated arguments (argv[0] is added); returns cli_parse's result. */
static int parse(const char *first, ...)
{
	static char *argv[MAX_ARGS];
	int argc = 0;
	argv[argc++] = (char *)"tinyllama-host";
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		ck_assert_msg(argc < MAX_ARGS, "too many test arguments");
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	error_clear();
	return cli_parse(&opts, argc, argv);
}

/* The arguments must be refused with a message containing want. */
#define REJECT(want, ...)                                                                          \
	do {                                                                                       \
		int r_ = parse(__VA_ARGS__, NULL);                                                 \
		ck_assert_msg(r_ == -1, "arguments %s must be refused", #__VA_ARGS__);             \
		ck_assert_msg(strstr(error_message(), want) != NULL,                               \
			      "arguments %s: message '%s' should mention '%s'", #__VA_ARGS__,      \
			      error_message(), want);                                              \
	} while (0)

#define ACCEPT(...)                                                                                \
	ck_assert_msg(parse(__VA_ARGS__, NULL) == 0, "arguments %s refused: %s", #__VA_ARGS__,     \
		      error_message())

START_TEST(test_defaults)
{
	ck_assert_msg(parse(NULL) == 0, "no arguments is valid: %s", error_message());
	ck_assert_msg(opts.model_path == NULL, "no -m: synthetic model");
	ck_assert_msg(!strcmp(opts.synthetic, "tinyllama"), "default synthetic preset");
	ck_assert_msg(opts.synth_seed == SYNTH_DEFAULT_SEED, "default synthetic seed");
	ck_assert_msg(opts.n_predict == DEFAULT_N_PREDICT, "default -n");
	ck_assert_msg(opts.n_prompt_ids == -1, "no --prompt-ids");
	ck_assert_msg(opts.prompt == NULL, "no -p");
	ck_assert_msg(opts.temp == 0.8f && opts.top_k == 40 && opts.top_p == 0.95f &&
			  opts.min_p == 0.05f,
		      "default sampler settings");
	ck_assert_msg(opts.seed == DEFAULT_SAMPLER_SEED, "default seed");
	ck_assert_msg(opts.threads == 0 && opts.ctx_size == 0, "threads and context default to 0");
	ck_assert_msg(opts.quant == QUANT_NONE && !opts.profile && !opts.help && !opts.print_ids,
		      "flags default off");
}
END_TEST

START_TEST(test_all_options)
{
	ACCEPT("-m", "model.gguf", "-p", "Once upon", "-n", "17", "-c", "128", "--temp", "0.5",
	       "--top-k", "7", "--top-p", "0.9", "--min-p", "0.1", "-s", "99", "-t", "3", "--quant",
	       "q8_0", "--export-gguf", "out.gguf", "--ids", "--profile", "--profile-out", "p.txt",
	       "--profile-svg", "p.svg", "--fault", "ud", "--arena", "512M", "-h");
	ck_assert_msg(!strcmp(opts.model_path, "model.gguf"), "-m");
	ck_assert_msg(!strcmp(opts.prompt, "Once upon"), "-p");
	ck_assert_msg(opts.n_predict == 17 && opts.ctx_size == 128, "-n and -c");
	ck_assert_msg(opts.temp == 0.5f && opts.top_k == 7 && opts.top_p == 0.9f &&
			  opts.min_p == 0.1f,
		      "sampler options: temp %g top-k %d top-p %g min-p %g", (double)opts.temp,
		      opts.top_k, (double)opts.top_p, (double)opts.min_p);
	ck_assert_msg(opts.seed == 99 && opts.threads == 3, "-s and -t");
	ck_assert_msg(opts.quant == QUANT_Q8_0, "--quant q8_0");
	ck_assert_msg(!strcmp(opts.export_path, "out.gguf"), "--export-gguf");
	ck_assert_msg(opts.print_ids && opts.profile && opts.help, "--ids --profile -h");
	ck_assert_msg(!strcmp(opts.profile_out, "p.txt") && !strcmp(opts.profile_svg, "p.svg"),
		      "--profile-out and --profile-svg");
	ck_assert_msg(!strcmp(opts.fault, "ud"), "--fault");
	ck_assert_msg(opts.arena_bytes == 512ull << 20, "--arena 512M is %llu bytes",
		      (unsigned long long)opts.arena_bytes);

	ACCEPT("--model", "a.bin", "--prompt", "x", "--n-predict", "0", "--ctx-size", "0", "--seed",
	       "18446744073709551615", "--threads", "64", "--quant", "int8", "--help", "--arena",
	       "4G", "--synthetic", "small:77", "--perf-check");
	ck_assert_msg(!strcmp(opts.model_path, "a.bin") && opts.n_predict == 0, "long spellings");
	ck_assert_msg(opts.seed == 18446744073709551615ull, "the largest seed");
	ck_assert_msg(opts.threads == 64 && opts.quant == QUANT_INT8 && opts.help,
		      "long spellings");
	ck_assert_msg(opts.arena_bytes == 4ull << 30, "--arena 4G");
	ck_assert_msg(!strcmp(opts.synthetic, "small") && opts.synth_seed == 77,
		      "--synthetic small:77 gives %s seed %llu", opts.synthetic,
		      (unsigned long long)opts.synth_seed);
	ck_assert_msg(opts.perf_check, "--perf-check");

	ACCEPT("--temp", "0", "--top-p", "1", "--min-p", "0", "--top-k", "0");
	ck_assert_msg(opts.temp == 0 && opts.top_p == 1 && opts.min_p == 0 && opts.top_k == 0,
		      "the off values of the sampler options are accepted");
	ACCEPT("--synthetic", "tinyllama");
	ck_assert_msg(!strcmp(opts.synthetic, "tinyllama") && opts.synth_seed == SYNTH_DEFAULT_SEED,
		      "--synthetic without a seed keeps the default seed");
	ACCEPT("--temp", "1e-1", "--top-p", "+.5");
	ck_assert_msg(fabsf(opts.temp - 0.1f) < 1e-7f && opts.top_p == 0.5f,
		      "float forms 1e-1 and +.5: %g %g", (double)opts.temp, (double)opts.top_p);
}
END_TEST

START_TEST(test_equals_form)
{
	ACCEPT("--n-predict=5", "--temp=0", "--model=m.bin", "--prompt-ids=1,2", "--profile=json");
	ck_assert_msg(opts.n_predict == 5 && opts.temp == 0, "--name=value for numbers");
	ck_assert_msg(!strcmp(opts.model_path, "m.bin"), "--model=m.bin");
	ck_assert_msg(opts.n_prompt_ids == 2, "--prompt-ids=1,2");
	ck_assert_msg(opts.profile && opts.profile_format == PROFILE_JSON, "--profile=json");
	ACCEPT("--profile=folded");
	ck_assert_msg(opts.profile_format == PROFILE_FOLDED, "--profile=folded");
	ACCEPT("--profile=text");
	ck_assert_msg(opts.profile_format == PROFILE_TEXT, "--profile=text");
	ACCEPT("--profile");
	ck_assert_msg(opts.profile && opts.profile_format == PROFILE_TEXT, "--profile is text");
	ACCEPT("--prompt=a=b");
	ck_assert_msg(!strcmp(opts.prompt, "a=b"), "a value may itself hold '=': %s", opts.prompt);
}
END_TEST

START_TEST(test_prompt_ids)
{
	ACCEPT("--prompt-ids", "1 2 3");
	ck_assert_msg(opts.n_prompt_ids == 3 && opts.prompt_ids[0] == 1 && opts.prompt_ids[2] == 3,
		      "spaces: %d ids", opts.n_prompt_ids);
	ACCEPT("--prompt-ids", "1,22,333");
	ck_assert_msg(opts.n_prompt_ids == 3 && opts.prompt_ids[1] == 22 &&
			  opts.prompt_ids[2] == 333,
		      "commas: %d ids", opts.n_prompt_ids);
	ACCEPT("--prompt-ids", " 5, 6 ,7\t8\n9 ,, 10 ");
	ck_assert_msg(opts.n_prompt_ids == 6 && opts.prompt_ids[0] == 5 && opts.prompt_ids[5] == 10,
		      "mixed separators: %d ids", opts.n_prompt_ids);
	ACCEPT("--prompt-ids", "0");
	ck_assert_msg(opts.n_prompt_ids == 1 && opts.prompt_ids[0] == 0, "id 0");
	REJECT("token id", "--prompt-ids", "1 x 3");
	REJECT("token id", "--prompt-ids", "1 -2");
	REJECT("token id", "--prompt-ids", "99999999999");
	REJECT("no token ids", "--prompt-ids", " , ");
	REJECT("--prompt-ids", "--prompt-ids", "1 123456789012345678901234567890");
}
END_TEST

START_TEST(test_rejects)
{
	REJECT("unknown option", "--bogus");
	REJECT("unknown option", "--bogus=1");
	REJECT("unknown argument", "stray");
	REJECT("-n", "-n", "abc");
	REJECT("abc", "-n", "abc");
	REJECT("-n", "-n", "-1");
	REJECT("-n", "-n", "12x");
	REJECT("-n", "-n", "");
	REJECT("-n", "-n", "99999999999");
	REJECT("--temp", "--temp", "x");
	REJECT("--temp", "--temp", "-0.5");
	REJECT("--temp", "--temp", "1.5.2");
	REJECT("-t", "-t", "0");
	REJECT("-t", "-t", "65");
	REJECT("--threads", "--threads", "two");
	REJECT("--top-k", "--top-k", "-3");
	REJECT("--top-p", "--top-p", "0");
	REJECT("--top-p", "--top-p", "1.01");
	REJECT("--min-p", "--min-p", "2");
	REJECT("-c", "-c", "-1");
	REJECT("-s", "-s", "-1");
	REJECT("-s", "-s", "18446744073709551616");
	REJECT("needs a value", "-m");
	REJECT("needs a value", "-p", "hi", "--temp");
	REJECT("needs a value", "--prompt-ids");
	REJECT("q8_0, int8, q4_0", "--quant", "foo");
	REJECT("q8_0, int8, q4_0", "--quant", "Q8_0");
	REJECT("--profile", "--profile=xml");
	REJECT("--profile", "--profile=");
	REJECT("synthetic", "--synthetic", "llama70b");
	REJECT("seed", "--synthetic", "small:x");
	REJECT("--arena", "--arena", "0");
	REJECT("--arena", "--arena", "12T");
	REJECT("--arena", "--arena", "G");
}
END_TEST

START_TEST(test_later_options_win)
{
	ACCEPT("-n", "3", "-n", "4", "--quant", "int8", "--quant", "q8_0");
	ck_assert_msg(opts.n_predict == 4 && opts.quant == QUANT_Q8_0,
		      "the last occurrence of an option wins");
	/* A value that looks like an option is still the value. */
	ACCEPT("-p", "-n");
	ck_assert_msg(!strcmp(opts.prompt, "-n") && opts.n_predict == DEFAULT_N_PREDICT,
		      "-p takes '-n' as its text");
}
END_TEST

START_TEST(test_flags_take_no_value)
{
	REJECT("--ids takes no value", "--ids=0");
	REJECT("--ids takes no value", "--ids=1");
	REJECT("--chat takes no value", "--chat=yes");
	REJECT("--hugepages takes no value", "--hugepages=0");
	REJECT("--perf-check takes no value", "--perf-check=");
	REJECT("--help takes no value", "--help=1");
	ACCEPT("--ids");
	ck_assert_msg(opts.print_ids, "--ids alone turns ids on");
}
END_TEST

START_TEST(test_conflicts)
{
	REJECT("give one of them", "-p", "hi", "--prompt-ids", "1 2");
	REJECT("give one of them", "--prompt-ids", "1", "--prompt", "hi");
	REJECT("--chat reads its prompts", "--chat", "-p", "hi");
	REJECT("--chat reads its prompts", "--chat", "--prompt-ids", "3");
	REJECT("--ids cannot be used", "--chat", "--ids");
	REJECT("--system is for --chat", "--system", "be brief");
	REJECT("--chat-template is for --chat", "--chat-template", "chatml");
	REJECT("--tokenize", "--tokenize", "x", "-p", "y");
	REJECT("--tokenize", "--tokenize", "x", "--export-gguf", "o.gguf");
	REJECT("--tokenize", "--tokenize", "x", "--profile");
	ACCEPT("--chat", "--system", "be brief", "--chat-template", "chatml", "-n", "5");
	ck_assert_msg(opts.chat && opts.n_predict_set, "--chat with its options");
	ACCEPT("--tokenize", "x", "--vocab", "v.bin");
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_all_options);
	tcase_add_test(tc, test_equals_form);
	tcase_add_test(tc, test_prompt_ids);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_later_options_win);
	tcase_add_test(tc, test_flags_take_no_value);
	tcase_add_test(tc, test_conflicts);
	suite_add_tcase(s, tc);
	return s;
}
