#!/bin/sh
# kernel_boot.sh: boot to first token and generation speed of the kernel under QEMU, with and
# without a code cache: wall-clock ms from QEMU's start to the first byte on COM1 (the BIOS,
# the boot, the model load and the prompt included), and the kernel's own tok_per_s (its
# stats line on COM2). Runs each setting RUNS times (the machine is shared: report the range).
# Usage: bench/kernel_boot.sh [CODE_CACHE] -- ARGS...   (after `make kernel`; run-qemu.sh adds
# -m NAME for MODEL)
# Environment: MODEL (a boot module), SMP (default 1), RUNS (default 3), ACCEL, TIMEOUT,
# KERNEL (the image, default build/kernel/tinyllama.elf; build/image/tinyllama.elf: make image).
set -u
cd "$(dirname "$0")/.." || exit 1
cache=""
if [ $# -gt 0 ] && [ "$1" != -- ]; then cache=$1; shift; fi
[ "${1:-}" = -- ] && shift
runs=${RUNS:-3}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# one OUT: a boot; prints "first_ms tok_per_s".
one() {
	start=$(date +%s%N)
	CODE_CACHE=$cache SMP=${SMP:-1} TL_QEMU_ARGS="$*" \
		sh kernel/run-qemu.sh "${KERNEL:-build/kernel/tinyllama.elf}" ${MODEL:-} 2>"$tmp/err" |
		{ head -c 1 >/dev/null; date +%s%N >"$tmp/first"; cat >/dev/null; }
	first=$(cat "$tmp/first")
	tps=$(sed -n 's/^stats:.* tok_per_s=\([0-9.]*\).*/\1/p' "$tmp/err")
	loaded=$(grep -c "^code-cache: loaded" "$tmp/err")
	echo "$(((first - start) / 1000000)) ${tps:-?} $loaded"
}

echo "# ${MODEL:-(no model)} ${cache:+cache $cache} SMP=${SMP:-1}: first_ms tok_per_s entries_loaded"
i=0
while [ $i -lt "$runs" ]; do
	one "$@"
	i=$((i + 1))
done
