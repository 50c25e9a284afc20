/* ops.c: rms_norm, softmax and RoPE as zones of the profile (the seed's names), each calling
 * the kernel registry's entry. */
#include "core/model/ops.h"

#include "core/kernels/registry.h"
#include "core/profile/profiler.h"

void rms_norm(float *o, const float *x, const float *weight, int n, float eps)
{
	PROFILE_BEGIN(zone, "rms_norm");
	kernels.rms_norm(o, x, weight, n, eps);
	PROFILE_END(zone);
}

void softmax(float *x, int n)
{
	PROFILE_BEGIN(zone, "softmax");
	kernels.softmax(x, n);
	PROFILE_END(zone);
}

void rope_encoding(float *q, float *k, int dim, int kv_dim, int head_size, const float *cos_sin)
{
	PROFILE_BEGIN(zone, "rope_encoding");
	kernels.rope(q, k, dim, kv_dim, head_size, cos_sin);
	PROFILE_END(zone);
}
