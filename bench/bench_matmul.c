/* bench_matmul.c: read bandwidth of this machine (1 and 2 threads), Q8_0 matmul GB/s per
 * TinyLlama shape and per ISA beside it, and the bytes one token of the synthetic TinyLlama
 * streams. `bench_matmul --bw` prints only the bandwidth lines, `bench_matmul --pp N T [ISA]` the
 * prompt processing tok/s of N tokens on T threads (both for bench_generate.sh). */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/base/error.h"
#include "core/formats/synth.h"
#include "core/kernels/registry.h"
#include "core/model/model.h"
#include "core/profile/profiler.h"
#include "shim/host/host.h"
#include "shim/platform.h"

/* Buffers far larger than the last-level cache, so that every pass reads DRAM. */
#define BW_BYTES (1ull << 30)
#define MATMUL_SET_BYTES (600ull << 20)
#define PASSES 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of all the process's threads: on a machine others load, tokens per CPU second
 * still says how fast the code is where tokens per second says how much CPU it was given. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sums 32-byte lanes: the loads are what is measured, the xor keeps them live. */
__attribute__((target("avx2"))) static uint64_t read_span(const uint8_t *p, size_t n)
{
	__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
	for (size_t i = 0; i + 128 <= n; i += 128) {
		a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(p + i)));
		a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
		a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
		a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
	}
	__m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
	return (uint64_t)_mm256_extract_epi64(a, 0) ^ (uint64_t)_mm256_extract_epi64(a, 2);
}

typedef struct {
	const uint8_t *p;
	size_t n;
	uint64_t sink;
} Span;

static void *read_thread(void *arg)
{
	Span *s = arg;
	s->sink = read_span(s->p, s->n);
	return NULL;
}

/* Best of PASSES reads of the whole buffer split across nthreads threads, in GB/s. */
static double read_bandwidth(const uint8_t *buf, int nthreads)
{
	double best = 0;
	for (int pass = 0; pass < PASSES; pass++) {
		Span s[2];
		pthread_t t[2];
		double t0 = now();
		for (int i = 0; i < nthreads; i++) {
			s[i] = (Span){buf + BW_BYTES / nthreads * i, BW_BYTES / nthreads, 0};
			if (i)
				pthread_create(&t[i], NULL, read_thread, &s[i]);
		}
		read_thread(&s[0]);
		for (int i = 1; i < nthreads; i++)
			pthread_join(t[i], NULL);
		double gbs = (double)BW_BYTES / (now() - t0) / 1e9;
		best = gbs > best ? gbs : best;
	}
	return best;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x & 0x7f7f7f7f7f7f7f7full; /* no -128, and fp16 scales stay finite */
		memcpy(p + i, &v, 8);
	}
}

static const int shapes[][2] = {
    {2048, 2048}, {256, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}};
#define NSHAPES 5

/* GB/s of weights streamed by matmul over copies of a (rows, cols) Q8_0 tensor that
 * together exceed the caches: best of PASSES passes over all copies. */
static double matmul_gbs(const uint8_t *set, int rows, int cols, MatmulScratch *s, float *x,
			 float *y)
{
	size_t bytes = (size_t)rows * dtype_row_bytes(DT_Q8_0, cols);
	size_t copies = MATMUL_SET_BYTES / bytes + 1;
	double best = 0;
	for (int pass = 0; pass < PASSES; pass++) {
		double t0 = now();
		for (size_t c = 0; c < copies; c++) {
			Tensor W = {.type = DT_Q8_0,
				    .rows = rows,
				    .cols = cols,
				    .data = set + c * ((bytes + 63) & ~(size_t)63)};
			matmul(y, &W, x, s);
		}
		double gbs = (double)(bytes * copies) / (now() - t0) / 1e9;
		best = gbs > best ? gbs : best;
	}
	return best;
}

static void print_machine(void)
{
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
	time_t t = time(NULL);
	char date[64];
	strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&t));
	printf("machine: %s, %ld CPUs, %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), date);
}

/* Weight bytes one generated token reads: every matmul's weights once (the embedding gives
 * one row only), for the synthetic TinyLlama (Q8_0). */
static double tinyllama_bytes_per_token(void)
{
	ModelConfig c;
	if (synth_config(&c, "tinyllama") < 0)
		return 0;
	int kv = c.dim / c.n_heads * c.n_kv_heads;
	double per_layer = 2.0 * c.dim * c.dim + 2.0 * kv * c.dim + 3.0 * c.hidden_dim * c.dim;
	double params = per_layer * c.n_layers + (double)c.vocab_size * c.dim;
	return params * (double)sizeof(BlockQ8_0) / QK8_0;
}

/* Prompt processing: model_forward_batch over n tokens of the synthetic TinyLlama from
 * position 0, best of 3, in tokens per second. */
static int prompt_bench(int n, int threads, const char *isa)
{
	static Model m;
	if (plat_threads_start(threads) < 1 || kernels_select_named(isa) < 0 ||
	    synth_build(&m, "tinyllama", 20240601u) < 0 || model_state_init(&m, n) < 0) {
		fprintf(stderr, "bench_matmul: %s\n", error_message());
		return 1;
	}
	int *toks = malloc(sizeof(int) * (size_t)n);
	for (int i = 0; i < n; i++)
		toks[i] = 1 + (i * 7919) % 31999;
	double best = 0, best_cpu = 0;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now(), c0 = cpu_now();
		model_forward_batch(&m, toks, n, 0);
		double tps = n / (now() - t0), tpc = n / (cpu_now() - c0);
		best = tps > best ? tps : best;
		best_cpu = tpc > best_cpu ? tpc : best_cpu;
	}
	printf("pp%d_tok_per_s_t%d=%.2f (%s)\n", n, threads, best, kernels_isa_name());
	printf("pp%d_tok_per_cpu_s_t%d=%.2f (%s, all threads' CPU time)\n", n, threads, best_cpu,
	       kernels_isa_name());
	if (getenv("BENCH_PROFILE")) { /* where a batch spends its time, to stderr */
		profiler_init();
		profiler_enable();
		model_forward_batch(&m, toks, n, 0);
		profiler_write_report(PROFILE_FOLDED, NULL);
	}
	free(toks);
	return 0;
}

int main(int argc, char **argv)
{
	int bw_only = argc > 1 && !strcmp(argv[1], "--bw");
	host_platform_init(argc > 3 && !strcmp(argv[1], "--pp") ? 3ull << 30 : 2ull << 30);
	if (argc > 3 && !strcmp(argv[1], "--pp"))
		return prompt_bench(atoi(argv[2]), atoi(argv[3]), argc > 4 ? argv[4] : NULL);
	/* 2 MB aligned, and 2 MB pages if THP allows: the probe then reads like the best a
	 * program can, whatever pages the arena gets */
	uint8_t *buf = aligned_alloc(2u << 20, BW_BYTES);
	if (buf)
		madvise(buf, BW_BYTES, MADV_HUGEPAGE);
	if (!buf) {
		fprintf(stderr, "bench_matmul: no memory for the %llu MB buffer\n", BW_BYTES >> 20);
		return 1;
	}
	fill_random(buf, BW_BYTES, 1);
	double bw1 = read_bandwidth(buf, 1), bw2 = read_bandwidth(buf, 2);
	printf("read_bandwidth_gbs_t1=%.2f\nread_bandwidth_gbs_t2=%.2f\n", bw1, bw2);
	printf("tinyllama_bytes_per_token=%.0f\n", tinyllama_bytes_per_token());
	if (bw_only)
		return 0;
	print_machine();

	/* The tensor copies live in the 1 GB buffer: 600 MB of them per shape. */
	int maxc = 5632;
	float *x = malloc(sizeof(float) * (size_t)maxc), *y = malloc(sizeof(float) * 32000);
	for (int k = 0; k < maxc; k++)
		x[k] = (float)((k * 7919) % 1000) / 500.0f - 1.0f;
	MatmulScratch s;
	if (!x || !y || matmul_scratch_init(&s, maxc) < 0)
		return 1;
	static const char *isas[] = {"scalar", "avx2", "avxvnni", "avx512"};
	double res[2][4][NSHAPES] = {{{0}}};
	for (int threads = 1; threads <= 2; threads++) {
		if (threads == 2 && plat_threads_start(2) < 2)
			break;
		for (int i = 0; i < 4; i++) {
			if (kernels_select_named(isas[i]) < 0)
				continue;
			for (int k = 0; k < NSHAPES; k++)
				res[threads - 1][i][k] =
				    matmul_gbs(buf, shapes[k][0], shapes[k][1], &s, x, y);
		}
	}
	printf("\nQ8_0 matmul, GB/s of weights streamed (best of %d passes over %llu MB of "
	       "copies)\n",
	       PASSES, MATMUL_SET_BYTES >> 20);
	printf("%-6s %-8s", "thr", "isa");
	for (int k = 0; k < NSHAPES; k++)
		printf(" %5dx%-5d", shapes[k][0], shapes[k][1]);
	printf("  read bw\n");
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < 4; i++) {
			if (!res[t][i][0])
				continue;
			printf("%-6d %-8s", t + 1, isas[i]);
			for (int k = 0; k < NSHAPES; k++)
				printf(" %11.2f", res[t][i][k]);
			printf("  %7.2f\n", t ? bw2 : bw1);
		}
	return 0;
}
