/* test_jit.c: the tier-up's verification on the synthetic small model (Q8_0): an entry with a
 * planted wrong result is dropped and the registry keeps tier 1; correct entries are swapped
 * in and the logits keep their bits. Built and run by tests/jit.sh when LLVM is built in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/config.h"
#include "core/formats/loader.h"
#include "core/kernels/registry.h"
#include "core/profile/profiler.h"
#include "jit/jit_engine.h"
#include "jit/jit_slots.h"
#include "jit/tierup.h"
#include "shim/host/host.h"

static int failures;

static void expect(int ok, const char *what)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	failures += !ok;
}

/* dot_q8_0 compiled with each value of its kernel's knob (the prefetch distance, a constant
 * in the inlined copy) gives tier 1's bits on the model's weights and activations. */
static int knob_values_verify(const Model *m, KernelFn tier1)
{
	const JitSlot *s = jit_slot_find("dot_q8_0");
	const JitKnob *knob = jit_slot_knob(s);
	const char *src = jit_slot_tuned_source(s, kernels_isa());
	JitInputs in;
	if (!knob || !src ||
	    jit_inputs_init(&in, s, m, "Q8_0", m->config.dim, m->config.dim, 1) < 0)
		return 0;
	size_t n = (size_t)in.outs * sizeof(float);
	float *y1 = malloc(n), *y2 = malloc(n);
	int ok = y1 && y2;
	if (ok)
		jit_slot_run(s, &in, tier1, y1);
	for (int v = 0; ok && v < knob->count; v++) {
		JitSpec spec = {.source = src, .has_tail = true, .tail = knob->values[v]};
		jit_slot_consts(s, &in, &spec);
		JitEntry e;
		ok = jit_compile(&spec, (void *)tier1, &e) == 0;
		if (ok) {
			jit_slot_run(s, &in, (KernelFn)e.fn, y2);
			ok = !memcmp(y1, y2, n);
			jit_release(&e);
		}
	}
	free(y1);
	free(y2);
	jit_inputs_free(&in);
	return ok;
}

/* Every tier record filed since index from says tier 1 was kept. */
static int all_kept_tier1(int from)
{
	int n = profiler_tier_count();
	for (int i = from; i < n; i++)
		if (strncmp(profiler_tier_get(i)->decision, "tier 1 kept", 11) != 0)
			return 0;
	return n > from;
}

int main(void)
{
	host_std_streams();
	host_files_init();
	host_platform_init(0);
	static LoadedModel lm;
	LoadOptions lo = {NULL, "small", SYNTH_DEFAULT_SEED, QUANT_NONE};
	if (kernels_select_named(NULL) < 0 || model_load(&lm, &lo) < 0 ||
	    model_state_init(&lm.model, 16) < 0 || jit_engine_init() < 0) {
		fprintf(stderr, "error: test_jit: set-up failed\n");
		return 1;
	}
	Model *m = &lm.model;
	int vocab = m->config.vocab_size;
	profiler_init();
	profiler_enable();
	model_forward(m, 1, 0);
	model_forward(m, 2, 1);
	profiler_disable();
	Kernels tier1 = kernels;
	tierup_configure(TIERUP_ALWAYS, 8);
	expect(knob_values_verify(m, (KernelFn)tier1.dot_q8_0),
	       "every prefetch distance compiled in gives tier 1's bits");

	tierup_plant_wrong(true);
	tierup_run(m, 2, 8);
	expect(!memcmp(&kernels, &tier1, sizeof kernels) && all_kept_tier1(0),
	       "a planted wrong entry is dropped; the registry keeps tier 1");

	tierup_plant_wrong(false);
	int before = profiler_tier_count();
	tierup_run(m, 2, 8);
	expect(kernels.dot_q8_0 != tier1.dot_q8_0 && !all_kept_tier1(before),
	       "a verified entry replaces dot_q8_0");

	float *y2 = malloc((size_t)vocab * sizeof(float)),
	      *y1 = malloc((size_t)vocab * sizeof(float));
	if (!y1 || !y2)
		return 1;
	memcpy(y2, model_forward(m, 3, 2), (size_t)vocab * sizeof(float));
	kernels = tier1;
	memcpy(y1, model_forward(m, 3, 2), (size_t)vocab * sizeof(float));
	expect(!memcmp(y1, y2, (size_t)vocab * sizeof(float)), "tier 2 logits have tier 1's bits");
	free(y1);
	free(y2);
	return failures ? 1 : 0;
}
