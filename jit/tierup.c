/* tierup.c: the tier-up policy (tierup.h): which records to compile, the tuning variants, bit
 * for bit verification against the tier-1 entry, the swap, and the tier records. */
#include "jit/tierup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/error.h"
#include "core/codecache/codecache.h"
#include "core/kernels/registry.h"
#include "core/model/session.h"
#include "core/profile/profiler.h"
#include "jit/jit_engine.h"
#include "jit/jit_slots.h"
#include "jit/tier_cache.h"
#include "shim/platform.h"

/* Timing repeats per entry (the best run counts: the others met interrupts or other work). */
#define TIME_REPEATS 7
/* A compile costs at least this much: measured on the EPYC (2026-12-03, loaded), one variant
 * took 25-90 ms (quiet to loaded), the first of a process 300-340 ms (it brings LLVM in). auto
 * skips records whose whole remaining tier-1 time is below it without compiling. */
#define MIN_COMPILE_MS 25.0
/* Records looked at, hottest first. */
#define MAX_RECORDS 16

static struct {
	TierUpMode mode;
	int n_predict;
	int last_pos;	   /* position after the last feed */
	int single_feeds;  /* feeds of one token so far (what the 1-token records cover) */
	bool keep_profile; /* --profile: the profiler stays on after the tier-up */
	bool done;
	bool plant;
	const char *cache_path; /* --code-cache: where the kept entries go */
	Kernels tier1;		/* the ISA's own entries (tier 1), whatever the cache replaced */
	Kernels start;		/* the entries at the first tier-up (after --code-cache loaded) */
	bool have_tier1;
} st;

void tierup_plant_wrong(bool on)
{
	st.plant = on;
}

/* Slot i's entry in table t (the registry read with t in place). */
static KernelFn entry_in(const Kernels *t, int i)
{
	Kernels now = kernels;
	kernels = *t;
	KernelFn fn = kernels_slot_get(i);
	kernels = now;
	return fn;
}

static int slot_index(const char *name)
{
	for (int i = 0; i < kernels_slot_count(); i++)
		if (!strcmp(kernels_slot_name(i), name))
			return i;
	return -1;
}

static double cycles_ms(uint64_t c)
{
	uint64_t hz = plat_cycles_hz();
	return hz ? (double)c * 1e3 / (double)hz : 0.0;
}

/* Best of repeats runs over the inputs, per record call (one input's rows). */
static uint64_t time_runs(const JitSlot *s, const JitInputs *in, KernelFn fn, float *y, int repeats)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < repeats; i++) {
		uint64_t c = jit_slot_run(s, in, fn, y);
		best = c < best ? c : best;
	}
	return best / (uint64_t)in->nx;
}

static uint64_t time_entry(const JitSlot *s, const JitInputs *in, KernelFn fn, float *y)
{
	return time_runs(s, in, fn, y, TIME_REPEATS);
}

/* A decision string that outlives the run (the tier record keeps the pointer). */
static const char *keep_text(const char *fmt, double a, double b)
{
	char buf[160];
	snprintf(buf, sizeof buf, fmt, a, b);
	char *s = strdup(buf);
	return s ? s : "?";
}

typedef struct {
	JitEntry e;
	JitSpec spec;
	int isa;
	uint64_t cycles;
	uint64_t plain_cycles; /* the fastest verified variant without the kernel's knob */
	double compile_ms;
	int variants, verified;
} Best;

/* decision, then the kept variant: its source, knob value (and its gain over the fastest
 * variant without it) and pass knobs (strdup'ed). */
static const char *with_variant(const char *decision, const JitSlot *s, const Best *b)
{
	char buf[256];
	const JitKnob *knob = jit_slot_knob(s);
	size_t n = (size_t)snprintf(buf, sizeof buf, "%s; from %s", decision, b->spec.source);
	if (b->spec.has_tail && knob && n < sizeof buf)
		n += (size_t)snprintf(buf + n, sizeof buf - n, ", %s %lld", knob->name,
				      (long long)b->spec.tail);
	if (b->spec.has_tail && b->plain_cycles && n < sizeof buf)
		n += (size_t)snprintf(buf + n, sizeof buf - n, " (x%.2f over the best without it)",
				      (double)b->plain_cycles / (double)b->cycles);
	if (b->spec.knobs && n < sizeof buf)
		snprintf(buf + n, sizeof buf - n, ", pass knobs %u", (unsigned)b->spec.knobs);
	char *text = strdup(buf);
	return text ? text : decision;
}

/* Compiles one variant; keeps it in best when it gives tier 1's bits and is the fastest so
 * far. Returns 1 when it was verified, else 0. */
static int try_variant(const JitSlot *s, const JitInputs *in, KernelFn current, const float *y1,
		       float *y2, const JitSpec *spec, Isa isa, Best *best)
{
	JitEntry e;
	best->variants++;
	if (jit_compile(spec, (void *)current, &e) < 0)
		return 0;
	best->compile_ms += e.compile_ms;
	jit_slot_run(s, in, (KernelFn)e.fn, y2);
	if (memcmp(y1, y2, (size_t)in->outs * sizeof(float)) != 0) {
		fprintf(stderr,
			"jit: %s %dx%d from %s (knobs %u, tail %lld) dropped: its results differ "
			"from tier 1's\n",
			jit_slot_name(s), in->rows, in->cols, spec->source, (unsigned)spec->knobs,
			spec->has_tail ? (long long)spec->tail : -1LL);
		jit_release(&e);
		return 0;
	}
	best->verified++;
	uint64_t c = time_entry(s, in, (KernelFn)e.fn, y2);
	if (!spec->has_tail && (!best->plain_cycles || c < best->plain_cycles))
		best->plain_cycles = c;
	if (!best->e.fn || c < best->cycles) {
		jit_release(&best->e);
		best->e = e;
		best->spec = *spec;
		best->isa = isa;
		best->cycles = c;
	} else {
		jit_release(&e);
	}
	return 1;
}

/* Compiles the variants of one record and keeps the fastest that gives tier 1's bits: the
 * active ISA's source and the AVX2 one under three pass settings, then the active ISA's
 * source with the slot's knob (jit_slot_knob) at each value it tries. */
static void tune(const JitSlot *s, const JitInputs *in, KernelFn current, const float *y1,
		 float *y2, bool one_variant, Best *best)
{
	static const uint32_t knobs[] = {0, JIT_KNOB_NO_UNROLL | JIT_KNOB_NO_INTERLEAVE,
					 JIT_KNOB_NO_VECTORIZE | JIT_KNOB_NO_SLP};
	Isa isas[] = {kernels_isa(), ISA_AVX2};
	for (int a = 0; a < 2; a++) {
		const char *src = jit_slot_source(s, isas[a]);
		if (!src || (a == 1 && isas[0] == ISA_AVX2))
			continue;
		for (size_t k = 0; k < sizeof knobs / sizeof knobs[0]; k++) {
			JitSpec spec = {.source = src, .knobs = knobs[k], .plant_wrong = st.plant};
			jit_slot_consts(s, in, &spec);
			if (try_variant(s, in, current, y1, y2, &spec, isas[a], best) &&
			    one_variant)
				return;
		}
	}
	const JitKnob *knob = jit_slot_knob(s);
	const char *tuned = jit_slot_tuned_source(s, isas[0]);
	for (int v = 0; knob && tuned && !one_variant && v < knob->count; v++) {
		JitSpec spec = {.source = tuned,
				.has_tail = true,
				.tail = knob->values[v],
				.plant_wrong = st.plant};
		jit_slot_consts(s, in, &spec);
		try_variant(s, in, current, y1, y2, &spec, isas[0], best);
	}
}

/* The kernel-target entry of a kept one: the AVX2 source (TCG has no AVX-512), compiled
 * freestanding for the kernel, loaded here by core's own loader and verified bit for bit
 * before it is filed. */
static void kernel_entry(const JitSlot *s, const JitInputs *in, const ProfileKernelStats *k,
			 const JitSpec *host, KernelFn fallback, const float *y1, float *y2)
{
	JitSpec spec = *host;
	spec.source = jit_slot_source(s, ISA_AVX2);
	spec.target = JIT_TARGET_KERNEL;
	spec.knobs = 0;
	spec.has_tail = false; /* the AVX2 source as it is: QEMU's timing is not this CPU's */
	JitEntry e;
	if (!spec.source || jit_compile(&spec, NULL, &e) < 0)
		return;
	KernelFn fn;
	size_t bytes;
	size_t n_out = (size_t)in->outs * sizeof(float);
	if (codecache_load_object(e.obj, e.obj_size, fallback, CODECACHE_MAX_LOAD_BYTES, &fn,
				  &bytes) < 0)
		fprintf(stderr, "jit: %s for the kernel not cached: %s\n", k->kernel,
			error_message());
	else if (jit_slot_run(s, in, fn, y2), memcmp(y1, y2, n_out) != 0)
		fprintf(stderr,
			"jit: %s for the kernel dropped: its results differ from tier 1's\n",
			k->kernel);
	else
		tier_cache_add(k->kernel, k->dtype, k->cols, &spec, ISA_AVX2, &e);
	jit_release(&e);
}

/* One record: measure tiers 0 and 1, tune tier 2, decide, swap; files its tier record. */
static void tier_up_record(const ProfileKernelStats *k, Model *m, int positions,
			   double calls_to_come)
{
	const JitSlot *s = jit_slot_find(k->kernel);
	int slot = slot_index(k->kernel);
	if (!s || slot < 0)
		return;
	ProfileTierRecord t = {k->kernel, k->dtype, k->rows, k->cols, k->tokens, {0}, 0, NULL};
	JitInputs in;
	if (jit_inputs_init(&in, s, m, k->dtype, k->rows, k->cols, k->tokens, positions) < 0) {
		t.decision = "tier 1 kept: no real inputs of this shape";
		profiler_tier_record(&t);
		return;
	}
	size_t n = (size_t)in.outs;
	float *y1 = malloc(n * sizeof(float)), *y2 = malloc(n * sizeof(float));
	KernelFn current = kernels_slot_get(slot);
	KernelFn tier1 = entry_in(&st.tier1, slot), cached = entry_in(&st.start, slot);
	if (!y1 || !y2) {
		t.decision = "tier 1 kept: out of memory";
		goto out;
	}
	/* tier 0 once: the scalar tile alone took seconds on TinyLlama's shapes */
	if (jit_slot_reference(s))
		t.cycles_per_call[0] = time_runs(s, &in, jit_slot_reference(s), y2, 1);
	t.cycles_per_call[1] = time_entry(s, &in, tier1, y1);
	if (jit_slot_memory_bound(s, m)) {
		if (current != tier1) /* an older cache's entry for it: tier 1 goes back in */
			kernels_replace(k->kernel, tier1);
		t.decision = "tier 1 kept: its rows stream from memory, at the memory's speed";
		goto out;
	}
	if (cached != tier1 && cached == current) {
		/* the code cache replaced this slot: its chain of entries, if it holds this shape,
		 * is faster than tier 1 here and gives its bits (otherwise it is only the fallback
		 * path, and this shape is compiled on top of it) */
		uint64_t c = time_entry(s, &in, current, y2);
		if (!memcmp(y1, y2, n * sizeof(float)) && c < t.cycles_per_call[1]) {
			t.cycles_per_call[2] = c;
			t.decision = "tier 2 from the code cache";
			goto out;
		}
	}
	double most_ms = cycles_ms(t.cycles_per_call[1]) * calls_to_come;
	if (st.mode == TIERUP_AUTO && most_ms < MIN_COMPILE_MS) {
		t.decision = keep_text("tier 1 kept: the %.2f ms left in it cannot pay a compile "
				       "(>= %.0f ms)",
				       most_ms, MIN_COMPILE_MS);
		goto out;
	}
	Best b = {0};
	tune(s, &in, current, y1, y2, st.mode == TIERUP_AUTO, &b);
	t.compile_ms = b.compile_ms;
	if (!b.e.fn) {
		t.decision = b.variants ? "tier 1 kept: no variant compiled and verified"
					: "tier 1 kept: no source kernel for this ISA";
		goto out;
	}
	t.cycles_per_call[2] = b.cycles;
	double saved_ms = (cycles_ms(t.cycles_per_call[1]) - cycles_ms(b.cycles)) * calls_to_come;
	if (st.mode == TIERUP_AUTO && saved_ms <= b.compile_ms) {
		t.decision = keep_text("tier 1 kept: saves %.2f ms, compiling took %.2f ms",
				       saved_ms, b.compile_ms);
		jit_release(&b.e);
		goto out;
	}
	kernels_replace(k->kernel, (KernelFn)b.e.fn); /* b.e's code lives to the end */
	/* the cache holds only entries timed faster than tier 1, so that a run from it is never
	 * slower (always swaps the others in for this run alone) */
	if (st.cache_path && b.cycles < t.cycles_per_call[1]) {
		tier_cache_add(k->kernel, k->dtype, k->cols, &b.spec, b.isa, &b.e);
		kernel_entry(s, &in, k, &b.spec, current, y1, y2);
	} else if (st.cache_path) {
		fprintf(stderr,
			"jit: %s %s %d wide not filed in the code cache: x%.2f of tier 1's speed\n",
			k->kernel, k->dtype, k->cols,
			(double)t.cycles_per_call[1] / (double)b.cycles);
	}
	t.decision = with_variant(st.mode == TIERUP_AUTO
				      ? keep_text("tier 2: saves %.2f ms for %.2f ms of compiling",
						  saved_ms, b.compile_ms)
				      : "tier 2 (always)",
				  s, &b);
out:
	profiler_tier_record(&t);
	free(y1);
	free(y2);
	jit_inputs_free(&in);
}

/* The hot records, hottest first, one per (kernel, dtype, cols): the entry is specialised on
 * the row width, so records of other row counts share it. */
static int hot_records(ProfileKernelStats *out, uint64_t *gen_calls, int max)
{
	uint64_t row_calls[MAX_RECORDS]; /* rows x calls: the group's rows are their mean */
	int n = 0;
	for (int i = 0; i < profiler_kernel_count(); i++) {
		ProfileKernelStats k;
		profiler_kernel_stats(i, &k);
		int j = 0;
		while (j < n && !(!strcmp(out[j].kernel, k.kernel) &&
				  !strcmp(out[j].dtype, k.dtype) && out[j].cols == k.cols))
			j++;
		if (j == n && n == max) /* no room for a new group; known groups still count */
			continue;
		if (j == n)
			out[n++] = k, row_calls[j] = gen_calls[j] = 0,
			out[j].calls = out[j].cycles = 0;
		if (k.tokens == 1) /* generation's calls: what the rest of the run repeats */
			gen_calls[j] += k.calls;
		out[j].calls += k.calls;
		out[j].cycles += k.cycles;
		row_calls[j] += (uint64_t)k.rows * k.calls;
	}
	for (int j = 0; j < n; j++)
		out[j].rows = out[j].calls ? (int)(row_calls[j] / out[j].calls) : out[j].rows;
	for (int i = 1; i < n; i++) /* by cycles, hottest first */
		for (int j = i; j > 0 && out[j - 1].cycles < out[j].cycles; j--) {
			ProfileKernelStats x = out[j];
			out[j] = out[j - 1];
			out[j - 1] = x;
			uint64_t g = gen_calls[j];
			gen_calls[j] = gen_calls[j - 1];
			gen_calls[j - 1] = g;
		}
	return n;
}

void tierup_run(Model *m, int positions, int tokens, int to_come)
{
	ProfileKernelStats recs[MAX_RECORDS];
	uint64_t gen_calls[MAX_RECORDS];
	int n = hot_records(recs, gen_calls, MAX_RECORDS);
	if (!st.have_tier1) { /* the ISA's own row, as kernels_select fills it */
		st.start = kernels;
		kernels_select(kernels_isa());
		st.tier1 = kernels;
		kernels = st.start;
		st.have_tier1 = true;
	}
	for (int i = 0; i < n; i++) {
		double per_token = tokens > 0 ? (double)gen_calls[i] / tokens : 0.0;
		tier_up_record(&recs[i], m, positions, per_token * (to_come > 0 ? to_come : 0));
	}
	if (st.cache_path)
		tier_cache_write(st.cache_path);
}

static void between_tokens(void *arg, Model *m, int pos)
{
	(void)arg;
	if (st.done)
		return;
	st.single_feeds += pos - st.last_pos == 1;
	st.last_pos = pos;
	if (st.single_feeds < 2) /* two generated tokens' records first */
		return;
	st.done = true;
	if (!st.keep_profile) /* app_run profiled the run for the tier-up alone */
		profiler_disable();
	int tokens = st.single_feeds, before = profiler_tier_count();
	uint64_t t0 = plat_cycles();
	tierup_run(m, pos, tokens, st.n_predict - tokens);
	int swapped = 0;
	for (int i = before; i < profiler_tier_count(); i++)
		swapped += !strncmp(profiler_tier_get(i)->decision, "tier 2", 6);
	/* the run's gen_ms includes this pause: bench/jit.sh takes it out for tier 2's rate */
	fprintf(stderr, "jit: tier-up at position %d: %d records, %d swapped in, %.1f ms\n", pos,
		profiler_tier_count() - before, swapped, cycles_ms(plat_cycles() - t0));
}

void tierup_configure(TierUpMode mode, int n_predict)
{
	st.mode = mode;
	st.n_predict = n_predict;
}

int tierup_start(const Options *o)
{
	if (o->tierup == TIERUP_OFF)
		return 0;
	if (jit_engine_init() < 0) {
		fprintf(stderr, "error: --jit: LLVM could not start\n");
		return -1;
	}
	tierup_configure(o->tierup, o->n_predict);
	st.cache_path = o->code_cache;
	st.keep_profile = o->profile;
	session_set_hook(between_tokens, NULL);
	return 0;
}
