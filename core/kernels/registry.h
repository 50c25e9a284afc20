/* registry.h: the one table of hot kernel entry points (matmul dots and tiles, activation
 * quantizers, attention, RMSNorm, softmax, RoPE, SwiGLU), filled once for an ISA; every caller
 * goes through it, and no other place chooses an implementation.
 *
 * Adding a kernel family: declare its signature and variants in the family's header (one .c
 * file per family holds its scalar reference and every SIMD version: dot_q8_0.c with its tiles,
 * swiglu.c..., the K-quant dots by related types: dot_q4_q5.c, dot_q2_q3_k.c, dot_q4_q5_k.c,
 * dot_q6_k.c, their prompt batches in dot_q4_q5_batch.c and tiles in dot_kquant_tile.c,
 * gathered per ISA in
 * kquant.c), add a member to Kernels, fill it in every row of the per-ISA table in registry.c (the
 * scalar reference where an ISA has no version of its own), and add {name, offset} to the
 * slot list there. Adding an ISA's version of an existing family: define it in the family's
 * file under ISA_TARGET_<ISA> (isa.h), declare it in the header, set it in that ISA's row.
 * Every version gives the scalar reference's bits; tests/test_simd.c checks that. */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stdint.h>

#include "core/kernels/attention.h"
#include "core/kernels/dot.h"
#include "core/kernels/isa.h"
#include "core/kernels/kquant.h"
#include "core/kernels/vector.h"

typedef struct Kernels {
	QDotQ8Fn dot_q8_0;	      /* "dot_q8_0": one Q8_0 row, one token */
	QDotQ8BatchFn dot_q8_0_batch; /* "dot_q8_0_batch": one Q8_0 row, a prompt batch */
	QDotQ8TileFn dot_q8_0_tile;   /* "dot_q8_0_tile": rows x 16-token groups; NULL where the
					 ISA has none (the batch entry runs prompts) */
	QDotI8Fn dot_int8;	      /* "dot_int8": one int8 row, one token */
	QDotI8TileFn dot_int8_tile;   /* "dot_int8_tile": int8 rows x a prompt batch; NULL where
					 the ISA has none (the one-token entry runs prompts) */
	FDotF32Fn dot_f32;	      /* "dot_f32" */
	FDotF32TileFn dot_f32_tile;   /* "dot_f32_tile": F32 rows x a prompt batch; NULL where the
					 ISA has none (the one-token entry runs prompts) */
	FDotF16Fn dot_f16;	      /* "dot_f16" */
	FDotF16TileFn dot_f16_tile;   /* "dot_f16_tile": F16 rows x a prompt batch; NULL where the
					 ISA has none (the one-token entry runs prompts) */
	QuantActQ8Fn quant_act_q8_0;  /* "quant_act_q8_0": activations for Q8_0 weights */
	QuantActI8Fn quant_act_int8;  /* "quant_act_int8": activations for int8 weights */
	QuantActF16Fn quant_act_f16;  /* "quant_act_f16": activations for F16 weights */
	QuantActQ81Fn quant_act_q8_1; /* "quant_act_q8_1": activations for Q4_1, Q5_1 */
	QuantActQ8KFn quant_act_q8_k; /* "quant_act_q8_k": activations for the K-quants */
	/* "dot_q4_0" .. "dot_q6_k": the 4/5-bit and K-quant rows, by kquant_index; kquant.h
	 * gives them as one table per ISA, copied in by kernels_select (NULL before it runs) */
	KDotFn dot_kquant[KQ_COUNT];
	/* "dot_q4_0_x2" .. "dot_q6_k_x2": the same rows two at a time (kquant.h's KDot2Fn), for
	 * one token; NULL where the ISA or the type has none (the one-row entry runs each row) */
	KDot2Fn dot_kquant_x2[KQ_COUNT];
	/* "dot_q4_0_batch" .. "dot_q6_k_batch": the same rows against a prompt's tokens, a few at
	 * a time; NULL where the ISA or the type has none (the tiles below, the Q8_0 tile for
	 * Q4_0/Q5_0 rows unpacked to Q8_0, or the one-token entry run prompts then) */
	KDotBatchFn dot_kquant_batch[KQ_COUNT];
	/* "dot_q2_k_tile" .. "dot_q6_k_tile": K-quant rows x 16-token groups (kquant.h's
	 * layout); NULL where the ISA has none (the one-token entry runs prompts) */
	KTileFn dot_q2_k_tile, dot_q3_k_tile, dot_q4_k_tile, dot_q5_k_tile, dot_q6_k_tile;
	KToQ8Fn row_to_q8_0; /* "row_to_q8_0": Q4_0/Q5_0 rows as Q8_0 blocks for the Q8_0 tile */
	/* "dot_q4_0_tile", "dot_q5_0_tile": Q4_0/Q5_0 rows so unpacked x 16-token groups, where
	 * the ISA has a tile faster than the Q8_0 tile on them (NULL: the Q8_0 tile runs them) */
	QDotCodesTileFn dot_q4_0_tile, dot_q5_0_tile;
	AttnGroupFn attention_group; /* "attention_group" */
	RmsNormFn rms_norm;	     /* "rms_norm" */
	SoftmaxFn softmax;	     /* "softmax" */
	RopeFn rope;		     /* "rope" */
	SwigluFn swiglu;	     /* "swiglu" */
} Kernels;

/* The active entries (the scalar references until kernels_select runs, the K-quant dots
 * empty until then). */
extern Kernels kernels;

/* Fills the table with isa's versions; isa must be supported (isa_supported). */
void kernels_select(Isa isa);
/* --isa: the named variant ("scalar", "avx2", "avxvnni", "avx512"), or the best the CPU and the
 * enabled register state allow (name NULL); 0, or -1 (error set) for an unknown or unsupported
 * name. */
int kernels_select_named(const char *name);
/* The byte the dot_q8_0_tile entry wants added to each transposed activation value. */
uint8_t kernels_tile_x_offset(void);
/* The ISA of the last kernels_select, and its name (profile records, the start-up line). */
Isa kernels_isa(void);
const char *kernels_isa_name(void);

/* The entries by stable name, for replacing one (a kernel compiled at run time) or listing
 * the ones an image needs. A slot holds any of the signatures above, as KernelFn. */
typedef void (*KernelFn)(void);
int kernels_slot_count(void);
const char *kernels_slot_name(int i); /* NULL past the end */
KernelFn kernels_slot_get(int i);     /* the active entry (NULL for an empty tile slot) */
/* Sets the entry named name to fn, which must have that slot's signature and give the
 * reference's bits; 0, or -1 (error set) for an unknown name. */
int kernels_replace(const char *name, KernelFn fn);

#endif
