/* collector.c: the profiler's collector: a stack of open zones, per-zone and per-stack-path
 * figures corrected for the profiler's own measured cost, and the per-zone histograms. */
#include <stddef.h>

#include "core/base/error.h"
#include "core/base/str.h"
#include "core/io/console.h"
#include "core/kernels/cpu.h"
#include "core/profile/profile_view.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"

/* The zone of a frame opened by profiler_start(): known only when it ends, so its
 * children's stack paths name it "?". */
#define ZONE_UNKNOWN PROFILER_MAX_FUNCTIONS
/* Parent of the outermost paths, and the path of frames whose path did not fit the table. */
#define PATH_ROOT (-1)
#define PATH_LOST PROFILER_MAX_PATHS /* a real slot, so that ends need no branch */
/* Open addressing at load <= 1/2 keeps probes short and the table never full. */
#define PATH_HASH_SIZE (2 * PROFILER_MAX_PATHS)
/* Inner empty zones per outer zone when measuring the cost of a whole pair. */
#define CALIBRATION_INNER 8

typedef struct {
	int zone;	 /* ZONE_UNKNOWN until profiler_end names it */
	int path;	 /* node in the path table, or PATH_LOST */
	uint32_t nested; /* zones closed inside it: their pair cost is not its work */
	uint64_t child;	 /* corrected inclusive cycles of its direct children */
} Frame;

/* HdrHistogram's layout: values below 2 * HIST_SUB exactly, then each power of two 2^b split
 * into HIST_SUB linear buckets 2^(b - HIST_SUB_BITS) wide. A bucket spans at most 1/HIST_SUB of
 * the values it holds, so its middle is within 1/(2 * HIST_SUB) of any of them. */
#define HIST_SUB_BITS PROFILER_HIST_SUB_BITS
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_BUCKETS ((PROFILER_HIST_BITS - HIST_SUB_BITS + 1) * HIST_SUB)
#define HIST_MAX_VALUE ((1ull << PROFILER_HIST_BITS) - 1) /* larger values are counted here */

typedef struct {
	uint64_t calls, incl, self, min, max;
	uint64_t hist[HIST_BUCKETS]; /* calls per bucket of inclusive cycles */
} ZoneStat;

typedef ProfilePathNode PathNode; /* parent PATH_ROOT for an outermost zone */

/* Everything start/end touch sits together, first. */
static struct {
	bool enabled;
	bool ordered; /* rdtscp (+lfence at start) rather than plain rdtsc */
	int depth;
	uint64_t (*clock)(void); /* test hook; NULL means the TSC */
	uint64_t o_in, o_pair;	 /* measured overhead, see profiler_overhead_inside/pair */
	Frame stack[PROFILER_MAX_DEPTH + 1]; /* [0] is the run itself, open zones from [1] */
} hot;

static struct {
	bool has_rdtscp, invariant_tsc;
	uint64_t enable_ts, total;
	uint64_t depth_overflows, unbalanced, dropped, mismatched;
	bool path_full;
} run;

/* Two slots past the table are the scratch zones of measure_overhead. */
static const char *zone_names[PROFILER_MAX_FUNCTIONS + 2];
static int zone_count;
static ZoneStat zones[PROFILER_MAX_FUNCTIONS + 2];

/* Per zone, the path it got under the last parent path it was opened in. */
typedef struct {
	int parent, path;
} PathCache;
static PathCache path_cache[PROFILER_MAX_FUNCTIONS + 2];

static PathNode paths[PROFILER_MAX_PATHS + 1];
static int path_count;
static int16_t path_hash[PATH_HASH_SIZE]; /* node index + 1; 0 = empty slot */

_Static_assert((PATH_HASH_SIZE & (PATH_HASH_SIZE - 1)) == 0, "a power of two");

/* --- Clock --- */

static inline uint64_t clock_start(void)
{
	if (__builtin_expect(hot.clock != NULL, 0))
		return hot.clock();
	if (hot.ordered) {
		/* rdtscp waits for earlier work; lfence keeps the zone from starting early. */
		uint64_t t = plat_cycles_ordered();
		cpu_lfence();
		return t;
	}
	return plat_cycles();
}

static inline uint64_t clock_end(void)
{
	if (__builtin_expect(hot.clock != NULL, 0))
		return hot.clock();
	return hot.ordered ? plat_cycles_ordered() : plat_cycles();
}

/* --- Stack paths --- */

static const char *zone_name(int zone)
{
	return zone >= 0 && zone < zone_count ? zone_names[zone] : "?";
}

/* Logged once: the zone figures stay whole, only the per-path ones lose the new paths. */
static void path_overflow(int zone)
{
	if (run.path_full)
		return;
	run.path_full = true;
	error_set("profiler: stack path table full (PROFILER_MAX_PATHS = %d) at zone %s; "
		  "folded stacks and SVG will miss the deeper paths",
		  PROFILER_MAX_PATHS, zone_name(zone));
	log_printf("%s\n", error_message());
}

/* The node for zone called under path parent, created on first use; PATH_LOST when full. */
static int path_find(int parent, int zone)
{
	if (parent == PATH_LOST)
		return PATH_LOST;
	uint32_t h = ((uint32_t)(parent + 2) * 0x9e3779b1u) ^ ((uint32_t)zone * 0x85ebca77u);
	h = (h ^ (h >> 15)) & (PATH_HASH_SIZE - 1);
	for (;;) {
		int e = path_hash[h];
		if (!e)
			break;
		PathNode *n = &paths[e - 1];
		if (n->parent == parent && n->zone == zone)
			return e - 1;
		h = (h + 1) & (PATH_HASH_SIZE - 1);
	}
	if (path_count >= PROFILER_MAX_PATHS) {
		path_overflow(zone);
		return PATH_LOST;
	}
	PathNode *n = &paths[path_count];
	n->parent = parent;
	n->zone = zone;
	n->self = 0;
	n->calls = 0;
	path_hash[h] = (int16_t)(path_count + 1);
	return path_count++;
}

/* --- Zones --- */

bool profiler_enabled(void)
{
	return hot.enabled;
}

/* Names refused because the table was full: PROFILE_BEGIN retries its registration on every
 * call, so each is logged once and later refusals skip the scan of the table. */
#define PROFILER_REFUSED_LOGGED 16
static const char *refused[PROFILER_REFUSED_LOGGED];
static int refused_count;

int profiler_register(const char *name)
{
	if (zone_count >= PROFILER_MAX_FUNCTIONS)
		for (int i = 0; i < refused_count; i++)
			if (refused[i] == name)
				return error_set(
				    "profiler: cannot register zone \"%s\": table full "
				    "(PROFILER_MAX_FUNCTIONS = %d)",
				    name, PROFILER_MAX_FUNCTIONS);
	for (int i = 0; i < zone_count; i++)
		if (zone_names[i] == name || str_eq(zone_names[i], name))
			return i;
	if (zone_count >= PROFILER_MAX_FUNCTIONS) {
		error_set(
		    "profiler: cannot register zone \"%s\": table full (PROFILER_MAX_FUNCTIONS = "
		    "%d)",
		    name, PROFILER_MAX_FUNCTIONS);
		log_printf("%s\n", error_message());
		if (refused_count < PROFILER_REFUSED_LOGGED)
			refused[refused_count++] = name;
		return -1;
	}
	zone_names[zone_count] = name;
	zones[zone_count].min = UINT64_MAX;
	return zone_count++;
}

static uint64_t open_frame(int zone)
{
	if (hot.depth >= PROFILER_MAX_DEPTH) {
		run.depth_overflows++;
		return 0;
	}
	int parent = hot.stack[hot.depth].path;
	Frame *f = &hot.stack[++hot.depth];
	f->zone = zone;
	/* A zone is nearly always called from the same place: one compare instead of a probe. */
	PathCache *c = &path_cache[zone];
	if (c->parent != parent) {
		c->parent = parent;
		c->path = path_find(parent, zone);
	}
	f->path = c->path;
	f->nested = 0;
	f->child = 0;
	return clock_start();
}

uint64_t profiler_start_zone(int index)
{
	if (!hot.enabled || index < 0)
		return 0;
	return open_frame(index);
}

uint64_t profiler_start(void)
{
	if (!hot.enabled)
		return 0;
	return open_frame(ZONE_UNKNOWN);
}

/* Values below 2 * HIST_SUB are their own bucket (shift 0); above, the shift keeps the
 * HIST_SUB_BITS + 1 top bits, whose value (HIST_SUB..2 * HIST_SUB - 1) picks the sub-bucket. */
static inline unsigned bucket_of(uint64_t v)
{
	v = v < HIST_MAX_VALUE ? v : HIST_MAX_VALUE;
	int top = 63 - __builtin_clzll(v | 1);
	int shift = top > HIST_SUB_BITS ? top - HIST_SUB_BITS : 0;
	return ((unsigned)shift << HIST_SUB_BITS) + (unsigned)(v >> shift);
}

/* The middle of bucket i: the inverse of bucket_of. */
static uint64_t bucket_middle(unsigned i)
{
	unsigned shift = i < 2 * HIST_SUB ? 0 : (i >> HIST_SUB_BITS) - 1;
	uint64_t low = (uint64_t)(i - (shift << HIST_SUB_BITS)) << shift;
	return low + (((uint64_t)1 << shift) >> 1);
}

static inline void hist_add(ZoneStat *z, uint64_t v, uint64_t n)
{
	z->hist[bucket_of(v)] += n;
}

/* The end of a frame whose zone differs from the one it was opened as: profiler_start()
 * frames learn their zone here; a real mismatch is counted. Kept out of the hot path. */
__attribute__((noinline)) static int resolve_path(const Frame *f, int index)
{
	if (f->zone != ZONE_UNKNOWN)
		run.mismatched++;
	return path_find(f[-1].path, index);
}

void profiler_end(int index, uint64_t start)
{
	uint64_t now = clock_end();
	if (!start)
		return; /* opened while disabled or too deep: nothing was pushed */
	if (__builtin_expect(hot.depth <= 0, 0)) {
		run.unbalanced++;
		return;
	}
	Frame *f = &hot.stack[hot.depth--];
	if (__builtin_expect(!hot.enabled || (unsigned)index >= (unsigned)zone_count, 0)) {
		run.dropped++;
		return;
	}
	/* The zone's own share of an empty pair, and the whole pair of every zone nested in it;
	 * computed apart from now so that it overlaps the counter read. */
	uint64_t cost = hot.o_in + (uint64_t)f->nested * hot.o_pair;
	uint64_t raw = now - start;
	uint64_t incl = raw > cost ? raw - cost : 0;
	uint64_t self = incl > f->child ? incl - f->child : 0;

	ZoneStat *z = &zones[index];
	z->calls++;
	z->incl += incl;
	z->self += self;
	z->min = incl < z->min ? incl : z->min;
	z->max = incl > z->max ? incl : z->max;
	hist_add(z, incl, 1);

	int path = f->path;
	if (__builtin_expect(f->zone != index, 0))
		path = resolve_path(f, index);
	paths[path].self += self;
	paths[path].calls++;

	Frame *p = f - 1; /* stack[0] stands for the run, so a parent always exists */
	p->child += incl;
	p->nested += f->nested + 1;
}

void profiler_add_zone(int index, uint64_t cycles, uint64_t calls)
{
	if (!hot.enabled || (unsigned)index >= (unsigned)zone_count || !calls)
		return;
	uint64_t each = cycles / calls;
	ZoneStat *z = &zones[index];
	z->calls += calls;
	z->incl += cycles;
	z->self += cycles;
	z->min = each < z->min ? each : z->min;
	z->max = each > z->max ? each : z->max;
	hist_add(z, each, calls);

	Frame *p = &hot.stack[hot.depth];
	PathCache *c = &path_cache[index];
	if (c->parent != p->path) {
		c->parent = p->path;
		c->path = path_find(p->path, index);
	}
	paths[c->path].self += cycles;
	paths[c->path].calls += calls;
	p->child += cycles;
}

/* --- Run span --- */

void profiler_enable(void)
{
	if (hot.enabled)
		return;
	run.enable_ts = clock_end();
	hot.enabled = true;
}

void profiler_disable(void)
{
	if (!hot.enabled)
		return;
	hot.enabled = false;
	run.total += clock_end() - run.enable_ts;
}

uint64_t profiler_total_cycles(void)
{
	return run.total + (hot.enabled ? clock_end() - run.enable_ts : 0);
}

/* --- Init and overhead --- */

static void clear_stats(void)
{
	mem_set(zones, 0, sizeof zones);
	for (int i = 0; i < PROFILER_MAX_FUNCTIONS + 2; i++)
		zones[i].min = UINT64_MAX;
	mem_set(paths, 0, sizeof paths);
	mem_set(path_hash, 0, sizeof path_hash);
	for (int i = 0; i < PROFILER_MAX_FUNCTIONS + 2; i++)
		path_cache[i].parent = -2; /* matches no parent: the first open probes */
	path_count = 0;
	profile_kernels_clear();
	hot.depth = 0;
	hot.stack[0].zone = ZONE_UNKNOWN;
	hot.stack[0].path = PATH_ROOT;
	hot.stack[0].child = 0;
	hot.stack[0].nested = 0;
	bool has_rdtscp = run.has_rdtscp, invariant = run.invariant_tsc;
	mem_set(&run, 0, sizeof run);
	run.has_rdtscp = has_rdtscp;
	run.invariant_tsc = invariant;
}

static uint64_t median(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++) {
		uint64_t x = v[i];
		int j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[n / 2];
}

/* Times empty zones through the same inline helpers PROFILE_BEGIN/END use, on two scratch
 * slots past the registered zones; median of many so that interrupts do not count. */
static void measure_overhead(void)
{
	static uint64_t samples[PROFILER_CALIBRATION_SAMPLES];
	const int n = PROFILER_CALIBRATION_SAMPLES;
	int inner = zone_count, outer = zone_count + 1;
	zone_names[inner] = "(calibration)";
	zone_names[outer] = "(calibration outer)";
	zone_count += 2;
	hot.o_in = hot.o_pair = 0;
	hot.enabled = true;

	for (int i = -n / 4; i < n; i++) { /* negative i: warm-up */
		uint64_t before = zones[inner].incl;
		ProfileSite site = {zone_names[inner], inner};
		int id;
		uint64_t t = profile_begin(&site, zone_names[inner], &id);
		profile_end(id, t);
		if (i >= 0)
			samples[i] = zones[inner].incl - before;
	}
	uint64_t o_in = median(samples, n);

	for (int i = -n / 4; i < n; i++) {
		uint64_t before = zones[outer].incl;
		ProfileSite osite = {zone_names[outer], outer};
		int oid;
		uint64_t t0 = profile_begin(&osite, zone_names[outer], &oid);
		for (int k = 0; k < CALIBRATION_INNER; k++) {
			ProfileSite site = {zone_names[inner], inner};
			int id;
			uint64_t t = profile_begin(&site, zone_names[inner], &id);
			profile_end(id, t);
		}
		profile_end(oid, t0);
		if (i >= 0) {
			uint64_t raw = zones[outer].incl - before;
			samples[i] = raw > o_in ? (raw - o_in) / CALIBRATION_INNER : 0;
		}
	}
	uint64_t o_pair = median(samples, n);

	hot.enabled = false;
	zone_count -= 2;
	zone_names[inner] = zone_names[outer] = NULL;
	hot.o_in = o_in;
	hot.o_pair = o_pair > o_in ? o_pair : o_in;
	clear_stats();
}

void profiler_init(void)
{
	hot.enabled = false;
	run.has_rdtscp = cpu_has_rdtscp();
	run.invariant_tsc = cpu_has_invariant_tsc();
	hot.ordered = PROFILER_ORDERED_CLOCK && run.has_rdtscp;
	clear_stats();
	if (hot.clock)
		hot.o_in = hot.o_pair = 0;
	else
		measure_overhead();
}

void profiler_set_clock(uint64_t (*read)(void))
{
	hot.clock = read;
	if (read)
		hot.o_in = hot.o_pair = 0;
	else
		measure_overhead();
}

void profiler_set_overhead(uint64_t inside, uint64_t pair)
{
	hot.o_in = inside;
	hot.o_pair = pair;
}

void profiler_set_ordered(bool ordered)
{
	hot.ordered = ordered && run.has_rdtscp;
	if (!hot.clock)
		measure_overhead();
}

uint64_t profiler_overhead_inside(void)
{
	return hot.o_in;
}

uint64_t profiler_overhead_pair(void)
{
	return hot.o_pair;
}

/* --- Figures --- */

/* Value at quantile q: the middle of the bucket that holds the call of rank q * calls (0-based,
 * in ascending order), kept in [min, max]; within 1/(2 * HIST_SUB) of that call's cycles. */
static uint64_t zone_quantile(const ZoneStat *z, double q)
{
	if (!z->calls)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)z->calls);
	if (rank >= z->calls)
		rank = z->calls - 1;
	uint64_t cum = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		if (cum + z->hist[b] > rank) {
			uint64_t v = bucket_middle(b);
			if (v < z->min)
				v = z->min;
			if (v > z->max)
				v = z->max;
			return v;
		}
		cum += z->hist[b];
	}
	return z->max;
}

int profiler_zone_count(void)
{
	return zone_count;
}

int profiler_zone_stats(int index, ProfileZoneStats *out)
{
	if (index < 0 || index >= zone_count)
		return error_set("profiler: no zone %d (%d registered)", index, zone_count);
	const ZoneStat *z = &zones[index];
	out->name = zone_names[index];
	out->calls = z->calls;
	out->inclusive_cycles = z->incl;
	out->self_cycles = z->self;
	out->min_cycles = z->calls ? z->min : 0;
	out->max_cycles = z->max;
	out->avg_cycles = z->calls ? z->incl / z->calls : 0;
	out->p50_cycles = zone_quantile(z, 0.50);
	out->p99_cycles = zone_quantile(z, 0.99);
	return 0;
}

int64_t profiler_unattributed_cycles(void)
{
	uint64_t self = 0;
	for (int i = 0; i < zone_count; i++)
		self += zones[i].self;
	return (int64_t)profiler_total_cycles() - (int64_t)self;
}

int profiler_get_hot_paths(int *indices, int max)
{
	int n = 0;
	for (int i = 0; i < zone_count; i++) {
		if (!zones[i].calls)
			continue;
		/* Insertion into the ranked prefix, hottest first; ties keep registration order. */
		int j = n < max ? n++ : max;
		while (j > 0 && zones[indices[j - 1]].self < zones[i].self) {
			if (j < max)
				indices[j] = indices[j - 1];
			j--;
		}
		if (j < max)
			indices[j] = i;
	}
	return n;
}

/* --- The view the report writers read --- */

const ProfilePathNode *profile_paths(int *count)
{
	*count = path_count;
	return paths;
}

void profile_run_facts(ProfileRunFacts *out)
{
	out->depth_overflows = run.depth_overflows;
	out->unbalanced = run.unbalanced;
	out->dropped = run.dropped;
	out->mismatched = run.mismatched;
	out->path_full = run.path_full;
	out->lost_self = paths[PATH_LOST].self;
	out->invariant_tsc = run.invariant_tsc;
}

const char *profile_zone_name(int zone)
{
	return zone_name(zone);
}

const char *profile_clock_name(void)
{
	return hot.clock ? "test clock" : hot.ordered ? "rdtscp+lfence" : "rdtsc";
}
