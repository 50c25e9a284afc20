#!/bin/sh
# parity.sh: host/tinyllama-host and the kernel under QEMU (make -s qemu) must print the same
# bytes on stdout for the same arguments, with 1 and with 2 CPUs (host -t N, kernel SMP=N and
# its default of every CPU). Builds nothing: `make check-kernel` builds first.
# Environment: SHARED_DIR (models, default ../shared), ACCEL (auto|kvm|tcg), TIMEOUT, MAKE.
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

check_cpus() {
	name=$1 model=$2 args="$isa $3" cpus=$4
	eval "set -- $args"
	if [ -n "$model" ]; then set -- -m "$model" "$@"; fi
	"$HOST" "$@" -t "$cpus" >"$tmp/host.out" 2>"$tmp/host.err"
	hrc=$?
	$MAKE -s --no-print-directory qemu MODEL="$model" ARGS="$args" SMP="$cpus" TIMEOUT="$TIMEOUT" \
		>"$tmp/kernel.out" 2>"$tmp/kernel.err"
	krc=$?
	if [ $hrc -ne 0 ] || [ $krc -ne 0 ]; then
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

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
