#!/bin/sh
# jit.sh: the tiers of the tier-up side by side, per model: tok/s of an N-token generation
# and pp (a PP-token prompt: the stats line's prompt_tok_per_s) at tier 1 (the AOT kernels),
# with --jit always (tier 2 swapped in after the first 2 generated tokens; the tier-up pause,
# which the jit: line reports, is taken out of gen_ms), tier 0 as the scalar references
# (--isa scalar, core's -O3) and tier 0 as the seed ran them (a -O0 build, --isa scalar), REPS runs
# each (min-max); then the --jit run's tier report (cycles per call, compile ms, decision).
# ONLY=TEXT: only the models whose name holds TEXT.
# Prints figures only. Run from the repository root: sh bench/jit.sh
set -u
BIN=${BIN:-host/tinyllama-host}
O0_BIN=${O0_BIN:-build/O0/tinyllama-host}
REPS=${REPS:-3}
M=${SHARED_DIR:-../shared}/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs," \
	"avx512_vnni: $(grep -qw avx512_vnni /proc/cpuinfo && echo yes || echo no)," \
	"$(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -x "$O0_BIN" ]; then # tier 0 as the seed ran it: core and host at -O0
	make -s BUILD=build/O0 HOST_BIN="$O0_BIN" \
		CORE_CFLAGS="-std=c11 -O0 -g -Wall -Wextra -Werror -ffreestanding -fno-stack-protector -fno-math-errno -ffp-contract=off -fno-strict-aliasing -I. -Ibuild/O0/gen" \
		"$O0_BIN" >/dev/null || exit 1
fi

# rates BIN ARGS...: "tok/s pp/s" of one run (tok/s without the tier-up pause).
rates() {
	b=$1
	shift
	"$b" "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; echo "- -"; return; }
	pause=$(sed -n 's/^jit: tier-up .*, \([0-9.]*\) ms$/\1/p' "$tmp/err")
	sed -n 's/^stats: .*gen_tokens=\([0-9]*\) .*prompt_tok_per_s=\([0-9.]*\) gen_ms=\([0-9.]*\) .*/\1 \2 \3/p' \
		"$tmp/err" | awk -v p="${pause:-0}" '{ printf "%.1f %.1f\n", $1 * 1000 / ($3 - p), $2 }'
}

# row NAME BIN ARGS...: REPS runs, min-max of each rate.
row() {
	name=$1
	shift
	: >"$tmp/r"
	i=0
	while [ $i -lt "$REPS" ]; do rates "$@" >>"$tmp/r"; i=$((i + 1)); done
	awk -v n="$name" 'NR == 1 { a = b = $1; c = d = $2 }
		{ if ($1 < a) a = $1; if ($1 > b) b = $1; if ($2 < c) c = $2; if ($2 > d) d = $2 }
		END { printf "  %-30s tok/s %8.1f - %-8.1f pp/s %8.1f - %.1f\n", n, a, b, c, d }' "$tmp/r"
}

# model NAME N PP T0_N T0_PP MODEL_ARGS...: the tiers of one model (tier 0 with T0_N tokens
# after a T0_PP-id prompt: the slow scalar runs of the big model are kept short).
model() {
	name=$1 n=$2 pp=$3 t0n=$4 t0pp=$5
	shift 5
	case "$name" in *"${ONLY:-}"*) ;; *) return ;; esac
	echo "$name: -n $n, prompt of $pp ids, greedy (tier 0: -n $t0n, $t0pp ids)"
	rm -f "$tmp/cache"
	ids=$(seq -s ' ' 1 "$pp") ids0=$(seq -s ' ' 1 "$t0pp")
	# the cache: from a run with the same prompt, so that its prompt tiles are compiled too
	"$BIN" "$@" --ids -n 8 --prompt-ids "$ids" --jit always --code-cache "$tmp/cache" \
		--profile >/dev/null 2>"$tmp/jit"
	set -- "$@" --ids --temp 0
	row "tier 1 (AOT SIMD)" "$BIN" "$@" -n "$n" --prompt-ids "$ids"
	row "tier 2 (--jit always, in run)" "$BIN" "$@" -n "$n" --prompt-ids "$ids" --jit always
	row "tier 2 (from the code cache)" "$BIN" "$@" -n "$n" --prompt-ids "$ids" \
		--code-cache "$tmp/cache"
	row "tier 0 (scalar, -O3)" "$BIN" "$@" -n "$t0n" --prompt-ids "$ids0" --isa scalar
	row "tier 0 (scalar, -O0)" "$O0_BIN" "$@" -n "$t0n" --prompt-ids "$ids0" --isa scalar
	sed -n '/^Tier-up/,$p' "$tmp/jit" | sed 's/^/  /'
	grep '^jit:' "$tmp/jit" | sed 's/^/  /'
	"$BIN" "$@" -n 4 --code-cache "$tmp/cache" 2>&1 >/dev/null | grep '^code-cache: loaded' |
		sed 's/^/  /'
}

model "stories260K (llama2.c)" 128 128 128 128 -m "$M/stories260K.bin"
model "stories260K (GGUF F32)" 128 128 128 128 -m "$M/stories260K-f32.gguf"
model "synthetic small (Q8_0)" 128 128 128 128 --synthetic small
model "synthetic TinyLlama (Q8_0)" 16 128 2 4 --synthetic tinyllama
