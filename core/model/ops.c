/* ops.c: rms_norm, softmax and RoPE as zones of the profile (the seed's names), each calling
 * the kernel registry's entry and leaving a kernel record with its shape when profiling; a
 * batch's rms_norm and RoPE across the thread pool. */
#include "core/model/ops.h"

#include "core/kernels/dtype.h"
#include "core/kernels/registry.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"

/* Files one call of a vector kernel that started at t0 (0: the profiler is off). */
static void record(const char *kernel, int rows, int cols, uint64_t t0, uint64_t bytes)
{
	if (t0)
		profiler_kernel_record(kernel, dtype_name(DT_F32), rows, cols, 1,
				       kernels_isa_name(), plat_cycles() - t0, bytes);
}

static uint64_t record_start(void)
{
	return profiler_enabled() ? plat_cycles() : 0;
}

void rms_norm(float *o, const float *x, const float *weight, int n, float eps)
{
	PROFILE_BEGIN(zone, "rms_norm");
	uint64_t t0 = record_start();
	kernels.rms_norm(o, x, weight, n, eps);
	/* its weights: the n gains */
	record("rms_norm", 1, n, t0, (uint64_t)n * sizeof(float));
	PROFILE_END(zone);
}

void softmax(float *x, int n)
{
	PROFILE_BEGIN(zone, "softmax");
	uint64_t t0 = record_start();
	kernels.softmax(x, n);
	record("softmax", 1, n, t0, 0);
	PROFILE_END(zone);
}

void rope_encoding(float *q, float *k, int dim, int kv_dim, int head_size, const float *cos_sin)
{
	PROFILE_BEGIN(zone, "rope_encoding");
	uint64_t t0 = record_start();
	kernels.rope(q, k, dim, kv_dim, head_size, cos_sin);
	/* shape: the query heads and the head size (as attention_group's); read: the angle table */
	record("rope", dim / head_size, head_size, t0, (uint64_t)head_size * sizeof(float));
	PROFILE_END(zone);
}

/* --- A batch's tokens across the pool --- */

/* One step over n tokens: rms_norm (q NULL) or RoPE. */
typedef struct {
	float *o, *q, *k;
	const float *x, *weight, *cos_sin;
	int n, dim, kv_dim, head_size;
	float eps;
} TokensJob;

static void tokens_task(void *ctx, int ith, int nth)
{
	const TokensJob *j = ctx;
	size_t dim = (size_t)j->dim, kv = (size_t)j->kv_dim, hs = (size_t)j->head_size;
	for (int t = j->n * ith / nth; t < j->n * (ith + 1) / nth; t++) {
		size_t u = (size_t)t;
		if (j->q)
			kernels.rope(j->q + u * dim, j->k + u * kv, j->dim, j->kv_dim, j->head_size,
				     j->cos_sin + u * hs);
		else
			kernels.rms_norm(j->o + u * dim, j->x + u * dim, j->weight, j->dim, j->eps);
	}
}

/* Whether n tokens of dim values are worth the pool's start-up. */
static bool pooled(int n, int dim)
{
	return plat_threads() > 1 && n > 1 && (size_t)n * (size_t)dim >= plat_parallel_min_work();
}

/* Runs j across the pool; its wall-clock cycles (0 when the profiler is off). */
static uint64_t run_pooled(TokensJob *j)
{
	uint64_t t0 = record_start();
	plat_parallel(tokens_task, j);
	return t0 ? plat_cycles() - t0 : 0;
}

void rms_norm_tokens(float *o, const float *x, const float *weight, int n, int dim, float eps)
{
	if (!pooled(n, dim)) {
		for (int t = 0; t < n; t++)
			rms_norm(o + (size_t)t * (size_t)dim, x + (size_t)t * (size_t)dim, weight,
				 dim, eps);
		return;
	}
	TokensJob j = {.o = o, .x = x, .weight = weight, .n = n, .dim = dim, .eps = eps};
	uint64_t cycles = run_pooled(&j);
	PROFILE_ADD(zone, "rms_norm", cycles, (uint64_t)n);
	if (cycles)
		profiler_kernel_record("rms_norm", dtype_name(DT_F32), 1, dim, n,
				       kernels_isa_name(), cycles, (uint64_t)dim * sizeof(float));
}

void rope_tokens(float *q, float *k, int n, int dim, int kv_dim, int head_size,
		 const float *cos_sin)
{
	if (!pooled(n, dim)) {
		for (int t = 0; t < n; t++)
			rope_encoding(q + (size_t)t * (size_t)dim, k + (size_t)t * (size_t)kv_dim,
				      dim, kv_dim, head_size,
				      cos_sin + (size_t)t * (size_t)head_size);
		return;
	}
	TokensJob j = {.q = q,
		       .k = k,
		       .cos_sin = cos_sin,
		       .n = n,
		       .dim = dim,
		       .kv_dim = kv_dim,
		       .head_size = head_size};
	uint64_t cycles = run_pooled(&j);
	PROFILE_ADD(zone, "rope_encoding", cycles, (uint64_t)n);
	if (cycles)
		profiler_kernel_record("rope", dtype_name(DT_F32), dim / head_size, head_size, n,
				       kernels_isa_name(), cycles,
				       (uint64_t)n * (uint64_t)head_size * sizeof(float));
}
