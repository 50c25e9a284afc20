#!/bin/sh
# bench_kquant.sh: generation (tg) and prompt (pp) tok/s of tinyllama-host on TinyLlama-shaped
# files of the 4-6 bit types (the synthetic TinyLlama with --quant TYPE, exported once into
# build/bench/), at -t 1 and -t 2, beside the read-bandwidth ceiling for the file's bytes and,
# with LLAMA_BENCH=path/to/llama-bench (and IK_LLAMA_BENCH=path/to/ik_llama.cpp's llama-bench),
# the peers' figures on the same file in the same run.
# Prints figures only. Env: TYPES (q4_k_m q4_0 q6_k q5_k_m), REPS (3), N (64), PP (128),
# THREADS (1 2), ISA (passed as --isa when set).
set -u
BIN=${BIN:-host/tinyllama-host}
BM=${BM:-build/bench/bench_matmul}
TYPES=${TYPES:-q4_k_m q4_0 q6_k q5_k_m}
REPS=${REPS:-3}
N=${N:-64}
PP=${PP:-128}
DIR=${DIR:-build/bench}
mkdir -p "$DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(date '+%Y-%m-%d %H:%M'), load $(cut -d' ' -f1-3 /proc/loadavg)"
pp_ids=$(seq 1 "$PP" | tr '\n' ' ')
for type in $TYPES; do
	f=$DIR/tinyllama_$type.gguf
	if [ ! -s "$f" ]; then
		"$BIN" --synthetic tinyllama --quant "$type" -t 2 -n 1 --ids --export-gguf "$f" \
			>/dev/null 2>"$tmp/err" || { cat "$tmp/err"; rm -f "$f"; exit 1; }
	fi
	bytes=$(wc -c <"$f")
	for t in ${THREADS:-1 2}; do
		"$BM" --bw >"$tmp/bw" || exit 1
		bw=$(sed -n "s/^read_bandwidth_gbs_t$t=//p" "$tmp/bw")
		tg="" pp=""
		for _ in $(seq "$REPS"); do
			"$BIN" -m "$f" ${ISA:+--isa "$ISA"} -n "$N" -t "$t" --temp 0 --ids >/dev/null 2>"$tmp/err" ||
				{ cat "$tmp/err"; exit 1; }
			tg="$tg $(sed -n 's/.*tok_per_s=\([0-9.]*\).*/\1/p' "$tmp/err")"
			# prompt: PP ids and one generated token; the stats line's prompt_tok_per_s
			"$BIN" -m "$f" ${ISA:+--isa "$ISA"} --prompt-ids "$pp_ids" -n 1 -t "$t" --temp 0 --ids \
				>/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
			pp="$pp $(sed -n 's/.*prompt_tok_per_s=\([0-9.]*\).*/\1/p' "$tmp/err")"
		done
		range() { echo "$1" | tr ' ' '\n' | grep . | sort -n | sed -n '1p;$p' | tr '\n' ' ' |
			awk '{ printf "%s-%s", $1, $2 }'; }
		ceil=$(awk -v bw="$bw" -v b="$bytes" 'BEGIN { printf "%.1f", bw * 1e9 / b }')
		echo "$type -t $t: tg$N $(range "$tg") tok/s (ceiling ~$ceil for $bytes file bytes at $bw GB/s), pp$PP $(range "$pp") tok/s"
		for peer in "llama.cpp ${LLAMA_BENCH:-}" "ik_llama.cpp ${IK_LLAMA_BENCH:-}"; do
			name=${peer%% *} lb=${peer#* }
			[ -n "$lb" ] || continue
			"$lb" -m "$f" -t "$t" -p "$PP" -n "$N" -r "$REPS" 2>/dev/null |
				grep -E '(pp|tg)[0-9]' | sed "s/^/$type -t $t $name: /"
		done
	done
done
