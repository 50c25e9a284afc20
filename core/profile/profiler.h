/* profiler.h: the rdtsc cycle profiler: named zones that nest, with call counts,
 * inclusive/self cycles, min/max/p50/p99, and reports as text, JSON, folded stacks and SVG. */
#ifndef PROFILER_H
#define PROFILER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model/config.h"

/* --- The seed's API --- */

/* Clears the statistics and measures the cost of an empty start/end pair. Registered names
 * stay (with their indices), because PROFILE_BEGIN caches each index in a static. */
void profiler_init(void);
/* Registers a zone name (pointer kept, not copied); returns its index, or -1
 * after error_set() when the table (PROFILER_MAX_FUNCTIONS) is full.
 * Registering the same name again returns the same index. */
int profiler_register(const char *name);
/* Opens a zone: returns its start cycle count (0 when disabled). */
uint64_t profiler_start(void);
/* Closes the innermost open zone, started at start, as zone index. */
void profiler_end(int index, uint64_t start);
/* Starts / stops collecting; the span from enable to disable is the run total. */
void profiler_enable(void);
void profiler_disable(void);
bool profiler_enabled(void);
/* The seed's text report to the log stream. */
void profiler_report(void);
/* Up to max zone indices ranked by self cycles, hottest first; returns the count. */
int profiler_get_hot_paths(int *indices, int max);

/* --- Reports --- */

typedef enum { PROFILE_TEXT, PROFILE_JSON, PROFILE_FOLDED } ProfileFormat;
/* Writes the report in format to path (NULL: the log stream); 0 or -1 (error set). */
int profiler_write_report(ProfileFormat format, const char *path);
/* Writes an SVG picture of the hot paths to path; 0 or -1 (error set). */
int profiler_write_svg(const char *path);

/* Cycles from profiler_enable to profiler_disable (or to now while enabled). */
uint64_t profiler_total_cycles(void);

/* --- Zone-aware start, statistics and test hooks (issue 4) --- */

/* Opens a zone already registered as index; the same as profiler_start() but the stack knows
 * the zone while it runs, which the folded stacks and the SVG need to name its children.
 * PROFILE_BEGIN uses it; zones opened by profiler_start() show as "?" in parents' paths. */
uint64_t profiler_start_zone(int index);

/* One zone's figures, cycles already corrected for the measured zone overhead. */
typedef struct {
	const char *name;
	uint64_t calls;
	uint64_t inclusive_cycles; /* the zone and everything it called */
	uint64_t self_cycles;	   /* inclusive minus its child zones */
	uint64_t min_cycles, max_cycles, avg_cycles;
	uint64_t p50_cycles, p99_cycles; /* from the log2 histogram, interpolated */
} ProfileZoneStats;

/* Number of registered zones (indices 0..count-1). */
int profiler_zone_count(void);
/* Fills *out for zone index; 0, or -1 (error set) for an unknown index. */
int profiler_zone_stats(int index, ProfileZoneStats *out);
/* Run total minus the self cycles of all zones (time outside any zone plus overhead);
 * signed because clamped zones can make it slightly negative. */
int64_t profiler_unattributed_cycles(void);
/* Measured cost subtracted per zone: inside = part of an empty zone seen by the zone itself,
 * pair = whole start/end pair as seen by an enclosing zone. */
uint64_t profiler_overhead_inside(void);
uint64_t profiler_overhead_pair(void);

/* Test and bench hooks. profiler_set_clock replaces the TSC by read (NULL: back to the TSC and
 * the overhead is measured again); a fake clock sets both overheads to 0, so tests are exact.
 * profiler_set_overhead forces the two subtracted costs. profiler_set_ordered picks rdtscp+lfence
 * (true; the default is PROFILER_ORDERED_CLOCK when CPUID has rdtscp) or plain rdtsc. Measuring
 * the overhead again (set_clock(NULL), set_ordered) clears the statistics: call them before a run. */
void profiler_set_clock(uint64_t (*read)(void));
void profiler_set_overhead(uint64_t inside, uint64_t pair);
void profiler_set_ordered(bool ordered);

/* --- Instrumentation ---
 * PROFILE_BEGIN(zone, "name") ... PROFILE_END(zone) inside one block.
 * Built with -DPROFILER_COMPILED_OUT both expand to nothing. */
#ifndef PROFILER_COMPILED_OUT
static inline uint64_t profile_begin(int *id, const char *name)
{
	if (!profiler_enabled())
		return 0;
	if (*id < 0)
		*id = profiler_register(name);
	return profiler_start_zone(*id);
}
static inline void profile_end(int id, uint64_t start)
{
	if (start && id >= 0)
		profiler_end(id, start);
}
#define PROFILE_BEGIN(zone, name)                                                                  \
	static int zone##_id = -1;                                                                 \
	uint64_t zone##_t0 = profile_begin(&zone##_id, name)
#define PROFILE_END(zone) profile_end(zone##_id, zone##_t0)
#else
#define PROFILE_BEGIN(zone, name)                                                                  \
	do {                                                                                       \
	} while (0)
#define PROFILE_END(zone)                                                                          \
	do {                                                                                       \
	} while (0)
#endif

#endif
