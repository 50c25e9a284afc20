#!/bin/sh
# bench_generate.sh: generation tok/s of tinyllama-host (synthetic TinyLlama, -t 1 and -t 2)
# beside the read-bandwidth ceiling measured in the same run, prompt processing tok/s of 128
# tokens, peak RSS, CPU and date. Prints figures only; asserts nothing about time.
# Run from the repository root (make bench does).
set -u
BIN=${BIN:-host/tinyllama-host}
BM=${BM:-build/bench/bench_matmul}
REPS=${REPS:-3}
N=${N:-64}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(date '+%Y-%m-%d %H:%M'), load $(cut -d' ' -f1-3 /proc/loadavg)"
bw=$("$BM" --bw) || exit 1
bw1=$(echo "$bw" | sed -n 's/^read_bandwidth_gbs_t1=//p')
bw2=$(echo "$bw" | sed -n 's/^read_bandwidth_gbs_t2=//p')
bytes=$(echo "$bw" | sed -n 's/^tinyllama_bytes_per_token=//p')
echo "read bandwidth: $bw1 GB/s (1 thread), $bw2 GB/s (2 threads); weights per token: $bytes bytes"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in 1 2; do
	bw_t=$bw1
	[ "$t" = 2 ] && bw_t=$bw2
	best=0 rss=0
	for r in $(seq "$REPS"); do
		/usr/bin/time -f '%M' -o "$tmp/rss" "$BIN" -n "$N" -t "$t" --temp 0 --ids \
			>/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
		tps=$(sed -n 's/.*tok_per_s=\([0-9.]*\).*/\1/p' "$tmp/err")
		best=$(awk -v a="$best" -v b="$tps" 'BEGIN { print (b > a) ? b : a }')
		rss=$(cat "$tmp/rss")
	done
	awk -v t="$t" -v tps="$best" -v bw="$bw_t" -v bytes="$bytes" -v rss="$rss" -v n="$N" 'BEGIN {
		ceil = bw * 1e9 / bytes
		printf("generation -t %d: %.2f tok/s (best of %s, %d tokens), ceiling %.2f tok/s " \
		       "(%.2f GB/s / %.3f GB per token): %.1f%%, peak RSS %.0f MB\n",
		       t, tps, ENVIRON["REPS"] ? ENVIRON["REPS"] : 3, n, ceil, bw, bytes / 1e9,
		       100 * tps / ceil, rss / 1024)
	}'
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
