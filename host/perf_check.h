/* perf_check.h: --perf-check: Linux perf counters around a run, printed beside the
 * profiler's own total so that the two can be compared (host only). */
#ifndef PERF_CHECK_H
#define PERF_CHECK_H

#include <stdint.h>

/* Opens and starts the counters for this process and the threads it starts later:
 * cycles and instructions when the machine has hardware counters, task-clock always.
 * Returns 0, or -1 after printing why no counter at all could be opened. */
int perf_check_begin(void);
/* Stops the counters and prints them to stderr with profiler_total_cycles (the profiler's
 * enable..disable span; 0 when the run was not profiled) and the ratios. */
void perf_check_end(uint64_t profiler_total_cycles);

#endif
