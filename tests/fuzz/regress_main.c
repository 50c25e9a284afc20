/* regress_main.c: runs a fuzz target's LLVMFuzzerTestOneInput over the files named on the
 * command line, without libFuzzer: built with the host compiler and its sanitizers, so the
 * regression inputs in tests/regress/ replay wherever gcc is. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0) {
		fclose(f);
		return -1;
	}
	long n = ftell(f);
	rewind(f);
	/* An exact-size heap copy, as libFuzzer hands inputs over: overreads hit the redzone. */
	uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
	if (n < 0 || !buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int failed = 0;
	for (int i = 1; i < argc; i++) {
		if (run_file(argv[i]) < 0)
			failed++;
	}
	printf("%s: %d inputs replayed\n", argv[0], argc - 1 - failed);
	return failed ? 1 : 0;
}
