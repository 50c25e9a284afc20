/* synth.h: the built-in synthetic models: TinyLlama-1.1B's shape (or a small preset for
 * tests) with Q8_0 weights drawn from a seeded PRNG, identical on every machine and target. */
#ifndef SYNTH_H
#define SYNTH_H

#include <stdint.h>

#include "core/model/model.h"

/* Fills the config of preset "tinyllama" or "small"; 0 or -1 (error set) for other names. */
int synth_config(ModelConfig *c, const char *preset);
/* Generates all weights into the arena from seed. */
int synth_build(Model *m, const char *preset, uint64_t seed);

#endif
