# kernel.mk: the bare-metal build of the same core (build/kernel/tinyllama.elf, a Multiboot 1
# image for QEMU -kernel) and its targets; included by the top Makefile.
#   make kernel       the kernel image
#   make qemu         boot it: MODEL=path (a boot module, passed as -m NAME), ARGS="...",
#                     CODE_CACHE=path (a second module, passed as --code-cache NAME),
#                     MEM=3G, SMP=N (vCPUs, default nproc), TIMEOUT=600 (seconds), ACCEL=auto|kvm|tcg;
#                     COM1 -> stdout, COM2 -> stderr
#   make qemu-gdb     the same, stopped at the first instruction, waiting for gdb on :1234
#   make check-kernel host-vs-kernel parity, fault reports, cached boots (tests/parity.sh,
#                     tests/kernel_faults.sh, tests/kcache.sh)

KERNEL_ELF := $(BUILD)/kernel/tinyllama.elf

KERNEL_C_SRCS := \
	kernel/main.c \
	kernel/uart.c \
	kernel/kprintf.c \
	kernel/gdt.c \
	kernel/trap.c \
	kernel/cpu.c \
	kernel/mem.c \
	kernel/vm.c \
	kernel/code_area.c \
	kernel/tsc.c \
	kernel/cmdline.c \
	kernel/fault.c \
	kernel/power.c \
	kernel/acpi.c \
	kernel/lapic.c \
	kernel/smp.c \
	shim/kernel/platform_kernel.c \
	shim/kernel/pool.c \
	shim/kernel/input.c \
	shim/kernel/string.c \
	shim/kernel/code_kernel.c
KERNEL_S_SRCS := kernel/entry.S kernel/trapvec.S kernel/apboot.S
# Core, built from the same sources with the same CORE_CFLAGS as the host.
KERNEL_CORE_SRCS ?= $(CORE_SRCS)

KERNEL_OBJS := $(KERNEL_S_SRCS:%.S=$(BUILD)/kernel/%.o) $(KERNEL_C_SRCS:%.c=$(BUILD)/kernel/%.o)
KERNEL_CORE_OBJS := $(KERNEL_CORE_SRCS:%.c=$(BUILD)/kernel/%.o)

# Code-model flags only: nothing that changes float results (no -march, -ffast-math, FMA).
KERNEL_MODEL_FLAGS := -mno-red-zone -fno-pic -fno-pie -mcmodel=small
# Kernel-only code: integer registers only, so nothing touches SSE before cpu_init enables it.
KERNEL_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-stack-protector -fno-builtin \
	-fno-tree-loop-distribute-patterns -mgeneral-regs-only $(KERNEL_MODEL_FLAGS) -I.
KERNEL_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,kernel/kernel.ld -Wl,-z,max-page-size=0x1000 \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

MEM ?= 3G
# SMP=N: N virtual CPUs (default: the host's CPU count, see kernel/run-qemu.sh).
SMP ?=
TIMEOUT ?= 600
ACCEL ?= auto
# ICOUNT=N: TCG with -icount shift=N (deterministic cycle counts).
ICOUNT ?=
# CODE_CACHE=FILE: compiled kernels (core/codecache) the kernel loads from a second boot module.
CODE_CACHE ?=

.PHONY: kernel qemu qemu-gdb check-kernel
kernel: $(KERNEL_ELF)

$(KERNEL_ELF): $(KERNEL_OBJS) $(KERNEL_CORE_OBJS) kernel/kernel.ld
	$(CC) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(KERNEL_CORE_OBJS)

$(BUILD)/kernel/kernel/%.o: kernel/%.S
	@mkdir -p $(dir $@)
	$(CC) -I. -g -MMD -MP -c -o $@ $<

$(BUILD)/kernel/kernel/%.o: kernel/%.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/kernel/shim/kernel/%.o: shim/kernel/%.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/kernel/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) $(KERNEL_MODEL_FLAGS) -MMD -MP -c -o $@ $<

# ARGS goes through the environment, so its quotes reach the kernel's command line intact.
# Every kernel run ends with the profile report on COM2 (stderr); ARGS may pick its format.
qemu qemu-gdb: export TL_QEMU_ARGS = --profile $(ARGS)

qemu: $(KERNEL_ELF)
	@MEM='$(MEM)' SMP='$(SMP)' TIMEOUT='$(TIMEOUT)' ACCEL='$(ACCEL)' ICOUNT='$(ICOUNT)' \
		CODE_CACHE='$(CODE_CACHE)' sh kernel/run-qemu.sh $(KERNEL_ELF) $(MODEL)

qemu-gdb: $(KERNEL_ELF)
	@MEM='$(MEM)' SMP='$(SMP)' TIMEOUT=0 ACCEL='$(ACCEL)' GDB=1 CODE_CACHE='$(CODE_CACHE)' \
		sh kernel/run-qemu.sh $(KERNEL_ELF) $(MODEL)

# tests/kcache.sh's code cache: a kernel-bound entry built as the contract says such entries are
# (freestanding, no red zone, the kernel's code model; no unwind tables, which the loader does
# not take), written by make_test_cache through jit/cache_writer.
KCACHE_TOOL := $(BUILD)/tests/make_test_cache
KCACHE_OBJ := $(BUILD)/tests/kcache/entry_rms_norm.o
check-kernel check-icount: export KCACHE_TOOL := $(KCACHE_TOOL)
check-kernel check-icount: export KCACHE_OBJ := $(KCACHE_OBJ)
check-icount check-reliability: $(KCACHE_TOOL) $(KCACHE_OBJ)
KCACHE_ENTRY_CFLAGS := -std=c11 -O2 $(WARN) -ffreestanding -fno-stack-protector -ffp-contract=off \
	-fno-asynchronous-unwind-tables $(KERNEL_MODEL_FLAGS)

$(KCACHE_OBJ): tests/kcache/entry_rms_norm.c
	@mkdir -p $(dir $@)
	$(CC) $(KCACHE_ENTRY_CFLAGS) -c -o $@ $<

$(KCACHE_TOOL): $(BUILD)/host/tests/kcache/make_test_cache.o $(HOST_JIT_OBJS) $(HOST_SHIM_OBJS) \
		$(HOST_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^ -lpthread

check-kernel: host/tinyllama-host $(KERNEL_ELF) $(KCACHE_TOOL) $(KCACHE_OBJ)
	MAKE='$(MAKE)' sh tests/parity.sh
	MAKE='$(MAKE)' sh tests/kernel_faults.sh
	MAKE='$(MAKE)' sh tests/kcache.sh
