# One entry point. Targets:
#   make             host/tinyllama-host (and the kernel image, see kernel/kernel.mk)
#   make check       Check unit tests, golden tests on ../shared models, bad-input and
#                    failing-output cases (tests/reliability.sh), host-vs-kernel parity
#   make check-quick Check unit tests only
#   make qemu        boot the kernel in QEMU (MODEL=, ARGS=, MEM=, TIMEOUT=), see kernel/kernel.mk
#   make bench       benchmarks that print figures
#   make run         a generation with the profile report on the synthetic model
#   make format      clang-format the sources
#   make clean
CC      ?= gcc
BUILD   := build
SHARED_DIR ?= $(abspath ../shared)
export SHARED_DIR

WARN    := -Wall -Wextra -Werror
# Same flags for core on both targets, so that both compute bit-identical results. -O3: gcc
# 12's -O2 left the K-quant dots 5-10 % slower (TinyLlama-shaped Q4_K_M/Q4_0/Q6_K generation,
# -t 1); no float reassociation or contraction at either level, so the bits do not change.
CORE_CFLAGS := -std=c11 -O3 -g $(WARN) -ffreestanding -fno-stack-protector \
	-fno-math-errno -ffp-contract=off -fno-strict-aliasing -I. -I$(BUILD)/gen
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffp-contract=off -pthread -I.
# SAN=1: the same build instrumented with ASan and UBSan (see check-asan), with core's
# CORE_ASSERT precondition checks on (core/base/core_assert.h).
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CORE_CFLAGS += $(SAN_FLAGS) -DCORE_CHECKS
HOST_CFLAGS += $(SAN_FLAGS) -DCORE_CHECKS
endif
# Where the host program lands (sanitizer builds put theirs under their build folder).
HOST_BIN ?= host/tinyllama-host

# core/: freestanding C11, built once per target from the same sources.
CORE_SRCS := \
	core/base/arena.c \
	core/base/error.c \
	core/base/fmt.c \
	core/base/str.c \
	core/base/mathx.c \
	core/io/console.c \
	core/kernels/isa_detect.c \
	core/kernels/registry.c \
	core/kernels/dtype.c \
	core/kernels/fp16.c \
	core/kernels/quantize.c \
	core/kernels/quant_act.c \
	core/kernels/dot_q8_0.c \
	core/kernels/dot_q8_0_tile_ymm.c \
	core/kernels/dot_int8.c \
	core/kernels/dot_f32.c \
	core/kernels/dot_f16.c \
	core/kernels/attention.c \
	core/kernels/rms_norm.c \
	core/kernels/softmax.c \
	core/kernels/rope.c \
	core/kernels/swiglu.c \
	core/kernels/matmul.c \
	core/kernels/matmul_act.c \
	core/kernels/kquant.c \
	core/kernels/dot_q4_q5.c \
	core/kernels/dot_q4_q5_batch.c \
	core/kernels/dot_q2_q3_k.c \
	core/kernels/dot_q4_q5_k.c \
	core/kernels/dot_kquant_tile.c \
	core/kernels/dot_q6_k.c \
	core/kernels/kquant_quantize.c \
	core/codecache/format.c \
	core/codecache/key.c \
	core/codecache/elf_load.c \
	core/codecache/codecache.c \
	core/model/ops.c \
	core/profile/collector.c \
	core/profile/kernel_records.c \
	core/profile/report.c \
	core/profile/report_text.c \
	core/profile/report_json.c \
	core/profile/report_folded.c \
	core/profile/report_svg.c \
	core/profile/features.c \
	core/formats/gguf.c \
	core/formats/llama2c.c \
	core/formats/llama_gguf.c \
	core/formats/synth.c \
	core/model/model.c \
	core/model/shapes.c \
	core/formats/loader.c \
	core/formats/export.c \
	core/formats/quant_mix.c \
	core/model/sampler.c \
	core/text/utf8.c \
	core/text/tokenizer.c \
	core/model/session.c \
	core/text/chat.c \
	core/app/cli.c \
	core/app/app.c

HOST_SHIM_SRCS := shim/host/platform_host.c shim/host/files_host.c shim/host/code_host.c
HOST_MAIN_SRC  := host/main.c host/perf_check.c
# Host-only code beside the core: the code cache writer (plain C).
HOST_JIT_SRCS  := jit/cache_writer.c

HOST_CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/host/%.o)

# The run-time tier-up (jit/, host only): built in when LLVM 14's llvm-config and clang are
# there. Its bitcode: the kernel families that hold SIMD kernels (the core/kernels files with
# an ISA_TARGET_ attribute) and the core functions they call, linked into one module, made
# with core's semantics flags and embedded in the host program (jit/kernels_bc.S).
LLVM_CONFIG ?= llvm-config-14
CLANG_BC    ?= clang-14
HAVE_JIT := $(if $(shell command -v $(LLVM_CONFIG) 2>/dev/null),$(if $(shell command -v $(CLANG_BC) 2>/dev/null),1))
JIT_BC_SRCS := $(shell grep -l ISA_TARGET_ $(filter core/kernels/%.c,$(CORE_SRCS))) \
	core/kernels/fp16.c core/kernels/softmax.c core/base/str.c core/base/mathx.c
JIT_BC := $(BUILD)/jit/kernels.bc
JIT_SRCS := jit/jit_engine.c jit/jit_slots.c jit/tierup.c jit/tier_cache.c
ifeq ($(HAVE_JIT),1)
JIT_OBJS := $(JIT_SRCS:%.c=$(BUILD)/host/%.o) $(BUILD)/host/jit/kernels_bc.o
JIT_CFLAGS := $(filter-out -std=% -O% -W% -g -D_GNU_SOURCE,$(shell $(LLVM_CONFIG) --cflags))
LLVM_LINK := $(shell $(LLVM_CONFIG) --bindir)/llvm-link
JIT_LIBS := $(shell $(LLVM_CONFIG) --ldflags) -lLLVM-14 -Wl,-rpath,$(shell $(LLVM_CONFIG) --libdir)
HOST_CFLAGS += -DTL_HAVE_JIT
endif
HOST_SHIM_OBJS := $(HOST_SHIM_SRCS:%.c=$(BUILD)/host/%.o)
HOST_MAIN_OBJ  := $(HOST_MAIN_SRC:%.c=$(BUILD)/host/%.o)
HOST_JIT_OBJS  := $(HOST_JIT_SRCS:%.c=$(BUILD)/host/%.o)

TEST_SRCS := \
	tests/test_main.c \
	tests/test_base.c \
	tests/test_simd.c \
	tests/test_tiles.c \
	tests/test_registry.c \
	tests/test_math.c \
	tests/test_quant.c \
	tests/test_kquant.c \
	tests/test_ops.c \
	tests/test_loaders.c \
	tests/test_model.c \
	tests/test_sampler.c \
	tests/test_cli.c \
	tests/test_tokenizer.c \
	tests/test_profiler.c \
	tests/test_profiler_reports.c \
	tests/test_codecache.c
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/host/%.o) $(BUILD)/host/tests/codecache_objs.o
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

.PHONY: FORCE all check check-jit check-quick check-golden check-reliability check-icount check-asan check-valgrind run bench format clean
all: $(HOST_BIN) kernel

$(HOST_BIN): $(HOST_MAIN_OBJ) $(HOST_JIT_OBJS) $(HOST_SHIM_OBJS) $(HOST_CORE_OBJS) $(JIT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^ -lpthread $(JIT_LIBS)

$(BUILD)/jit/bc/%.bc: %.c
	@mkdir -p $(dir $@)
	$(CLANG_BC) $(filter-out $(SAN_FLAGS) -DCORE_CHECKS -g,$(CORE_CFLAGS)) -MMD -MP -MF $@.d -emit-llvm -c -o $@ $<

$(JIT_BC): $(JIT_BC_SRCS:%.c=$(BUILD)/jit/bc/%.bc)
	$(LLVM_LINK) -o $@ $^

$(BUILD)/host/jit/kernels_bc.o: jit/kernels_bc.S $(JIT_BC)
	@mkdir -p $(dir $@)
	$(CC) -DKERNELS_BC='"$(JIT_BC)"' -c -o $@ $<

$(BUILD)/host/jit/%.o: jit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(JIT_CFLAGS) -MMD -MP -c -o $@ $<

# The build id the code cache keys on (core/codecache/README.md): a hash of core's sources,
# the platform door and core's flags; the header is rewritten only when the hash changes, through
# a temporary of this shell's own (sub-makes of a parallel check regenerate it at once).
CODECACHE_ID_H := $(BUILD)/gen/codecache_build_id.h
$(CODECACHE_ID_H): FORCE
	@mkdir -p $(dir $@)
	@id=$$( (cat $$(find core -name '*.[ch]' | LC_ALL=C sort) shim/platform.h; \
		echo '$(CORE_CFLAGS)') | sha256sum | cut -c1-16); \
	tmp=$@.$$$$.tmp; printf '#define CODECACHE_BUILD_ID 0x%sull\n' "$$id" >$$tmp; \
	if cmp -s $$tmp $@; then rm $$tmp; else mv $$tmp $@; fi
FORCE:
$(addsuffix /core/codecache/format.o,$(BUILD)/host $(BUILD)/kernel $(BUILD)/image $(BUILD)/fuzz \
	$(BUILD)/regress): $(CODECACHE_ID_H)
# What this build's JIT compiles with, as cache keys record it (core/codecache/README.md):
# LLVM's version and the first 16 hex digits of a SHA-256 over the bitcode; "" and 0 without
# the JIT. Rewritten only when it changes.
CODECACHE_COMPILER_H := $(BUILD)/gen/codecache_compiler.h
$(CODECACHE_COMPILER_H): $(if $(HAVE_JIT),$(JIT_BC)) FORCE
	@mkdir -p $(dir $@)
	@{ printf '#define CODECACHE_COMPILER "%s"\n' \
		'$(if $(HAVE_JIT),LLVM $(shell $(LLVM_CONFIG) --version) ORC)'; \
	  printf '#define CODECACHE_BITCODE_HASH 0x%sull\n' \
		$(if $(HAVE_JIT),$$(sha256sum $(JIT_BC) | cut -c1-16),0); } >$@.tmp; \
	if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(addsuffix /core/codecache/key.o,$(BUILD)/host $(BUILD)/kernel $(BUILD)/image $(BUILD)/fuzz \
	$(BUILD)/regress): $(CODECACHE_COMPILER_H)

$(BUILD)/host/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/host/shim/%.o: shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/host/host/%.o: host/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/host/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

# The code cache tests' objects: a compiled kernel as a no-PIC small-model and a PIC relocatable
# object, and one with an undefined symbol (tests/codecache/), embedded by codecache_objs.S.
CC_TEST_OBJ_DIR := $(BUILD)/tests/codecache
CC_TEST_OBJ_FLAGS := -O2 -ffreestanding -fno-builtin -fno-stack-protector
$(CC_TEST_OBJ_DIR)/%_nopic.o: tests/codecache/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CC_TEST_OBJ_FLAGS) -fno-pic -mcmodel=small -c -o $@ $<
$(CC_TEST_OBJ_DIR)/%_pic.o: tests/codecache/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CC_TEST_OBJ_FLAGS) -fpic -c -o $@ $<
CC_TEST_OBJS := $(CC_TEST_OBJ_DIR)/entry_dot_nopic.o $(CC_TEST_OBJ_DIR)/entry_dot_pic.o \
	$(CC_TEST_OBJ_DIR)/entry_undef_pic.o
$(BUILD)/host/tests/codecache_objs.o: tests/codecache_objs.S $(CC_TEST_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ -DOBJ_NOPIC='"$(word 1,$(CC_TEST_OBJS))"' \
		-DOBJ_PIC='"$(word 2,$(CC_TEST_OBJS))"' -DOBJ_UNDEF='"$(word 3,$(CC_TEST_OBJS))"' $<

$(BUILD)/tests/run_tests: $(TEST_OBJS) $(HOST_JIT_OBJS) $(HOST_SHIM_OBJS) $(HOST_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^ $(CHECK_LIBS) -lpthread -lm

# Quick tier: unit tests on data the tests make themselves (and ../shared when present).
check-quick: $(BUILD)/tests/run_tests
	$(BUILD)/tests/run_tests

# Golden tier: whole runs of tinyllama-host against reference outputs.
check-golden: $(HOST_BIN)
	BIN=$(HOST_BIN) sh tests/golden.sh
	BIN=$(HOST_BIN) sh tests/kquant_golden.sh

# Bad inputs, failing outputs, files that change underneath (< 1 min).
check-reliability: $(HOST_BIN) $(KCACHE_TOOL) $(KCACHE_OBJ)
	BIN=$(HOST_BIN) CACHE_TOOL=$(KCACHE_TOOL) CACHE_OBJ=$(KCACHE_OBJ) sh tests/reliability.sh

# ASan + UBSan: unit tests and golden runs of an instrumented build in build/asan. Leak
# checks are off: core allocates only from the arena; the test fixtures' mallocs die with
# each forked test.
check-asan:
	ASAN_OPTIONS=detect_leaks=0 $(MAKE) SAN=1 BUILD=build/asan HOST_BIN=build/asan/tinyllama-host check-quick check-golden

# valgrind memcheck on the unit tests (in-process: CK_FORK=no) and on golden runs.
check-valgrind: $(BUILD)/tests/run_tests $(HOST_BIN)
	CK_FORK=no VALGRIND=1 valgrind -q --error-exitcode=99 --leak-check=no $(BUILD)/tests/run_tests
	BIN="valgrind -q --error-exitcode=99 --leak-check=no $(HOST_BIN)" VALGRIND=1 sh tests/golden.sh

# Host-vs-kernel parity and kernel fault reports under QEMU (kernel/kernel.mk).
# Crash inputs the fuzzers found, replayed (tests/fuzz/fuzz.mk).
check: check-quick check-golden check-reliability check-kernel check-icount check-regress check-jit

# The tier-up: goldens with --jit, verification of a planted wrong entry (skipped without LLVM).
check-jit: $(HOST_BIN) $(if $(JIT_OBJS),$(BUILD)/tests/test_jit)
	BIN=$(HOST_BIN) TEST_JIT=$(BUILD)/tests/test_jit sh tests/jit.sh

$(BUILD)/tests/test_jit: $(BUILD)/host/tests/test_jit.o $(JIT_OBJS) $(HOST_JIT_OBJS) $(HOST_SHIM_OBJS) \
	$(HOST_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^ -lpthread $(JIT_LIBS)

# The kernel's profile under TCG -icount repeats exactly and keeps its golden call counts.
check-icount: kernel
	sh tests/profile_icount.sh

run: host/tinyllama-host
	host/tinyllama-host -n 16 --profile

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) host/tinyllama-host

-include kernel/kernel.mk
-include kernel/image.mk
-include bench/bench.mk
-include tests/fuzz/fuzz.mk
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
