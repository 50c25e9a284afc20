/* test_registry.c: core/kernels/registry.c (the kernel table: per-ISA rows, slot names,
 * replacement by name), the kernel records a profiled matmul and forward pass leave, and
 * CORE_ASSERT (in builds with the checks on: SAN=1). */
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base/arena.h"
#include "core/base/core_assert.h"
#include "core/formats/synth.h"
#include "core/kernels/matmul.h"
#include "core/kernels/quantize.h"
#include "core/kernels/registry.h"
#include "core/model/model.h"
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

/* The slots an ISA may leave empty: the prompt tiles and the K-quant batches (their batch or
 * one-token entries run prompts then), and the K-quant row pairs (the one-row entries run each
 * row then). */
static bool optional_slot(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && !strcmp(name + n - 5, "_tile")) ||
	       (strcmp(name, "dot_q8_0_batch") && n > 6 && !strcmp(name + n - 6, "_batch")) ||
	       (n > 3 && !strcmp(name + n - 3, "_x2"));
}

/* Names are distinct, the list ends, and every ISA's row fills every slot but the optional
 * ones. */
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
			ck_assert_msg(kernels_slot_get(i) || optional_slot(kernels_slot_name(i)),
				      "%s leaves %s empty", isa_name((Isa)isa),
				      kernels_slot_name(i));
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

/* The record of kernel with tokens tokens per call, or a zeroed one. */
static ProfileKernelStats find_record(const char *kernel, int tokens)
{
	ProfileKernelStats k;
	for (int i = 0; i < profiler_kernel_count(); i++)
		if (profiler_kernel_stats(i, &k) == 0 && !strcmp(k.kernel, kernel) &&
		    k.tokens == tokens)
			return k;
	return (ProfileKernelStats){0};
}

/* A profiled forward pass records every kernel it runs by registry entry and shape: one token
 * at position 0, then a batch of 3 at positions 1..3, on the small synthetic model (4 layers,
 * dim 128, hidden 352, 8 query heads of 16, 4 KV heads). */
START_TEST(test_forward_kernel_records)
{
	size_t mark = arena_mark();
	static Model m;
	memset(&m, 0, sizeof m);
	ck_assert_msg(synth_build(&m, "small", 1) == 0, "synth_build");
	ck_assert_msg(model_state_init(&m, 16) == 0, "model_state_init");
	kernels_select(ISA_SCALAR);
	profiler_init();
	profiler_enable();
	model_forward(&m, 5, 0);
	int batch[3] = {6, 7, 8};
	model_forward_batch(&m, batch, 3, 1);
	profiler_disable();
	for (int i = 0; i < profiler_kernel_count(); i++) {
		ProfileKernelStats k;
		ck_assert(profiler_kernel_stats(i, &k) == 0);
		ck_assert_msg(slot_index(k.kernel) >= 0 && !strcmp(k.isa, "scalar"),
			      "record %d names '%s' on %s, not a registry entry", i, k.kernel,
			      k.isa);
	}
	const uint64_t kv_row = 2 * 4 * 16 * sizeof(float); /* a key and a value, 4 KV heads */
	ProfileKernelStats a1 = find_record("attention_group", 1);
	ProfileKernelStats a3 = find_record("attention_group", 3);
	ck_assert_msg(a1.rows == 8 && a1.cols == 16 && a1.calls == 4 && a1.bytes == 4 * kv_row,
		      "attention, 1 token: %dx%d, %llu calls, %llu bytes", a1.rows, a1.cols,
		      (unsigned long long)a1.calls, (unsigned long long)a1.bytes);
	ck_assert_msg(a3.rows == 8 && a3.cols == 16 && a3.calls == 4 && a3.bytes == 4 * 4 * kv_row,
		      "attention, 3 tokens: %dx%d, %llu calls, %llu bytes", a3.rows, a3.cols,
		      (unsigned long long)a3.calls, (unsigned long long)a3.bytes);
	/* per token: two norms a layer and the final one (of the batch's last token only) */
	ProfileKernelStats r = find_record("rms_norm", 1);
	ck_assert_msg(r.rows == 1 && r.cols == 128 && r.calls == 9 + 25 && r.bytes == r.calls * 512,
		      "rms_norm: %dx%d, %llu calls", r.rows, r.cols, (unsigned long long)r.calls);
	ProfileKernelStats p = find_record("rope", 1);
	ck_assert_msg(p.rows == 8 && p.cols == 16 && p.calls == 4 * 4, "rope: %dx%d, %llu calls",
		      p.rows, p.cols, (unsigned long long)p.calls);
	ProfileKernelStats s1 = find_record("swiglu", 1), s3 = find_record("swiglu", 3);
	ck_assert_msg(s1.rows == 1 && s1.cols == 352 && s1.calls == 4 && s3.cols == 352 &&
			  s3.calls == 4,
		      "swiglu: %dx%d, %llu + %llu calls", s1.rows, s1.cols,
		      (unsigned long long)s1.calls, (unsigned long long)s3.calls);
	ck_assert_msg(find_record("dot_q8_0", 1).calls > 0 &&
			  find_record("dot_q8_0_batch", 3).calls > 0,
		      "the matmuls are recorded beside them");
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
	tcase_add_test(tc, test_forward_kernel_records);
#ifdef CORE_CHECKS
	tcase_add_test(tc, test_core_assert_stops);
#endif
	suite_add_tcase(s, tc);
	return s;
}
