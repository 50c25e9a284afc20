/* profiler.h: the rdtsc cycle profiler: named zones that nest, with call counts,
 * inclusive/self cycles, min/max/p50/p99, and reports as text, JSON, folded stacks and SVG. */
#ifndef PROFILER_H
#define PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/config.h"

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
#ifdef PROFILER_COMPILED_OUT
/* Never on where the zones are compiled out (core/profile itself is built without the macro),
 * so what callers do only for profiled runs drops out too. */
#define profiler_enabled() false
#else
bool profiler_enabled(void);
#endif
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
	uint64_t p50_cycles, p99_cycles; /* from the histogram: within 1.6 % of the exact value */
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
 * the overhead again (set_clock(NULL), set_ordered) clears the statistics: call them before a run.
 */
void profiler_set_clock(uint64_t (*read)(void));
void profiler_set_overhead(uint64_t inside, uint64_t pair);
void profiler_set_ordered(bool ordered);

/* --- Work measured elsewhere, and kernel records (issue 11) ---
 * Zones are opened and closed on the main thread only: the stack of open zones and the tables
 * are not synchronised, and pool threads must not call any of these. Work that runs on pool
 * threads is measured by its caller and filed with profiler_add_zone (PROFILE_ADD). */

/* Files calls calls and cycles cycles of zone index as a child of the innermost open zone, as
 * if they had run nested there: the parent's self cycles lose them, folded stacks and the SVG
 * show them under the parent. Pass the wall-clock share (what the calling thread waited for),
 * not a sum over threads, so that self cycles still add up to the run total. The percentiles
 * see each of the calls as cycles / calls. No-op while disabled or for index < 0. */
void profiler_add_zone(int index, uint64_t cycles, uint64_t calls);

/* One record per (kernel, dtype, rows, cols, tokens, isa): calls, cycles and bytes of weights
 * read (attention: of the KV cache in reach). The callers' shapes: a matmul's rows x cols,
 * attention_group and rope query heads x head size, rms_norm, softmax and swiglu 1 x length;
 * tokens per call. The strings are kept as pointers (not copied) and compared by content. The table
 * holds PROFILER_MAX_KERNELS records; a call with a new key when it is full is not recorded but
 * counted (profiler_kernels_dropped) and the reports say so. Cleared by profiler_init; no-op
 * while disabled. Cost: one hash probe per call, so call it per kernel call, not per row. */
void profiler_kernel_record(const char *kernel, const char *dtype, int rows, int cols, int tokens,
			    const char *isa, uint64_t cycles, uint64_t bytes);

typedef struct {
	const char *kernel, *dtype, *isa;
	int rows, cols, tokens; /* tokens per call */
	uint64_t calls, cycles, bytes;
} ProfileKernelStats;

/* Number of records (indices 0..count-1, in order of first use). */
int profiler_kernel_count(void);
/* Fills *out for record i; 0, or -1 (error set) for an unknown index. */
int profiler_kernel_stats(int i, ProfileKernelStats *out);
/* Calls not recorded because the table was full. */
uint64_t profiler_kernels_dropped(void);

/* --- Tier records: what a platform's tier-up measured and decided per kernel record ---
 * Filled by the platform (the host's JIT), reported after the kernel records. Tier 0 is the
 * scalar reference, 1 the ahead-of-time SIMD kernel, 2 the kernel compiled at run time. */
#define PROFILE_TIERS 3
typedef struct {
	const char *kernel, *dtype; /* kept as pointers */
	int rows, cols, tokens;
	uint64_t cycles_per_call[PROFILE_TIERS]; /* 0: not run at that tier */
	double compile_ms;
	const char *decision; /* kept as a pointer: "kept", "dropped: ...", ... */
} ProfileTierRecord;
/* Files a copy of *r (up to PROFILER_MAX_TIER_RECORDS; later ones are not kept). Cleared by
 * profiler_init; kept whether or not the profiler is enabled. */
#define PROFILER_MAX_TIER_RECORDS 32
void profiler_tier_record(const ProfileTierRecord *r);
int profiler_tier_count(void);
/* Record i, or NULL past the end. */
const ProfileTierRecord *profiler_tier_get(int i);

/* --- Instrumentation ---
 * PROFILE_BEGIN(zone, "name") ... PROFILE_END(zone) inside one block;
 * PROFILE_ADD(zone, "name", cycles, calls) is a statement (see profiler_add_zone).
 * The name may differ between calls of one call site (matmul's dtype): each site caches the
 * name it last registered with its index and registers again when the pointer changes.
 * Built with -DPROFILER_COMPILED_OUT all three expand to nothing. */
#ifndef PROFILER_COMPILED_OUT
/* A call site's cached zone: the name pointer it last registered and that name's index. */
typedef struct {
	const char *name;
	int id;
} ProfileSite;

static inline int profile_site_zone(ProfileSite *site, const char *name)
{
	if (__builtin_expect(site->name != name, 0)) {
		site->id = profiler_register(name);
		site->name = name;
	}
	return site->id;
}
/* Opens the site's zone for name; *id gets the index that profile_end closes. */
static inline uint64_t profile_begin(ProfileSite *site, const char *name, int *id)
{
	if (!profiler_enabled()) {
		*id = -1;
		return 0;
	}
	*id = profile_site_zone(site, name);
	return profiler_start_zone(*id);
}
static inline void profile_end(int id, uint64_t start)
{
	if (start && id >= 0)
		profiler_end(id, start);
}
#define PROFILE_BEGIN(zone, name)                                                                  \
	static ProfileSite zone##_site = {NULL, -1};                                               \
	int zone##_id;                                                                             \
	uint64_t zone##_t0 = profile_begin(&zone##_site, name, &zone##_id)
#define PROFILE_END(zone) profile_end(zone##_id, zone##_t0)
#define PROFILE_ADD(zone, name, cycles, calls)                                                     \
	do {                                                                                       \
		static ProfileSite zone##_site = {NULL, -1};                                       \
		if (profiler_enabled())                                                            \
			profiler_add_zone(profile_site_zone(&zone##_site, name), cycles, calls);   \
	} while (0)
#else
#define PROFILE_BEGIN(zone, name)                                                                  \
	do {                                                                                       \
	} while (0)
#define PROFILE_END(zone)                                                                          \
	do {                                                                                       \
	} while (0)
/* sizeof names the operands without evaluating them, so that variables kept only for the
 * profile do not become unused. */
#define PROFILE_ADD(zone, name, cycles, calls)                                                     \
	do {                                                                                       \
		(void)sizeof(cycles);                                                              \
		(void)sizeof(calls);                                                               \
	} while (0)
#endif

#endif
