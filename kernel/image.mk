# image.mk: a kernel holding only what a profile saw run, and its size report; included by
# the top Makefile.
#   make image PROFILE=FILE.json [PROFILER=1] [LTO=1]
#                     build/image/tinyllama.elf from a --profile=json --profile-out FILE run:
#                     the features the run used (core/profile/features.h) and nothing else,
#                     -ffunction-sections/-fdata-sections and --gc-sections, the profiler
#                     compiled out unless PROFILER=1; then the size report against the full
#                     kernel (tools/image_size.sh); LTO=1 adds link-time optimisation (on a
#                     stories260K image 9 % fewer loadable bytes; the per-folder figures are
#                     then lost: the map names LTO partitions, not sources)
#                     With MODEL=FILE and/or CODE_CACHE=FILE, also build/image/tinyllama-bundle.elf:
#                     one bootable file carrying them (kernel/bundle.S), booted without modules
#   make qemu-image   boot it as make qemu boots the full kernel (MODEL=, CODE_CACHE=, ARGS=,
#                     MEM=, SMP=, TIMEOUT=, ACCEL=), without the implied --profile unless PROFILER=1
#   make qemu-bundle  boot the bundle (ARGS=, MEM=, SMP=, TIMEOUT=, ACCEL=)
#   make check-image  tests/image.sh: an image from a stories260K profile replays the run (part
#                     of make check)

IMAGE_DIR := $(BUILD)/image
IMAGE_ELF := $(IMAGE_DIR)/tinyllama.elf
IMAGE_FLAGS := $(IMAGE_DIR)/flags
# No unwind tables: the kernel never unwinds, and .eh_frame was about a tenth of the image.
IMAGE_CFLAGS := -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	-fno-unwind-tables
IMAGE_OBJS := $(KERNEL_S_SRCS:%.S=$(IMAGE_DIR)/%.o) $(KERNEL_C_SRCS:%.c=$(IMAGE_DIR)/%.o) \
	$(KERNEL_CORE_SRCS:%.c=$(IMAGE_DIR)/%.o)
PROFILER ?=

.PHONY: image qemu-image qemu-bundle check-image
image: $(KERNEL_ELF)
	@[ -n "$(PROFILE)" ] || { echo "error: make image needs PROFILE=FILE.json" \
		"(from a run with --profile=json --profile-out FILE)" >&2; exit 1; }
	@mkdir -p $(IMAGE_DIR)
	@flags=$$(sh tools/image_flags.sh '$(PROFILE)' '$(PROFILER)') && \
		echo "$$flags$(if $(filter 1,$(LTO)), -flto)" >$(IMAGE_FLAGS).new
	@cmp -s $(IMAGE_FLAGS).new $(IMAGE_FLAGS) || mv $(IMAGE_FLAGS).new $(IMAGE_FLAGS)
	@rm -f $(IMAGE_FLAGS).new
	@$(MAKE) --no-print-directory $(IMAGE_ELF) $(IMAGE_DIR)/full.map
	@sh tools/image_size.sh $(KERNEL_ELF) $(IMAGE_DIR)/full.map $(IMAGE_ELF) \
		$(IMAGE_DIR)/tinyllama.map
	@if [ -n "$(MODEL)$(CODE_CACHE)" ]; then \
		rm -f $(IMAGE_BUNDLE) && $(MAKE) --no-print-directory $(IMAGE_BUNDLE) && \
		echo "bundle: $(IMAGE_BUNDLE), $$(wc -c <$(IMAGE_BUNDLE)) bytes" \
			"(image + $(strip $(notdir $(MODEL)) $(notdir $(CODE_CACHE))))"; fi

# One bootable file: the image's objects and kernel/bundle.S carrying MODEL and CODE_CACHE.
IMAGE_BUNDLE := $(IMAGE_DIR)/tinyllama-bundle.elf
BUNDLE_DEFS := $(if $(MODEL),-DBUNDLE_MODEL_PATH='"$(abspath $(MODEL))"') \
	$(if $(CODE_CACHE),-DBUNDLE_CACHE_PATH='"$(abspath $(CODE_CACHE))"')
$(IMAGE_BUNDLE): $(IMAGE_OBJS) kernel/bundle.S kernel/kernel.ld
	@for f in $(MODEL) $(CODE_CACHE); do [ -r "$$f" ] || \
		{ echo "error: make image: cannot read $$f" >&2; exit 1; }; done
	$(CC) -c $(BUNDLE_DEFS) -o $(IMAGE_DIR)/bundle.o kernel/bundle.S
	$(CC) $(KERNEL_LDFLAGS) $$(grep -o -- -flto $(IMAGE_FLAGS)) -O2 -Wl,--gc-sections \
		-o $@ $(IMAGE_OBJS) $(IMAGE_DIR)/bundle.o

$(IMAGE_ELF): $(IMAGE_OBJS) kernel/kernel.ld
	$(CC) $(KERNEL_LDFLAGS) $$(grep -o -- -flto $(IMAGE_FLAGS)) -O2 -Wl,--gc-sections \
		-Wl,-Map=$(IMAGE_DIR)/tinyllama.map -o $@ $(IMAGE_OBJS)

# The full kernel's objects linked again for its map: the per-folder figures of the report.
$(IMAGE_DIR)/full.map: $(KERNEL_OBJS) $(KERNEL_CORE_OBJS) kernel/kernel.ld
	$(CC) $(KERNEL_LDFLAGS) -Wl,-Map=$@ -o $(IMAGE_DIR)/full.elf $(KERNEL_OBJS) \
		$(KERNEL_CORE_OBJS)

$(IMAGE_DIR)/kernel/%.o: kernel/%.S $(IMAGE_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) -I. -g $(IMAGE_CFLAGS) -MMD -MP -c -o $@ $<

$(IMAGE_DIR)/kernel/%.o: kernel/%.c $(IMAGE_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) $(IMAGE_CFLAGS) $$(cat $(IMAGE_FLAGS)) -MMD -MP -c -o $@ $<

$(IMAGE_DIR)/shim/kernel/%.o: shim/kernel/%.c $(IMAGE_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) $(IMAGE_CFLAGS) $$(cat $(IMAGE_FLAGS)) -MMD -MP -c -o $@ $<

$(IMAGE_DIR)/core/%.o: core/%.c $(IMAGE_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) $(KERNEL_MODEL_FLAGS) $(IMAGE_CFLAGS) $$(cat $(IMAGE_FLAGS)) \
		-MMD -MP -c -o $@ $<

# core/profile implements the zones: built without PROFILER_COMPILED_OUT (which only empties the
# call sites); with no caller left, the linker drops it.
$(IMAGE_DIR)/core/profile/%.o: core/profile/%.c $(IMAGE_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) $(KERNEL_MODEL_FLAGS) $(IMAGE_CFLAGS) \
		$$(sed "s/ -DPROFILER_COMPILED_OUT//" $(IMAGE_FLAGS)) -MMD -MP -c -o $@ $<

qemu-image: export TL_QEMU_ARGS = $(if $(filter 1,$(PROFILER)),--profile )$(ARGS)
qemu-image:
	@MEM='$(MEM)' SMP='$(SMP)' TIMEOUT='$(TIMEOUT)' ACCEL='$(ACCEL)' ICOUNT='$(ICOUNT)' \
		CODE_CACHE='$(CODE_CACHE)' sh kernel/run-qemu.sh $(IMAGE_ELF) $(MODEL)

qemu-bundle: export TL_QEMU_ARGS = $(ARGS)
qemu-bundle:
	@MEM='$(MEM)' SMP='$(SMP)' TIMEOUT='$(TIMEOUT)' ACCEL='$(ACCEL)' ICOUNT='$(ICOUNT)' \
		sh kernel/run-qemu.sh $(IMAGE_BUNDLE)

check-image: host/tinyllama-host $(KERNEL_ELF)
	MAKE='$(MAKE)' sh tests/image.sh

# make check includes it (few tokens: about a second of QEMU per boot under TCG; most of its
# time is compiling the image).
check: check-image
