/* test_main.c: runs every Check suite of the unit tests over one arena. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim/host/host.h"
#include "tests.h"

const char *shared_model(const char *name)
{
	static char path[4096];
	const char *dir = getenv("SHARED_DIR");
	snprintf(path, sizeof path, "%s/models/%s", dir ? dir : "../shared", name);
	if (access(path, R_OK) != 0) {
		printf("SKIP: %s is absent (set SHARED_DIR to the shared folder)\n", path);
		return NULL;
	}
	return path;
}

int main(void)
{
	host_platform_init(1ull << 30);
	SRunner *sr = srunner_create(base_suite());
	srunner_add_suite(sr, math_suite());
	srunner_add_suite(sr, quant_suite());
	srunner_add_suite(sr, kquant_suite());
	srunner_add_suite(sr, ops_suite());
	srunner_add_suite(sr, loaders_suite());
	srunner_add_suite(sr, model_suite());
	srunner_add_suite(sr, sampler_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, tokenizer_suite());
	srunner_add_suite(sr, profiler_suite());
	srunner_add_suite(sr, simd_suite());
	srunner_add_suite(sr, tiles_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
