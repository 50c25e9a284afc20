# bench.mk: `make bench` builds tinyllama-host and the benchmarks, then runs each benchmark.
# -include'd by the top Makefile. A new benchmark adds its binary to BENCH_BINS and its rules
# above the `bench` rule, which stays last so that BENCH_BINS is complete when it is read.

# --- bench_profiler: cycles per zone enabled / disabled / compiled out ---
BENCH_PROFILER_OBJS := $(BUILD)/host/bench/bench_profiler.o \
	$(BUILD)/host/bench/bench_profiler_out.o \
	$(BUILD)/host/core/profile/collector.o $(BUILD)/host/core/profile/kernel_records.o \
	$(BUILD)/host/core/base/fmt.o \
	$(BUILD)/host/core/base/str.o $(BUILD)/host/core/base/error.o \
	$(BUILD)/host/core/base/arena.o $(BUILD)/host/core/io/console.o $(HOST_SHIM_OBJS)
BENCH_BINS += $(BUILD)/bench/bench_profiler

$(BUILD)/host/bench/bench_profiler.o: bench/bench_profiler.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

# The same loop with the zones compiled out: the baseline that zone costs are measured against.
$(BUILD)/host/bench/bench_profiler_out.o: bench/bench_profiler.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DPROFILER_COMPILED_OUT -DBENCH_PROFILER_LOOP_ONLY -MMD -MP -c -o $@ $<

$(BUILD)/bench/bench_profiler: $(BENCH_PROFILER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^ -lpthread

# --- bench_matmul: read bandwidth, Q8_0 matmul GB/s per shape and ISA; bench_generate.sh ---
BENCH_MATMUL_OBJS := $(BUILD)/host/bench/bench_matmul.o $(HOST_SHIM_OBJS) $(HOST_CORE_OBJS)
BENCH_BINS += $(BUILD)/bench/bench_matmul $(BUILD)/bench/bench_generate

$(BUILD)/host/bench/bench_matmul.o: bench/bench_matmul.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/bench/bench_matmul: $(BENCH_MATMUL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^ -lpthread

# Generation and prompt tok/s of tinyllama-host beside the bandwidth ceiling (a script).
$(BUILD)/bench/bench_generate: bench/bench_generate.sh $(BUILD)/bench/bench_matmul host/tinyllama-host
	@mkdir -p $(dir $@)
	cp bench/bench_generate.sh $@ && chmod +x $@

# TinyLlama-shaped Q4_K_M, Q4_0, Q6_K, Q5_K_M files: tg and pp beside the ceiling and llama-bench.
BENCH_BINS += $(BUILD)/bench/bench_kquant

$(BUILD)/bench/bench_kquant: bench/bench_kquant.sh $(BUILD)/bench/bench_matmul host/tinyllama-host
	@mkdir -p $(dir $@)
	cp bench/bench_kquant.sh $@ && chmod +x $@

# --- bench_kdot: the 4/5-bit and K-quant one-token matmuls per ISA, weights in cache ---
BENCH_BINS += $(BUILD)/bench/bench_kdot

$(BUILD)/host/bench/bench_kdot.o: bench/bench_kdot.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/bench/bench_kdot: $(BUILD)/host/bench/bench_kdot.o $(HOST_SHIM_OBJS) $(HOST_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^ -lpthread

# --- bench_quant_error: int8 / q8_0 against fp32 on stories260K ---
BENCH_BINS += $(BUILD)/bench/bench_quant_error

$(BUILD)/host/bench/bench_quant_error.o: bench/bench_quant_error.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/bench/bench_quant_error: $(BUILD)/host/bench/bench_quant_error.o $(HOST_SHIM_OBJS) $(HOST_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^ -lpthread -lm

# Runs every benchmark, one after the other (they time themselves: keep the machine quiet).
bench: host/tinyllama-host $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done
