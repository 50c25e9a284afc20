#!/bin/sh
# golden.sh: whole runs of tinyllama-host checked against reference outputs and exit codes.
# Reference ids come from llama2.c's run.c (stories260K, greedy from BOS, all 512 positions).
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-host/tinyllama-host}
SHARED=${SHARED_DIR:-../shared}
M=$SHARED/models
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/require.sh

# expect_ids NAME WANT_FILE ARGS...: stdout of the run equals the file.
expect_ids() {
	name=$1 want=$2
	shift 2
	if $BIN "$@" >"$tmp/out" 2>"$tmp/err" && cmp -s "$tmp/out" "$want"; then ok "$name"
	else ko "$name"; head -c 600 "$tmp/out"; cat "$tmp/err"; fi
}

# expect_error NAME PATTERN ARGS...: exit status 1, one "error:" line matching PATTERN, no signal.
expect_error() {
	name=$1 pattern=$2
	shift 2
	$BIN "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
	if [ $st -eq 1 ] && grep -q "^error: .*$pattern" "$tmp/err"; then ok "$name"
	else ko "$name (status $st)"; cat "$tmp/err"; fi
}

# The ISAs this machine runs (scalar always): a SKIP line, or in CI a FAIL, for each other.
isas=
for isa in scalar avx2 avxvnni avx512; do
	require_isa $isa "ISA goldens" && isas="$isas $isa"
done

if require_shared "$M/stories260K.bin" "stories260K goldens"; then
	cut -d' ' -f1-200 tests/golden/stories260K-greedy-512.txt >"$tmp/want200"
	expect_ids "stories260K.bin greedy 200 = llama2.c" "$tmp/want200" \
		-m "$M/stories260K.bin" -n 200 --temp 0 --ids
	expect_ids "stories260K.bin greedy to the end of the context = llama2.c" \
		tests/golden/stories260K-greedy-512.txt -m "$M/stories260K.bin" -n 600 --temp 0 --ids
	expect_ids "stories260K-f32.gguf greedy 200 = llama2.c" "$tmp/want200" \
		-m "$M/stories260K-f32.gguf" -n 200 --temp 0 --ids
	for t in 1 2; do
		expect_ids "stories260K.bin greedy 200 with -t $t" "$tmp/want200" \
			-m "$M/stories260K.bin" -n 200 --temp 0 --ids -t $t
	done
	for isa in $isas; do
		expect_ids "stories260K.bin greedy 200 with --isa $isa -t 2" "$tmp/want200" \
			-m "$M/stories260K.bin" -n 200 --temp 0 --ids --isa $isa -t 2
	done
	# --quant int8 runs any shape; --quant q8_0 refuses rows of 172 values.
	if $BIN -m "$M/stories260K.bin" --quant int8 -n 16 --temp 0 --ids >"$tmp/out" 2>"$tmp/err" &&
		[ "$(wc -w <"$tmp/out")" -eq 16 ]; then ok "stories260K --quant int8 runs"
	else ko "stories260K --quant int8 runs"; cat "$tmp/err"; fi
	# int8 prompt batches (the tiles where an ISA has them) give the scalar one-token path's ids
	p8=$(seq 1 3 90 | tr '\n' ' ')
	want8=$($BIN -m "$M/stories260K.bin" --quant int8 --prompt-ids "$p8" -n 16 --temp 0 --ids \
		--isa scalar 2>/dev/null)
	for isa in $isas; do
		for t in 1 2; do
			got8=$($BIN -m "$M/stories260K.bin" --quant int8 --prompt-ids "$p8" -n 16 \
				--temp 0 --ids --isa $isa -t $t 2>/dev/null)
			if [ -n "$want8" ] && [ "$got8" = "$want8" ]; then
				ok "stories260K --quant int8, 30-id prompt: --isa $isa -t $t = scalar"
			else ko "stories260K --quant int8, 30-id prompt: --isa $isa -t $t: $got8, scalar: $want8"; fi
		done
	done
	expect_error "stories260K --quant q8_0 refuses rows of 172" "not a multiple of 32" \
		-m "$M/stories260K.bin" --quant q8_0
	expect_error "context longer than the model's" "longer than the model" \
		-m "$M/stories260K.bin" -c 4096
	# Truncated and corrupted copies of a real file.
	head -c 1000 "$M/stories260K.bin" >"$tmp/trunc.bin"
	expect_error "truncated llama2.c checkpoint" "needs 1056540 bytes" -m "$tmp/trunc.bin"
	head -c 600000 "$M/stories260K-f32.gguf" >"$tmp/trunc.gguf"
	expect_error "truncated GGUF" "past the end" -m "$tmp/trunc.gguf"
	{ printf 'GGUF\001\000\000\000'; tail -c +9 "$M/stories260K-f32.gguf"; } >"$tmp/v1.gguf"
	expect_error "GGUF version 1" "version 1 is not supported" -m "$tmp/v1.gguf"
fi

# llama-2-tiny-random.gguf (F16 weights): llama.cpp's greedy ids for prompts given as ids, on
# every ISA (the F16 dot kernels).
if require_shared "$M/llama-2-tiny-random.gguf" "tiny-random goldens"; then
	grep -v '^#' tests/golden/tiny-random-llamacpp.txt | while IFS='|' read -r prompt want; do
		echo "$want" >"$tmp/want"
		for isa in $isas; do
			if $BIN -m "$M/llama-2-tiny-random.gguf" --prompt-ids "$prompt" -n 32 --temp 0 \
				--ids --isa $isa >"$tmp/out" 2>"$tmp/err" && cmp -s "$tmp/out" "$tmp/want"
			then echo "PASS tiny-random [$prompt] --isa $isa = llama.cpp"
			else echo "FAIL tiny-random [$prompt] --isa $isa = llama.cpp"; cat "$tmp/out" "$tmp/err"; fi
		done
	done >"$tmp/tr"
	cat "$tmp/tr"
	pass=$((pass + $(grep -c '^PASS' "$tmp/tr")))
	fail=$((fail + $(grep -c '^FAIL' "$tmp/tr")))
fi

# The synthetic small model: deterministic, and its GGUF export reads back identically.
$BIN --synthetic small -n 24 --temp 0 --ids >"$tmp/a" 2>/dev/null
$BIN --synthetic small -n 24 --temp 0 --ids -t 2 >"$tmp/b" 2>/dev/null
if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b"; then ok "synthetic small is deterministic across threads"
else ko "synthetic small is deterministic across threads"; fi
if $BIN --synthetic small -n 24 --temp 0 --ids --export-gguf "$tmp/small.gguf" >/dev/null 2>&1; then
	expect_ids "exported GGUF reads back with the same ids" "$tmp/a" \
		-m "$tmp/small.gguf" -n 24 --temp 0 --ids
else ko "export GGUF"; fi
$BIN --synthetic small -n 24 --temp 0.9 -s 7 --ids >"$tmp/s1" 2>/dev/null
$BIN --synthetic small -n 24 --temp 0.9 -s 7 --ids >"$tmp/s2" 2>/dev/null
if cmp -s "$tmp/s1" "$tmp/s2"; then ok "seeded sampling repeats"; else ko "seeded sampling repeats"; fi

# The synthetic TinyLlama (Q8_0) gives the same ids on every ISA and thread count, with a
# prompt of 40 ids (a batch: a full group of 16 tokens and a padded one on AVX-512).
ids=$(seq 100 139 | tr '\n' ' ')
if [ -n "${VALGRIND:-}" ]; then
	skip=$((skip + 1))
	echo "SKIP synthetic TinyLlama across ISAs under valgrind (1.1 GB of weights: too slow)"
else
	$BIN --prompt-ids "$ids" -n 8 --temp 0 --ids --isa scalar -t 1 >"$tmp/tl" 2>"$tmp/err" ||
		{ ko "synthetic TinyLlama runs"; cat "$tmp/err"; }
	for isa in $isas; do
		for t in 1 2; do
			[ $isa = scalar ] && [ $t = 1 ] && continue
			expect_ids "synthetic TinyLlama with a prompt: --isa $isa -t $t = scalar -t 1" \
				"$tmp/tl" --prompt-ids "$ids" -n 8 --temp 0 --ids --isa $isa -t $t
		done
	done
fi

# Bad input: one clear line, status 1.
expect_error "missing file" "No such file" -m "$tmp/does-not-exist"
printf 'this is not a model at all, just text......' >"$tmp/text.bin"
expect_error "unknown magic" "unknown model format" -m "$tmp/text.bin"
expect_error "unknown option" "unknown option" --frobnicate
expect_error "malformed number" "is not a count" -n abc
expect_error "malformed temperature" "is not a temperature" --temp x
expect_error "missing value" "needs a value" -m
expect_error "prompt id outside the vocabulary" "outside the vocabulary" \
	--synthetic small --prompt-ids "1 99999"
expect_error "arena too small" "not enough memory" --synthetic small --arena 1M

# The stats line: a prompt of BOS alone has no batch (0, not NaN); 5 ids make a batch of 4.
num='[0-9]+\.[0-9]{2}'
$BIN --synthetic small -n 4 >/dev/null 2>"$tmp/err"
if grep -Eq "^stats: prompt_tokens=1 gen_tokens=4 load_ms=$num prompt_ms=0\.00 prompt_tok_per_s=0\.00 gen_ms=$num tok_per_s=$num\$" "$tmp/err"
then ok "stats line"; else ko "stats line"; cat "$tmp/err"; fi
$BIN --synthetic small --prompt-ids "1 2 3 4 5" -n 2 >/dev/null 2>"$tmp/err"
if grep -Eq "^stats: prompt_tokens=5 gen_tokens=2 load_ms=$num prompt_ms=$num prompt_tok_per_s=$num gen_ms=$num tok_per_s=$num\$" "$tmp/err" &&
	! grep -q 'prompt_tok_per_s=0\.00' "$tmp/err"
then ok "stats line with a prompt batch"; else ko "stats line with a prompt batch"; cat "$tmp/err"; fi

echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
