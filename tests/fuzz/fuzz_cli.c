/* fuzz_cli.c: libFuzzer target for cli_parse: the input split at NUL bytes is argv
 * (after a program name), at most FUZZ_MAX_ARGS arguments. */
#include <stdlib.h>
#include <string.h>

#include "core/app/cli.h"
#include "fuzz.h"

#define FUZZ_MAX_ARGS 64

/* A heap copy of n bytes of s, NUL-terminated. */
static char *copy_arg(const uint8_t *s, size_t n)
{
	char *a = malloc(n + 1);
	if (!a)
		abort();
	memcpy(a, s, n);
	a[n] = 0;
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t mark = fuzz_begin();
	/* A NUL-terminated copy: every argument is a separate, exactly sized heap block so
	 * that reads past an argument's end are caught. */
	char *argv[FUZZ_MAX_ARGS + 2];
	int argc = 0;
	argv[argc++] = copy_arg((const uint8_t *)"tinyllama-host", 14);
	size_t start = 0;
	for (size_t i = 0; i <= size && argc <= FUZZ_MAX_ARGS; i++) {
		if (i == size || data[i] == 0) {
			argv[argc++] = copy_arg(data + start, i - start);
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	Options o;
	if (cli_parse(&o, argc, argv) == 0) {
		/* Read what was parsed (unsigned sums: the values may be anything). */
		unsigned sum = (unsigned)o.n_predict + (unsigned)o.n_prompt_ids +
			       (unsigned)o.top_k + (unsigned)o.threads;
		for (int i = 0; i < o.n_prompt_ids; i++)
			sum += (unsigned)o.prompt_ids[i];
		volatile unsigned sink = sum;
		(void)sink;
	}
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	fuzz_end(mark);
	return 0;
}
