/* fuzz.h: what the fuzz targets share: the arena set up once and rewound per input, and a
 * bounded forward pass over a freshly loaded model so that in-place weights are read. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/formats/loader.h"
#include "core/model/model.h"

/* The libFuzzer entry point every target defines (the regression runner calls it too). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sets the arena up on first use and returns its mark: pass it to fuzz_end. */
size_t fuzz_begin(void);
/* Rewinds the arena to mark and clears the error message. */
void fuzz_end(size_t mark);
/* The --quant of an input, from its middle byte b: none when b % 4 < 2, int8 when 2, else
 * Q8_0 or one of llama.cpp's mixes, picked by b / 4 (gen_corpus.c writes b = 4 k + 3). */
QuantMode fuzz_quant(const uint8_t *data, size_t size);
/* Runs a prompt batch and one more token when the model is tiny (skipped otherwise), with the
 * kernels of ISA choice % 4 (scalar, avx2, avxvnni, avx512) when the CPU has them; checks nothing
 * but that memory is only touched where the loader and the run state put it. */
void fuzz_forward(Model *m, unsigned choice);
/* Frees the code memory the loader took for one input (fuzz_platform.c). */
void fuzz_code_reset(void);

#endif
