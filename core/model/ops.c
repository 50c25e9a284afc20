/* ops.c: rms_norm, softmax and RoPE as zones of the profile (the seed's names), each calling
 * the kernel registry's entry and leaving a kernel record with its shape when profiling. */
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
