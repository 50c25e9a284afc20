/* profiler.c: the cycle profiler: a stack of open zones, per-zone and per-stack-path figures
 * corrected for the profiler's own measured cost, and the text, JSON, folded and SVG reports. */
#include "core/profile/profiler.h"

#include <stdarg.h>
#include <stddef.h>

#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/base/str.h"
#include "core/kernels/cpu.h"
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

typedef struct {
	uint64_t calls, incl, self, min, max;
	uint64_t hist[PROFILER_BUCKETS];     /* bucket b: inclusive cycles in [2^b, 2^(b+1)) */
	uint64_t hist_sum[PROFILER_BUCKETS]; /* their cycles: a bucket's mean beats its middle */
} ZoneStat;

typedef struct {
	int parent; /* PATH_ROOT for an outermost zone */
	int zone;
	uint64_t self, calls;
} PathNode;

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

typedef struct {
	const char *kernel, *dtype, *isa;
	int rows, cols, tokens;
	uint32_t hash;
	uint64_t calls, cycles, bytes;
} KernelRecord;
/* Open addressing at load <= 1/2, as for the paths. */
#define KERNEL_HASH_SIZE (2 * PROFILER_MAX_KERNELS)
_Static_assert((KERNEL_HASH_SIZE & (KERNEL_HASH_SIZE - 1)) == 0, "a power of two");
_Static_assert((PATH_HASH_SIZE & (PATH_HASH_SIZE - 1)) == 0, "a power of two");
static KernelRecord kernels[PROFILER_MAX_KERNELS];
static int kernel_count;
static int16_t kernel_hash[KERNEL_HASH_SIZE]; /* record index + 1; 0 = empty slot */
static uint64_t kernels_dropped;

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

static inline int bucket_of(uint64_t v)
{
	int b = 63 - __builtin_clzll(v | 1);
	return b < PROFILER_BUCKETS ? b : PROFILER_BUCKETS - 1;
}

static inline void hist_add(ZoneStat *z, uint64_t v, uint64_t n)
{
	int b = bucket_of(v);
	z->hist[b] += n;
	z->hist_sum[b] += v * n;
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

/* --- Kernel records --- */

static uint32_t hash_str(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || str_eq(a, b);
}

void profiler_kernel_record(const char *kernel, const char *dtype, int rows, int cols, int tokens,
			    const char *isa, uint64_t cycles, uint64_t bytes)
{
	if (!hot.enabled)
		return;
	kernel = kernel ? kernel : "?";
	dtype = dtype ? dtype : "?";
	isa = isa ? isa : "?";
	uint32_t h = hash_str(hash_str(hash_str(2166136261u, kernel), dtype), isa);
	h = (h ^ (uint32_t)rows) * 0x9e3779b1u;
	h = (h ^ (uint32_t)cols) * 0x85ebca77u;
	h = (h ^ (uint32_t)tokens) * 0x9e3779b1u;
	h ^= h >> 15;
	uint32_t slot = h & (KERNEL_HASH_SIZE - 1);
	KernelRecord *r;
	for (;; slot = (slot + 1) & (KERNEL_HASH_SIZE - 1)) {
		int e = kernel_hash[slot];
		if (!e) {
			if (kernel_count >= PROFILER_MAX_KERNELS) {
				kernels_dropped++;
				return;
			}
			r = &kernels[kernel_count];
			*r = (KernelRecord){kernel, dtype, isa, rows, cols, tokens, h, 0, 0, 0};
			kernel_hash[slot] = (int16_t)++kernel_count;
			break;
		}
		r = &kernels[e - 1];
		if (r->hash == h && r->rows == rows && r->cols == cols && r->tokens == tokens &&
		    same_str(r->kernel, kernel) && same_str(r->dtype, dtype) &&
		    same_str(r->isa, isa))
			break;
	}
	r->calls++;
	r->cycles += cycles;
	r->bytes += bytes;
}

int profiler_kernel_count(void)
{
	return kernel_count;
}

int profiler_kernel_stats(int i, ProfileKernelStats *out)
{
	if (i < 0 || i >= kernel_count)
		return error_set("profiler: no kernel record %d (%d recorded)", i, kernel_count);
	const KernelRecord *r = &kernels[i];
	*out = (ProfileKernelStats){r->kernel, r->dtype, r->isa,    r->rows, r->cols,
				    r->tokens, r->calls, r->cycles, r->bytes};
	return 0;
}

uint64_t profiler_kernels_dropped(void)
{
	return kernels_dropped;
}

/* Up to max record indices ranked by cycles, hottest first; returns the count. */
static int kernels_ranked(int *idx, int max)
{
	int n = 0;
	for (int i = 0; i < kernel_count; i++) {
		int j = n < max ? n++ : max;
		while (j > 0 && kernels[idx[j - 1]].cycles < kernels[i].cycles) {
			if (j < max)
				idx[j] = idx[j - 1];
			j--;
		}
		if (j < max)
			idx[j] = i;
	}
	return n;
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
	mem_set(kernel_hash, 0, sizeof kernel_hash);
	kernel_count = 0;
	kernels_dropped = 0;
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

/* Value at quantile q from the log2 histogram: the mean of the bucket that holds that rank.
 * Calls of one zone cluster tightly, so the mean is far closer than the bucket's middle
 * (which can be off by half the bucket, 2^b/2); the result is kept in [min, max]. */
static uint64_t zone_quantile(const ZoneStat *z, double q)
{
	if (!z->calls)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)z->calls);
	if (rank >= z->calls)
		rank = z->calls - 1;
	uint64_t cum = 0;
	for (int b = 0; b < PROFILER_BUCKETS; b++) {
		if (cum + z->hist[b] > rank) {
			uint64_t v = z->hist_sum[b] / z->hist[b];
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

/* --- Report output: a buffer drained to the log stream or a platform file --- */

typedef struct {
	int handle; /* -1: the log stream */
	bool failed;
	size_t n;
	char buf[2048];
} Report;

static void rep_flush(Report *o)
{
	if (!o->n)
		return;
	if (o->handle < 0)
		plat_write(PLAT_LOG, o->buf, o->n);
	else if (plat_file_write(o->handle, o->buf, o->n) < 0)
		o->failed = true;
	o->n = 0;
}

static void rep_put(Report *o, const char *s, size_t n)
{
	while (n) {
		if (o->n == sizeof o->buf)
			rep_flush(o);
		size_t m = sizeof o->buf - o->n;
		if (m > n)
			m = n;
		mem_copy(o->buf + o->n, s, m);
		o->n += m;
		s += m;
		n -= m;
	}
}

static void rep_printf(Report *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	size_t n = fmt_vformat(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	rep_put(o, tmp, n < sizeof tmp ? n : sizeof tmp - 1);
}

static const char *format_name(ProfileFormat format)
{
	return format == PROFILE_JSON ? "JSON" : format == PROFILE_FOLDED ? "folded" : "text";
}

static int rep_open(Report *o, const char *path, const char *what)
{
	o->n = 0;
	o->failed = false;
	o->handle = -1;
	if (!path)
		return 0;
	o->handle = plat_file_create(path);
	if (o->handle < 0)
		return error_set("profiler: %s; the %s report was not written anywhere",
				 error_message(), what);
	return 0;
}

static int rep_close(Report *o, const char *path, const char *what)
{
	rep_flush(o);
	if (o->handle >= 0 && plat_file_close(o->handle) < 0)
		o->failed = true;
	if (o->handle < 0)
		plat_flush(PLAT_LOG);
	if (o->failed)
		return error_set("profiler: writing the %s report to %s failed; it is incomplete",
				 what, path ? path : "the log");
	return 0;
}

/* --- Shared helpers of the reports --- */

static double cycles_ns(uint64_t c)
{
	uint64_t hz = plat_cycles_hz();
	return hz ? (double)c * 1e9 / (double)hz : 0.0;
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static const char *clock_name(void)
{
	return hot.clock ? "test clock" : hot.ordered ? "rdtscp+lfence" : "rdtsc";
}

static void rep_xml_text(Report *o, const char *s, size_t max);

/* Writes "a;b;c" for path node p, outermost zone first; xml escapes the names. */
static void rep_path(Report *o, int p, char sep, bool xml)
{
	int chain[PROFILER_MAX_DEPTH + 1];
	int n = 0;
	for (; p >= 0 && n < PROFILER_MAX_DEPTH + 1; p = paths[p].parent)
		chain[n++] = paths[p].zone;
	for (int i = n - 1; i >= 0; i--) {
		const char *name = zone_name(chain[i]);
		if (xml)
			rep_xml_text(o, name, 200);
		else
			rep_put(o, name, str_len(name));
		if (i)
			rep_put(o, &sep, 1);
	}
}

/* --- Text --- */

/* Kernel records listed under the hot paths. */
#define TEXT_TOP_KERNELS 10

static void write_text(Report *o)
{
	uint64_t total = profiler_total_cycles();
	uint64_t hz = plat_cycles_hz();
	rep_printf(
	    o, "=== Profile: %d zones, %llu cycles measured (%.3f ms; TSC %.3f MHz from %s) ===\n",
	    zone_count, (unsigned long long)total, cycles_ns(total) / 1e6, (double)hz / 1e6,
	    plat_cycles_source());
	if (!run.invariant_tsc)
		rep_printf(o,
			   "WARNING: CPUID 0x80000007 EDX bit 8 (invariant TSC) is clear: cycles "
			   "may not track time across frequency changes or sleeps\n");
	rep_printf(o,
		   "Zone overhead subtracted: %llu cycles inside each zone, %llu per nested zone "
		   "(clock %s)\n",
		   (unsigned long long)hot.o_in, (unsigned long long)hot.o_pair, clock_name());
	for (int i = 0; i < zone_count; i++) {
		ProfileZoneStats s;
		profiler_zone_stats(i, &s);
		rep_printf(o, "Function: %s\n", s.name);
		rep_printf(o, "  Calls: %llu\n", (unsigned long long)s.calls);
		rep_printf(o, "  Total cycles: %llu (%.3f ms, %.1f%% of run, inclusive)\n",
			   (unsigned long long)s.inclusive_cycles,
			   cycles_ns(s.inclusive_cycles) / 1e6, percent(s.inclusive_cycles, total));
		rep_printf(o, "  Self cycles: %llu (%.3f ms, %.1f%% of run)\n",
			   (unsigned long long)s.self_cycles, cycles_ns(s.self_cycles) / 1e6,
			   percent(s.self_cycles, total));
		rep_printf(o, "  Min cycles: %llu (%.0f ns)\n", (unsigned long long)s.min_cycles,
			   cycles_ns(s.min_cycles));
		rep_printf(o, "  Max cycles: %llu (%.0f ns)\n", (unsigned long long)s.max_cycles,
			   cycles_ns(s.max_cycles));
		rep_printf(o, "  Avg cycles: %llu (%.0f ns)\n", (unsigned long long)s.avg_cycles,
			   cycles_ns(s.avg_cycles));
		rep_printf(o, "  p50 cycles: %llu (%.0f ns), p99 cycles: %llu (%.0f ns)\n",
			   (unsigned long long)s.p50_cycles, cycles_ns(s.p50_cycles),
			   (unsigned long long)s.p99_cycles, cycles_ns(s.p99_cycles));
	}
	int64_t un = profiler_unattributed_cycles();
	uint64_t calls = 0;
	for (int i = 0; i < zone_count; i++)
		calls += zones[i].calls;
	rep_printf(o,
		   "Unattributed: %lld cycles (%.1f%% of run): outside every zone, including about "
		   "%llu cycles of profiler overhead (%llu zone calls)\n",
		   (long long)un, un > 0 ? percent((uint64_t)un, total) : 0.0,
		   (unsigned long long)(calls * hot.o_pair), (unsigned long long)calls);
	if (run.depth_overflows || run.unbalanced || run.dropped || run.mismatched || run.path_full)
		rep_printf(
		    o,
		    "Anomalies: %llu zones deeper than PROFILER_MAX_DEPTH (%d) not timed, "
		    "%llu unbalanced ends, %llu dropped, %llu mismatched ends, path table %s\n",
		    (unsigned long long)run.depth_overflows, PROFILER_MAX_DEPTH,
		    (unsigned long long)run.unbalanced, (unsigned long long)run.dropped,
		    (unsigned long long)run.mismatched, run.path_full ? "FULL" : "ok");
	rep_printf(o, "Hot Paths (candidates for JIT -O3)\n");
	int hotlist[PROFILER_MAX_FUNCTIONS];
	int n = profiler_get_hot_paths(hotlist, PROFILER_MAX_FUNCTIONS);
	for (int i = 0; i < n; i++) {
		const ZoneStat *z = &zones[hotlist[i]];
		rep_printf(o, "  %d. %s: %llu self cycles (%.1f%%), %llu calls\n", i + 1,
			   zone_names[hotlist[i]], (unsigned long long)z->self,
			   percent(z->self, total), (unsigned long long)z->calls);
	}
	int top[TEXT_TOP_KERNELS];
	int nk = kernels_ranked(top, TEXT_TOP_KERNELS);
	if (nk)
		rep_printf(o, "  Kernels by cycles (top %d of %d records):\n", nk, kernel_count);
	for (int i = 0; i < nk; i++) {
		const KernelRecord *r = &kernels[top[i]];
		rep_printf(o,
			   "  %d. %s %s %dx%d, %d tokens, %s: %llu cycles (%.1f%%), %llu calls, "
			   "%.2f bytes/cycle\n",
			   i + 1, r->kernel, r->dtype, r->rows, r->cols, r->tokens, r->isa,
			   (unsigned long long)r->cycles, percent(r->cycles, total),
			   (unsigned long long)r->calls,
			   r->cycles ? (double)r->bytes / (double)r->cycles : 0.0);
	}
	if (kernels_dropped)
		rep_printf(
		    o,
		    "  %llu kernel calls not recorded: the table (PROFILER_MAX_KERNELS = %d) "
		    "is full\n",
		    (unsigned long long)kernels_dropped, PROFILER_MAX_KERNELS);
}

/* --- JSON --- */

static void rep_json_string(Report *o, const char *s)
{
	rep_put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			rep_put(o, e, 2);
		} else if (c < 0x20) {
			rep_printf(o, "\\u%04x", c);
		} else {
			rep_put(o, (const char *)s, 1);
		}
	}
	rep_put(o, "\"", 1);
}

static void write_json(Report *o)
{
	uint64_t total = profiler_total_cycles();
	rep_printf(
	    o, "{\n  \"tsc_hz\": %llu,\n  \"tsc_source\": ", (unsigned long long)plat_cycles_hz());
	rep_json_string(o, plat_cycles_source());
	rep_printf(o,
		   ",\n  \"invariant_tsc\": %s,\n  \"clock\": \"%s\",\n  \"total_cycles\": %llu,\n"
		   "  \"total_ns\": %.0f,\n  \"zone_overhead_cycles\": %llu,\n"
		   "  \"zone_pair_overhead_cycles\": %llu,\n  \"unattributed_cycles\": %lld,\n"
		   "  \"path_table_full\": %s,\n  \"functions\": [",
		   run.invariant_tsc ? "true" : "false", clock_name(), (unsigned long long)total,
		   cycles_ns(total), (unsigned long long)hot.o_in, (unsigned long long)hot.o_pair,
		   (long long)profiler_unattributed_cycles(), run.path_full ? "true" : "false");
	for (int i = 0; i < zone_count; i++) {
		ProfileZoneStats s;
		profiler_zone_stats(i, &s);
		rep_printf(o, "%s\n    {\"name\": ", i ? "," : "");
		rep_json_string(o, s.name);
		rep_printf(o,
			   ", \"calls\": %llu, \"inclusive_cycles\": %llu, \"self_cycles\": %llu, "
			   "\"min_cycles\": %llu, \"max_cycles\": %llu, \"avg_cycles\": %llu, "
			   "\"p50_cycles\": %llu, \"p99_cycles\": %llu}",
			   (unsigned long long)s.calls, (unsigned long long)s.inclusive_cycles,
			   (unsigned long long)s.self_cycles, (unsigned long long)s.min_cycles,
			   (unsigned long long)s.max_cycles, (unsigned long long)s.avg_cycles,
			   (unsigned long long)s.p50_cycles, (unsigned long long)s.p99_cycles);
	}
	rep_printf(o, "\n  ],\n  \"hot_paths\": [");
	int hotlist[PROFILER_MAX_FUNCTIONS];
	int n = profiler_get_hot_paths(hotlist, PROFILER_MAX_FUNCTIONS);
	for (int i = 0; i < n; i++) {
		if (i)
			rep_put(o, ", ", 2);
		rep_json_string(o, zone_names[hotlist[i]]);
	}
	static int ranked[PROFILER_MAX_KERNELS];
	int nk = kernels_ranked(ranked, PROFILER_MAX_KERNELS);
	rep_printf(o, "],\n  \"kernels_dropped\": %llu,\n  \"kernels\": [",
		   (unsigned long long)kernels_dropped);
	for (int i = 0; i < nk; i++) {
		const KernelRecord *r = &kernels[ranked[i]];
		rep_printf(o, "%s\n    {\"kernel\": ", i ? "," : "");
		rep_json_string(o, r->kernel);
		rep_printf(o, ", \"dtype\": ");
		rep_json_string(o, r->dtype);
		rep_printf(o, ", \"rows\": %d, \"cols\": %d, \"tokens\": %d, \"isa\": ", r->rows,
			   r->cols, r->tokens);
		rep_json_string(o, r->isa);
		rep_printf(o, ", \"calls\": %llu, \"cycles\": %llu, \"bytes\": %llu}",
			   (unsigned long long)r->calls, (unsigned long long)r->cycles,
			   (unsigned long long)r->bytes);
	}
	rep_printf(o, "%s]\n}\n", nk ? "\n  " : "");
}

/* --- Folded stacks (flamegraph.pl, speedscope) --- */

static void write_folded(Report *o)
{
	for (int p = 0; p < path_count; p++) {
		if (!paths[p].calls)
			continue; /* a "?" placeholder or a never-closed zone */
		rep_path(o, p, ';', false);
		rep_printf(o, " %llu\n", (unsigned long long)paths[p].self);
	}
	int64_t un = profiler_unattributed_cycles();
	if (un > 0)
		rep_printf(o, "(unattributed) %lld\n", (long long)un);
}

int profiler_write_report(ProfileFormat format, const char *path)
{
	Report o;
	const char *what = format_name(format);
	if (rep_open(&o, path, what) < 0)
		return -1;
	if (format == PROFILE_JSON)
		write_json(&o);
	else if (format == PROFILE_FOLDED)
		write_folded(&o);
	else
		write_text(&o);
	if (rep_close(&o, path, what) < 0)
		return -1;
	if (format == PROFILE_FOLDED && run.path_full)
		return error_set("profiler: folded stacks incomplete: the path table "
				 "(PROFILER_MAX_PATHS = %d) overflowed; %llu self cycles not shown",
				 PROFILER_MAX_PATHS, (unsigned long long)paths[PATH_LOST].self);
	return 0;
}

void profiler_report(void)
{
	profiler_write_report(PROFILE_TEXT, NULL);
}

/* --- SVG: an icicle chart of the stack paths over the run, then ranked self/inclusive bars --- */

#define SVG_WIDTH 1200
#define SVG_MARGIN 10
#define SVG_ROW 20
#define SVG_CHAR_PX 7
#define SVG_BARS 12

static void rep_xml_text(Report *o, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		char c = s[i];
		if (c == '&')
			rep_put(o, "&amp;", 5);
		else if (c == '<')
			rep_put(o, "&lt;", 4);
		else if (c == '>')
			rep_put(o, "&gt;", 4);
		else if (c == '"')
			rep_put(o, "&quot;", 6);
		else if (c == '\'')
			rep_put(o, "&apos;", 6);
		else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			rep_put(o, "?", 1); /* keeps the file valid XML whatever the name holds */
		else
			rep_put(o, &c, 1);
	}
}

/* A warm colour from the name, stable between runs so that charts can be compared. */
static void rep_color(Report *o, const char *name)
{
	uint32_t h = 2166136261u;
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	rep_printf(o, "rgb(%u,%u,%u)", 205 + h % 50, 90 + (h >> 8) % 120, 40 + (h >> 16) % 50);
}

static void svg_box(Report *o, double x, double y, double w, const char *name, int path,
		    uint64_t incl, uint64_t self, uint64_t total)
{
	rep_printf(o, "<g><title>");
	if (path >= 0) {
		rep_path(o, path, ';', true);
	} else {
		rep_xml_text(o, name, 200);
	}
	rep_printf(o, ": %llu cycles (%.2f%%), self %llu (%.2f%%)</title>",
		   (unsigned long long)incl, percent(incl, total), (unsigned long long)self,
		   percent(self, total));
	rep_printf(o, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"", x, y, w,
		   SVG_ROW - 2);
	if (path >= 0)
		rep_color(o, name);
	else
		rep_put(o, "rgb(200,200,200)", 16);
	rep_printf(o, "\"/>");
	size_t chars = (size_t)(w / SVG_CHAR_PX);
	if (chars >= 3) {
		rep_printf(o, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + SVG_ROW - 7);
		/* The share of the run after the name when the box has room for both. */
		char label[160];
		size_t n = fmt_format(label, sizeof label, "%s %.1f%%", name, percent(incl, total));
		rep_xml_text(o, n < chars ? label : name, chars - 1);
		rep_printf(o, "</text>");
	}
	rep_printf(o, "</g>\n");
}

int profiler_write_svg(const char *path)
{
	static uint64_t incl[PROFILER_MAX_PATHS];
	static double x0[PROFILER_MAX_PATHS], next[PROFILER_MAX_PATHS];
	static int depth[PROFILER_MAX_PATHS];
	Report o;
	if (rep_open(&o, path, "SVG") < 0)
		return -1;

	/* Parents are always created before their children, so one backward pass sums the
	 * inclusive cycles and one forward pass lays children out left to right. */
	uint64_t roots = 0;
	int max_depth = 0;
	for (int p = 0; p < path_count; p++)
		incl[p] = paths[p].self;
	for (int p = path_count - 1; p >= 0; p--)
		if (paths[p].parent >= 0)
			incl[paths[p].parent] += incl[p];
	for (int p = 0; p < path_count; p++) {
		depth[p] = paths[p].parent >= 0 ? depth[paths[p].parent] + 1 : 0;
		if (depth[p] > max_depth)
			max_depth = depth[p];
		if (paths[p].parent < 0)
			roots += incl[p];
	}
	uint64_t total = profiler_total_cycles();
	int64_t un = profiler_unattributed_cycles();
	uint64_t span = total > roots ? total : roots;
	double scale = span ? (double)(SVG_WIDTH - 2 * SVG_MARGIN) / (double)span : 0.0;

	int hotlist[SVG_BARS];
	int nbars = profiler_get_hot_paths(hotlist, SVG_BARS);
	int top = 50;
	int icicle_h = (path_count ? max_depth + 1 : 0) * SVG_ROW + SVG_ROW;
	int bars_top = top + icicle_h + 40;
	int height = bars_top + nbars * SVG_ROW * 2 + 20;

	rep_printf(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	rep_printf(&o,
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">\n",
		   SVG_WIDTH, height, SVG_WIDTH, height);
	rep_printf(&o, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	rep_printf(&o,
		   "<text x=\"%d\" y=\"22\" font-size=\"16\">TinyLlama profile: %llu cycles "
		   "(%.3f ms, TSC from ",
		   SVG_MARGIN, (unsigned long long)total, cycles_ns(total) / 1e6);
	rep_xml_text(&o, plat_cycles_source(), 64);
	rep_printf(&o, "%s)</text>\n", run.invariant_tsc ? "" : ", TSC NOT invariant");
	rep_printf(&o,
		   "<text x=\"%d\" y=\"40\">Stack paths, outermost zone on top; width = inclusive "
		   "cycles of the run; hover for figures</text>\n",
		   SVG_MARGIN);

	double root_next = SVG_MARGIN;
	for (int p = 0; p < path_count; p++) {
		int parent = paths[p].parent;
		x0[p] = parent >= 0 ? next[parent] : root_next;
		next[p] = x0[p];
		double w = (double)incl[p] * scale;
		if (parent >= 0)
			next[parent] += w;
		else
			root_next += w;
		if (w >= 0.5)
			svg_box(&o, x0[p], top + depth[p] * SVG_ROW, w, zone_name(paths[p].zone), p,
				incl[p], paths[p].self, total);
	}
	if (un > 0)
		svg_box(&o, root_next, top, (double)un * scale, "(unattributed)", -1, (uint64_t)un,
			(uint64_t)un, total);

	rep_printf(&o,
		   "<text x=\"%d\" y=\"%d\" font-size=\"14\">Hot zones: self (dark) vs inclusive "
		   "(light), %% of the run</text>\n",
		   SVG_MARGIN, bars_top - 10);
	double bar_w = SVG_WIDTH - 2 * SVG_MARGIN - 420;
	for (int i = 0; i < nbars; i++) {
		const ZoneStat *z = &zones[hotlist[i]];
		double y = bars_top + i * SVG_ROW * 2;
		rep_printf(&o, "<text x=\"%d\" y=\"%.1f\">", SVG_MARGIN, y + 13);
		rep_xml_text(&o, zone_names[hotlist[i]], 30);
		rep_printf(&o, "</text>");
		rep_printf(&o,
			   "<rect x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"16\" "
			   "fill=\"rgb(250,200,150)\"/>",
			   SVG_MARGIN + 230, y, bar_w * percent(z->incl, span) / 100.0);
		rep_printf(&o,
			   "<rect x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"16\" "
			   "fill=\"rgb(200,70,40)\"/>",
			   SVG_MARGIN + 230, y, bar_w * percent(z->self, span) / 100.0);
		rep_printf(&o, "<text x=\"%.1f\" y=\"%.1f\">self %.1f%%, incl %.1f%%</text>\n",
			   SVG_MARGIN + 240 + bar_w, y + 13, percent(z->self, total),
			   percent(z->incl, total));
	}
	rep_printf(&o, "</svg>\n");
	if (rep_close(&o, path, "SVG") < 0)
		return -1;
	if (run.path_full)
		return error_set(
		    "profiler: SVG incomplete: the path table (PROFILER_MAX_PATHS = %d) "
		    "overflowed; %llu self cycles not shown",
		    PROFILER_MAX_PATHS, (unsigned long long)paths[PATH_LOST].self);
	return 0;
}
