/* test_profiler_reports.c: the profiler's reports on a fake cycle counter: folded stacks, JSON
 * (with the kernel records), SVG and text, escaping, and files that cannot be written. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/base/error.h"
#include "core/profile/profiler.h"
#include "test_profiler.h"

START_TEST(test_folded_stacks)
{
	int fw, ly, at, ff, mm;
	record_model_shape(&fw, &ly, &at, &ff, &mm);
	const char *path = temp_path("folded");
	ck_assert_msg(profiler_write_report(PROFILE_FOLDED, path) == 0, "folded: %s",
		      error_message());
	const char *text = slurp(path);
	unlink(path);
	const char *want = "forward 200\n"
			   "forward;layer 150\n"
			   "forward;layer;attention 200\n"
			   "forward;layer;attention;matmul_int8 100\n"
			   "forward;layer;feed_forward 150\n"
			   "forward;layer;feed_forward;matmul_int8 200\n"
			   "(unattributed) 200\n";
	ck_assert_msg(strcmp(text, want) == 0, "folded stacks:\n%s\nwant:\n%s", text, want);
}
END_TEST

/* Zones opened with the seed's profiler_start() learn their name at the end; their children
 * are filed under "?" because the parent was unnamed while they ran. */
START_TEST(test_seed_api_start)
{
	int outer = profiler_register("outer_seed");
	int inner = profiler_register("inner_seed");
	profiler_enable();
	fake_now = 1100;
	uint64_t t0 = profiler_start();
	fake_now = 1200;
	uint64_t t1 = profiler_start();
	close_at(inner, t1, 1300);
	close_at(outer, t0, 1500);
	profiler_disable();
	ck_assert_msg(stats(outer).self_cycles == 300 && stats(inner).self_cycles == 100,
		      "seed zones self %llu/%llu, want 300/100",
		      (unsigned long long)stats(outer).self_cycles,
		      (unsigned long long)stats(inner).self_cycles);
	const char *path = temp_path("seed");
	ck_assert_msg(profiler_write_report(PROFILE_FOLDED, path) == 0, "folded: %s",
		      error_message());
	const char *text = slurp(path);
	unlink(path);
	ck_assert_msg(strstr(text, "outer_seed 300\n") && strstr(text, "?;inner_seed 100\n"),
		      "seed folded stacks:\n%s", text);
}
END_TEST

START_TEST(test_path_table_overflow)
{
	static char names[32][16];
	int ids[32];
	for (int i = 0; i < 32; i++) {
		snprintf(names[i], sizeof names[i], "p%d", i);
		ids[i] = profiler_register(names[i]);
	}
	profiler_enable();
	error_clear();
	uint64_t t = 2000;
	/* 32 parents x 32 children = 1056 paths with the parents: more than the table holds. */
	for (int a = 0; a < 32; a++) {
		uint64_t ta = open_at(ids[a], t++);
		for (int b = 0; b < 32; b++) {
			uint64_t tb = open_at(ids[b], t++);
			close_at(ids[b], tb, t++);
		}
		close_at(ids[a], ta, t++);
	}
	profiler_disable();
	ck_assert_msg(strstr(error_message(), "PROFILER_MAX_PATHS") != NULL,
		      "the overflow sets an error naming the limit: %s", error_message());
	ck_assert_msg(profiler_write_report(PROFILE_FOLDED, temp_path("full")) == -1,
		      "folded stacks of a full table are reported incomplete");
	unlink(temp_path("full"));
	ck_assert_msg(self_sum() + (uint64_t)profiler_unattributed_cycles() ==
			  profiler_total_cycles(),
		      "zone figures stay whole when paths overflow");
}
END_TEST

START_TEST(test_json_and_escaping)
{
	int z = profiler_register("odd \"name\" <&>");
	profiler_enable();
	uint64_t s = open_at(z, 1500);
	close_at(z, s, 1700);
	fake_now = 2000;
	profiler_disable();
	const char *path = temp_path("json");
	ck_assert_msg(profiler_write_report(PROFILE_JSON, path) == 0, "json: %s", error_message());
	const char *text = slurp(path);
	unlink(path);
	const char *keys[] = {"\"tsc_hz\"",
			      "\"tsc_source\"",
			      "\"total_cycles\": 1000",
			      "\"zone_overhead_cycles\"",
			      "\"unattributed_cycles\": 800",
			      "\"functions\": [",
			      "\"name\": \"odd \\\"name\\\" <&>\"",
			      "\"calls\": 1",
			      "\"inclusive_cycles\": 200",
			      "\"self_cycles\": 200",
			      "\"min_cycles\": 200",
			      "\"max_cycles\": 200",
			      "\"p50_cycles\": 200",
			      "\"p99_cycles\": 200"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		ck_assert_msg(strstr(text, keys[i]) != NULL, "JSON lacks %s:\n%s", keys[i], text);
}
END_TEST

START_TEST(test_svg_is_escaped_xml)
{
	int fw, ly, at, ff, mm;
	record_model_shape(&fw, &ly, &at, &ff, &mm);
	int z = profiler_register("a<b&c");
	profiler_enable();
	uint64_t s = open_at(z, 2300);
	close_at(z, s, 2400);
	profiler_disable();
	const char *path = temp_path("svg");
	ck_assert_msg(profiler_write_svg(path) == 0, "svg: %s", error_message());
	const char *text = slurp(path);
	unlink(path);
	ck_assert_msg(strncmp(text, "<?xml", 5) == 0, "SVG starts with the XML declaration");
	ck_assert_msg(strstr(text, "</svg>\n") != NULL, "SVG is closed");
	ck_assert_msg(strstr(text, "a&lt;b&amp;c") != NULL, "names are escaped");
	ck_assert_msg(strstr(text, "a<b") == NULL, "no raw '<' from a name");
	ck_assert_msg(strstr(text, "forward;layer;attention;matmul_int8") != NULL,
		      "boxes carry their stack path");
	ck_assert_msg(strstr(text, "TinyLlama profile") != NULL, "the chart has a title");
}
END_TEST

START_TEST(test_text_report_layout)
{
	int fw, ly, at, ff, mm;
	record_model_shape(&fw, &ly, &at, &ff, &mm);
	const char *path = temp_path("txt");
	ck_assert_msg(profiler_write_report(PROFILE_TEXT, path) == 0, "text: %s", error_message());
	const char *text = slurp(path);
	unlink(path);
	const char *parts[] = {"=== Profile:",
			       "Function: matmul_int8",
			       "Calls: 2",
			       "Total cycles: 300",
			       "Self cycles: 300",
			       "Min cycles: 100",
			       "Max cycles: 200",
			       "Avg cycles: 150",
			       "p50 cycles:",
			       "Unattributed: 200",
			       "Hot Paths (candidates for JIT -O3)\n  1. matmul_int8"};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		ck_assert_msg(strstr(text, parts[i]) != NULL, "text report lacks \"%s\":\n%s",
			      parts[i], text);
}
END_TEST

START_TEST(test_refused_file_is_an_error)
{
	error_clear();
	ck_assert_msg(profiler_write_report(PROFILE_JSON, "/nonexistent-dir/p.json") == -1,
		      "an unwritable path fails");
	ck_assert_msg(strstr(error_message(), "not written") != NULL,
		      "the error says the report went nowhere: %s", error_message());
	ck_assert_msg(profiler_write_svg("/nonexistent-dir/p.svg") == -1,
		      "an unwritable SVG path fails");
}
END_TEST

/* Records merge by content (not by pointer), rank by cycles in the JSON with exactly the
 * documented keys, clear on init and do nothing while disabled. */
START_TEST(test_kernel_records)
{
	char dtype_copy[] = "q8_0";
	profiler_kernel_record("q8_dot", "q8_0", 64, 32, 1, "avx2", 100, 1000); /* disabled */
	ck_assert_int_eq(profiler_kernel_count(), 0);
	profiler_enable();
	profiler_kernel_record("q8_dot", "q8_0", 64, 32, 1, "avx2", 100, 2176);
	profiler_kernel_record("q8_dot", dtype_copy, 64, 32, 1, "avx2", 150, 2176);
	profiler_kernel_record("q8_dot", "q8_0", 64, 32, 16, "avx2", 900, 2176);
	profiler_kernel_record("f32_dot", "f32", 10, 32, 1, "scalar", 50, 1280);
	profiler_disable();
	ck_assert_int_eq(profiler_kernel_count(), 3);
	ProfileKernelStats k;
	ck_assert_int_eq(profiler_kernel_stats(0, &k), 0);
	ck_assert_msg(!strcmp(k.kernel, "q8_dot") && !strcmp(k.dtype, "q8_0") && k.rows == 64 &&
			  k.cols == 32 && k.tokens == 1 && !strcmp(k.isa, "avx2") && k.calls == 2 &&
			  k.cycles == 250 && k.bytes == 2 * 2176,
		      "record 0: %s %s %dx%d t%d %s calls %llu cycles %llu bytes %llu", k.kernel,
		      k.dtype, k.rows, k.cols, k.tokens, k.isa, (unsigned long long)k.calls,
		      (unsigned long long)k.cycles, (unsigned long long)k.bytes);
	ck_assert_msg(profiler_kernel_stats(3, &k) == -1, "no record 3");
	const char *path = temp_path("kjson");
	ck_assert_msg(profiler_write_report(PROFILE_JSON, path) == 0, "json: %s", error_message());
	const char *text = slurp(path);
	unlink(path);
	const char *want =
	    "\"kernels\": [\n"
	    "    {\"kernel\": \"q8_dot\", \"dtype\": \"q8_0\", \"rows\": 64, \"cols\": 32, "
	    "\"tokens\": 16, \"isa\": \"avx2\", \"calls\": 1, \"cycles\": 900, \"bytes\": 2176},\n"
	    "    {\"kernel\": \"q8_dot\", \"dtype\": \"q8_0\", \"rows\": 64, \"cols\": 32, "
	    "\"tokens\": 1, \"isa\": \"avx2\", \"calls\": 2, \"cycles\": 250, \"bytes\": 4352},\n"
	    "    {\"kernel\": \"f32_dot\", \"dtype\": \"f32\", \"rows\": 10, \"cols\": 32, "
	    "\"tokens\": 1, \"isa\": \"scalar\", \"calls\": 1, \"cycles\": 50, \"bytes\": 1280}\n"
	    "  ]";
	ck_assert_msg(strstr(text, want) != NULL, "JSON kernels:\n%s\nwant:\n%s", text, want);
	ck_assert_msg(strstr(text, "\"kernels_dropped\": 0") != NULL, "JSON counts drops");
	profiler_init();
	ck_assert_msg(profiler_kernel_count() == 0, "profiler_init clears the records");
}
END_TEST

/* Past PROFILER_MAX_KERNELS, new keys are counted as dropped; known keys still update. */
START_TEST(test_kernel_table_full_counts_drops)
{
	profiler_enable();
	for (int i = 0; i < PROFILER_MAX_KERNELS + 5; i++)
		profiler_kernel_record("k", "f32", i + 1, 8, 1, "scalar", 10, 32);
	profiler_kernel_record("k", "f32", 1, 8, 1, "scalar", 10, 32);
	profiler_disable();
	ck_assert_int_eq(profiler_kernel_count(), PROFILER_MAX_KERNELS);
	ck_assert_msg(profiler_kernels_dropped() == 5, "%llu dropped, want 5",
		      (unsigned long long)profiler_kernels_dropped());
	ProfileKernelStats k;
	profiler_kernel_stats(0, &k);
	ck_assert_msg(k.calls == 2, "a known key still counts when the table is full");
	const char *path = temp_path("ktxt");
	ck_assert_msg(profiler_write_report(PROFILE_TEXT, path) == 0, "text: %s", error_message());
	const char *text = slurp(path);
	unlink(path);
	ck_assert_msg(strstr(text, "5 kernel calls not recorded") != NULL &&
			  strstr(text, "Kernels by cycles (top 10 of 256 records)") != NULL,
		      "the text report lists the top records and the drops:\n%s", text);
}
END_TEST

TCase *profiler_reports_tcase(void)
{
	TCase *t = tcase_create("reports");
	tcase_add_checked_fixture(t, fake_setup, fake_teardown);
	tcase_add_test(t, test_folded_stacks);
	tcase_add_test(t, test_seed_api_start);
	tcase_add_test(t, test_path_table_overflow);
	tcase_add_test(t, test_json_and_escaping);
	tcase_add_test(t, test_svg_is_escaped_xml);
	tcase_add_test(t, test_text_report_layout);
	tcase_add_test(t, test_refused_file_is_an_error);
	tcase_add_test(t, test_kernel_records);
	tcase_add_test(t, test_kernel_table_full_counts_drops);
	return t;
}
