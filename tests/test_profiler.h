/* test_profiler.h: the fake-clock fixture and helpers that test_profiler.c defines and
 * test_profiler_reports.c shares. */
#ifndef TEST_PROFILER_H
#define TEST_PROFILER_H

#include <check.h>
#include <stdint.h>

#include "core/profile/profiler.h"

/* The fake cycle counter the profiler reads while the fixture is set up. */
extern uint64_t fake_now;
void fake_setup(void);
void fake_teardown(void);
/* Opens / closes zone with the fake clock at t. */
uint64_t open_at(int zone, uint64_t t);
void close_at(int zone, uint64_t start, uint64_t t);
ProfileZoneStats stats(int zone);
/* Self cycles of every zone, summed. */
uint64_t self_sum(void);
/* A whole file the profiler wrote, in a static buffer; a per-process temporary path. */
const char *slurp(const char *path);
const char *temp_path(const char *ext);
/* A run of forward > layer > attention/feed_forward > matmul_int8 with known cycles. */
void record_model_shape(int *fw, int *ly, int *at, int *ff, int *mm);

/* The report tests (test_profiler_reports.c), a test case of profiler_suite. */
TCase *profiler_reports_tcase(void);

#endif
