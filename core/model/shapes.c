/* shapes.c: the shapes the loaded model runs its kernels at; see shapes.h. */
#include "core/model/shapes.h"

#include "core/base/str.h"

static bool same(int want, int have)
{
	return want == 0 || want == have;
}

/* One weight matrix, or a fused group of n of them (the same type and columns). */
static bool group_is(const Tensor *const *w, int n, const char *dtype, int rows, int cols)
{
	int total = 0;
	for (int i = 0; i < n; i++) {
		if (w[i]->type != w[0]->type || w[i]->cols != w[0]->cols)
			return false;
		total += w[i]->rows;
	}
	return str_eq(dtype_name(w[0]->type), dtype) && same(rows, total) && same(cols, w[0]->cols);
}

static bool matmul_shape(const Model *m, const char *dtype, int rows, int cols)
{
	const ModelWeights *w = &m->weights;
	const Tensor *cls = &w->classifier;
	if (group_is(&cls, 1, dtype, rows, cols))
		return true;
	for (int l = 0; l < m->config.n_layers; l++) {
		const Tensor *one[7] = {&w->wq[l], &w->wk[l], &w->wv[l], &w->wo[l],
					&w->w1[l], &w->w2[l], &w->w3[l]};
		for (int i = 0; i < 7; i++)
			if (group_is(&one[i], 1, dtype, rows, cols))
				return true;
		const Tensor *qkv[3] = {&w->wq[l], &w->wk[l], &w->wv[l]};
		const Tensor *up[2] = {&w->w1[l], &w->w3[l]};
		if (group_is(qkv, 3, dtype, rows, cols) || group_is(up, 2, dtype, rows, cols))
			return true;
	}
	return false;
}

bool model_runs_shape(const Model *m, const char *slot, const char *dtype, int rows, int cols)
{
	if (str_starts(slot, "dot_"))
		return matmul_shape(m, dtype, rows, cols);
	const ModelConfig *c = &m->config;
	int head_size = c->dim / c->n_heads;
	if (str_eq(slot, "attention_group") || str_eq(slot, "rope"))
		return (same(rows, c->n_heads) || same(rows, c->n_kv_heads)) &&
		       same(cols, head_size);
	if (!same(rows, 1))
		return false;
	if (str_eq(slot, "softmax"))
		return cols <= m->ctx_len;
	return same(cols, c->dim) || same(cols, c->hidden_dim);
}
