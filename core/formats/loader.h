/* loader.h: turns model bytes into a Model: detects the format by content (GGUF,
 * llama2.c v0/v1/v2) or builds the synthetic model, then applies --quant. */
#ifndef LOADER_H
#define LOADER_H

#include <stdint.h>

#include "core/formats/gguf.h"
#include "core/model/model.h"

/* Q8_0, the seed's int8, or one of llama.cpp's mixes of the 4/5-bit and K-quant types
 * (quant_mix.h) */
typedef enum {
	QUANT_NONE = 0,
	QUANT_Q8_0,
	QUANT_INT8,
	QUANT_Q4_0,
	QUANT_Q4_1,
	QUANT_Q5_0,
	QUANT_Q5_1,
	QUANT_Q2_K,
	QUANT_Q3_K_S,
	QUANT_Q3_K_M,
	QUANT_Q3_K_L,
	QUANT_Q4_K_S,
	QUANT_Q4_K_M,
	QUANT_Q5_K_S,
	QUANT_Q5_K_M,
	QUANT_Q6_K
} QuantMode;

typedef struct {
	const char *path;      /* model file, or NULL for the synthetic model */
	const char *synthetic; /* synthetic preset ("tinyllama", "small") when path is NULL */
	uint64_t synth_seed;
	QuantMode quant;
} LoadOptions;

typedef struct {
	Model model;
	GgufFile gguf; /* valid when is_gguf: its metadata may hold a vocabulary */
	int is_gguf;
	const char *format; /* "gguf v3", "llama2.c v0", "synthetic tinyllama", ... */
	QuantMode quant;    /* the --quant applied at load (the export's general.file_type) */
} LoadedModel;

/* 0, or -1 with error_message() naming the file and what was wrong. */
int model_load(LoadedModel *lm, const LoadOptions *o);
/* Loads from bytes already in memory (tests, fuzzing); name is for messages. */
int model_load_bytes(LoadedModel *lm, const uint8_t *data, size_t size, const char *name,
		     QuantMode quant);
/* Converts every weight matrix to Q8_0 or to the per-tensor int8 layout. */
int model_quantize(Model *m, QuantMode mode);
/* Writes the model in use as GGUF v3, weights in their current type. */
int model_export_gguf(const LoadedModel *lm, const char *path);

#endif
