/* bench_profiler.c: prints what one profiler zone costs, in cycles, enabled (rdtscp+lfence and
 * plain rdtsc), disabled and compiled out, what a kernel record and a PROFILE_ADD cost, and the
 * machine it ran on.
 * Built twice (see bench/bench.mk): with -DBENCH_PROFILER_LOOP_ONLY -DPROFILER_COMPILED_OUT it
 * only defines bench_zone_loop_out(), the same loop with the macros compiled out. */
#include <stdint.h>

#include "core/profile/profiler.h"
#include "shim/platform.h"

#ifdef PROFILER_COMPILED_OUT
#define BENCH_ZONE_LOOP bench_zone_loop_out
#else
#define BENCH_ZONE_LOOP bench_zone_loop_in
#endif

uint64_t BENCH_ZONE_LOOP(int n, volatile uint64_t *sink);

/* n zones around one store each: the body is tiny so that the loop measures the zone.
 * noinline keeps both builds of the loop the same shape apart from the macros. */
__attribute__((noinline)) uint64_t BENCH_ZONE_LOOP(int n, volatile uint64_t *sink)
{
	uint64_t t0 = plat_cycles_ordered();
	for (int i = 0; i < n; i++) {
		PROFILE_BEGIN(zone, "bench_zone");
		*sink += (uint64_t)i;
		PROFILE_END(zone);
	}
	return plat_cycles_ordered() - t0;
}

#ifndef BENCH_PROFILER_LOOP_ONLY

/* Kernel records over the 7 matmul shapes of a layer, as the forward pass makes them. */
static uint64_t bench_kernel_record_loop(int n, volatile uint64_t *sink)
{
	static const int rows[7] = {2048, 256, 256, 2048, 5632, 5632, 2048};
	static const int cols[7] = {2048, 2048, 2048, 2048, 2048, 2048, 5632};
	uint64_t t0 = plat_cycles_ordered();
	for (int i = 0; i < n; i++)
		profiler_kernel_record("q8_0_dot", "q8_0", rows[i % 7], cols[i % 7], 1, "avx2",
				       *sink + 1000, 34);
	return plat_cycles_ordered() - t0;
}

/* Work filed by PROFILE_ADD inside one open zone. */
static uint64_t bench_add_loop(int n, volatile uint64_t *sink)
{
	uint64_t t0 = plat_cycles_ordered();
	PROFILE_BEGIN(parent, "bench_parent");
	for (int i = 0; i < n; i++)
		PROFILE_ADD(added, "bench_added", *sink + 1000, 1);
	PROFILE_END(parent);
	return plat_cycles_ordered() - t0;
}

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shim/host/host.h"

uint64_t bench_zone_loop_out(int n, volatile uint64_t *sink);

/* Zones per timed loop and loops per figure: the best of the loops drops interrupts. */
#define BENCH_ZONES 100000
#define BENCH_REPEATS 30

typedef uint64_t (*bench_loop_fn)(int n, volatile uint64_t *sink);

static double best_cycles(bench_loop_fn fn)
{
	static volatile uint64_t sink;
	uint64_t best = UINT64_MAX;
	for (int r = 0; r < BENCH_REPEATS; r++) {
		uint64_t c = fn(BENCH_ZONES, &sink);
		if (c < best)
			best = c;
	}
	return (double)best;
}

static void print_machine(void)
{
	char model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f)) {
			char *colon = strchr(line, ':');
			if (!strncmp(line, "model name", 10) && colon) {
				snprintf(model, sizeof model, "%s", colon + 2);
				model[strcspn(model, "\n")] = 0;
				break;
			}
		}
		fclose(f);
	}
	char date[64];
	time_t now = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
	printf("machine: %s\n", model);
	printf("date:    %s\n", date);
	printf("tsc:     %.3f MHz (from %s)\n", (double)plat_cycles_hz() / 1e6,
	       plat_cycles_source());
}

int main(void)
{
	host_platform_init(64ull << 20);
	print_machine();
	profiler_init();
	printf("zones per loop: %d, best of %d loops; cycles per zone = (loop - compiled-out loop) "
	       "/ zones\n",
	       BENCH_ZONES, BENCH_REPEATS);

	double out = best_cycles(bench_zone_loop_out);
	double off = best_cycles(bench_zone_loop_in);

	profiler_set_ordered(true);
	uint64_t in_ordered = profiler_overhead_inside(), pair_ordered = profiler_overhead_pair();
	profiler_enable();
	double on_ordered = best_cycles(bench_zone_loop_in);
	profiler_disable();

	profiler_set_ordered(false);
	uint64_t in_plain = profiler_overhead_inside(), pair_plain = profiler_overhead_pair();
	profiler_enable();
	double on_plain = best_cycles(bench_zone_loop_in);
	double record = best_cycles(bench_kernel_record_loop);
	double add = best_cycles(bench_add_loop);
	profiler_disable();

	printf("compiled out:             %6.1f cycles per loop iteration (the baseline)\n",
	       out / BENCH_ZONES);
	printf("disabled:                 %6.1f cycles per zone\n", (off - out) / BENCH_ZONES);
	printf("enabled, rdtscp+lfence:   %6.1f cycles per zone (profiler's own estimate: %llu "
	       "inside, %llu per pair)\n",
	       (on_ordered - out) / BENCH_ZONES, (unsigned long long)in_ordered,
	       (unsigned long long)pair_ordered);
	printf("enabled, rdtsc:           %6.1f cycles per zone (profiler's own estimate: %llu "
	       "inside, %llu per pair)\n",
	       (on_plain - out) / BENCH_ZONES, (unsigned long long)in_plain,
	       (unsigned long long)pair_plain);
	printf("kernel record:            %6.1f cycles per call (7 shapes in turn)\n",
	       record / BENCH_ZONES);
	printf("PROFILE_ADD:              %6.1f cycles per call\n", add / BENCH_ZONES);
	printf("target: <= 50 cycles per zone enabled\n");
	return 0;
}

#endif
