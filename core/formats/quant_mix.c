/* quant_mix.c: --quant to the 4/5-bit and K-quant types: which type each matrix gets under
 * llama.cpp's named mixes (its llama_tensor_get_type rules for Llama models), by the role the
 * tensor table (llama_gguf.c) gives it, in that table's (file) order; the fallback for rows that
 * do not fit a super-block, and the row-parallel conversion. */
#include "core/formats/quant_mix.h"

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/base/str.h"
#include "core/formats/llama_gguf.h"
#include "core/io/console.h"
#include "core/kernels/fp16.h"
#include "core/kernels/kquant.h"
#include "core/kernels/quantize.h"
#include "shim/platform.h"

static const struct {
	const char *name;
	QuantMode mode;
} MIXES[] = {
    {"q4_0", QUANT_Q4_0},     {"q4_1", QUANT_Q4_1},	{"q5_0", QUANT_Q5_0},
    {"q5_1", QUANT_Q5_1},     {"q2_k", QUANT_Q2_K},	{"q3_k_s", QUANT_Q3_K_S},
    {"q3_k_m", QUANT_Q3_K_M}, {"q3_k", QUANT_Q3_K_M},	{"q3_k_l", QUANT_Q3_K_L},
    {"q4_k_s", QUANT_Q4_K_S}, {"q4_k_m", QUANT_Q4_K_M}, {"q4_k", QUANT_Q4_K_M},
    {"q5_k_s", QUANT_Q5_K_S}, {"q5_k_m", QUANT_Q5_K_M}, {"q5_k", QUANT_Q5_K_M},
    {"q6_k", QUANT_Q6_K},
};

const char quant_mix_names[] = "q4_0, q4_1, q5_0, q5_1, q2_k, q3_k_s, q3_k_m, q3_k_l, q4_k_s, "
			       "q4_k_m, q5_k_s, q5_k_m, q6_k";

int quant_mix_parse(const char *name, QuantMode *mode)
{
	for (size_t i = 0; i < sizeof MIXES / sizeof MIXES[0]; i++)
		if (str_eq(name, MIXES[i].name)) {
			*mode = MIXES[i].mode;
			return 0;
		}
	return -1;
}

static DType base_type(QuantMode mode)
{
	switch (mode) {
	case QUANT_Q4_0:
		return DT_Q4_0;
	case QUANT_Q4_1:
		return DT_Q4_1;
	case QUANT_Q5_0:
		return DT_Q5_0;
	case QUANT_Q5_1:
		return DT_Q5_1;
	case QUANT_Q2_K:
		return DT_Q2_K;
	case QUANT_Q3_K_S:
	case QUANT_Q3_K_M:
	case QUANT_Q3_K_L:
		return DT_Q3_K;
	case QUANT_Q4_K_S:
	case QUANT_Q4_K_M:
		return DT_Q4_K;
	case QUANT_Q5_K_S:
	case QUANT_Q5_K_M:
		return DT_Q5_K;
	default:
		return DT_Q6_K;
	}
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers and every third between. */
static bool more_bits(int i, int n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* The type of one matrix of role with rows of cols values under mode (layer l of L; n_gqa
 * query heads per KV head). */
static DType mix_type(QuantMode mode, LlamaRole role, int cols, int l, int L, int n_gqa)
{
	if (role == LLAMA_ROLE_OUTPUT) /* the classifier (also a tied embedding): Q8_0 when its rows
				 do not fit the mix's own block */
		return cols % kquant_block(base_type(mode)) ? DT_Q8_0 : DT_Q6_K;
	if (role == LLAMA_ROLE_ATTN_V) {
		if (mode == QUANT_Q2_K)
			return n_gqa >= 4 ? DT_Q4_K : DT_Q3_K;
		if (mode == QUANT_Q3_K_M)
			return l < 2 ? DT_Q5_K : DT_Q4_K;
		if (mode == QUANT_Q3_K_L)
			return DT_Q5_K;
		if ((mode == QUANT_Q4_K_M || mode == QUANT_Q5_K_M) && more_bits(l, L))
			return DT_Q6_K;
		if (mode == QUANT_Q4_K_S && l < 4)
			return DT_Q5_K;
	} else if (role == LLAMA_ROLE_FFN_DOWN) {
		if (mode == QUANT_Q2_K)
			return DT_Q3_K;
		if (mode == QUANT_Q3_K_M)
			return l < L / 16 ? DT_Q5_K : DT_Q4_K;
		if (mode == QUANT_Q3_K_L)
			return DT_Q5_K;
		if ((mode == QUANT_Q4_K_M || mode == QUANT_Q5_K_M) && more_bits(l, L))
			return DT_Q6_K;
		if (mode == QUANT_Q4_K_S && l < L / 8)
			return DT_Q5_K;
	} else if (role == LLAMA_ROLE_ATTN_OUT) {
		if (mode == QUANT_Q2_K)
			return DT_Q3_K;
		if (mode == QUANT_Q3_K_M)
			return DT_Q4_K;
		if (mode == QUANT_Q3_K_L)
			return DT_Q5_K;
	}
	return base_type(mode);
}

/* llama.cpp's fallback for a super-block type on rows that are no multiple of 256 (Q2_K and
 * Q3_K go to IQ4_NL there, a type we lack: Q4_0 here, as llama.cpp did before IQ4_NL), F16
 * when the rows do not fit that either. */
static DType fallback(DType t, int cols)
{
	DType fb = t == DT_Q2_K || t == DT_Q3_K ? DT_Q4_0
		   : t == DT_Q4_K		? DT_Q5_0
		   : t == DT_Q5_K		? DT_Q5_1
						: DT_Q8_0;
	return dtype_row_bytes(fb, cols) ? fb : DT_F16;
}

typedef struct {
	const Tensor *src;
	DType type;
	uint8_t *dst;
	float *rows; /* one row of floats per thread */
	size_t row_bytes;
} ConvertJob;

static void convert_task(void *ctx, int ith, int nth)
{
	const ConvertJob *j = ctx;
	int R = j->src->rows, cols = j->src->cols;
	float *row = j->rows + (size_t)ith * (size_t)cols;
	for (int r = (int)((int64_t)R * ith / nth); r < (int)((int64_t)R * (ith + 1) / nth); r++) {
		tensor_row(j->src, r, row);
		uint8_t *out = j->dst + (size_t)r * j->row_bytes;
		if (j->type == DT_F16)
			for (int i = 0; i < cols; i++)
				((uint16_t *)(void *)out)[i] = fp32_to_fp16(row[i]);
		else if (j->type == DT_Q8_0)
			quantize_row_q8_0(row, (BlockQ8_0 *)(void *)out, cols);
		else
			kquant_quantize_row(j->type, row, out, cols);
	}
}

/* Converts the matrix t, named name in the GGUF file, to its type under mode. */
static int convert(Tensor *t, QuantMode mode, LlamaRole role, const char *name, int l, int L,
		   int n_gqa)
{
	DType type = mix_type(mode, role, t->cols, l, L, n_gqa);
	if (dtype_row_bytes(type, t->cols) == 0) {
		/* llama.cpp refuses such rows for the blocks of 32 (Q8_0 included) */
		if (kquant_block(type) != QK_K)
			return error_set("--quant: tensor %s has rows of %d values, not a multiple "
					 "of %s's block of 32",
					 name, t->cols, dtype_name(type));
		DType fb = fallback(type, t->cols);
		log_printf("note: --quant: %s has rows of %d values, not a multiple of 256: %s "
			   "instead of %s\n",
			   name, t->cols, dtype_name(fb), dtype_name(type));
		type = fb;
	}
	if (t->type == type)
		return 0;
	ConvertJob j = {t, type, NULL, NULL, dtype_row_bytes(type, t->cols)};
	j.dst = arena_alloc((size_t)t->rows * j.row_bytes, 64, "quantized weights");
	size_t mark = arena_mark();
	int nth = plat_threads() > 0 ? plat_threads() : 1;
	j.rows = arena_alloc((size_t)nth * (size_t)t->cols * 4, 64, "quantization rows");
	if (!j.dst || !j.rows)
		return error_set("not enough memory to quantize %s", name);
	if (nth > 1)
		plat_parallel(convert_task, &j);
	else
		convert_task(&j, 0, 1);
	arena_reset(mark);
	*t = (Tensor){.type = type, .rows = t->rows, .cols = t->cols, .data = j.dst};
	return 0;
}

typedef struct {
	Model *m;
	QuantMode mode;
	bool tied;
} MixJob;

/* One entry of the tensor table (llama_gguf.c): its matrix converted by its role. */
static int convert_entry(void *ctx, const LlamaTensor *t, int layer)
{
	MixJob *j = ctx;
	const ModelConfig *c = &j->m->config;
	/* a tied embedding is the classifier too: llama.cpp gives it the classifier's type */
	if (t->role == LLAMA_ROLE_NONE || (t->role == LLAMA_ROLE_OUTPUT && j->tied))
		return 0;
	LlamaRole role = t->role == LLAMA_ROLE_EMBD && j->tied ? LLAMA_ROLE_OUTPUT : t->role;
	char name[LLAMA_TENSOR_NAME_MAX];
	llama_tensor_name(t, layer, name);
	return convert(llama_matrix(&j->m->weights, t, layer), j->mode, role, name, layer,
		       c->n_layers, c->n_heads / c->n_kv_heads);
}

int quant_mix_apply(Model *m, QuantMode mode)
{
	MixJob j = {m, mode, llama_classifier_tied(&m->weights)};
	if (llama_tensors_each(m->config.n_layers, convert_entry, &j) < 0)
		return -1;
	if (j.tied)
		m->weights.classifier = m->weights.token_embedding;
	return 0;
}
