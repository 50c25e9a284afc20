# fuzz.mk: fuzz targets (libFuzzer + ASan + UBSan, clang), their seed corpora, the
# regression replay (host compiler + sanitizers, no clang needed) and the corrupted-file
# matrix. Included by the top Makefile. Targets:
#   make fuzz FUZZ_SECONDS=N   each fuzz target for N seconds (default 60), one at a time
#   make fuzz-smoke            each target for 20 s (CI)
#   make fuzz-build            the libFuzzer binaries in build/fuzz/
#   make fuzz-corpus           seed corpora in build/fuzz/corpus/<target>/
#   make check-regress         tests/regress/<target>/* and the seeds through each target
#   make check-corrupt         tests/corrupt.sh on $(HOST_BIN)
#   make check-static          ci/static.sh (cppcheck + clang-tidy + clang-format)
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_gguf fuzz_llama2c fuzz_cli fuzz_tokenizer fuzz_codecache
FUZZ_DIR     := $(BUILD)/fuzz
REGRESS_DIR  := $(BUILD)/regress
# Every core module but app.c (the targets call the modules directly) plus the tokenizer.
FUZZ_CORE_SRCS := $(sort $(filter-out core/app/app.c,$(CORE_SRCS)) $(wildcard core/text/tokenizer.c))
FUZZ_COMMON_SRCS := tests/fuzz/fuzz_common.c tests/fuzz/fuzz_platform.c

# gcc needs float-cast-overflow named (its -fsanitize=undefined leaves it out).
FUZZ_SAN   := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -O1 -g $(WARN) -ffp-contract=off -fno-strict-aliasing -I. \
	$(FUZZ_SAN)
# core keeps its own flags (freestanding) under the fuzz sanitizers, CORE_ASSERTs on.
FUZZ_CORE_CFLAGS := $(filter-out -O3,$(CORE_CFLAGS)) -O1 $(FUZZ_SAN) -DCORE_CHECKS

# Files whose float-cast-overflow check is off while a reported bug is open (none now:
# the NaN casts in core/kernels/quant.c and core/model/ops.c are fixed; tests/regress/README.md).
FUZZ_KNOWN_BUG_FILES ?=

FUZZ_CORE_OBJS := $(FUZZ_CORE_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_COMMON_OBJS := $(FUZZ_COMMON_SRCS:%.c=$(FUZZ_DIR)/%.o)
REGRESS_CORE_OBJS := $(FUZZ_CORE_SRCS:%.c=$(REGRESS_DIR)/%.o)
REGRESS_COMMON_OBJS := $(FUZZ_COMMON_SRCS:%.c=$(REGRESS_DIR)/%.o) \
	$(REGRESS_DIR)/tests/fuzz/regress_main.o

# Keep the objects make would otherwise delete as intermediates of the pattern chains.
.SECONDARY: $(FUZZ_CORE_OBJS) $(FUZZ_COMMON_OBJS) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/tests/fuzz/%.o) \
	$(REGRESS_CORE_OBJS) $(REGRESS_COMMON_OBJS) \
	$(FUZZ_TARGETS:%=$(REGRESS_DIR)/tests/fuzz/%.o)

$(foreach f,$(FUZZ_KNOWN_BUG_FILES),$(FUZZ_DIR)/core/$(f).o $(REGRESS_DIR)/core/$(f).o): \
	FUZZ_CORE_CFLAGS += -fno-sanitize=float-cast-overflow

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-corpus check-regress check-corrupt check-static

$(FUZZ_DIR)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CORE_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_COMMON_OBJS) $(FUZZ_CORE_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

# The same targets replayed by a plain main() built with $(CC): no clang, no libFuzzer.
$(REGRESS_DIR)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CORE_CFLAGS) -MMD -MP -c -o $@ $<
$(REGRESS_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
$(REGRESS_DIR)/fuzz_%: $(REGRESS_DIR)/tests/fuzz/fuzz_%.o $(REGRESS_COMMON_OBJS) \
		$(REGRESS_CORE_OBJS)
	$(CC) $(FUZZ_SAN) -o $@ $^

# Host tools: seed generator and the binary-file mutator tests/corrupt.sh uses.
$(BUILD)/tools/%: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -g $(WARN) -o $@ $<

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

# Code cache seeds: the unit tests' compiled objects alone, and caches of them (good, keyed
# for another CPU, a relocation moved out of its section, a hog refused after placement)
# written by make_test_cache.
CODECACHE_SEEDS := $(FUZZ_DIR)/corpus/codecache
fuzz-corpus: $(BUILD)/tools/gen_corpus $(CC_TEST_OBJS) $(KCACHE_TOOL) $(KCACHE_OBJ)
	@mkdir -p $(FUZZ_DIR)/corpus/gguf $(FUZZ_DIR)/corpus/llama2c $(FUZZ_DIR)/corpus/cli \
		$(FUZZ_DIR)/corpus/tokenizer $(CODECACHE_SEEDS)
	$(BUILD)/tools/gen_corpus $(FUZZ_DIR)/corpus
	cp $(CC_TEST_OBJS) $(CODECACHE_SEEDS)/
	@set -e; for kind in good other-cpu bad-reloc hog; do \
		$(KCACHE_TOOL) $$kind rms_norm $(KCACHE_OBJ) $(CODECACHE_SEEDS)/rms_norm-$$kind.tlcc; \
		$(KCACHE_TOOL) $$kind dot_f32 $(word 1,$(CC_TEST_OBJS)) \
			$(CODECACHE_SEEDS)/dot_f32-nopic-$$kind.tlcc; \
		$(KCACHE_TOOL) $$kind dot_f32 $(word 2,$(CC_TEST_OBJS)) \
			$(CODECACHE_SEEDS)/dot_f32-pic-$$kind.tlcc; \
	done

# One fuzzing process at a time (no -jobs/-workers); new interesting inputs grow the corpus, crashes
# land in $(FUZZ_DIR)/crashes/<target>/ (copy them to tests/regress/<target>/).
fuzz: fuzz-build fuzz-corpus
	@set -e; for t in $(FUZZ_TARGETS); do \
		c=$${t#fuzz_}; mkdir -p $(FUZZ_DIR)/crashes/$$c; \
		regress=; [ -d tests/regress/$$c ] && regress=tests/regress/$$c; \
		echo "== $$t for $(FUZZ_SECONDS) s"; \
		if ! $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-timeout=10 -rss_limit_mb=2048 -max_len=65536 \
			-artifact_prefix=$(FUZZ_DIR)/crashes/$$c/ -dict=tests/fuzz/$$c.dict \
			$(FUZZ_DIR)/corpus/$$c $$regress >$(FUZZ_DIR)/$$t.log 2>&1; then \
			tail -n 60 $(FUZZ_DIR)/$$t.log; exit 1; \
		fi; \
		grep -E '^stat::(number_of_executed_units|new_units_added)' $(FUZZ_DIR)/$$t.log; \
	done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=20

REGRESS_TARGETS := $(FUZZ_TARGETS:%=$(REGRESS_DIR)/%)
check-regress: $(REGRESS_TARGETS) fuzz-corpus
	@set -e; for t in $(FUZZ_TARGETS); do \
		c=$${t#fuzz_}; \
		files=$$(ls tests/regress/$$c/* $(FUZZ_DIR)/corpus/$$c/* 2>/dev/null || true); \
		$(REGRESS_DIR)/$$t $$files; \
	done

check-corrupt: $(HOST_BIN) $(BUILD)/tools/mutate
	BIN=$(HOST_BIN) MUTATE=$(BUILD)/tools/mutate sh tests/corrupt.sh

check-static:
	sh ci/static.sh

-include $(shell find $(FUZZ_DIR) $(REGRESS_DIR) -name '*.d' 2>/dev/null)
