/* tests.h: the Check suites of the unit tests, one per core module, and shared helpers. */
#ifndef TESTS_H
#define TESTS_H

#include <check.h>
#include <stdbool.h>

Suite *base_suite(void);
Suite *math_suite(void);
Suite *quant_suite(void);
Suite *kquant_suite(void);
Suite *simd_suite(void);
Suite *tiles_suite(void);
Suite *registry_suite(void);
Suite *ops_suite(void);
Suite *loaders_suite(void);
Suite *model_suite(void);
Suite *sampler_suite(void);
Suite *cli_suite(void);
Suite *tokenizer_suite(void);
Suite *profiler_suite(void);
Suite *codecache_suite(void);

/* Tests that need what a machine may lack (a shared model, an ISA, a CPU feature) follow one
 * rule: locally the missing thing is a loud SKIP line; in CI (CI=true) the shared models must
 * be there, and a feature /proc/cpuinfo lists must be usable, so the current test fails. */

/* Path of a file in the shared models folder ($SHARED_DIR/models/name), or NULL after the
 * SKIP line when it is absent (in CI: the test fails). */
const char *shared_model(const char *name);
/* usable when the test can run on what it needs (the ISA's kernels, say); otherwise false
 * after the SKIP line, or a failure in CI when /proc/cpuinfo lists every one of cpu_flags
 * (space-separated, as /proc/cpuinfo spells them). */
bool require_cpu(const char *what, bool usable, const char *cpu_flags);
/* The /proc/cpuinfo flags of an ISA's kernels ("scalar", "avx2", "avxvnni", "avx512"). */
const char *isa_cpu_flags(const char *isa);

#endif
