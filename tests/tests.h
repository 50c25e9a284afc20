/* tests.h: the Check suites of the unit tests, one per core module, and shared helpers. */
#ifndef TESTS_H
#define TESTS_H

#include <check.h>

Suite *base_suite(void);
Suite *math_suite(void);
Suite *quant_suite(void);
Suite *kquant_suite(void);
Suite *simd_suite(void);
Suite *tiles_suite(void);
Suite *ops_suite(void);
Suite *loaders_suite(void);
Suite *model_suite(void);
Suite *sampler_suite(void);
Suite *cli_suite(void);
Suite *tokenizer_suite(void);
Suite *profiler_suite(void);

/* Path of a file in the shared models folder ($SHARED_DIR/models/name), or NULL
 * after printing a loud SKIP line when it is absent. */
const char *shared_model(const char *name);

#endif
