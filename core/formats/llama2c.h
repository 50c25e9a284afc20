/* llama2c.h: llama2.c checkpoints: legacy v0 (7-int header, negative vocab = untied
 * classifier), v1 (fp32, magic "ak42") and v2 (int8 groups, "ak42"), used in place. */
#ifndef LLAMA2C_H
#define LLAMA2C_H

#include <stddef.h>
#include <stdint.h>

#include "core/model/model.h"

/* True when the bytes start with the "ak42" magic of v1/v2 files. */
int llama2c_has_magic(const uint8_t *data, size_t size);
/* True when the bytes start with a v0 header whose hyper-parameters are plausible. */
int llama2c_v0_plausible(const uint8_t *data, size_t size);
/* Fills m from a checkpoint; version receives 0, 1 or 2. 0 or -1 (error set). */
int llama2c_load(Model *m, const uint8_t *data, size_t size, const char *path, int *version);

#endif
