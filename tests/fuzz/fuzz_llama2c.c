/* fuzz_llama2c.c: libFuzzer target for llama2.c checkpoint bytes (v0, v1 "ak42", v2 int8):
 * model_load_bytes with a --quant picked by the middle byte, then a forward pass when tiny. */
#include "core/formats/llama2c.h"
#include "core/formats/loader.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t mark = fuzz_begin();
	/* The format probes alone. */
	volatile int sink = llama2c_has_magic(data, size) + llama2c_v0_plausible(data, size);
	(void)sink;
	LoadedModel lm;
	if (model_load_bytes(&lm, data, size, "fuzz.bin", fuzz_quant(data, size)) == 0)
		fuzz_forward(&lm.model, size ? data[size / 3] : 0);
	fuzz_end(mark);
	return 0;
}
