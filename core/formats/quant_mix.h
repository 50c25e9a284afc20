/* quant_mix.h: --quant to the 4/5-bit and K-quant types: llama.cpp's named mixes (which type
 * each tensor gets) and the conversion of a model's matrices to them. */
#ifndef QUANT_MIX_H
#define QUANT_MIX_H

#include "core/formats/loader.h"

/* The mode of a --quant name (q4_0, q4_1, q5_0, q5_1, q2_k, q3_k_s/m/l, q4_k_s/m, q5_k_s/m,
 * q6_k; q3_k, q4_k, q5_k as q3_k_m, q4_k_m, q5_k_m); 0, or -1 for another name. */
int quant_mix_parse(const char *name, QuantMode *mode);
/* The names quant_mix_parse takes, for messages. */
extern const char quant_mix_names[];

/* Converts every matrix of m to its type under mode (a mode of quant_mix_parse), as llama.cpp's
 * llama-quantize picks them; a tensor whose rows do not fit a super-block falls back as
 * llama.cpp does (said on stderr). 0, or -1 with the error set. */
int quant_mix_apply(Model *m, QuantMode mode);

#endif
