/* test_main.c: runs every Check suite of the unit tests over one arena. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/host/host.h"
#include "tests.h"

static bool in_ci(void)
{
	const char *ci = getenv("CI");
	return ci && strcmp(ci, "true") == 0;
}

const char *shared_model(const char *name)
{
	static char path[4096];
	const char *dir = getenv("SHARED_DIR");
	snprintf(path, sizeof path, "%s/models/%s", dir ? dir : "../shared", name);
	if (access(path, R_OK) != 0) {
		if (in_ci())
			ck_abort_msg("%s is absent, and CI=true: CI provides the shared models",
				     path);
		printf("SKIP: %s is absent (set SHARED_DIR to the shared folder)\n", path);
		return NULL;
	}
	return path;
}

/* Whether the flags line of /proc/cpuinfo has the word flag. */
static bool cpuinfo_has(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return false;
	static char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "flags", 5) != 0 || !colon)
			continue;
		for (char *w = strtok(colon + 1, " \t\n"); w && !found; w = strtok(NULL, " \t\n"))
			found = strcmp(w, flag) == 0;
		break;
	}
	fclose(f);
	return found;
}

bool require_cpu(const char *what, bool usable, const char *cpu_flags)
{
	if (usable)
		return true;
	char flags[256];
	snprintf(flags, sizeof flags, "%s", cpu_flags);
	bool listed = flags[0] != 0;
	char *save = NULL;
	for (char *f = strtok_r(flags, " ", &save); f && listed; f = strtok_r(NULL, " ", &save))
		listed = cpuinfo_has(f);
	/* valgrind (check-valgrind sets VALGRIND) emulates no AVX-512: a skip there is expected. */
	if (in_ci() && listed && !getenv("VALGRIND"))
		ck_abort_msg("%s: /proc/cpuinfo lists %s but the test cannot use it, and CI=true",
			     what, cpu_flags);
	printf("SKIP: %s: this CPU (or its XCR0) does not support it\n", what);
	return false;
}

const char *isa_cpu_flags(const char *isa)
{
	if (strcmp(isa, "avx2") == 0)
		return "avx2 f16c";
	if (strcmp(isa, "avxvnni") == 0)
		return "avx2 f16c avx_vnni";
	if (strcmp(isa, "avx512") == 0)
		return "avx2 f16c avx512f avx512bw avx512vl avx512_vnni";
	return "";
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
	srunner_add_suite(sr, registry_suite());
	srunner_add_suite(sr, codecache_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
