#!/bin/sh
# image.sh: make image from the profile of a host run on stories260K (--isa scalar, so any
# x86-64 CPU and QEMU run it), then the same run on the shrunk image under QEMU: the same
# stdout as the host; the image's loadable bytes at most half the full kernel's; and runs that
# need what the image dropped (sampling, another ISA) refused with an `error:` line, status 1;
# the same run on one bootable file carrying the model (make image MODEL=...).
# Builds the image itself: `make check-image` builds the host program and the full kernel first.
# Environment: SHARED_DIR (models, default ../shared), ACCEL (auto|kvm|tcg), TIMEOUT, MAKE.
set -u
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
SHARED=${SHARED_DIR:-$(cd .. && pwd)/shared}
HOST=host/tinyllama-host
IMAGE=build/image/tinyllama.elf
TIMEOUT=${TIMEOUT:-120}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
. tests/require.sh

model=$SHARED/models/stories260K.bin
args="--isa scalar -n 24 --temp 0 --ids"
if ! require_shared "$model" "image from a stories260K profile"; then
	echo "$pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
fi

# boot ARGS: the image under QEMU on the model; status in $rc, COM1 in kernel.out.
boot() {
	TL_QEMU_ARGS=$1 TIMEOUT=$TIMEOUT SMP=2 sh kernel/run-qemu.sh "$IMAGE" "$model" \
		>"$tmp/kernel.out" 2>"$tmp/kernel.err"
	rc=$?
}

# shellcheck disable=SC2086 # args is a list of words
if ! "$HOST" -m "$model" $args --profile=json --profile-out "$tmp/profile.json" \
	>"$tmp/host.out" 2>"$tmp/host.err"; then
	echo "FAIL image: the host run for the profile failed"
	tail -n 3 "$tmp/host.err" | sed 's/^/  /'
	exit 1
fi
if ! $MAKE -s --no-print-directory image PROFILE="$tmp/profile.json" >"$tmp/size.txt" 2>&1; then
	echo "FAIL image: make image failed"
	tail -n 5 "$tmp/size.txt" | sed 's/^/  /'
	exit 1
fi
sed 's/^/  /' "$tmp/size.txt"
share=$(sed -n 's/^loadable bytes: \([0-9]*\)% .*/\1/p' "$tmp/size.txt")
if [ -n "$share" ] && [ "$share" -le 50 ]; then
	echo "PASS image size: loadable bytes $share% of the full kernel's"
	pass=$((pass + 1))
else
	echo "FAIL image size: loadable bytes ${share:-?}% of the full kernel's (at most 50)"
	fail=$((fail + 1))
fi

boot "$args"
if [ $rc -ne 0 ]; then
	echo "FAIL image replay: status $rc"
	tail -n 3 "$tmp/kernel.err" | sed 's/^/  /'
	fail=$((fail + 1))
elif ! cmp -s "$tmp/host.out" "$tmp/kernel.out"; then
	echo "FAIL image replay: stdout differs (host vs shrunk image)"
	diff "$tmp/host.out" "$tmp/kernel.out" | head -n 6 | sed 's/^/  /'
	fail=$((fail + 1))
else
	echo "PASS image replay ($(wc -c <"$tmp/kernel.out") bytes identical)"
	pass=$((pass + 1))
fi

# One bootable file (make image MODEL=...): the image carrying the model, booted with no module.
if $MAKE -s --no-print-directory image PROFILE="$tmp/profile.json" MODEL="$model" \
	>"$tmp/bundle.txt" 2>&1 &&
	TL_QEMU_ARGS=$args TIMEOUT=$TIMEOUT SMP=2 sh kernel/run-qemu.sh \
		build/image/tinyllama-bundle.elf >"$tmp/kernel.out" 2>"$tmp/kernel.err" &&
	cmp -s "$tmp/host.out" "$tmp/kernel.out" && grep -q "^kernel: bundled-model" "$tmp/kernel.err"
then
	echo "PASS image bundle: $(grep '^bundle:' "$tmp/bundle.txt"), same stdout"
	pass=$((pass + 1))
else
	echo "FAIL image bundle (model carried in the image)"
	tail -n 3 "$tmp/bundle.txt" "$tmp/kernel.err" | sed 's/^/  /'
	fail=$((fail + 1))
fi

# refused NAME ARGS PATTERN: status 1, nothing on stdout, one error line matching PATTERN.
refused() {
	boot "$2"
	errors=$(grep -c '^error: ' "$tmp/kernel.err")
	if [ $rc -eq 1 ] && [ ! -s "$tmp/kernel.out" ] && [ "$errors" -eq 1 ] &&
		grep -q "^error: .*$3" "$tmp/kernel.err"; then
		echo "PASS image refuses $1"
		pass=$((pass + 1))
	else
		echo "FAIL image refuses $1: status $rc, $errors error line(s)"
		tail -n 3 "$tmp/kernel.err" | sed 's/^/  /'
		fail=$((fail + 1))
	fi
}
refused "sampling" "--isa scalar -n 4 --temp 0.8 --ids" "without sampling"
refused "another ISA" "--isa avx2 -n 4 --temp 0 --ids" "without the AVX2 kernels"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
