/* bench_kdot.c: the one-token matmul of every 4/5-bit and K-quant type on each ISA with the
 * weights in cache (1024 rows of 2048 values, 0.6-1.5 MB: L2 or L3; x quantized once per pass,
 * as in the model's passes of 2048 rows and more): TSC ticks per 32 weights and GB/s of weights,
 * the compute side of a generated token's passes, to set beside the read bandwidth
 * (bench_matmul) that the same passes stream from DRAM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/base/error.h"
#include "core/kernels/kquant.h"
#include "core/kernels/matmul.h"
#include "core/kernels/registry.h"
#include "shim/host/host.h"
#include "shim/platform.h"

#define ROWS 1024
#define COLS 2048
#define PASSES 200
#define CELL_SECONDS 0.3 /* the scalar rows stop early */

static const DType types[] = {DT_Q4_0, DT_Q4_1, DT_Q5_0, DT_Q5_1, DT_Q2_K,
			      DT_Q3_K, DT_Q4_K, DT_Q5_K, DT_Q6_K};
#define NTYPES ((int)(sizeof types / sizeof types[0]))
static const char *const isas[] = {"scalar", "avx2", "avxvnni", "avx512"};
#define NISAS 4

/* Random bytes without 0xff bytes' extremes; scales come out of them as any fp16 finite or not,
 * which costs nothing extra in the float steps. */
static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x & 0x3f7f3f7f3f7f3f7full;
		memcpy(p + i, &v, 8);
	}
}

/* Best of PASSES matmuls of W by x (fewer past CELL_SECONDS), in TSC ticks: the weights stay in
 * cache from the first. */
static uint64_t best_ticks(const Tensor *W, const float *x, float *y, MatmulScratch *s)
{
	uint64_t best = ~0ull, spent = 0,
		 budget = (uint64_t)(CELL_SECONDS * (double)plat_cycles_hz());
	for (int pass = 0; pass < PASSES && (pass < 5 || spent < budget); pass++) {
		uint64_t t0 = plat_cycles();
		matmul(y, W, x, s);
		uint64_t t = plat_cycles() - t0;
		best = t < best ? t : best;
		spent += t;
	}
	return best;
}

int main(void)
{
	host_platform_init(256ull << 20);
	static float x[COLS], y[ROWS];
	for (int k = 0; k < COLS; k++)
		x[k] = (float)((k * 7919) % 1000) / 500.0f - 1.0f;
	MatmulScratch s;
	size_t max_bytes = (size_t)ROWS * dtype_row_bytes(DT_Q5_1, COLS); /* the widest type */
	uint8_t *w = aligned_alloc(64, (max_bytes + 63) & ~(size_t)63);
	if (!w || matmul_scratch_init(&s, COLS) < 0) {
		fprintf(stderr, "bench_kdot: %s\n", w ? error_message() : "no memory");
		return 1;
	}
	fill_random(w, max_bytes, 7);
	char line[256], model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10)) {
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	time_t now = time(NULL);
	char date[64];
	strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
	double hz = (double)plat_cycles_hz();
	printf("machine: %s, %ld CPUs, %s, TSC %.3f GHz (%s)\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), date, hz / 1e9, plat_cycles_source());
	printf(
	    "\none-token matmul, %d x %d weights in cache, 1 thread, best of %d: TSC ticks per 32 "
	    "weights (GB/s of weights)\n",
	    ROWS, COLS, PASSES);
	printf("%-6s", "type");
	for (int i = 0; i < NISAS; i++)
		printf(" %18s", isas[i]);
	printf("\n");
	for (int t = 0; t < NTYPES; t++) {
		Tensor W = {.type = types[t], .rows = ROWS, .cols = COLS, .data = w};
		size_t bytes = (size_t)ROWS * dtype_row_bytes(types[t], COLS);
		printf("%-6s", dtype_name(types[t]));
		for (int i = 0; i < NISAS; i++) {
			if (kernels_select_named(isas[i]) < 0) {
				printf(" %18s", "-");
				continue;
			}
			uint64_t ticks = best_ticks(&W, x, y, &s);
			printf("    %6.3f (%6.1f)", (double)ticks / (ROWS * COLS / 32),
			       (double)bytes / ((double)ticks / hz) / 1e9);
		}
		printf("\n");
	}
	return 0;
}
