/* softmax.c: softmax, the scalar reference (the sampler's and the scalar attention's; the SIMD
 * attention kernels run the same steps across their query lanes). */
#include "core/base/core_assert.h"
#include "core/kernels/fexp.h"
#include "core/kernels/vector.h"

void softmax_ref(float *x, int n)
{
	CORE_ASSERT(n > 0);
	float max = x[0];
	for (int i = 1; i < n; i++)
		if (x[i] > max)
			max = x[i];
	float sum = 0.0f;
	for (int i = 0; i < n; i++) {
		x[i] = fexp(x[i] - max);
		sum += x[i];
	}
	for (int i = 0; i < n; i++)
		x[i] /= sum;
}
