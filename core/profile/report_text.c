/* report_text.c: the profile as text: per-zone figures, the unattributed remainder, anomalies,
 * and the hot paths with the hottest kernel records (the seed's report, extended). */
#include "core/profile/profile_view.h"
#include "core/profile/profiler.h"
#include "core/profile/report.h"
#include "shim/platform.h"

/* Kernel records listed under the hot paths. */
#define TEXT_TOP_KERNELS 10

static void write_zone(Report *o, const ProfileZoneStats *s, uint64_t total)
{
	rep_printf(o, "Function: %s\n", s->name);
	rep_printf(o, "  Calls: %llu\n", (unsigned long long)s->calls);
	rep_printf(o, "  Total cycles: %llu (%.3f ms, %.1f%% of run, inclusive)\n",
		   (unsigned long long)s->inclusive_cycles, cycles_ns(s->inclusive_cycles) / 1e6,
		   percent(s->inclusive_cycles, total));
	rep_printf(o, "  Self cycles: %llu (%.3f ms, %.1f%% of run)\n",
		   (unsigned long long)s->self_cycles, cycles_ns(s->self_cycles) / 1e6,
		   percent(s->self_cycles, total));
	rep_printf(o, "  Min cycles: %llu (%.0f ns)\n", (unsigned long long)s->min_cycles,
		   cycles_ns(s->min_cycles));
	rep_printf(o, "  Max cycles: %llu (%.0f ns)\n", (unsigned long long)s->max_cycles,
		   cycles_ns(s->max_cycles));
	rep_printf(o, "  Avg cycles: %llu (%.0f ns)\n", (unsigned long long)s->avg_cycles,
		   cycles_ns(s->avg_cycles));
	rep_printf(o, "  p50 cycles: %llu (%.0f ns), p99 cycles: %llu (%.0f ns)\n",
		   (unsigned long long)s->p50_cycles, cycles_ns(s->p50_cycles),
		   (unsigned long long)s->p99_cycles, cycles_ns(s->p99_cycles));
}

static void write_kernels(Report *o, uint64_t total)
{
	int top[TEXT_TOP_KERNELS];
	int n = profile_kernels_ranked(top, TEXT_TOP_KERNELS);
	if (n)
		rep_printf(o, "  Kernels by cycles (top %d of %d records):\n", n,
			   profiler_kernel_count());
	for (int i = 0; i < n; i++) {
		ProfileKernelStats k;
		profiler_kernel_stats(top[i], &k);
		rep_printf(o,
			   "  %d. %s %s %dx%d, %d tokens, %s: %llu cycles (%.1f%%), %llu calls, "
			   "%.2f bytes/cycle\n",
			   i + 1, k.kernel, k.dtype, k.rows, k.cols, k.tokens, k.isa,
			   (unsigned long long)k.cycles, percent(k.cycles, total),
			   (unsigned long long)k.calls,
			   k.cycles ? (double)k.bytes / (double)k.cycles : 0.0);
	}
	uint64_t dropped = profiler_kernels_dropped();
	if (dropped)
		rep_printf(
		    o,
		    "  %llu kernel calls not recorded: the table (PROFILER_MAX_KERNELS = %d) "
		    "is full\n",
		    (unsigned long long)dropped, PROFILER_MAX_KERNELS);
}

static void write_tiers(Report *o)
{
	int n = profiler_tier_count();
	if (n)
		rep_printf(o, "Tier-up (cycles per call on the model's weights, one thread: tier 0 "
			      "scalar reference, 1 ahead-of-time SIMD, 2 compiled for this shape "
			      "and CPU)\n");
	for (int i = 0; i < n; i++) {
		const ProfileTierRecord *t = profiler_tier_get(i);
		const uint64_t *c = t->cycles_per_call;
		rep_printf(o, "  %s %s %dx%d, %d tokens: tier0 %llu, tier1 %llu, tier2 %llu",
			   t->kernel, t->dtype, t->rows, t->cols, t->tokens,
			   (unsigned long long)c[0], (unsigned long long)c[1],
			   (unsigned long long)c[2]);
		if (c[1] && c[2])
			rep_printf(o, ", x%.2f over tier 1", (double)c[1] / (double)c[2]);
		rep_printf(o, ", compile %.1f ms: %s\n", t->compile_ms, t->decision);
	}
}

void report_text(Report *o)
{
	uint64_t total = profiler_total_cycles();
	uint64_t hz = plat_cycles_hz();
	int zones = profiler_zone_count();
	ProfileRunFacts f;
	profile_run_facts(&f);
	rep_printf(
	    o, "=== Profile: %d zones, %llu cycles measured (%.3f ms; TSC %.3f MHz from %s) ===\n",
	    zones, (unsigned long long)total, cycles_ns(total) / 1e6, (double)hz / 1e6,
	    plat_cycles_source());
	if (!f.invariant_tsc)
		rep_printf(o,
			   "WARNING: CPUID 0x80000007 EDX bit 8 (invariant TSC) is clear: cycles "
			   "may not track time across frequency changes or sleeps\n");
	rep_printf(o,
		   "Zone overhead subtracted: %llu cycles inside each zone, %llu per nested zone "
		   "(clock %s)\n",
		   (unsigned long long)profiler_overhead_inside(),
		   (unsigned long long)profiler_overhead_pair(), profile_clock_name());
	uint64_t calls = 0;
	for (int i = 0; i < zones; i++) {
		ProfileZoneStats s;
		profiler_zone_stats(i, &s);
		write_zone(o, &s, total);
		calls += s.calls;
	}
	int64_t un = profiler_unattributed_cycles();
	uint64_t overhead = calls * profiler_overhead_pair();
	rep_printf(o,
		   "Unattributed: %lld cycles (%.1f%% of run): outside every zone, including about "
		   "%llu cycles of profiler overhead (%llu zone calls)\n",
		   (long long)un, un > 0 ? percent((uint64_t)un, total) : 0.0,
		   (unsigned long long)overhead, (unsigned long long)calls);
	if (f.depth_overflows || f.unbalanced || f.dropped || f.mismatched || f.path_full)
		rep_printf(
		    o,
		    "Anomalies: %llu zones deeper than PROFILER_MAX_DEPTH (%d) not timed, "
		    "%llu unbalanced ends, %llu dropped, %llu mismatched ends, path table %s\n",
		    (unsigned long long)f.depth_overflows, PROFILER_MAX_DEPTH,
		    (unsigned long long)f.unbalanced, (unsigned long long)f.dropped,
		    (unsigned long long)f.mismatched, f.path_full ? "FULL" : "ok");
	rep_printf(o, "Hot Paths (candidates for JIT -O3)\n");
	int hotlist[PROFILER_MAX_FUNCTIONS];
	int n = profiler_get_hot_paths(hotlist, PROFILER_MAX_FUNCTIONS);
	for (int i = 0; i < n; i++) {
		ProfileZoneStats s;
		profiler_zone_stats(hotlist[i], &s);
		rep_printf(o, "  %d. %s: %llu self cycles (%.1f%%), %llu calls\n", i + 1, s.name,
			   (unsigned long long)s.self_cycles, percent(s.self_cycles, total),
			   (unsigned long long)s.calls);
	}
	write_kernels(o, total);
	write_tiers(o);
}
