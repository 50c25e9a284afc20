/* test_registry.c: core/kernels/registry.c (the kernel table: per-ISA rows, slot names,
 * replacement by name), the kernel records a profiled matmul leaves, and CORE_ASSERT (in
 * builds with the checks on: SAN=1). */
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base/arena.h"
#include "core/base/core_assert.h"
#include "core/kernels/matmul.h"
#include "core/kernels/quantize.h"
#include "core/kernels/registry.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"
#include "tests.h"

static int slot_index(const char *name)
{
	for (int i = 0; i < kernels_slot_count(); i++)
		if (!strcmp(kernels_slot_name(i), name))
			return i;
	return -1;
}

/* Names are distinct, the list ends, and every ISA's row fills every slot but the optional
 * tile. */
START_TEST(test_slots_named_and_filled)
{
	int n = kernels_slot_count();
	ck_assert_msg(n == (int)(sizeof(Kernels) / sizeof(KernelFn)), "%d slots for %d members", n,
		      (int)(sizeof(Kernels) / sizeof(KernelFn)));
	ck_assert_msg(kernels_slot_name(n) == NULL && kernels_slot_name(-1) == NULL,
		      "no names past the ends");
	for (int i = 0; i < n; i++)
		for (int k = i + 1; k < n; k++)
			ck_assert_msg(strcmp(kernels_slot_name(i), kernels_slot_name(k)),
				      "slot %d and %d share the name %s", i, k,
				      kernels_slot_name(i));
	for (int isa = ISA_SCALAR; isa < ISA_COUNT; isa++) {
		if (!isa_supported((Isa)isa))
			continue;
		kernels_select((Isa)isa);
		ck_assert_msg(kernels_isa() == (Isa)isa, "selected %s", isa_name((Isa)isa));
		for (int i = 0; i < n; i++)
			ck_assert_msg(
			    kernels_slot_get(i) || !strcmp(kernels_slot_name(i), "dot_q8_0_tile"),
			    "%s leaves %s empty", isa_name((Isa)isa), kernels_slot_name(i));
	}
	ck_assert_msg(kernels_slot_get(slot_index("dot_q8_0")) == (KernelFn)kernels.dot_q8_0,
		      "a slot reads the table's member");
	kernels_select(ISA_SCALAR);
}
END_TEST

static int calls;
static float counting_dot(const BlockQ8_0 *w, const int8_t *xq, const float *xd,
			  const int32_t *xsum, int nb)
{
	calls++;
	return qdot_q8_ref(w, xq, xd, xsum, nb);
}

/* kernels_replace sets one entry by name, matmul runs it, and kernels_select puts the ISA's
 * row back; an unknown name is refused. */
START_TEST(test_replace_by_name)
{
	enum { ROWS = 8, COLS = 64 };
	size_t mark = arena_mark();
	float w[ROWS * COLS], x[COLS], want[ROWS], got[ROWS];
	for (int i = 0; i < ROWS * COLS; i++)
		w[i] = (float)(i % 7) - 3.0f;
	for (int i = 0; i < COLS; i++)
		x[i] = (float)(i % 5) * 0.25f;
	BlockQ8_0 q[ROWS * COLS / QK8_0];
	quantize_row_q8_0(w, q, ROWS * COLS);
	Tensor t = {.type = DT_Q8_0, .rows = ROWS, .cols = COLS, .data = q};
	MatmulScratch s;
	ck_assert_msg(matmul_scratch_init(&s, COLS) == 0, "scratch");
	kernels_select(ISA_SCALAR);
	matmul(want, &t, x, &s);
	ck_assert_msg(kernels_replace("dot_q8_0", (KernelFn)counting_dot) == 0, "replace");
	calls = 0;
	matmul(got, &t, x, &s);
	ck_assert_msg(calls == ROWS, "the replaced entry ran %d times, want %d", calls, ROWS);
	ck_assert_msg(!memcmp(got, want, sizeof want), "same bits through the replaced entry");
	kernels_select(ISA_SCALAR);
	calls = 0;
	matmul(got, &t, x, &s);
	ck_assert_msg(calls == 0, "kernels_select restores the row");
	ck_assert_msg(kernels_replace("dot_q9", (KernelFn)counting_dot) < 0,
		      "an unknown name is refused");
	arena_reset(mark);
}
END_TEST

/* A profiled matmul leaves one record per call, named by the entry it ran. */
START_TEST(test_matmul_kernel_record)
{
	enum { ROWS = 8, COLS = 64 };
	size_t mark = arena_mark();
	static float w[ROWS * COLS], x[COLS], y[ROWS];
	Tensor t = {.type = DT_F32, .rows = ROWS, .cols = COLS, .data = w};
	MatmulScratch s;
	ck_assert_msg(matmul_scratch_init(&s, COLS) == 0, "scratch");
	kernels_select(ISA_SCALAR);
	profiler_init();
	profiler_enable();
	for (int i = 0; i < 3; i++)
		matmul(y, &t, x, &s);
	profiler_disable();
	ck_assert_msg(profiler_kernel_count() == 1, "%d records", profiler_kernel_count());
	ProfileKernelStats k;
	ck_assert(profiler_kernel_stats(0, &k) == 0);
	ck_assert_msg(slot_index(k.kernel) >= 0, "record names '%s', not a registry entry",
		      k.kernel);
	ck_assert_msg(!strcmp(k.kernel, "dot_f32") && !strcmp(k.dtype, "F32") &&
			  !strcmp(k.isa, "scalar"),
		      "record %s %s %s", k.kernel, k.dtype, k.isa);
	ck_assert_msg(k.rows == ROWS && k.cols == COLS && k.tokens == 1 && k.calls == 3,
		      "record %dx%d, %d tokens, %llu calls", k.rows, k.cols, k.tokens,
		      (unsigned long long)k.calls);
	ck_assert_msg(k.bytes == 3ull * ROWS * COLS * sizeof(float), "bytes %llu",
		      (unsigned long long)k.bytes);
	profiler_init();
	arena_reset(mark);
}
END_TEST

#ifdef CORE_CHECKS
static void broken_precondition(int n)
{
	CORE_ASSERT(n % 32 == 0);
}

/* A failed CORE_ASSERT writes one error line naming the condition and exits with status 1. */
START_TEST(test_core_assert_stops)
{
	int fds[2];
	ck_assert(pipe(fds) == 0);
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		broken_precondition(33);
		_exit(0); /* not reached when the check works */
	}
	close(fds[1]);
	char buf[256] = {0};
	size_t got = 0;
	for (ssize_t r;
	     got < sizeof buf - 1 && (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0;)
		got += (size_t)r;
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "exit status %d", status);
	ck_assert_msg(got > 0 && !strncmp(buf, "error: assertion failed: n % 32 == 0 (", 38),
		      "message: %s", buf);
	broken_precondition(64); /* holds: returns */
}
END_TEST
#endif

Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("registry");
	tcase_add_test(tc, test_slots_named_and_filled);
	tcase_add_test(tc, test_replace_by_name);
	tcase_add_test(tc, test_matmul_kernel_record);
#ifdef CORE_CHECKS
	tcase_add_test(tc, test_core_assert_stops);
#endif
	suite_add_tcase(s, tc);
	return s;
}
