/* config.h: tunables of core, one commented #define each. */
#ifndef CONFIG_H
#define CONFIG_H

/* Profiler: most zones (functions) that can be registered. */
#define PROFILER_MAX_FUNCTIONS 64
/* Profiler: deepest nesting of zones. */
#define PROFILER_MAX_DEPTH 32
/* Profiler: the per-zone cycle histogram covers up to 2^44 cycles (over two hours at 2 GHz;
 * longer calls share the last bucket) ... */
#define PROFILER_HIST_BITS 44
/* ... with 2^5 = 32 linear sub-buckets per power of two, so that p50 and p99 are within
 * 1/64 (1.6 %) of the exact value: 1280 buckets, 10 KiB per zone. */
#define PROFILER_HIST_SUB_BITS 5
/* Profiler: distinct stack paths (chains of zones) kept for folded stacks and the SVG. */
#define PROFILER_MAX_PATHS 256
/* Profiler: kernel records, one per (kernel, dtype, rows, cols, tokens, isa); a model has a
 * few dozen (7 matmul shapes and 5 vector kernels, times the distinct prompt batch sizes). */
#define PROFILER_MAX_KERNELS 256
/* Profiler: 1 times zones with rdtscp+lfence when CPUID has rdtscp (ordered, ~118 cycles per
 * zone on the reference EPYC VM), 0 with plain rdtsc (~46 cycles, may drift by tens of cycles).
 * Plain by default: zones in the forward pass last 10^4..10^8 cycles, where a few tens of
 * cycles of drift are noise, while the ordered read's cost would double the overhead. */
#define PROFILER_ORDERED_CLOCK 0
/* Profiler: samples of the empty start/end pair whose median is subtracted per zone. */
#define PROFILER_CALIBRATION_SAMPLES 201

/* Seed of the synthetic model's weights when none is given (--synthetic NAME:SEED). */
#define SYNTH_DEFAULT_SEED 20240601u
/* Tokens generated when -n is not given. */
#define DEFAULT_N_PREDICT 32
/* Sampler seed when -s is not given. */
#define DEFAULT_SAMPLER_SEED 1234
/* Most prompt ids accepted by --prompt-ids. */
#define MAX_PROMPT_IDS 8192
/* Most worker threads (-t). */
#define MAX_THREADS 64

#endif
