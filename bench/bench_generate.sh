#!/bin/sh
# bench_generate.sh: generation tok/s of tinyllama-host (synthetic TinyLlama, -t 1 and -t 2)
# beside the read-bandwidth ceiling measured in the same run, from the arena and from the model
# exported as GGUF (mapped from the page cache, as a user runs it), prompt processing tok/s of
# 128 tokens, peak RSS, CPU and date. With LLAMA_BENCH=path/to/llama-bench, llama.cpp's pp128 and
# tg32 on the same GGUF file follow. Prints figures only; asserts nothing about time.
# Run from the repository root (make bench does).
set -u
BIN=${BIN:-host/tinyllama-host}
BM=${BM:-build/bench/bench_matmul}
REPS=${REPS:-3}
N=${N:-64}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(date '+%Y-%m-%d %H:%M'), load $(cut -d' ' -f1-3 /proc/loadavg)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The ceiling is the higher of two probes, one before and one after the runs it bounds (the
# machine's bandwidth drifts): the percentages never flatter the runs.
probe() {
	"$BM" --bw >"$tmp/bw" || exit 1
	cat "$tmp/bw" >>"$tmp/bw.all"
}
max_bw() {
	sed -n "s/^read_bandwidth_gbs_t$1=//p" "$tmp/bw.all" |
		awk 'BEGIN { m = 0 } { if ($1 > m) m = $1 } END { print m }'
}
# best tok/s and peak RSS of REPS runs of tinyllama-host with these options
generate() {
	best=0 rss=0
	for r in $(seq "$REPS"); do
		/usr/bin/time -f '%M' -o "$tmp/rss" "$BIN" -n "$N" --temp 0 --ids "$@" \
			>/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
		tps=$(sed -n 's/.*tok_per_s=\([0-9.]*\).*/\1/p' "$tmp/err")
		best=$(awk -v a="$best" -v b="$tps" 'BEGIN { print (b > a) ? b : a }')
		rss=$(cat "$tmp/rss")
	done
	echo "$best $rss"
}

"$BIN" -n 1 --ids --export-gguf "$tmp/synth.gguf" >/dev/null 2>"$tmp/err" ||
	{ cat "$tmp/err"; exit 1; }
probe
bytes=$(sed -n 's/^tinyllama_bytes_per_token=//p' "$tmp/bw")
for t in 1 2; do
	generate -t "$t" >"$tmp/arena.$t"
	generate -t "$t" -m "$tmp/synth.gguf" >"$tmp/gguf.$t"
done
probe
bw1=$(max_bw 1) bw2=$(max_bw 2)
echo "read bandwidth: $bw1 GB/s (1 thread), $bw2 GB/s (2 threads), the higher of two probes; weights per token: $bytes bytes"
for t in 1 2; do
	bw_t=$bw1
	[ "$t" = 2 ] && bw_t=$bw2
	for src in arena gguf; do
		read -r tps rss <"$tmp/$src.$t"
		awk -v t="$t" -v tps="$tps" -v bw="$bw_t" -v bytes="$bytes" -v rss="$rss" \
			-v n="$N" -v reps="$REPS" -v src="$src" 'BEGIN {
			ceil = bw * 1e9 / bytes
			printf("generation -t %d (%s): %.2f tok/s (best of %d, %d tokens), ceiling %.2f " \
			       "tok/s (%.2f GB/s / %.3f GB per token): %.1f%%, peak RSS %.0f MB\n",
			       t, src == "arena" ? "synthetic, in the arena" : "exported GGUF, mapped",
			       tps, reps, n, ceil, bw, bytes / 1e9, 100 * tps / ceil, rss / 1024)
		}'
	done
done
for t in 1 2; do
	"$BM" --pp 128 "$t" | sed "s/^/prompt processing: /"
done
# The profiler's cost on a whole token: the same run with every zone enabled (--profile) and
# disabled, best of 3 each, at -t 1.
best_tps() {
	b=0
	for r in 1 2 3; do
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
if [ -n "${LLAMA_BENCH:-}" ]; then
	echo "llama.cpp on the same GGUF ($LLAMA_BENCH):"
	"$LLAMA_BENCH" -m "$tmp/synth.gguf" -p 128 -n 32 -t 1,2 -r 3 2>/dev/null | grep -E '^\|'
fi
