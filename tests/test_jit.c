/* test_jit.c: the tier-up's verification on the synthetic small model (Q8_0, and Q4_1) and the
 * shared Q4_K_M.gguf (the K-quant dots): an entry with a planted wrong result is dropped and the
 * registry keeps tier 1; correct entries are swapped in and the logits keep their bits. Built and
 * run by tests/jit.sh when LLVM is built in. */
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
	    jit_inputs_init(&in, s, m, "Q8_0", m->config.dim, m->config.dim, 1, 0) < 0)
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

/* The active entry of the slot named name. */
static KernelFn slot_entry(const char *name)
{
	for (int i = 0; i < kernels_slot_count(); i++)
		if (!strcmp(kernels_slot_name(i), name))
			return kernels_slot_get(i);
	return NULL;
}

/* On m (label in the messages): two tokens' records, then a tier-up with planted wrong
 * entries (all dropped, the registry unchanged), then one that swaps in slot and
 * attention_group, whose logits must keep tier 1's bits. The registry is tier 1's again at the end.
 */
static void tier_up_checks(Model *m, const char *label, const char *slot)
{
	char what[160];
	int vocab = m->config.vocab_size;
	profiler_init();
	profiler_enable();
	model_forward(m, 1, 0);
	model_forward(m, 2, 1);
	profiler_disable();
	Kernels tier1 = kernels;

	tierup_plant_wrong(true);
	tierup_run(m, 2, 2, 8);
	snprintf(what, sizeof what,
		 "%s: a planted wrong entry is dropped; the registry keeps tier 1", label);
	expect(!memcmp(&kernels, &tier1, sizeof kernels) && all_kept_tier1(0), what);

	tierup_plant_wrong(false);
	int before = profiler_tier_count();
	KernelFn old = slot_entry(slot), old_attn = slot_entry("attention_group");
	tierup_run(m, 2, 2, 8);
	snprintf(what, sizeof what, "%s: a verified entry replaces %s", label, slot);
	expect(old && slot_entry(slot) != old && !all_kept_tier1(before), what);
	snprintf(what, sizeof what, "%s: a verified entry replaces attention_group", label);
	expect(old_attn && slot_entry("attention_group") != old_attn, what);

	float *y2 = malloc((size_t)vocab * sizeof(float)),
	      *y1 = malloc((size_t)vocab * sizeof(float));
	if (y1 && y2) {
		memcpy(y2, model_forward(m, 3, 2), (size_t)vocab * sizeof(float));
		kernels = tier1;
		memcpy(y1, model_forward(m, 3, 2), (size_t)vocab * sizeof(float));
	}
	snprintf(what, sizeof what, "%s: tier 2 logits have tier 1's bits", label);
	expect(y1 && y2 && !memcmp(y1, y2, (size_t)vocab * sizeof(float)), what);
	kernels = tier1;
	free(y1);
	free(y2);
}

/* Loads a model (path, or the synthetic small one quantized by quant) with a run state. */
static int load(LoadedModel *lm, const char *path, QuantMode quant)
{
	LoadOptions lo = {path, path ? NULL : "small", SYNTH_DEFAULT_SEED, quant};
	return model_load(lm, &lo) < 0 || model_state_init(&lm->model, 16) < 0 ? -1 : 0;
}

int main(void)
{
	host_std_streams();
	host_files_init();
	host_platform_init(0);
	static LoadedModel q8, q41, q4k;
	if (kernels_select_named(NULL) < 0 || load(&q8, NULL, QUANT_NONE) < 0 ||
	    load(&q41, NULL, QUANT_Q4_1) < 0 || jit_engine_init() < 0) {
		fprintf(stderr, "error: test_jit: set-up failed\n");
		return 1;
	}
	profiler_init();
	profiler_enable();
	model_forward(&q8.model, 1, 0);
	profiler_disable();
	tierup_configure(TIERUP_ALWAYS, 8);
	expect(knob_values_verify(&q8.model, (KernelFn)kernels.dot_q8_0),
	       "every prefetch distance compiled in gives tier 1's bits");

	tier_up_checks(&q8.model, "synthetic small Q8_0", "dot_q8_0");
	/* the 4/5-bit dots on Q8_1 activations, and the K-quants' on Q8_K (a shared model) */
	tier_up_checks(&q41.model, "synthetic small Q4_1", "dot_q4_1");
	const char *dir = getenv("SHARED_DIR");
	char path[512];
	snprintf(path, sizeof path, "%s/models/kquant/Q4_K_M.gguf", dir ? dir : "../shared");
	FILE *f = fopen(path, "rb");
	const char *ci = getenv("CI");
	if (!f && ci && !strcmp(ci, "true")) /* tests/require.sh's rule: CI has the models */
		expect(0, "the shared Q4_K_M.gguf is there (CI=true)");
	else if (!f)
		printf("SKIP the K-quant checks: no %s\n", path);
	else if (fclose(f), load(&q4k, path, QUANT_NONE) < 0)
		expect(0, "Q4_K_M.gguf loads");
	else
		tier_up_checks(&q4k.model, "Q4_K_M.gguf",
			       kernels.dot_kquant_x2[KQ_Q4_K] ? "dot_q4_k_x2" : "dot_q4_k");
	return failures ? 1 : 0;
}
