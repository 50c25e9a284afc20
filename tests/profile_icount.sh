#!/bin/sh
# profile_icount.sh: under QEMU TCG with -icount shift=0 the TSC counts instructions, so the
# kernel's profile repeats exactly: two runs must give identical call counts and cycles, and
# the call counts must equal the golden (tests/golden/kernel-profile-calls.txt). With SMP=1 and
# with SMP=2: -icount runs the CPUs one at a time in turn (single-threaded TCG), so a second CPU
# keeps the runs repeatable, though its cycles differ from SMP=1's. The SMP=2 runs boot with a
# code cache (its rms_norm entry loaded) when KCACHE_TOOL and KCACHE_OBJ are set (tests/kcache):
# a cached run's profile repeats exactly too, with the same calls.
set -u
cd "$(dirname "$0")/.."
GOLDEN=tests/golden/kernel-profile-calls.txt
ARGS="--synthetic small --prompt-ids '1 5 9 200' -n 8 --temp 0 --ids --profile=json --isa avx2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }

# name calls inclusive self, one zone a line, from the JSON report on COM2; and the total.
profile() {
	sed -n 's/.*{"name": "\([^"]*\)", "calls": \([0-9]*\), "inclusive_cycles": \([0-9]*\), "self_cycles": \([0-9]*\).*/\1 \2 \3 \4/p' "$1"
	sed -n 's/.*"total_cycles": \([0-9]*\).*/total \1/p' "$1"
}

cache=""
if [ -n "${KCACHE_TOOL:-}" ] && "$KCACHE_TOOL" good rms_norm "${KCACHE_OBJ:-}" "$tmp/kcache.tlc"; then
	cache=$tmp/kcache.tlc
fi
for smp in 1 2; do
	with=""
	[ $smp = 2 ] && with=$cache
	for i in 1 2; do
		make -s qemu ACCEL=tcg ICOUNT=0 SMP=$smp ARGS="$ARGS" CODE_CACHE="$with" >"$tmp/out$i" \
			2>"$tmp/err$i" || { ko "SMP=$smp kernel run $i"; cat "$tmp/err$i"; }
		if [ -n "$with" ] && ! grep -q "^code-cache: loaded" "$tmp/err$i"; then
			ko "SMP=$smp run $i: the cache's entry was not loaded"
		fi
		profile "$tmp/err$i" >"$tmp/prof$i"
	done
	if [ -s "$tmp/prof1" ] && cmp -s "$tmp/prof1" "$tmp/prof2"; then
		ok "SMP=$smp${with:+ with a code cache}: two -icount runs: identical calls and cycles ($(grep -vc ^total "$tmp/prof1") zones)"
	else
		ko "SMP=$smp: two -icount runs differ"; diff "$tmp/prof1" "$tmp/prof2" | head -20
	fi
	awk '$1 != "total" {print $1, $2}' "$tmp/prof1" >"$tmp/calls"
	if [ "${UPDATE_GOLDEN:-}" = 1 ] && [ $smp = 1 ]; then cp "$tmp/calls" "$GOLDEN"; fi
	if cmp -s "$tmp/calls" "$GOLDEN"; then ok "SMP=$smp: call counts equal the golden"
	else ko "SMP=$smp: call counts differ from $GOLDEN"; diff "$GOLDEN" "$tmp/calls"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
