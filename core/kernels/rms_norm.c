/* rms_norm.c: RMSNorm, the scalar reference (the only variant: it is a small share of a layer). */
#include "core/base/core_assert.h"
#include "core/base/mathx.h"
#include "core/kernels/vector.h"

void rms_norm_ref(float *o, const float *x, const float *weight, int n, float eps)
{
	CORE_ASSERT(n > 0);
	float ss = 0.0f;
	for (int j = 0; j < n; j++)
		ss += x[j] * x[j];
	ss /= (float)n;
	ss += eps;
	ss = 1.0f / math_sqrtf(ss);
	for (int j = 0; j < n; j++)
		o[j] = weight[j] * (ss * x[j]);
}
