#!/bin/sh
# parity.sh: host/tinyllama-host and the kernel under QEMU (make -s qemu) must print the same
# bytes on stdout for the same arguments, with 1 and with 2 CPUs (host -t N, kernel SMP=N and
# its default of every CPU); and with the same code cache on both sides (host --code-cache,
# make qemu CODE_CACHE), each loading its entry. Builds nothing: `make check-kernel` builds first.
# Environment: SHARED_DIR (models, default ../shared), ACCEL (auto|kvm|tcg), TIMEOUT, MAKE;
# KCACHE_TOOL and KCACHE_OBJ (tests/kcache: the cache's maker and its object; the cached
# checks are skipped without them).
set -u
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
SHARED=${SHARED_DIR:-$(cd .. && pwd)/shared}
HOST=host/tinyllama-host
TIMEOUT=${TIMEOUT:-120}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
. tests/require.sh

[ -x "$HOST" ] || { echo "parity: $HOST is missing (make host/tinyllama-host)"; exit 1; }
isa=""
if "$HOST" -h 2>&1 | grep -q -- '--isa'; then
	isa="--isa scalar"
fi

# check NAME MODEL ARGS: ARGS is one string, split with shell quoting on both sides
# (by eval here, by kernel/cmdline.c in the kernel); runs once per CPU count.
check() {
	for cpus in 1 2; do
		check_cpus "$1, $cpus CPU(s)" "$2" "$3" $cpus
	done
}

# check_cpus NAME MODEL ARGS CPUS [CODE_CACHE]: with a cache, both sides must log its entry
# as loaded.
check_cpus() {
	name=$1 model=$2 args="$isa $3" cpus=$4 cache=${5:-}
	eval "set -- $args"
	if [ -n "$model" ]; then set -- -m "$model" "$@"; fi
	if [ -n "$cache" ]; then set -- "$@" --code-cache "$cache"; fi
	"$HOST" "$@" -t "$cpus" >"$tmp/host.out" 2>"$tmp/host.err"
	hrc=$?
	$MAKE -s --no-print-directory qemu MODEL="$model" ARGS="$args" SMP="$cpus" TIMEOUT="$TIMEOUT" \
		CODE_CACHE="$cache" >"$tmp/kernel.out" 2>"$tmp/kernel.err"
	krc=$?
	if [ -n "$cache" ] && ! { grep -q "^code-cache: loaded" "$tmp/host.err" &&
		grep -q "^code-cache: loaded" "$tmp/kernel.err"; }; then
		echo "FAIL $name: the cache's entry was not loaded on both sides"
		grep -h "code-cache" "$tmp/host.err" "$tmp/kernel.err" | sed 's/^/  /'
		fail=$((fail + 1))
	elif [ $hrc -ne 0 ] || [ $krc -ne 0 ]; then
		echo "FAIL $name: exit status host $hrc, kernel $krc"
		tail -n 5 "$tmp/host.err" "$tmp/kernel.err" | sed 's/^/  /'
		fail=$((fail + 1))
	elif ! cmp -s "$tmp/host.out" "$tmp/kernel.out"; then
		echo "FAIL $name: stdout differs (host vs kernel)"
		diff "$tmp/host.out" "$tmp/kernel.out" | head -n 6 | sed 's/^/  /'
		fail=$((fail + 1))
	else
		echo "PASS $name ($(wc -c <"$tmp/host.out") bytes identical)"
		pass=$((pass + 1))
	fi
}

if require_shared "$SHARED/models/stories260K.bin" "stories260K greedy"; then
	check "stories260K greedy" "$SHARED/models/stories260K.bin" "-n 200 --temp 0 --ids"
fi
check "synthetic small greedy" "" '--synthetic small --prompt-ids "1 5 9 200" -n 40 --temp 0 --ids'
check "synthetic small sampled" "" "--synthetic small -n 40 --temp 0.8 --top-p 0.9 -s 42 --ids"

# A code cache with an rms_norm entry for each target (tests/kcache/entry_rms_norm.c).
if [ -n "${KCACHE_TOOL:-}" ] && "$KCACHE_TOOL" good rms_norm "${KCACHE_OBJ:-}" "$tmp/kcache.tlc"; then
	if require_shared "$SHARED/models/stories260K.bin" "stories260K cached"; then
		check_cpus "stories260K greedy, code cache, 1 CPU(s)" "$SHARED/models/stories260K.bin" \
			"-n 200 --temp 0 --ids" 1 "$tmp/kcache.tlc"
	fi
	check_cpus "synthetic small sampled, code cache, 2 CPU(s)" "" \
		"--synthetic small -n 40 --temp 0.8 --top-p 0.9 -s 42 --ids" 2 "$tmp/kcache.tlc"
else
	echo "SKIP code cache checks (KCACHE_TOOL, KCACHE_OBJ: make check-kernel sets them)"
fi

# Every 4/5-bit and K-quant type (../shared/models/kquant: Q2_K holds Q3_K too, Q3_K_L Q5_K,
# Q4_K_M Q6_K), one file per CPU count in turn, each side on the ISA it picks (the kernel under
# TCG: AVX2; the host: its best): the same bits on every ISA, so the same bytes.
KQ=$SHARED/models/kquant
isa="" cpus=1
for f in Q2_K Q3_K_L Q4_K_M Q4_0 Q4_1 Q5_0 Q5_1; do
	if require_shared "$KQ/$f.gguf" "kquant $f"; then
		check_cpus "kquant $f greedy, $cpus CPU(s)" "$KQ/$f.gguf" \
			"--prompt-ids '1 9038 2501 263 931' -n 4 --temp 0 --ids" $cpus
	fi
	cpus=$((3 - cpus))
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
