#!/bin/sh
# jit.sh: the tier-up (--jit, jit/): the same ids with --jit always as without on every shared
# model and the synthetic small one, in text and ids; --jit auto likewise; the verification
# test (build/tests/test_jit: a planted wrong entry dropped); --jit always --code-cache F then
# --code-cache F alone: the same ids, nothing compiled; a later --jit run on another model keeps
# the entries it does not replace. Also on the K-quant files of $SHARED_DIR/models/kquant.
# A build without LLVM is a SKIP line (a FAIL in CI, which installs LLVM 14).
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-host/tinyllama-host}
TEST_JIT=${TEST_JIT:-build/tests/test_jit}
M=${SHARED_DIR:-../shared}/models
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/require.sh

if $BIN --jit always --synthetic small -n 1 2>&1 | grep -q "has no JIT"; then
	missing "the tier-up tests" "this build has no JIT (LLVM 14 and clang-14 not found)" 1
	echo "jit: $pass passed, $fail failed, $skip skipped"
	[ $fail -eq 0 ]
	exit
fi

# same_ids NAME ARGS...: --jit always and auto give the ids the run gives without the JIT.
same_ids() {
	name=$1
	shift
	$BIN "$@" >"$tmp/want" 2>"$tmp/err0" || { ko "$name (tier 1 run failed)"; cat "$tmp/err0"; return; }
	for mode in always auto; do
		if $BIN "$@" --jit $mode --profile >"$tmp/got" 2>"$tmp/err" &&
			cmp -s "$tmp/want" "$tmp/got"; then ok "$name, --jit $mode"
		else ko "$name, --jit $mode"; tail -5 "$tmp/err"; fi
	done
	grep -q "^Tier-up" "$tmp/err" || ko "$name: no tier report"
}

for f in stories260K.bin stories260K-f32.gguf llama-2-tiny-random.gguf; do
	require_shared "$M/$f" "--jit goldens on $f" || continue
	same_ids "$f greedy" -m "$M/$f" --ids -n 24 --temp 0
	same_ids "$f sampled, 2 threads" -m "$M/$f" --ids -n 24 -t 2 -s 7
done
same_ids "synthetic small" --synthetic small --ids -n 12 --prompt-ids "1 5 9 200"
# The 4/5-bit and K-quant dots (every type among these files), from the prompt the K-quant
# goldens use (tests/kquant_golden.sh)
KQ=$M/kquant
KQ_PROMPT=$(sed -n 's/^Prompt ids[^`]*`\([0-9 ]*\)`.*/\1/p' "$KQ/README.md" 2>/dev/null | head -n 1)
for f in Q2_K Q3_K_M Q4_0 Q4_1 Q5_0 Q5_1 Q4_K_M; do
	require_shared "$KQ/$f.gguf" "--jit goldens on kquant/$f.gguf" || continue
	same_ids "kquant/$f.gguf greedy" -m "$KQ/$f.gguf" --prompt-ids "$KQ_PROMPT" --ids -n 12 --temp 0
done
same_ids "synthetic small, int8" --synthetic small --quant int8 --ids -n 8

# filed: ENTRY loaded from the cache, unless the writing run ($tmp/wrote) timed it no faster
# than tier 1 and said so (the cache keeps only faster entries).
filed() {
	grep -q "^code-cache: loaded $1" "$tmp/err" ||
		grep -q "^jit: $1 .* not filed in the code cache" "$tmp/wrote"
}
# round_trip NAME ARGS...: --jit always --code-cache F writes entries; --code-cache F alone
# loads them (host entries loaded, kernel ones refused here), compiles nothing, same ids.
round_trip() {
	name=$1
	shift
	rm -f "$tmp/cache"
	$BIN "$@" >"$tmp/want" 2>/dev/null
	if $BIN "$@" --jit always --code-cache "$tmp/cache" >"$tmp/got" 2>"$tmp/wrote" &&
		cmp -s "$tmp/want" "$tmp/got" && grep -q "^jit: code cache .* entries written" "$tmp/wrote"
	then ok "$name: --jit always --code-cache writes the cache"
	else ko "$name: --jit always --code-cache"; cat "$tmp/wrote"; return; fi
	if $BIN "$@" --code-cache "$tmp/cache" >"$tmp/got" 2>"$tmp/err" &&
		cmp -s "$tmp/want" "$tmp/got" && grep -q "^code-cache: loaded" "$tmp/err" &&
		grep -q "^code-cache: refused .*compiled for the kernel" "$tmp/err" &&
		! grep -q "^jit:" "$tmp/err"
	then ok "$name: --code-cache alone loads it, compiles nothing, same ids"
	else ko "$name: --code-cache alone"; cat "$tmp/err"; fi
}
for f in stories260K.bin stories260K-f32.gguf llama-2-tiny-random.gguf; do
	[ -f "$M/$f" ] && round_trip "$f" -m "$M/$f" --ids -n 24 --temp 0
done
round_trip "synthetic small" --synthetic small --ids -n 12 -s 3
for f in Q5_1 Q4_K_M; do
	[ -f "$KQ/$f.gguf" ] || continue
	round_trip "kquant/$f.gguf" -m "$KQ/$f.gguf" --prompt-ids "$KQ_PROMPT" --ids -n 12 --temp 0
	# Q5_1's prompt runs as batches (the K-quants' as tiles, which stay at tier 1)
	if [ $f = Q5_1 ]; then
		filed dot_q5_1_batch && ok "the K-quant batch entry loads" ||
			ko "no dot_q5_1_batch entry loaded from the cache"
	fi
done
# a prompt batch: the prompt tiles (dot_q8_0_tile) are compiled too and run from the cache
round_trip "synthetic small, 40-id prompt" --synthetic small --ids -n 8 --prompt-ids "$(seq -s ' ' 1 40)"
filed dot_q8_0_tile && ok "the prompt tile entry loads" ||
	ko "no dot_q8_0_tile entry loaded from the cache"
# A second model's --jit run on the same cache adds its entries and keeps the first model's:
# the first model still loads them (the file from the 40-id round trip is in $tmp/cache).
$BIN --synthetic small --quant int8 --ids -n 8 --jit always --code-cache "$tmp/cache" \
	>/dev/null 2>"$tmp/err2"
if grep -q "^jit: code cache .* entries written ([1-9][0-9]* kept from the file)" "$tmp/err2" &&
	$BIN --synthetic small --ids -n 8 --prompt-ids "$(seq -s ' ' 1 40)" \
		--code-cache "$tmp/cache" 2>"$tmp/err" >"$tmp/got" && cmp -s "$tmp/want" "$tmp/got" &&
	filed dot_q8_0_tile
then ok "a second model's --jit run keeps the first model's entries"
else ko "a second model's --jit run dropped the first model's entries"; cat "$tmp/err2"; fi

if [ -x "$TEST_JIT" ]; then
	if "$TEST_JIT" >"$tmp/out" 2>&1; then ok "verification (test_jit)"
	else ko "verification (test_jit)"; cat "$tmp/out"; fi
else
	ko "verification: $TEST_JIT was not built"
fi

echo "jit: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
