/* test_profiler.c: Check suite of core/profile's collector: nesting and self sums, overhead
 * subtraction, percentiles against an exact sort, call sites with varying names, work added
 * from pool threads, table limits, on a fake cycle counter; and one comparison of the real TSC
 * against clock_gettime on a busy loop. The reports are in test_profiler_reports.c. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/base/rng.h"
#include "core/kernels/fp16.h"
#include "core/kernels/matmul.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"
#include "test_profiler.h"
#include "tests.h"

/* The busy-loop comparison: profiler cycles -> ns against clock_gettime. */
#define BUSY_LOOP_NS 200000000ull
#define BUSY_LOOP_TRIES 3
#define MAX_TIME_ERROR_PERCENT 2.0

/* --- Fake clock: the tests set the time, the profiler reads it --- */

uint64_t fake_now;

static uint64_t fake_read(void)
{
	return fake_now;
}

void fake_setup(void)
{
	profiler_set_clock(fake_read);
	profiler_init();
	fake_now = 1000;
}

void fake_teardown(void)
{
	profiler_disable();
	profiler_set_clock(NULL);
}

uint64_t open_at(int zone, uint64_t t)
{
	fake_now = t;
	return profiler_start_zone(zone);
}

void close_at(int zone, uint64_t start, uint64_t t)
{
	fake_now = t;
	profiler_end(zone, start);
}

ProfileZoneStats stats(int zone)
{
	ProfileZoneStats s;
	ck_assert_msg(profiler_zone_stats(zone, &s) == 0, "stats of zone %d: %s", zone,
		      error_message());
	return s;
}

uint64_t self_sum(void)
{
	uint64_t sum = 0;
	for (int i = 0; i < profiler_zone_count(); i++)
		sum += stats(i).self_cycles;
	return sum;
}

/* Reads a whole file the profiler wrote into a static buffer. */
const char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot reopen %s", path);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

const char *temp_path(const char *ext)
{
	static char path[256];
	snprintf(path, sizeof path, "/tmp/test_profiler_%d.%s", (int)getpid(), ext);
	return path;
}

/* forward(1100..2100) > layer(1200..2000) > attention(1300..1600) > matmul(1400..1500),
 * then feed_forward(1600..1950) > matmul(1700..1900); the run is 1000..2200. */
void record_model_shape(int *fw, int *ly, int *at, int *ff, int *mm)
{
	*fw = profiler_register("forward");
	*ly = profiler_register("layer");
	*at = profiler_register("attention");
	*ff = profiler_register("feed_forward");
	*mm = profiler_register("matmul_int8");
	fake_now = 1000;
	profiler_enable();
	uint64_t t_fw = open_at(*fw, 1100);
	uint64_t t_ly = open_at(*ly, 1200);
	uint64_t t_at = open_at(*at, 1300);
	uint64_t t_mm = open_at(*mm, 1400);
	close_at(*mm, t_mm, 1500);
	close_at(*at, t_at, 1600);
	uint64_t t_ff = open_at(*ff, 1600);
	t_mm = open_at(*mm, 1700);
	close_at(*mm, t_mm, 1900);
	close_at(*ff, t_ff, 1950);
	close_at(*ly, t_ly, 2000);
	close_at(*fw, t_fw, 2100);
	fake_now = 2200;
	profiler_disable();
}

START_TEST(test_nesting_inclusive_and_self)
{
	int fw, ly, at, ff, mm;
	record_model_shape(&fw, &ly, &at, &ff, &mm);
	ck_assert_msg(profiler_total_cycles() == 1200, "run total %llu, want 1200",
		      (unsigned long long)profiler_total_cycles());
	ck_assert_msg(stats(fw).inclusive_cycles == 1000, "forward inclusive %llu, want 1000",
		      (unsigned long long)stats(fw).inclusive_cycles);
	ck_assert_msg(stats(fw).self_cycles == 200, "forward self %llu, want 200",
		      (unsigned long long)stats(fw).self_cycles);
	ck_assert_msg(stats(ly).self_cycles == 150, "layer self %llu, want 800-300-350",
		      (unsigned long long)stats(ly).self_cycles);
	ck_assert_msg(stats(at).self_cycles == 200, "attention self %llu, want 300-100",
		      (unsigned long long)stats(at).self_cycles);
	ck_assert_msg(stats(ff).self_cycles == 150, "feed_forward self %llu, want 350-200",
		      (unsigned long long)stats(ff).self_cycles);
	ProfileZoneStats m = stats(mm);
	ck_assert_msg(m.calls == 2 && m.inclusive_cycles == 300 && m.self_cycles == 300,
		      "matmul calls %llu incl %llu self %llu, want 2/300/300",
		      (unsigned long long)m.calls, (unsigned long long)m.inclusive_cycles,
		      (unsigned long long)m.self_cycles);
	ck_assert_msg(m.min_cycles == 100 && m.max_cycles == 200 && m.avg_cycles == 150,
		      "matmul min/max/avg %llu/%llu/%llu, want 100/200/150",
		      (unsigned long long)m.min_cycles, (unsigned long long)m.max_cycles,
		      (unsigned long long)m.avg_cycles);
	ck_assert_msg(profiler_unattributed_cycles() == 200, "unattributed %lld, want 200",
		      (long long)profiler_unattributed_cycles());
	ck_assert_msg(self_sum() + (uint64_t)profiler_unattributed_cycles() ==
			  profiler_total_cycles(),
		      "self sum %llu + unattributed must equal the run total",
		      (unsigned long long)self_sum());
}
END_TEST

/* With costs set, each zone loses the inside cost and every nested zone's pair cost, and the
 * self sums still add up to the run total with the remainder. */
START_TEST(test_overhead_subtraction)
{
	int outer = profiler_register("outer");
	int inner = profiler_register("inner");
	profiler_set_overhead(10, 30);
	fake_now = 0;
	profiler_enable();
	uint64_t t0 = open_at(outer, 100);
	uint64_t t1 = open_at(inner, 200);
	close_at(inner, t1, 400);
	t1 = open_at(inner, 500);
	close_at(inner, t1, 700);
	close_at(outer, t0, 1100);
	fake_now = 1200;
	profiler_disable();
	ck_assert_msg(stats(inner).inclusive_cycles == 2 * 190, "inner inclusive %llu, want 2*190",
		      (unsigned long long)stats(inner).inclusive_cycles);
	ck_assert_msg(stats(outer).inclusive_cycles == 1000 - 10 - 2 * 30,
		      "outer inclusive %llu, want 1000 - 10 - 2*30",
		      (unsigned long long)stats(outer).inclusive_cycles);
	ck_assert_msg(stats(outer).self_cycles == 930 - 380, "outer self %llu, want 930 - 380",
		      (unsigned long long)stats(outer).self_cycles);
	ck_assert_msg(self_sum() + (uint64_t)profiler_unattributed_cycles() == 1200,
		      "self sum %llu + unattributed %lld must be the run total 1200",
		      (unsigned long long)self_sum(), (long long)profiler_unattributed_cycles());
	ck_assert_msg(profiler_overhead_inside() == 10 && profiler_overhead_pair() == 30,
		      "overheads read back %llu/%llu, want 10/30",
		      (unsigned long long)profiler_overhead_inside(),
		      (unsigned long long)profiler_overhead_pair());
}
END_TEST

/* 99 calls of 100 cycles and one of 10000: p50 is the common case, p99 the outlier's bucket. */
START_TEST(test_percentiles)
{
	int z = profiler_register("pct");
	profiler_enable();
	uint64_t t = 2000;
	for (int i = 0; i < 100; i++) {
		uint64_t len = i == 99 ? 10000 : 100;
		uint64_t s = open_at(z, t);
		close_at(z, s, t + len);
		t += len;
	}
	profiler_disable();
	ProfileZoneStats s = stats(z);
	ck_assert_msg(s.p50_cycles >= 100 && s.p50_cycles < 128, "p50 %llu, want in [100, 128)",
		      (unsigned long long)s.p50_cycles);
	ck_assert_msg(s.p99_cycles >= 8192 && s.p99_cycles <= 10000,
		      "p99 %llu, want in [8192, 10000]", (unsigned long long)s.p99_cycles);
}
END_TEST

/* Percentiles against an exact sort on known distributions: within 3 % (the histogram's
 * bound is 1/64). The reference is the call of rank q * calls in ascending order. */
enum { DIST_CALLS = 2000 };

static uint64_t draw(int dist, Rng *r, int i)
{
	double u = (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
	switch (dist) {
	case 0: /* uniform over two decades */
		return 1000 + (uint64_t)(u * 99000.0);
	case 1: /* bimodal: a fast path near 2000 and a slow one near 50000 */
		return i % 3 ? 1900 + (uint64_t)(u * 200.0) : 48000 + (uint64_t)(u * 4000.0);
	case 2: /* constant */
		return 4605413;
	default: { /* heavy tail: Pareto with alpha 1.2 from 500 cycles, capped at 10^9 */
		double v = 500.0 / pow(1.0 - u, 1.0 / 1.2);
		return v < 1e9 ? (uint64_t)v : 1000000000u;
	}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

START_TEST(test_percentiles_match_exact_sort)
{
	static const char *names[] = {"uniform", "bimodal", "constant", "heavy_tail"};
	static uint64_t v[DIST_CALLS];
	for (int d = 0; d < 4; d++) {
		Rng r;
		rng_seed(&r, 11 + (uint64_t)d);
		int z = profiler_register(names[d]);
		profiler_enable();
		uint64_t t = 10000;
		for (int i = 0; i < DIST_CALLS; i++) {
			v[i] = draw(d, &r, i);
			uint64_t s = open_at(z, t);
			close_at(z, s, t + v[i]);
			t += v[i] + 1;
		}
		profiler_disable();
		qsort(v, DIST_CALLS, sizeof v[0], cmp_u64);
		ProfileZoneStats s = stats(z);
		uint64_t want[2] = {v[DIST_CALLS / 2], v[DIST_CALLS * 99 / 100]};
		uint64_t got[2] = {s.p50_cycles, s.p99_cycles};
		for (int k = 0; k < 2; k++) {
			double err = 100.0 * ((double)got[k] - (double)want[k]) / (double)want[k];
			ck_assert_msg(err <= 3.0 && err >= -3.0,
				      "%s p%d: %llu, exact %llu (%.2f%%)", names[d], k ? 99 : 50,
				      (unsigned long long)got[k], (unsigned long long)want[k], err);
		}
	}
}
END_TEST

START_TEST(test_hot_paths_ranked_by_self)
{
	int fw, ly, at, ff, mm;
	record_model_shape(&fw, &ly, &at, &ff, &mm);
	int hot[8];
	int n = profiler_get_hot_paths(hot, 8);
	ck_assert_msg(n == 5, "%d hot zones, want 5", n);
	ck_assert_msg(hot[0] == mm, "hottest is %d, want matmul_int8 (%d)", hot[0], mm);
	for (int i = 1; i < n; i++)
		ck_assert_msg(stats(hot[i - 1]).self_cycles >= stats(hot[i]).self_cycles,
			      "hot path %d is hotter than %d", i, i - 1);
	ck_assert_msg(profiler_get_hot_paths(hot, 2) == 2 && hot[0] == mm,
		      "a short list keeps the hottest first");
}
END_TEST

/* The macros the model uses: a fake clock step inside the zone is its whole time. */
static void macro_zone(uint64_t len)
{
	PROFILE_BEGIN(zone, "macro_zone");
	fake_now += len;
	PROFILE_END(zone);
}

START_TEST(test_macros)
{
	macro_zone(5); /* disabled: neither registered nor timed */
	profiler_enable();
	macro_zone(10);
	macro_zone(30);
	ck_assert_msg(profiler_total_cycles() == 40, "total while enabled %llu, want 40",
		      (unsigned long long)profiler_total_cycles());
	profiler_disable();
	int z = profiler_register("macro_zone");
	ProfileZoneStats m = stats(z);
	ck_assert_msg(m.calls == 2 && m.inclusive_cycles == 40 && m.min_cycles == 10 &&
			  m.max_cycles == 30,
		      "macro zone calls %llu incl %llu min %llu max %llu, want 2/40/10/30",
		      (unsigned long long)m.calls, (unsigned long long)m.inclusive_cycles,
		      (unsigned long long)m.min_cycles, (unsigned long long)m.max_cycles);
}
END_TEST

START_TEST(test_disabled_records_nothing)
{
	int z = profiler_register("idle");
	ck_assert_msg(!profiler_enabled(), "the profiler starts disabled");
	ck_assert_msg(profiler_start() == 0 && profiler_start_zone(z) == 0,
		      "starts return 0 while disabled");
	profiler_end(z, 0);
	ck_assert_msg(stats(z).calls == 0, "a disabled zone counted %llu calls",
		      (unsigned long long)stats(z).calls);
	ck_assert_msg(profiler_total_cycles() == 0, "no run yet, total %llu",
		      (unsigned long long)profiler_total_cycles());
}
END_TEST

START_TEST(test_register_full_is_an_error)
{
	static char names[PROFILER_MAX_FUNCTIONS + 1][16];
	int first = profiler_register("first");
	ck_assert_msg(profiler_register("first") == first, "the same name gets the same index");
	int i = 0;
	while (profiler_zone_count() < PROFILER_MAX_FUNCTIONS) {
		snprintf(names[i], sizeof names[i], "zone%d", i);
		ck_assert_msg(profiler_register(names[i]) >= 0, "zone%d must fit", i);
		i++;
	}
	static const char *extra = "one_too_many";
	for (int k = 0; k < 2; k++) { /* the second refusal takes the logged-once path */
		error_clear();
		ck_assert_msg(profiler_register(extra) == -1, "past the table must fail (try %d)",
			      k);
		ck_assert_msg(strstr(error_message(), "one_too_many") != NULL &&
				  strstr(error_message(), "PROFILER_MAX_FUNCTIONS") != NULL,
			      "the error names the zone and the limit: %s", error_message());
	}
	ck_assert_msg(profiler_register("first") == first, "known names still resolve when full");
}
END_TEST

START_TEST(test_depth_limit_drops_deep_zones)
{
	int z = profiler_register("deep");
	uint64_t starts[PROFILER_MAX_DEPTH + 4];
	profiler_enable();
	for (int d = 0; d < PROFILER_MAX_DEPTH + 4; d++)
		starts[d] = open_at(z, 2000 + (uint64_t)d);
	ck_assert_msg(starts[PROFILER_MAX_DEPTH] == 0,
		      "a zone past PROFILER_MAX_DEPTH is not timed");
	for (int d = PROFILER_MAX_DEPTH + 3; d >= 0; d--)
		close_at(z, starts[d], 3000);
	profiler_disable();
	ck_assert_msg(stats(z).calls == PROFILER_MAX_DEPTH, "%llu calls, want PROFILER_MAX_DEPTH",
		      (unsigned long long)stats(z).calls);
}
END_TEST

/* One call site whose name depends on a value, as matmul's dtype: each name keeps its own
 * count, both in runs (three then five) and when the names alternate. */
static void varying_site(const char *name, uint64_t len)
{
	PROFILE_BEGIN(zone, name);
	fake_now += len;
	PROFILE_END(zone);
}

START_TEST(test_varying_name_site)
{
	profiler_enable();
	for (int i = 0; i < 3; i++)
		varying_site("site_f32", 10);
	for (int i = 0; i < 5; i++)
		varying_site("site_f16", 20);
	for (int i = 0; i < 8; i++)
		varying_site(i % 2 ? "site_q8" : "site_f32", i % 2 ? 40 : 10);
	profiler_disable();
	ProfileZoneStats a = stats(profiler_register("site_f32"));
	ProfileZoneStats b = stats(profiler_register("site_f16"));
	ProfileZoneStats c = stats(profiler_register("site_q8"));
	ck_assert_msg(a.calls == 7 && a.inclusive_cycles == 70,
		      "site_f32 calls %llu cycles %llu, want 7/70", (unsigned long long)a.calls,
		      (unsigned long long)a.inclusive_cycles);
	ck_assert_msg(b.calls == 5 && b.inclusive_cycles == 100,
		      "site_f16 calls %llu cycles %llu, want 5/100", (unsigned long long)b.calls,
		      (unsigned long long)b.inclusive_cycles);
	ck_assert_msg(c.calls == 4 && c.inclusive_cycles == 160,
		      "site_q8 calls %llu cycles %llu, want 4/160", (unsigned long long)c.calls,
		      (unsigned long long)c.inclusive_cycles);
}
END_TEST

/* matmul's zone name depends on the weight type: three F32 matmuls then five F16 ones file
 * three calls under matmul_f32 and five under matmul_f16. */
START_TEST(test_matmul_zone_per_dtype)
{
	enum { ROWS = 8, COLS = 32 };
	static float w32[ROWS * COLS], x[COLS], y[ROWS];
	static uint16_t w16[ROWS * COLS];
	for (int i = 0; i < ROWS * COLS; i++) {
		w32[i] = (float)(i % 7) * 0.25f - 0.5f;
		w16[i] = fp32_to_fp16(w32[i]);
	}
	for (int i = 0; i < COLS; i++)
		x[i] = (float)i / COLS;
	Tensor f32 = {.type = DT_F32, .rows = ROWS, .cols = COLS, .data = w32};
	Tensor f16 = {.type = DT_F16, .rows = ROWS, .cols = COLS, .data = w16};
	size_t mark = arena_mark();
	MatmulScratch s;
	ck_assert_msg(matmul_scratch_init(&s, COLS) == 0, "matmul scratch");
	profiler_enable();
	for (int i = 0; i < 3; i++)
		matmul(y, &f32, x, &s);
	for (int i = 0; i < 5; i++)
		matmul(y, &f16, x, &s);
	profiler_disable();
	arena_reset(mark);
	uint64_t c32 = stats(profiler_register("matmul_f32")).calls;
	uint64_t c16 = stats(profiler_register("matmul_f16")).calls;
	ck_assert_msg(c32 == 3 && c16 == 5,
		      "matmul_f32 calls %llu, matmul_f16 calls %llu; want 3/5",
		      (unsigned long long)c32, (unsigned long long)c16);
}
END_TEST

/* Work filed by PROFILE_ADD counts as a child of the open zone: the parent's self cycles lose
 * it, its path runs under the parent, and the self sums still make up the run. */
START_TEST(test_add_zone_nests_under_open_zone)
{
	int parent = profiler_register("pool_parent");
	profiler_enable();
	uint64_t t = open_at(parent, 1100);
	PROFILE_ADD(pool, "pool_work", 300, 3);
	PROFILE_ADD(pool_twice, "pool_work", 90, 1);
	close_at(parent, t, 2100);
	PROFILE_ADD(outside, "pool_work", 50, 0); /* no calls: nothing filed */
	fake_now = 2200;
	profiler_disable();
	int child = profiler_register("pool_work");
	ProfileZoneStats c = stats(child);
	ck_assert_msg(c.calls == 4 && c.inclusive_cycles == 390 && c.self_cycles == 390,
		      "added zone calls %llu incl %llu self %llu, want 4/390/390",
		      (unsigned long long)c.calls, (unsigned long long)c.inclusive_cycles,
		      (unsigned long long)c.self_cycles);
	ck_assert_msg(c.min_cycles == 90 && c.max_cycles == 100,
		      "added zone min/max %llu/%llu, want 90/100 (cycles per call)",
		      (unsigned long long)c.min_cycles, (unsigned long long)c.max_cycles);
	ck_assert_msg(stats(parent).self_cycles == 1000 - 390, "parent self %llu, want 610",
		      (unsigned long long)stats(parent).self_cycles);
	ck_assert_msg(self_sum() + (uint64_t)profiler_unattributed_cycles() ==
			  profiler_total_cycles(),
		      "self sums and the remainder make up the run");
	const char *path = temp_path("added");
	ck_assert_msg(profiler_write_report(PROFILE_FOLDED, path) == 0, "folded: %s",
		      error_message());
	const char *text = slurp(path);
	unlink(path);
	ck_assert_msg(strstr(text, "pool_parent 610\n") &&
			  strstr(text, "pool_parent;pool_work 390\n"),
		      "added work sits under its parent:\n%s", text);
}
END_TEST

/* --- Real clock --- */

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The profiler's cycles for a 200 ms busy loop, converted with plat_cycles_hz(), against
 * clock_gettime over the same loop; best of three so that one preemption does not fail it. */
START_TEST(test_cycles_match_clock_gettime)
{
	profiler_set_clock(NULL);
	profiler_init();
	int z = profiler_register("busy_loop");
	ck_assert_msg(plat_cycles_hz() > 0, "the platform calibrated the TSC");
	double best = 1e9;
	for (int k = 0; k < BUSY_LOOP_TRIES; k++) {
		uint64_t before = stats(z).inclusive_cycles;
		profiler_enable();
		uint64_t n0 = mono_ns();
		PROFILE_BEGIN(busy, "busy_loop");
		while (mono_ns() - n0 < BUSY_LOOP_NS)
			;
		PROFILE_END(busy);
		uint64_t n1 = mono_ns();
		profiler_disable();
		double cyc_ns =
		    (double)(stats(z).inclusive_cycles - before) * 1e9 / (double)plat_cycles_hz();
		double err = 100.0 * (cyc_ns - (double)(n1 - n0)) / (double)(n1 - n0);
		if (err < 0)
			err = -err;
		if (err < best)
			best = err;
	}
	printf("profiler: busy loop of %llu ms, TSC vs clock_gettime error %.4f%%\n",
	       (unsigned long long)(BUSY_LOOP_NS / 1000000), best);
	ck_assert_msg(best <= MAX_TIME_ERROR_PERCENT, "TSC ns off by %.3f%% (limit %.1f%%)", best,
		      MAX_TIME_ERROR_PERCENT);
}
END_TEST

Suite *profiler_suite(void)
{
	Suite *s = suite_create("profiler");
	TCase *fake = tcase_create("fake_clock");
	tcase_add_checked_fixture(fake, fake_setup, fake_teardown);
	tcase_add_test(fake, test_nesting_inclusive_and_self);
	tcase_add_test(fake, test_overhead_subtraction);
	tcase_add_test(fake, test_percentiles);
	tcase_add_test(fake, test_percentiles_match_exact_sort);
	tcase_add_test(fake, test_hot_paths_ranked_by_self);
	tcase_add_test(fake, test_macros);
	tcase_add_test(fake, test_disabled_records_nothing);
	tcase_add_test(fake, test_depth_limit_drops_deep_zones);
	tcase_add_test(fake, test_varying_name_site);
	tcase_add_test(fake, test_add_zone_nests_under_open_zone);
	tcase_add_test(fake, test_matmul_zone_per_dtype);
	suite_add_tcase(s, fake);
	suite_add_tcase(s, profiler_reports_tcase());
	TCase *real = tcase_create("real_clock");
	tcase_set_timeout(real, 30);
	tcase_add_test(real, test_cycles_match_clock_gettime);
	suite_add_tcase(s, real);
	/* Last, because a full table stays full for later tests when Check does not fork. */
	TCase *limits = tcase_create("limits");
	tcase_add_checked_fixture(limits, fake_setup, fake_teardown);
	tcase_add_test(limits, test_register_full_is_an_error);
	suite_add_tcase(s, limits);
	return s;
}
