/* profile_view.h: inside core/profile only: what the report writers read from the collector
 * and the kernel records beyond the public API (stack paths, anomalies, clock, rankings). */
#ifndef PROFILE_VIEW_H
#define PROFILE_VIEW_H

#include <stdbool.h>
#include <stdint.h>

/* One stack path: zone called under path parent (-1 for an outermost zone), with the self
 * cycles and calls it had there. Parents are created before their children. */
typedef struct {
	int parent;
	int zone;
	uint64_t self, calls;
} ProfilePathNode;

/* What went wrong or is worth a warning during the run. */
typedef struct {
	uint64_t depth_overflows; /* zones deeper than PROFILER_MAX_DEPTH, not timed */
	uint64_t unbalanced;	  /* ends with no open zone */
	uint64_t dropped;	  /* ends after disable or of an unknown index */
	uint64_t mismatched;	  /* ends naming another zone than the one opened */
	bool path_full;		  /* the path table overflowed */
	uint64_t lost_self;	  /* self cycles of the paths that did not fit */
	bool invariant_tsc;
} ProfileRunFacts;

/* The path table: *count nodes. */
const ProfilePathNode *profile_paths(int *count);
void profile_run_facts(ProfileRunFacts *out);
/* A zone's name, "?" for a zone not known (opened by profiler_start()). */
const char *profile_zone_name(int zone);
/* "rdtsc", "rdtscp+lfence" or "test clock". */
const char *profile_clock_name(void);

/* Kernel records: emptied by profiler_init; up to max record indices ranked by cycles,
 * hottest first (returns the count). */
void profile_kernels_clear(void);
int profile_kernels_ranked(int *indices, int max);

#endif
