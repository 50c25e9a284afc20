/* registry.c: the kernel table, its per-ISA rows and the slot names (registry.h). */
#include "core/kernels/registry.h"

#include <stddef.h>

#include "core/base/error.h"
#include "core/base/str.h"
#include "core/profile/features.h"

/* An entry for a weight type the image keeps (features.h; every type in a full build): a
 * dropped type's entries are NULL, so its kernels are not linked. */
#define KEEP(dtype, fn) (FEATURE_KEPT(dtype) ? (fn) : NULL)
/* Q8_0 activations serve Q8_0 weights and the 4/5-bit types that pair with them. */
#define KEEP_Q8_ACT(fn) (FEATURE_KEPT(DTYPE_Q8_0) || FEATURE_KEPT(DTYPE_KQUANT) ? (fn) : NULL)

/* The scalar references: the defaults, and the bits every other row reproduces. */
#define KERNELS_SCALAR                                                                             \
	{                                                                                          \
		.dot_q8_0 = KEEP(DTYPE_Q8_0, qdot_q8_ref),                                         \
		.dot_q8_0_batch = KEEP(DTYPE_Q8_0, qdot_q8_batch_ref), .dot_q8_0_tile = NULL,      \
		.dot_int8 = KEEP(DTYPE_INT8, qdot_i8_ref), .dot_int8_tile = NULL,                  \
		.dot_f32 = KEEP(DTYPE_F32, fdot_f32_ref), .dot_f32_tile = NULL,                    \
		.dot_f16 = KEEP(DTYPE_F16, fdot_f16_ref), .dot_f16_tile = NULL,                    \
		.quant_act_q8_0 = KEEP_Q8_ACT(quant_act_q8_ref),                                   \
		.quant_act_int8 = KEEP(DTYPE_INT8, quant_act_i8_ref),                              \
		.quant_act_f16 = KEEP(DTYPE_F16, quant_act_f16_ref),                               \
		.quant_act_q8_1 = KEEP(DTYPE_KQUANT, quant_act_q8_1),                              \
		.quant_act_q8_k = KEEP(DTYPE_KQUANT, quant_act_q8_k),                              \
		.row_to_q8_0 = KEEP(DTYPE_KQUANT, kquant_row_to_q8_0_ref),                         \
		.attention_group = attn_group_ref, .rms_norm = rms_norm_ref,                       \
		.softmax = softmax_ref, .rope = rope_encoding_ref, .swiglu = swiglu_ref,           \
	}

/* The AVX2 kernels, with the prompt tiles of an ISA that has AVX2 and no AVX-512 (SFX: their
 * names' suffix). */
#define KERNELS_AVX2(q8_tile, i8_tile, q4_tile, q5_tile, SFX)                                      \
	{                                                                                          \
		.dot_q8_0 = KEEP(DTYPE_Q8_0, qdot_q8_avx2),                                        \
		.dot_q8_0_batch = KEEP(DTYPE_Q8_0, qdot_q8_batch_avx2),                            \
		.dot_q8_0_tile = KEEP(DTYPE_Q8_0, q8_tile),                                        \
		.dot_int8 = KEEP(DTYPE_INT8, qdot_i8_avx2),                                        \
		.dot_int8_tile = KEEP(DTYPE_INT8, i8_tile),                                        \
		.dot_f32 = KEEP(DTYPE_F32, fdot_f32_avx2),                                         \
		.dot_f32_tile = KEEP(DTYPE_F32, fdot_f32_tile_avx2),                               \
		.dot_f16 = KEEP(DTYPE_F16, fdot_f16_avx2),                                         \
		.dot_f16_tile = KEEP(DTYPE_F16, fdot_f16_tile_avx2),                               \
		.quant_act_q8_0 = KEEP_Q8_ACT(quant_act_q8_avx2),                                  \
		.quant_act_int8 = KEEP(DTYPE_INT8, quant_act_i8_ref),                              \
		.quant_act_f16 = KEEP(DTYPE_F16, quant_act_f16_avx2),                              \
		.quant_act_q8_1 = KEEP(DTYPE_KQUANT, quant_act_q8_1),                              \
		.quant_act_q8_k = KEEP(DTYPE_KQUANT, quant_act_q8_k_avx2),                         \
		.dot_q2_k_tile = KEEP(DTYPE_KQUANT, kdot_q2_k_tile_##SFX),                         \
		.dot_q3_k_tile = KEEP(DTYPE_KQUANT, kdot_q3_k_tile_##SFX),                         \
		.dot_q4_k_tile = KEEP(DTYPE_KQUANT, kdot_q4_k_tile_##SFX),                         \
		.dot_q5_k_tile = KEEP(DTYPE_KQUANT, kdot_q5_k_tile_##SFX),                         \
		.dot_q6_k_tile = KEEP(DTYPE_KQUANT, kdot_q6_k_tile_##SFX),                         \
		.row_to_q8_0 = KEEP(DTYPE_KQUANT, kquant_row_to_q8_0_avx2),                        \
		.dot_q4_0_tile = KEEP(DTYPE_KQUANT, q4_tile),                                      \
		.dot_q5_0_tile = KEEP(DTYPE_KQUANT, q5_tile), .attention_group = attn_group_avx2,  \
		.rms_norm = rms_norm_ref, .softmax = softmax_ref, .rope = rope_encoding_ref,       \
		.swiglu = swiglu_avx2,                                                             \
	}

/* The one place an implementation is chosen: a row per ISA. An image has the rows of the ISAs its
 * profile used (features.h); kernels_select_named refuses the others. */
static const Kernels by_isa[ISA_COUNT] = {
#if FEATURE_KEPT(ISA_SCALAR)
    [ISA_SCALAR] = KERNELS_SCALAR,
#endif
#if FEATURE_KEPT(ISA_AVX2)
    [ISA_AVX2] = KERNELS_AVX2(qdot_q8_tile_avx2, qdot_i8_tile_avx2, qdot_q4_0_tile_avx2,
			      qdot_q5_0_tile_avx2, avx2),
#endif
#if FEATURE_KEPT(ISA_AVXVNNI)
    /* AVX2's kernels but the prompt tiles: one vpdpbusd where AVX2 needs four instructions */
    [ISA_AVXVNNI] = KERNELS_AVX2(qdot_q8_tile_avxvnni, qdot_i8_tile_avxvnni, NULL, NULL, avxvnni),
#endif
#if FEATURE_KEPT(ISA_AVX512)
    [ISA_AVX512] =
	{
	    .dot_q8_0 = KEEP(DTYPE_Q8_0, qdot_q8_avx512),
	    /* batches run as tiles; rows too wide for a tile take the AVX2 batch kernel */
	    .dot_q8_0_batch = KEEP(DTYPE_Q8_0, qdot_q8_batch_avx2),
	    .dot_q8_0_tile = KEEP(DTYPE_Q8_0, qdot_q8_tile_avx512),
	    .dot_int8 = KEEP(DTYPE_INT8, qdot_i8_avx512),
	    /* 1.2-1.45x the one-token VNNI kernel on 8 rows x 128 tokens (2048 and 5632
	       values, groups of 32 and 64): AVX2's tile serves prompts here too */
	    .dot_int8_tile = KEEP(DTYPE_INT8, qdot_i8_tile_avx2),
	    .dot_f32 = KEEP(DTYPE_F32, fdot_f32_avx512),
	    .dot_f32_tile = KEEP(DTYPE_F32, fdot_f32_tile_avx512),
	    .dot_f16 = KEEP(DTYPE_F16, fdot_f16_avx512),
	    .dot_f16_tile = KEEP(DTYPE_F16, fdot_f16_tile_avx512),
	    .quant_act_q8_0 = KEEP_Q8_ACT(quant_act_q8_avx2),
	    .quant_act_int8 = KEEP(DTYPE_INT8, quant_act_i8_ref),
	    .quant_act_f16 = KEEP(DTYPE_F16, quant_act_f16_avx2),
	    .quant_act_q8_1 = KEEP(DTYPE_KQUANT, quant_act_q8_1),
	    .quant_act_q8_k = KEEP(DTYPE_KQUANT, quant_act_q8_k_avx2),
	    .dot_q2_k_tile = KEEP(DTYPE_KQUANT, kdot_q2_k_tile_avx512),
	    .dot_q3_k_tile = KEEP(DTYPE_KQUANT, kdot_q3_k_tile_avx512),
	    .dot_q4_k_tile = KEEP(DTYPE_KQUANT, kdot_q4_k_tile_avx512),
	    .dot_q5_k_tile = KEEP(DTYPE_KQUANT, kdot_q5_k_tile_avx512),
	    .dot_q6_k_tile = KEEP(DTYPE_KQUANT, kdot_q6_k_tile_avx512),
	    .row_to_q8_0 = KEEP(DTYPE_KQUANT, kquant_row_to_q8_0_avx2),
	    .attention_group = attn_group_avx512,
	    .rms_norm = rms_norm_ref,
	    .softmax = softmax_ref,
	    .rope = rope_encoding_ref,
	    .swiglu = swiglu_avx512,
	},
#endif
};

#if FEATURE_KEPT(ISA_SCALAR)
Kernels kernels = KERNELS_SCALAR;
#else
Kernels kernels; /* empty until kernels_select, in an image without the scalar row */
#endif
static Isa active_isa = ISA_SCALAR;

/* Stable names: profile records and run-time replacement refer to entries by them. */
static const struct {
	const char *name;
	size_t offset;
} slots[] = {
    {"dot_q8_0", offsetof(Kernels, dot_q8_0)},
    {"dot_q8_0_batch", offsetof(Kernels, dot_q8_0_batch)},
    {"dot_q8_0_tile", offsetof(Kernels, dot_q8_0_tile)},
    {"dot_q4_0_tile", offsetof(Kernels, dot_q4_0_tile)},
    {"dot_q5_0_tile", offsetof(Kernels, dot_q5_0_tile)},
    {"dot_int8", offsetof(Kernels, dot_int8)},
    {"dot_int8_tile", offsetof(Kernels, dot_int8_tile)},
    {"dot_f32", offsetof(Kernels, dot_f32)},
    {"dot_f32_tile", offsetof(Kernels, dot_f32_tile)},
    {"dot_f16", offsetof(Kernels, dot_f16)},
    {"dot_f16_tile", offsetof(Kernels, dot_f16_tile)},
    {"quant_act_q8_0", offsetof(Kernels, quant_act_q8_0)},
    {"quant_act_int8", offsetof(Kernels, quant_act_int8)},
    {"quant_act_f16", offsetof(Kernels, quant_act_f16)},
    {"quant_act_q8_1", offsetof(Kernels, quant_act_q8_1)},
    {"quant_act_q8_k", offsetof(Kernels, quant_act_q8_k)},
    {"dot_q4_0", offsetof(Kernels, dot_kquant) + KQ_Q4_0 * sizeof(KDotFn)},
    {"dot_q4_1", offsetof(Kernels, dot_kquant) + KQ_Q4_1 * sizeof(KDotFn)},
    {"dot_q5_0", offsetof(Kernels, dot_kquant) + KQ_Q5_0 * sizeof(KDotFn)},
    {"dot_q5_1", offsetof(Kernels, dot_kquant) + KQ_Q5_1 * sizeof(KDotFn)},
    {"dot_q2_k", offsetof(Kernels, dot_kquant) + KQ_Q2_K * sizeof(KDotFn)},
    {"dot_q3_k", offsetof(Kernels, dot_kquant) + KQ_Q3_K * sizeof(KDotFn)},
    {"dot_q4_k", offsetof(Kernels, dot_kquant) + KQ_Q4_K * sizeof(KDotFn)},
    {"dot_q5_k", offsetof(Kernels, dot_kquant) + KQ_Q5_K * sizeof(KDotFn)},
    {"dot_q6_k", offsetof(Kernels, dot_kquant) + KQ_Q6_K * sizeof(KDotFn)},
    {"dot_q4_0_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q4_0 * sizeof(KDot2Fn)},
    {"dot_q4_1_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q4_1 * sizeof(KDot2Fn)},
    {"dot_q5_0_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q5_0 * sizeof(KDot2Fn)},
    {"dot_q5_1_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q5_1 * sizeof(KDot2Fn)},
    {"dot_q2_k_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q2_K * sizeof(KDot2Fn)},
    {"dot_q3_k_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q3_K * sizeof(KDot2Fn)},
    {"dot_q4_k_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q4_K * sizeof(KDot2Fn)},
    {"dot_q5_k_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q5_K * sizeof(KDot2Fn)},
    {"dot_q6_k_x2", offsetof(Kernels, dot_kquant_x2) + KQ_Q6_K * sizeof(KDot2Fn)},
    {"dot_q4_0_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q4_0 * sizeof(KDotBatchFn)},
    {"dot_q4_1_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q4_1 * sizeof(KDotBatchFn)},
    {"dot_q5_0_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q5_0 * sizeof(KDotBatchFn)},
    {"dot_q5_1_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q5_1 * sizeof(KDotBatchFn)},
    {"dot_q2_k_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q2_K * sizeof(KDotBatchFn)},
    {"dot_q3_k_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q3_K * sizeof(KDotBatchFn)},
    {"dot_q4_k_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q4_K * sizeof(KDotBatchFn)},
    {"dot_q5_k_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q5_K * sizeof(KDotBatchFn)},
    {"dot_q6_k_batch", offsetof(Kernels, dot_kquant_batch) + KQ_Q6_K * sizeof(KDotBatchFn)},
    {"dot_q2_k_tile", offsetof(Kernels, dot_q2_k_tile)},
    {"dot_q3_k_tile", offsetof(Kernels, dot_q3_k_tile)},
    {"dot_q4_k_tile", offsetof(Kernels, dot_q4_k_tile)},
    {"dot_q5_k_tile", offsetof(Kernels, dot_q5_k_tile)},
    {"dot_q6_k_tile", offsetof(Kernels, dot_q6_k_tile)},
    {"row_to_q8_0", offsetof(Kernels, row_to_q8_0)},
    {"attention_group", offsetof(Kernels, attention_group)},
    {"rms_norm", offsetof(Kernels, rms_norm)},
    {"softmax", offsetof(Kernels, softmax)},
    {"rope", offsetof(Kernels, rope)},
    {"swiglu", offsetof(Kernels, swiglu)},
};
#define SLOT_COUNT ((int)(sizeof slots / sizeof slots[0]))
/* Every member of Kernels is a function pointer with a slot, and no slot is left out. */
_Static_assert(sizeof(Kernels) == sizeof slots / sizeof slots[0] * sizeof(KernelFn),
	       "each Kernels member needs its {name, offset} in slots[]");

/* The 4/5-bit and K-quant dots of each ISA (kquant.h's tables); an ISA's NULL entry takes the
 * next ISA down's (AVX-VNNI has none: AVX2's run there). An image keeps an ISA's table when it
 * keeps these types and that ISA or one that falls back to it. */
#define KEEP_KDOT(isa_kept, table) (FEATURE_KEPT(DTYPE_KQUANT) && (isa_kept) ? (table) : NULL)
static const KDotFn *const kquant_by_isa[ISA_COUNT] = {
    KEEP_KDOT(1, kdot_ref), /* every ISA falls back to it */
    KEEP_KDOT(FEATURE_KEPT(ISA_AVX2) || FEATURE_KEPT(ISA_AVXVNNI), kdot_avx2),
    NULL, /* avxvnni: AVX2's */
    KEEP_KDOT(FEATURE_KEPT(ISA_AVX512), kdot_avx512)};
/* Their row pairs, alike (only AVX-512 has them). */
static const KDot2Fn *const kquant_x2_by_isa[ISA_COUNT] = {
    NULL, NULL, NULL, KEEP_KDOT(FEATURE_KEPT(ISA_AVX512), kdot2_avx512)};
/* Their prompt batches, alike (the scalar row has none: its one-token kernels run prompts). */
static const KDotBatchFn *const kquant_batch_by_isa[ISA_COUNT] = {
    NULL,
    KEEP_KDOT(FEATURE_KEPT(ISA_AVX2) || FEATURE_KEPT(ISA_AVXVNNI) || FEATURE_KEPT(ISA_AVX512),
	      kdot_batch_avx2),
    NULL, /* avxvnni: AVX2's */
    KEEP_KDOT(FEATURE_KEPT(ISA_AVX512), kdot_batch_avx512)};

/* What each ISA's tile entry expects added to the transposed activations (dot.h): x + 128 for
 * vpdpbusd's unsigned operand, x itself for AVX2's vpmaddubsw (dot.h). */
static const uint8_t tile_offset_by_isa[ISA_COUNT] = {0, TILE2_X_OFFSET, 0x80, 0x80};
static uint8_t tile_offset;

uint8_t kernels_tile_x_offset(void)
{
	return tile_offset;
}

/* The ISAs this image has rows for (all of them in a full build). */
static const bool isa_kept[ISA_COUNT] = {FEATURE_KEPT(ISA_SCALAR), FEATURE_KEPT(ISA_AVX2),
					 FEATURE_KEPT(ISA_AVXVNNI), FEATURE_KEPT(ISA_AVX512)};
static const Feature isa_feature[ISA_COUNT] = {FEAT_ISA_SCALAR, FEAT_ISA_AVX2, FEAT_ISA_AVXVNNI,
					       FEAT_ISA_AVX512};

void kernels_select(Isa isa)
{
	feature_mark(isa_feature[isa]);
	kernels = by_isa[isa];
	tile_offset = tile_offset_by_isa[isa];
	for (int i = 0; i < KQ_COUNT; i++) {
		for (int k = isa; k >= ISA_SCALAR && !kernels.dot_kquant[i]; k--)
			kernels.dot_kquant[i] = kquant_by_isa[k] ? kquant_by_isa[k][i] : NULL;
		for (int k = isa; k >= ISA_SCALAR && !kernels.dot_kquant_x2[i]; k--)
			kernels.dot_kquant_x2[i] =
			    kquant_x2_by_isa[k] ? kquant_x2_by_isa[k][i] : NULL;
		for (int k = isa; k >= ISA_SCALAR && !kernels.dot_kquant_batch[i]; k--)
			kernels.dot_kquant_batch[i] =
			    kquant_batch_by_isa[k] ? kquant_batch_by_isa[k][i] : NULL;
	}
	active_isa = isa;
}

int kernels_select_named(const char *name)
{
	if (!name) { /* the best ISA that the CPU allows and the image has */
		for (int i = isa_best(); i >= ISA_SCALAR; i--)
			if (isa_kept[i] && isa_supported((Isa)i)) {
				kernels_select((Isa)i);
				return 0;
			}
		return feature_refuse(isa_feature[isa_best()]);
	}
	for (int i = 0; i < ISA_COUNT; i++) {
		if (!str_eq(name, isa_name((Isa)i)))
			continue;
		if (!isa_kept[i])
			return feature_refuse(isa_feature[i]);
		if (!isa_supported((Isa)i))
			return error_set(
			    "--isa %s: this CPU (or the register state its OS enabled) "
			    "does not support it%s",
			    name,
			    i == ISA_AVX512    ? " (needs AVX-512 F/BW/VL/VNNI and F16C)"
			    : i == ISA_AVXVNNI ? " (needs AVX-VNNI, AVX2 and F16C)"
					       : "");
		kernels_select((Isa)i);
		return 0;
	}
	return error_set("--isa: unknown '%s' (scalar, avx2, avxvnni or avx512)", name);
}

Isa kernels_isa(void)
{
	return active_isa;
}

const char *kernels_isa_name(void)
{
	return isa_name(active_isa);
}

int kernels_slot_count(void)
{
	return SLOT_COUNT;
}

const char *kernels_slot_name(int i)
{
	return i >= 0 && i < SLOT_COUNT ? slots[i].name : NULL;
}

/* The slot's storage: the table's bytes at its offset, as a KernelFn (all function pointers
 * share one representation on the targets core is built for). */
static KernelFn *slot_at(int i)
{
	return (KernelFn *)(void *)((char *)&kernels + slots[i].offset);
}

KernelFn kernels_slot_get(int i)
{
	return i >= 0 && i < SLOT_COUNT ? *slot_at(i) : NULL;
}

int kernels_replace(const char *name, KernelFn fn)
{
	for (int i = 0; i < SLOT_COUNT; i++)
		if (str_eq(name, slots[i].name)) {
			*slot_at(i) = fn;
			return 0;
		}
	return error_set("no kernel entry named '%s'", name);
}
