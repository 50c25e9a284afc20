/* fuzz_gguf.c: libFuzzer target for GGUF bytes: gguf_open and every metadata getter alone,
 * then model_load_bytes (the --quant of fuzz_quant), a vocabulary load from the metadata, and
 * a forward pass when the model is tiny. */
#include "core/base/error.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "core/text/tokenizer.h"
#include "fuzz.h"

/* Walks every metadata entry through the getters that match its type. */
static void walk_metadata(const GgufFile *g)
{
	char key[256];
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const GgufKV *kv = &g->kv[i];
		if (kv->key.n >= sizeof key)
			continue;
		for (uint64_t j = 0; j < kv->key.n; j++)
			key[j] = kv->key.s[j] ? kv->key.s[j] : '?';
		key[kv->key.n] = 0;
		uint32_t u;
		float f;
		bool b;
		GgufStr s;
		uint32_t type;
		uint64_t n;
		const uint8_t *first;
		gguf_get_u32(g, key, &u);
		gguf_get_f32(g, key, &f);
		gguf_get_bool(g, key, &b);
		gguf_get_str(g, key, &s);
		if (gguf_get_arr(g, key, &type, &n, &first) == 0 && type == GGUF_STRING) {
			unsigned sum = 0;
			for (uint64_t k = 0; k < n; k++) {
				GgufStr e = gguf_next_str(&first);
				if (e.n)
					sum += (uint8_t)e.s[e.n - 1];
			}
			volatile unsigned sink = sum;
			(void)sink;
		}
	}
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const GgufTensor *t = &g->tensors[i];
		if (t->n_bytes) { /* the first and last bytes of every tensor are in the file */
			volatile uint8_t sink = t->data[0] ^ t->data[t->n_bytes - 1];
			(void)sink;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t mark = fuzz_begin();
	GgufFile g;
	if (gguf_open(&g, data, size, "fuzz.gguf") == 0)
		walk_metadata(&g);
	fuzz_end(mark);

	mark = fuzz_begin();
	LoadedModel lm;
	if (model_load_bytes(&lm, data, size, "fuzz.gguf", fuzz_quant(data, size)) == 0) {
		if (lm.is_gguf) {
			Tokenizer t;
			if (tokenizer_load_gguf(&t, &lm.gguf) == 0) {
				int ids[64], n_ids;
				static const char text[] =
				    "Hello world, \xe2\x96\x81 \xf0\x9f\x98\x80!";
				tokenizer_encode(&t, text, sizeof text - 1, ids, 64, &n_ids);
			}
		}
		fuzz_forward(&lm.model, size ? data[size / 3] : 0);
	}
	fuzz_end(mark);
	return 0;
}
