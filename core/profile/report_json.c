/* report_json.c: the profile as JSON: run figures, one object per zone, the hot paths, and the
 * kernel records ranked by cycles (the list the tier-up reads), and the features the run used
 * (features.h: what make image keeps). */
#include "core/profile/features.h"
#include "core/profile/profile_view.h"
#include "core/profile/profiler.h"
#include "core/profile/report.h"
#include "shim/platform.h"

static void write_zones(Report *o)
{
	for (int i = 0; i < profiler_zone_count(); i++) {
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
}

/* Exactly the keys kernel, dtype, rows, cols, tokens, isa, calls, cycles, bytes. */
static void write_kernels(Report *o)
{
	static int ranked[PROFILER_MAX_KERNELS];
	int n = profile_kernels_ranked(ranked, PROFILER_MAX_KERNELS);
	for (int i = 0; i < n; i++) {
		ProfileKernelStats k;
		profiler_kernel_stats(ranked[i], &k);
		rep_printf(o, "%s\n    {\"kernel\": ", i ? "," : "");
		rep_json_string(o, k.kernel);
		rep_printf(o, ", \"dtype\": ");
		rep_json_string(o, k.dtype);
		rep_printf(o, ", \"rows\": %d, \"cols\": %d, \"tokens\": %d, \"isa\": ", k.rows,
			   k.cols, k.tokens);
		rep_json_string(o, k.isa);
		rep_printf(o, ", \"calls\": %llu, \"cycles\": %llu, \"bytes\": %llu}",
			   (unsigned long long)k.calls, (unsigned long long)k.cycles,
			   (unsigned long long)k.bytes);
	}
	rep_printf(o, "%s]", n ? "\n  " : "");
}

/* The tier-up's records: cycles per call at tiers 0, 1, 2 (0: not run), compile ms, decision. */
static void write_tiers(Report *o)
{
	int n = profiler_tier_count();
	for (int i = 0; i < n; i++) {
		const ProfileTierRecord *t = profiler_tier_get(i);
		rep_printf(o, "%s\n    {\"kernel\": ", i ? "," : "");
		rep_json_string(o, t->kernel);
		rep_printf(o, ", \"dtype\": ");
		rep_json_string(o, t->dtype);
		rep_printf(o,
			   ", \"rows\": %d, \"cols\": %d, \"tokens\": %d, \"cycles_per_call\": "
			   "[%llu, %llu, %llu], \"compile_ms\": %.3f, \"decision\": ",
			   t->rows, t->cols, t->tokens, (unsigned long long)t->cycles_per_call[0],
			   (unsigned long long)t->cycles_per_call[1],
			   (unsigned long long)t->cycles_per_call[2], t->compile_ms);
		rep_json_string(o, t->decision);
		rep_put(o, "}", 1);
	}
	rep_printf(o, "%s]", n ? "\n  " : "");
}

/* What the run used (features.h), on one line, each row true or false: make image reads it. */
static void write_features(Report *o)
{
	rep_printf(o, ",\n  \"features\": {");
	for (int f = 0; f < FEAT_COUNT; f++)
		rep_printf(o, "%s\"%s\": %s", f ? ", " : "", feature_name((Feature)f),
			   feature_used((Feature)f) ? "true" : "false");
	rep_printf(o, "}");
}

void report_json(Report *o)
{
	uint64_t total = profiler_total_cycles();
	ProfileRunFacts f;
	profile_run_facts(&f);
	rep_printf(
	    o, "{\n  \"tsc_hz\": %llu,\n  \"tsc_source\": ", (unsigned long long)plat_cycles_hz());
	rep_json_string(o, plat_cycles_source());
	rep_printf(o,
		   ",\n  \"invariant_tsc\": %s,\n  \"clock\": \"%s\",\n  \"total_cycles\": %llu,\n"
		   "  \"total_ns\": %.0f,\n  \"zone_overhead_cycles\": %llu,\n"
		   "  \"zone_pair_overhead_cycles\": %llu,\n  \"unattributed_cycles\": %lld,\n"
		   "  \"path_table_full\": %s,\n  \"functions\": [",
		   f.invariant_tsc ? "true" : "false", profile_clock_name(),
		   (unsigned long long)total, cycles_ns(total),
		   (unsigned long long)profiler_overhead_inside(),
		   (unsigned long long)profiler_overhead_pair(),
		   (long long)profiler_unattributed_cycles(), f.path_full ? "true" : "false");
	write_zones(o);
	rep_printf(o, "\n  ],\n  \"hot_paths\": [");
	int hotlist[PROFILER_MAX_FUNCTIONS];
	int n = profiler_get_hot_paths(hotlist, PROFILER_MAX_FUNCTIONS);
	for (int i = 0; i < n; i++) {
		ProfileZoneStats s;
		profiler_zone_stats(hotlist[i], &s);
		if (i)
			rep_put(o, ", ", 2);
		rep_json_string(o, s.name);
	}
	rep_printf(o, "],\n  \"kernels_dropped\": %llu,\n  \"kernels\": [",
		   (unsigned long long)profiler_kernels_dropped());
	write_kernels(o);
	rep_printf(o, ",\n  \"tiers\": [");
	write_tiers(o);
	write_features(o);
	rep_printf(o, "\n}\n");
}
