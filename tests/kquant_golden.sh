#!/bin/sh
# kquant_golden.sh: every file of $SHARED_DIR/models/kquant against llama.cpp's greedy ids from
# that folder's README.md: F16 and Q8_0 the whole sequence; the quantized files each step
# teacher-forced (prompt plus the reference ids before it, one token generated) where
# llama.cpp's top-1/top-2 margin is at least 0.5 (the README lists the closer steps).
# Usage: BIN=host/tinyllama-host [ISA=avx2] [THREADS=2] sh tests/kquant_golden.sh
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-host/tinyllama-host}
DIR=${SHARED_DIR:-../shared}/models/kquant
README=$DIR/README.md
fail=0
. tests/require.sh
if ! require_shared "$README" "K-quant goldens"; then
	exit $fail
fi
ISA_ARG=${ISA:+--isa $ISA}
THREADS=${THREADS:-1}
# The prompt: the README's "Prompt ids (BOS included): `1 9038 ...`".
PROMPT=$(sed -n 's/^Prompt ids[^`]*`\([0-9 ]*\)`.*/\1/p' "$README" | head -n 1)
[ -n "$PROMPT" ] || { echo "FAIL: no prompt ids in $README"; exit 1; }
fail=0
# Reference lines: "- NAME: `ids`; margin < 0.5 at steps a, b, c"
sed -n 's/^- \([A-Z0-9_]*\): `\([0-9 ]*\)`; margin < 0.5 at steps \(.*\)$/\1|\2|\3/p' "$README" >"${TMPDIR:-/tmp}/kquant_ref.$$"
[ -s "${TMPDIR:-/tmp}/kquant_ref.$$" ] || { echo "FAIL: no reference ids in $README"; exit 1; }
while IFS='|' read -r name ids close; do
	model=$DIR/$name.gguf
	n=$(echo "$ids" | wc -w)
	if [ "$name" = F16 ] || [ "$name" = Q8_0 ]; then
		# shellcheck disable=SC2086
		got=$($BIN -m "$model" --prompt-ids "$PROMPT" -n "$n" --temp 0 --ids -t "$THREADS" $ISA_ARG 2>/dev/null)
		if [ "$got" = "$ids" ]; then
			echo "ok   kquant $name: all $n ids"
		else
			echo "FAIL kquant $name: got $got"
			echo "               want $ids"
			fail=1
		fi
		continue
	fi
	close=" $(echo "$close" | tr -d ',') "
	# One greedy run from the prompt; where it leaves the reference, the next run restarts
	# from the reference prefix up to and including that step: each step's token comes from
	# exactly the reference ids before it, as teacher forcing asks, in few runs.
	agreed=0 fair=0 missed="" k=0
	while [ "$k" -lt "$n" ]; do
		prefix=$PROMPT
		[ "$k" -gt 0 ] && prefix="$PROMPT $(echo "$ids" | cut -d' ' -f1-"$k")"
		# shellcheck disable=SC2086
		got=$($BIN -m "$model" --prompt-ids "$prefix" -n $((n - k)) --temp 0 --ids -t "$THREADS" $ISA_ARG 2>/dev/null)
		j=$k
		set -- $got
		for want in $(echo "$ids" | cut -d' ' -f$((k + 1))-); do
			case "$close" in *" $j "*) isfair=0 ;; *) isfair=1 fair=$((fair + 1)) ;; esac
			g=${1:-none}
			[ $# -gt 0 ] && shift
			j=$((j + 1))
			if [ "$g" = "$want" ]; then
				agreed=$((agreed + isfair))
				continue
			fi
			[ "$isfair" = 1 ] && missed="$missed $((j - 1)):$g/$want"
			break
		done
		k=$j
	done
	if [ "$agreed" = "$fair" ]; then
		echo "ok   kquant $name: $agreed/$fair teacher-forced steps with margin >= 0.5"
	else
		echo "FAIL kquant $name: $agreed/$fair teacher-forced steps agree; missed (step:got/want)$missed"
		fail=1
	fi
done <"${TMPDIR:-/tmp}/kquant_ref.$$"
rm -f "${TMPDIR:-/tmp}/kquant_ref.$$"

# --quant q6_k of the F16 file makes the bytes llama-quantize wrote into Q6_K.gguf (every tensor
# Q6_K there), so its ids are the ids of that file, token for token.
if [ -r "$DIR/Q6_K.gguf" ]; then
	want=$($BIN -m "$DIR/Q6_K.gguf" --prompt-ids "$PROMPT" -n 16 --temp 0 --ids 2>/dev/null)
	got=$($BIN -m "$DIR/F16.gguf" --quant q6_k --prompt-ids "$PROMPT" -n 16 --temp 0 --ids 2>/dev/null)
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		echo "ok   kquant: F16 --quant q6_k gives Q6_K.gguf's ids"
	else
		echo "FAIL kquant: F16 --quant q6_k gives $got, Q6_K.gguf $want"
		fail=1
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -std=c11 -O1 -o "$tmp/mutate" tests/fuzz/mutate.c || exit 1
file_type() { # file_type FILE: its general.file_type (nothing when FILE is missing)
	[ -r "$1" ] || return 0
	set -- "$1" "$("$tmp/mutate" info "$1" | grep '^kv\.general\.file_type\.value ' | cut -d' ' -f2)"
	[ -n "$2" ] && od -An -tu4 -j "$2" -N 4 "$1" | tr -d ' '
}

# --export-gguf writes the general.file_type llama-quantize wrote for each type and mix: after
# --quant NAME, that of NAME.gguf (rows that fall back per tensor do not change it); a GGUF
# exported as it is keeps its own; the synthetic model (Q8_0, no --quant) gets llama.cpp's guess
# from its tensors' types, which for Q8_0 is what llama-quantize writes for Q8_0.
ft_fail=""
for model in "$DIR"/*.gguf Q8_0-guessed; do
	name=$(basename "$model" .gguf)
	if [ "$name" = Q8_0-guessed ]; then
		want=$(file_type "$DIR/Q8_0.gguf")
		set -- --synthetic small
	elif [ "$name" = F16 ]; then
		want=$(file_type "$model")
		set -- -m "$model"
	else
		want=$(file_type "$model")
		set -- --synthetic small --quant "$(echo "$name" | tr '[:upper:]' '[:lower:]')"
	fi
	"$BIN" "$@" -n 1 --export-gguf "$tmp/ft.gguf" >/dev/null 2>&1
	got=$(file_type "$tmp/ft.gguf")
	[ -n "$want" ] && [ "$got" = "$want" ] || ft_fail="$ft_fail $name:$got/$want"
	rm -f "$tmp/ft.gguf"
done
if [ -z "$ft_fail" ]; then
	echo "ok   kquant: exports write llama-quantize's general.file_type for every file's type"
else
	echo "FAIL kquant: general.file_type of the export (name:ours/llama-quantize's)$ft_fail"
	fail=1
fi

# Every ISA the CPU has and both thread counts give the default run's ids on every file.
isas=""
for isa in scalar avx2 avxvnni avx512; do
	$BIN --synthetic small -n 1 --isa $isa >/dev/null 2>&1 && isas="$isas $isa"
done
for model in "$DIR"/*.gguf; do
	want=$($BIN -m "$model" --prompt-ids "$PROMPT" -n 8 --temp 0 --ids 2>/dev/null)
	for isa in $isas; do
		for t in 1 2; do
			got=$($BIN -m "$model" --prompt-ids "$PROMPT" -n 8 --temp 0 --ids --isa $isa -t $t 2>/dev/null)
			if [ "$got" != "$want" ]; then
				echo "FAIL kquant $(basename "$model") --isa $isa -t $t: $got, default: $want"
				fail=1
			fi
		done
	done
done
[ $fail = 0 ] && echo "ok   kquant: ISAs$isas at 1 and 2 threads give the same ids on every file"

# Bad input on a K-quant file: one "error: " line, the last on stderr, and status 1.
src=$DIR/Q4_K_M.gguf
"$tmp/mutate" info "$src" >"$tmp/info"
bad() { # bad NAME FIELD VALUE MESSAGE: FIELD of the tensor table set to VALUE
	set -- "$1" "$(grep -F "$2 " "$tmp/info" | cut -d' ' -f2,3)" "$3" "$4"
	cp "$src" "$tmp/case"
	# shellcheck disable=SC2086
	"$tmp/mutate" set "$tmp/case" $2 "$3"
	$BIN -m "$tmp/case" -n 1 --temp 0 --ids >/dev/null 2>"$tmp/err"
	st=$?
	if [ $st -eq 1 ] && [ "$(grep -c '^error: ' "$tmp/err")" = 1 ] &&
		tail -n 1 "$tmp/err" | grep -q "^error: .*$4"; then
		echo "ok   kquant bad input, $1: $(tail -n 1 "$tmp/err" | cut -c1-110)"
	else
		echo "FAIL kquant bad input, $1: status $st, stderr:"
		sed 's/^/    /' "$tmp/err"
		fail=1
	fi
}
bad "Q4_K embedding re-typed Q6_K (byte size)" tensor.token_embd.weight.type 14 "past the end"
bad "attn_q re-typed Q5_K (byte size)" tensor.blk.0.attn_q.weight.type 13 "overlap"
bad "unknown type id 4" tensor.token_embd.weight.type 4 "unknown type id 4"
bad "Q4_K rows of 128" tensor.blk.0.attn_q.weight.ne0 128 "not a multiple of the Q4_K block"
exit $fail
