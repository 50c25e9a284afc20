/* tierup.h: --jit off|auto|always on the host: between tokens, the profile's hot kernel records
 * are compiled for their shapes and this CPU (jit_engine), tuned and verified on the model's
 * real weights (jit_slots), swapped into the registry, and filed as tier records. */
#ifndef TIERUP_H
#define TIERUP_H

#include "core/app/cli.h"
#include "core/model/model.h"

/* Sets the session hook for o->tierup (nothing for TIERUP_OFF); 0, or -1 with one error line
 * printed when LLVM cannot start. */
int tierup_start(const Options *o);

/* The parts tierup_start puts together, for tests: the mode and the tokens the run will
 * generate; one tier-up over the profile's kernel records now (tokens: tokens they cover;
 * to_come: tokens still to run, for auto's projection). m's run state holds the last
 * activations and its KV cache positions (the verification inputs). LLVM must be up
 * (jit_engine_init). */
void tierup_configure(TierUpMode mode, int n_predict);
void tierup_run(Model *m, int positions, int tokens, int to_come);

/* Test hook: the next compiled entries carry a planted wrong result (verification must drop
 * them). Not reachable from the command line. */
void tierup_plant_wrong(bool on);

#endif
