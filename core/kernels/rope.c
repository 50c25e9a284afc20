/* rope.c: rotary position encoding on adjacent pairs, the scalar reference, and its tables. */
#include "core/base/core_assert.h"
#include "core/base/mathx.h"
#include "core/kernels/vector.h"

void rope_freqs(float *freq, int head_size, float theta)
{
	for (int j = 0; j < head_size / 2; j++)
		freq[j] = 1.0f / math_powf(theta, (float)(2 * j) / (float)head_size);
}

void rope_angles(float *cos_sin, const float *freq, int head_size, int pos)
{
	for (int j = 0; j < head_size / 2; j++) {
		float val = (float)pos * freq[j];
		cos_sin[2 * j] = math_cosf(val);
		cos_sin[2 * j + 1] = math_sinf(val);
	}
}

void rope_encoding_ref(float *q, float *k, int dim, int kv_dim, int head_size, const float *cos_sin)
{
	CORE_ASSERT(head_size % 2 == 0 && dim % head_size == 0 && kv_dim <= dim);
	for (int i = 0; i < dim; i += 2) {
		int j = i % head_size;
		float fcr = cos_sin[j], fci = cos_sin[j + 1];
		float v0 = q[i], v1 = q[i + 1];
		q[i] = v0 * fcr - v1 * fci;
		q[i + 1] = v0 * fci + v1 * fcr;
		if (i < kv_dim) {
			v0 = k[i];
			v1 = k[i + 1];
			k[i] = v0 * fcr - v1 * fci;
			k[i + 1] = v0 * fci + v1 * fcr;
		}
	}
}
