/* bench_quant_error.c: how far the weight layouts drift from fp32 on stories260K: the step
 * where greedy ids first differ, and the largest logit error over the first 64 steps with
 * the fp32 ids fed to both (prints figures, asserts nothing). */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/error.h"
#include "core/formats/loader.h"
#include "core/model/sampler.h"
#include "shim/host/host.h"

#define STEPS 256
#define LOGIT_STEPS 64

static float ref_logits[LOGIT_STEPS][512];

static int greedy(Model *m, int *ids, int n)
{
	int token = m->config.bos_id;
	for (int pos = 0; pos < n; pos++) {
		float *logits = model_forward(m, token, pos);
		token = sampler_argmax(logits, m->config.vocab_size);
		ids[pos] = token;
	}
	return n;
}

int main(int argc, char **argv)
{
	char path[4096];
	const char *dir = getenv("SHARED_DIR");
	snprintf(path, sizeof path, "%s", argc > 1 ? argv[1] : "");
	if (argc < 2)
		snprintf(path, sizeof path, "%s/models/stories260K.bin", dir ? dir : "../shared");
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		printf("SKIP: %s is absent\n", path);
		return 0;
	}
	const uint8_t *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	host_platform_init((size_t)1 << 30);

	static LoadedModel ref, q;
	static const QuantMode modes[] = {QUANT_INT8, QUANT_Q8_0};
	static const char *names[] = {"int8 (per-tensor)", "q8_0"};
	if (model_load_bytes(&ref, data, (size_t)st.st_size, path, QUANT_NONE) < 0 ||
	    model_state_init(&ref.model, STEPS) < 0) {
		printf("error: %s\n", error_message());
		return 1;
	}
	int ref_ids[STEPS], ids[STEPS];
	greedy(&ref.model, ref_ids, STEPS);
	int vocab = ref.model.config.vocab_size;
	for (int pos = 0; pos < LOGIT_STEPS; pos++) {
		int token = pos ? ref_ids[pos - 1] : ref.model.config.bos_id;
		float *l = model_forward(&ref.model, token, pos);
		for (int i = 0; i < vocab && i < 512; i++)
			ref_logits[pos][i] = l[i];
	}
	printf("stories260K (%s), greedy from BOS, fp32 as the reference\n", path);
	for (int k = 0; k < 2; k++) {
		if (model_load_bytes(&q, data, (size_t)st.st_size, path, modes[k]) < 0 ||
		    model_state_init(&q.model, STEPS) < 0) {
			printf("%-18s: refused: %s\n", names[k], error_message());
			continue;
		}
		greedy(&q.model, ids, STEPS);
		int first = -1;
		for (int i = 0; i < STEPS && first < 0; i++)
			if (ids[i] != ref_ids[i])
				first = i;
		double max_err = 0, max_logit = 0;
		for (int pos = 0; pos < LOGIT_STEPS; pos++) {
			int token = pos ? ref_ids[pos - 1] : q.model.config.bos_id;
			float *l = model_forward(&q.model, token, pos);
			for (int i = 0; i < vocab && i < 512; i++) {
				double e = fabs((double)l[i] - ref_logits[pos][i]);
				max_err = e > max_err ? e : max_err;
				double a = fabs(ref_logits[pos][i]);
				max_logit = a > max_logit ? a : max_logit;
			}
		}
		if (first < 0)
			printf("%-18s: greedy ids equal fp32 for all %d steps", names[k], STEPS);
		else
			printf("%-18s: greedy ids leave fp32 at step %d (0-based) of %d", names[k],
			       first, STEPS);
		printf("; max |logit error| over the first %d steps %.4f (largest |logit| %.2f)\n",
		       LOGIT_STEPS, max_err, max_logit);
	}
	return 0;
}
