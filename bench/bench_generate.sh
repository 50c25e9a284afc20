#!/bin/sh
# bench_generate.sh: generation (tg) and prompt processing (pp) tok/s of tinyllama-host on the
# synthetic TinyLlama, -t 1 and -t 2, each beside what it is measured against in the same run:
# tg beside the read-bandwidth ceiling, from the arena and from the model exported as GGUF
# (mapped from the page cache, as a user runs it); tg and pp beside llama.cpp's llama-bench on
# the same GGUF file when LLAMA_BENCH=path/to/llama-bench is set (a fork's too, ik_llama.cpp's;
# LLAMA_BENCH_AVX2: a second one, built for AVX2 only, for our AVX2 figures on an AVX-512
# machine). Then -t 1 and -t 2 beside a busy loop, peak RSS, the profiler's cost, CPU, load and
# date. Prints figures only; asserts nothing about time.
# Run from the repository root (make bench does).
set -u
BIN=${BIN:-host/tinyllama-host}
BM=${BM:-build/bench/bench_matmul}
REPS=${REPS:-3}
N=${N:-64}
PP=${PP:-128}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(date '+%Y-%m-%d %H:%M'), load $(cut -d' ' -f1-3 /proc/loadavg)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The bandwidth drifts with the machine's other tenants, so every run is paired with the probes
# just before and just after it, and measured against the higher of the two: the percentage
# never flatters the run. Each configuration reports its best run by that percentage.
probe() {
	"$BM" --bw >"$tmp/bw" || exit 1
	sed -n "s/^read_bandwidth_gbs_t$1=//p" "$tmp/bw"
}

"$BIN" -n 1 --ids --export-gguf "$tmp/synth.gguf" >/dev/null 2>"$tmp/err" ||
	{ cat "$tmp/err"; exit 1; }
"$BM" --bw >"$tmp/bw" || exit 1
bytes=$(sed -n 's/^tinyllama_bytes_per_token=//p' "$tmp/bw")
# the ISA tinyllama-host picks by default (the pp line names it), and the AVX2 one too when
# that default is AVX-512 (what a CPU without AVX-512 runs)
isa=$("$BIN" --synthetic small -n 1 --ids --profile 2>&1 >/dev/null |
	sed -n 's/^kernels: \([a-z0-9]*\),.*/\1/p')
isas=$isa
[ "$isa" = avx512 ] && isas="avx512 avx2"
: >"$tmp/summary"
for t in 1 2; do
	for src in arena gguf; do
		model=""
		[ "$src" = gguf ] && model="-m $tmp/synth.gguf"
		before=$(probe "$t")
		: >"$tmp/runs"
		for _ in $(seq "$REPS"); do
			# shellcheck disable=SC2086 # $model is empty or two words
			/usr/bin/time -f '%M' -o "$tmp/rss" "$BIN" $model -n "$N" -t "$t" --temp 0 \
				--ids >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
			after=$(probe "$t")
			tps=$(sed -n 's/.*tok_per_s=\([0-9.]*\).*/\1/p' "$tmp/err")
			echo "$tps $before $after $(cat "$tmp/rss")" >>"$tmp/runs"
			before=$after
		done
		awk -v t="$t" -v bytes="$bytes" -v n="$N" -v src="$src" -v isa="$isa" \
			-v sum="$tmp/summary" '{
			bw = $2 > $3 ? $2 : $3
			pct = 100 * $1 * bytes / (bw * 1e9)
			if (pct > best) { best = pct; tps = $1; bwb = bw; rss = $4 }
			lo = (NR == 1 || $1 < lo) ? $1 : lo; hi = $1 > hi ? $1 : hi
		} END {
			printf("generation -t %d (%s): %.2f tok/s, ceiling %.2f tok/s (%.2f GB/s, the higher " \
			       "probe around the run / %.3f GB per token): %.1f%% (best of %d runs: %.2f - " \
			       "%.2f tok/s, %d tokens), peak RSS %.0f MB\n",
			       t, src == "arena" ? "synthetic, in the arena" : "exported GGUF, mapped",
			       tps, bwb * 1e9 / bytes, bwb, bytes / 1e9, best, NR, lo, hi, n, rss / 1024)
			if (src == "gguf")
				printf("tg%d %s -t %d %.2f ceiling %.2f\n", n, isa, t, tps,
				       bwb * 1e9 / bytes) >> sum
		}' "$tmp/runs"
	done
done
# prompt processing: best of 3 batches of PP tokens (bench_matmul --pp), on each ISA
for i in $isas; do
	for t in 1 2; do
		"$BM" --pp "$PP" "$t" "$i" >"$tmp/pp" || exit 1
		sed "s/^/prompt processing: /" "$tmp/pp"
		echo "pp$PP $i -t $t $(sed -n 's/^pp[0-9]*_tok_per_s_t[0-9]*=\([0-9.]*\).*/\1/p' "$tmp/pp")" \
			>>"$tmp/summary"
	done
done
# Beside another process holding a core (a shell busy loop): -t 2 should not fall below -t 1
# (the pool runs jobs on the caller alone while a worker keeps coming late). Best of REPS each.
busy_tps() {
	b=0
	for _ in $(seq "$REPS"); do
		"$BIN" -m "$tmp/synth.gguf" -n "$N" -t "$1" --temp 0 --ids >/dev/null 2>"$tmp/err" ||
			{ cat "$tmp/err"; exit 1; }
		v=$(sed -n 's/.*tok_per_s=\([0-9.]*\).*/\1/p' "$tmp/err")
		b=$(awk -v a="$b" -v c="$v" 'BEGIN { print (c > a) ? c : a }')
	done
	echo "$b"
}
sh -c 'while :; do :; done' &
busy=$!
busy1=$(busy_tps 1)
busy2=$(busy_tps 2)
kill "$busy"
awk -v a="$busy1" -v b="$busy2" 'BEGIN {
	printf("generation beside a busy loop (exported GGUF): -t 1 %.2f tok/s, -t 2 %.2f: %.2f\n",
	       a, b, b / a)
}'
# The profiler's cost on a whole token: the same run with every zone enabled (--profile) and
# disabled, best of 3 each, at -t 1.
best_tps() {
	b=0
	for _ in 1 2 3; do
		$BIN -n 32 -t 1 --temp 0 --ids "$@" >/dev/null 2>"$tmp/err" || exit 1
		v=$(sed -n 's/.*tok_per_s=\([0-9.]*\).*/\1/p' "$tmp/err")
		b=$(awk -v a="$b" -v c="$v" 'BEGIN { print (c > a) ? c : a }')
	done
	echo "$b"
}
off=$(best_tps)
on=$(best_tps --profile)
awk -v off="$off" -v on="$on" 'BEGIN {
	printf("profiler on a token: %.2f tok/s disabled, %.2f enabled: %.2f%% slower\n",
	       off, on, 100 * (off - on) / off)
}'
# llama-bench on the same file: "threads prompt gen tok/s" per test, read from its markdown
# table by the column names (llama.cpp's forks, ik_llama.cpp too, print the same columns)
llama() {
	"$1" -m "$tmp/synth.gguf" -p "$PP" -n "$N" -t 1,2 -r 3 2>/dev/null | awk -F'|' '/^\|/ {
		for (i = 2; i < NF; i++) { f[i] = $i; gsub(/^ +| +$/, "", f[i]) }
		if (!th) {
			for (i = 2; i < NF; i++) {
				if (f[i] == "threads") th = i
				if (f[i] == "test") te = i
				if (f[i] == "t/s") ts = i
			}
			next
		}
		if (f[te] ~ /^pp[0-9]+$/) { p = substr(f[te], 3) + 0; g = 0 }
		else if (f[te] ~ /^tg[0-9]+$/) { p = 0; g = substr(f[te], 3) + 0 }
		else next
		split(f[ts], v, " ")
		print f[th], p, g, v[1]
	}'
}
: >"$tmp/llama"
if [ -n "${LLAMA_BENCH:-}" ]; then
	echo "llama.cpp: $LLAMA_BENCH"
	llama "$LLAMA_BENCH" | sed 's/^/native /' >>"$tmp/llama"
fi
if [ -n "${LLAMA_BENCH_AVX2:-}" ]; then
	echo "llama.cpp, AVX2 build: $LLAMA_BENCH_AVX2"
	llama "$LLAMA_BENCH_AVX2" | sed 's/^/avx2 /' >>"$tmp/llama"
fi
# The summary: each figure beside its ceiling (tg) and llama.cpp's figure on the same file;
# our AVX2 figures on an AVX-512 machine go beside the AVX2 build when there is one.
echo "summary (ours / theirs; tok/s, tg$N from the exported GGUF):"
awk -v have2="${LLAMA_BENCH_AVX2:+1}" -v native="$isa" -v pp="$PP" -v n="$N" '
	FILENAME == ARGV[1] { ll[$1 " " $2 " " $3 " " $4] = $5; next }
	{
		kind = ($1 ~ /^tg/) ? "tg" : "pp"
		build = ($2 == "avx2" && native == "avx512" && have2) ? "avx2" : "native"
		key = build " " $4 " " (kind == "pp" ? pp " 0" : "0 " n)
		line = sprintf("%-6s %-6s -t %s: %8.2f", $1, $2, $4, $5)
		if (kind == "tg")
			line = line sprintf(", ceiling %7.2f: %.2f", $7, $5 / $7)
		if (key in ll) {
			who = build == "avx2" ? "llama.cpp AVX2 build" : "llama.cpp native build"
			line = line sprintf(", %s %7.2f: %.2f", who, ll[key], $5 / ll[key])
		}
		print line
	}' "$tmp/llama" "$tmp/summary"
