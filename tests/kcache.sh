#!/bin/sh
# kcache.sh: the kernel booted with a code cache module (make qemu CODE_CACHE=FILE). A cache
# with an rms_norm entry for each target (tests/kcache/: made by make_test_cache from
# entry_rms_norm.o) is logged as loaded on COM2, and stdout is the same bytes as without it,
# with 1 and 2 CPUs (host against kernel with it: parity.sh; two cached -icount runs:
# profile_icount.sh). A cache with a flipped byte, one for another CPU, one for a shape the
# model does not have and one whose relocation points outside its object are refused, each
# with its reason on one line: the run goes on with tier 1 and the same ids. An entry refused
# after it filled the code area gives the area back to the entry after it.
# A cache the JIT wrote (host --jit always --code-cache) boots with its kernel-target entries
# loaded and the host's stdout. Builds nothing: `make check-kernel` builds first.
# Environment: TIMEOUT, MAKE, KCACHE_TOOL, KCACHE_OBJ, SHARED_DIR (default ../shared).
set -u
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
TOOL=${KCACHE_TOOL:-build/tests/make_test_cache}
OBJ=${KCACHE_OBJ:-build/tests/kcache/entry_rms_norm.o}
TIMEOUT=${TIMEOUT:-120}
HOST=host/tinyllama-host
SHARED=${SHARED_DIR:-$(cd .. && pwd)/shared}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }

for f in "$TOOL" "$OBJ"; do
	[ -e "$f" ] || { echo "kcache: $f is missing (make check-kernel builds it)"; exit 1; }
done
for kind in good other-cpu other-shape bad-reloc hog; do
	"$TOOL" $kind rms_norm "$OBJ" "$tmp/$kind.tlc" || { echo "kcache: make_test_cache $kind failed"; exit 1; }
done
# A flipped byte in the first entry's object: the whole-file checksum no longer matches.
cp "$tmp/good.tlc" "$tmp/corrupt.tlc"
size=$(wc -c <"$tmp/good.tlc")
printf '\377' | dd of="$tmp/corrupt.tlc" bs=1 seek=$((size - 64)) conv=notrunc 2>/dev/null

ARGS="--synthetic small --prompt-ids '1 5 9 200' -n 12 --temp 0 --ids"

# kernel OUT CACHE SMP: one boot; stdout to OUT, COM2 to OUT.err; 0 when its status is 0.
kernel() {
	$MAKE -s --no-print-directory qemu ARGS="$ARGS" CODE_CACHE="$2" SMP="$3" TIMEOUT="$TIMEOUT" \
		>"$1" 2>"$1.err"
}

# The reference: the kernel without a cache.
kernel "$tmp/plain.out" "" 1 || { ko "kernel without a cache"; tail -n 5 "$tmp/plain.out.err"; }

for cpus in 1 2; do
	if ! kernel "$tmp/cached$cpus.out" "$tmp/good.tlc" $cpus; then
		ko "cached boot, $cpus CPU(s): exit status"
		tail -n 5 "$tmp/cached$cpus.out.err" | sed 's/^/  /'
	elif ! grep -q "^code-cache: loaded rms_norm" "$tmp/cached$cpus.out.err"; then
		ko "cached boot, $cpus CPU(s): no 'code-cache: loaded rms_norm' line on COM2"
		grep "code-cache" "$tmp/cached$cpus.out.err" | sed 's/^/  /'
	elif ! cmp -s "$tmp/plain.out" "$tmp/cached$cpus.out"; then
		ko "cached boot, $cpus CPU(s): stdout differs from the uncached boot"
	else
		ok "cached boot, $cpus CPU(s): entry loaded, stdout as without the cache"
	fi
done

# refused KIND PATTERN: the boot succeeds with the uncached stdout; COM2 has a refusal line
# matching PATTERN (the kernel's entry: the host's is refused for its target) and no entry loaded.
refused() {
	kernel "$tmp/$1.out" "$tmp/$1.tlc" 1
	rc=$?
	line=$(grep "^code-cache: refused.*$2" "$tmp/$1.out.err" | head -n 1)
	if [ $rc -ne 0 ]; then
		ko "$1 cache: exit status $rc"
		tail -n 5 "$tmp/$1.out.err" | sed 's/^/  /'
	elif [ -z "$line" ] || grep -q "^code-cache: loaded" "$tmp/$1.out.err"; then
		ko "$1 cache: want a refusal line matching '$2' and nothing loaded"
		grep "code-cache" "$tmp/$1.out.err" | sed 's/^/  /'
	elif ! cmp -s "$tmp/plain.out" "$tmp/$1.out"; then
		ko "$1 cache: stdout differs from the uncached boot"
	else
		ok "$1 cache: $line; same stdout"
	fi
}
refused corrupt "checksum"
refused other-cpu "CPU features"
refused other-shape "uses no kernel of that shape"
refused bad-reloc "outside section"

# The hog: an entry that takes the whole code area and is refused once placed gives the area
# back, so the entry after it loads (with the memory kept, it would find the area full).
kernel "$tmp/hog.out" "$tmp/hog.tlc" 1
rc=$?
if [ $rc -ne 0 ]; then
	ko "hog cache: exit status $rc"
	tail -n 5 "$tmp/hog.out.err" | sed 's/^/  /'
elif ! grep -q "^code-cache: refused rms_norm.*out of range" "$tmp/hog.out.err" ||
	! grep -q "^code-cache: loaded rms_norm" "$tmp/hog.out.err"; then
	ko "hog cache: want the hog refused (out of range) and the next entry loaded"
	grep "code-cache" "$tmp/hog.out.err" | sed 's/^/  /'
elif ! cmp -s "$tmp/plain.out" "$tmp/hog.out"; then
	ko "hog cache: stdout differs from the uncached boot"
else
	ok "hog cache: the refused entry's code area came back; the next entry loaded"
fi

# The JIT's own cache: written by the host, loaded by the kernel (its kernel-target entries).
. tests/require.sh
if "$HOST" --jit always --synthetic small -n 1 2>&1 | grep -q "has no JIT"; then
	missing "a cache written by --jit always" "this build has no JIT (LLVM 14 and clang-14 not found)" 1
else
	model="" args="--synthetic small --prompt-ids '1 5 9 200' -n 12 --temp 0 --ids"
	if [ -f "$SHARED/models/stories260K.bin" ]; then
		model=$SHARED/models/stories260K.bin args="-n 32 --temp 0 --ids"
	fi
	eval "set -- $args"
	[ -n "$model" ] && set -- -m "$model" "$@"
	"$HOST" "$@" --jit always --code-cache "$tmp/jit.tlc" >"$tmp/jit-host.out" 2>"$tmp/jit-host.err"
	$MAKE -s --no-print-directory qemu MODEL="$model" ARGS="$args" CODE_CACHE="$tmp/jit.tlc" SMP=2 \
		TIMEOUT="$TIMEOUT" >"$tmp/jit-kernel.out" 2>"$tmp/jit-kernel.err"
	rc=$?
	n=$(grep -c "^code-cache: loaded" "$tmp/jit-kernel.err")
	if [ $rc -ne 0 ] || [ "$n" -eq 0 ]; then
		ko "JIT-written cache: kernel status $rc, $n entries loaded"
		grep -h "code-cache\|jit:" "$tmp/jit-host.err" "$tmp/jit-kernel.err" | sed 's/^/  /'
	elif ! cmp -s "$tmp/jit-host.out" "$tmp/jit-kernel.out"; then
		ko "JIT-written cache: kernel stdout differs from the host's"
	else
		ok "JIT-written cache: $n kernel entries loaded, the host's stdout"
	fi
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
