/* test_base.c: core/base's arena (exhaustion, alignment, mark/reset, the ASan redzones of
 * the SAN=1 build) and core/io/console's text through serial_puts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/io/console.h"
#include "tests.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

START_TEST(test_arena_exhaustion_sets_error)
{
	error_clear();
	size_t used = arena_used();
	void *p = arena_alloc(arena_capacity() - used + 1, 8, "a test block");
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(arena_used(), used);
	const char *msg = error_message();
	ck_assert_msg(strstr(msg, "arena exhausted: a test block needs") != NULL, "%s", msg);
	ck_assert_ptr_null(malloc_simple(arena_capacity() + 1));
	ck_assert_msg(strstr(error_message(), "malloc_simple") != NULL, "%s", error_message());
}
END_TEST

START_TEST(test_arena_alignment_and_reset)
{
	size_t mark = arena_mark();
	uint8_t *q = malloc_simple(100);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq((uintptr_t)q % 64, 0);
	memset(q, 0, 100);
	for (size_t align = 1; align <= 4096; align *= 2) {
		uint8_t *p = arena_alloc(3, align, "aligned");
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % align, 0);
		memset(p, 0xab, 3);
	}
	ck_assert_uint_gt(arena_used(), mark);
	arena_reset(mark);
	ck_assert_uint_eq(arena_used(), mark);
	/* The same request after a reset gets the same block back. */
	ck_assert_ptr_eq(malloc_simple(100), q);
	arena_reset(mark);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
/* The bytes of an allocation are addressable, the ones after it and those given back by a
 * reset are not. */
START_TEST(test_arena_poisoning)
{
	size_t mark = arena_mark();
	uint8_t *p = arena_alloc(13, 8, "poisoning");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(__asan_region_is_poisoned(p, 13));
	ck_assert(__asan_address_is_poisoned(p + 13));
	ck_assert(__asan_address_is_poisoned(p + 63));
	uint8_t *q = malloc_simple(64);
	ck_assert(q > p + 13);
	ck_assert_ptr_null(__asan_region_is_poisoned(q, 64));
	ck_assert(__asan_address_is_poisoned(q + 64));
	arena_reset(mark);
	ck_assert(__asan_address_is_poisoned(p));
	ck_assert(__asan_address_is_poisoned(q));
}
END_TEST

/* A read one byte past an arena allocation ends the (forked) test through ASan's report,
 * exit status 1; the report itself goes to /dev/null. */
START_TEST(test_arena_overrun_is_caught)
{
	volatile uint8_t *p = arena_alloc(40, 8, "overrun");
	ck_assert_ptr_nonnull((void *)p);
	fflush(stderr);
	FILE *null = freopen("/dev/null", "w", stderr);
	ck_assert_ptr_nonnull(null);
	uint8_t past = p[40];
	(void)past;
	_exit(0); /* not reached under ASan */
}
END_TEST
#endif

/* out_printf hands text to serial_puts in pieces: all of a text longer than one piece
 * arrives, in order (stdout's descriptor points at a file for the test, then back, so that a
 * run without fork (valgrind) keeps its stdout). */
START_TEST(test_console_text_arrives_whole)
{
	char path[] = "/tmp/test_console_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
	char want[1000];
	for (int i = 0; i < 999; i++)
		want[i] = (char)('a' + i % 26);
	want[999] = 0;
	out_printf("%s|%d\n", want, 42);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	char got[1100] = {0};
	ssize_t n = pread(fd, got, sizeof got - 1, 0);
	close(fd);
	unlink(path);
	ck_assert_int_eq(n, 999 + 4);
	ck_assert_int_eq(memcmp(got, want, 999), 0);
	ck_assert_str_eq(got + 999, "|42\n");
}
END_TEST

Suite *base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("arena");
	tcase_add_test(tc, test_arena_exhaustion_sets_error);
	tcase_add_test(tc, test_arena_alignment_and_reset);
#if defined(__SANITIZE_ADDRESS__)
	tcase_add_test(tc, test_arena_poisoning);
	tcase_add_exit_test(tc, test_arena_overrun_is_caught, 1);
#endif
	suite_add_tcase(s, tc);
	tc = tcase_create("console");
	tcase_add_test(tc, test_console_text_arrives_whole);
	suite_add_tcase(s, tc);
	return s;
}
