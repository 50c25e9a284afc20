#!/bin/sh
# kernel_faults.sh: each deliberate CPU exception (--fault KIND) in the kernel under QEMU must
# end in a report on stderr (COM2) naming the CPU and a non-zero exit status, never a hang or a
# triple fault: on the boot CPU with a second CPU up (SMP=2), and on that second CPU (ap-KIND,
# raised in a pool task). Too little RAM is one error line and status 1. The code area is W^X
# (code-write into sealed code, code-exec into a page not sealed: both page faults).
# Environment: ACCEL (auto|kvm|tcg), MAKE.
set -u
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# check KIND PATTERN...: every grep pattern must appear on stderr.
check() {
	kind=$1
	shift
	: >"$tmp/err"
	$MAKE -s --no-print-directory qemu SMP=2 ARGS="--fault $kind" CODE_CACHE="${cache:-}" \
		TIMEOUT=60 >"$tmp/out" 2>>"$tmp/err"
	rc=$?
	missing=""
	for p in "RIP 0x" "$@"; do
		grep -q -- "$p" "$tmp/err" || missing="$missing '$p'"
	done
	if [ $rc -eq 0 ]; then
		echo "FAIL $kind: exit status 0"
		fail=$((fail + 1))
	elif [ -n "$missing" ]; then
		echo "FAIL $kind: report lacks$missing"
		tail -n 8 "$tmp/err" | sed 's/^/  /'
		fail=$((fail + 1))
	else
		echo "PASS $kind"
		pass=$((pass + 1))
	fi
}

# RAM too small for the image: one error line on COM2 and status 1, checked in 32-bit code before
# the BSS is touched (MEM=2M), and after the memory map (MEM=3M: no room for the arena).
check_mem() {
	: >"$tmp/err" # appended to: QEMU writes COM2 to the same file at its own offset
	MEM=$1 TL_QEMU_ARGS="--synthetic small" sh kernel/run-qemu.sh build/kernel/tinyllama.elf \
		>"$tmp/out" 2>>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "^error: not enough memory: [0-9]* MiB, need [0-9]* MiB$" "$tmp/err"; then
		echo "PASS MEM=$1"
		pass=$((pass + 1))
	else
		echo "FAIL MEM=$1: status $rc, want 1 and one 'error: not enough memory' line"
		tail -n 4 "$tmp/err" | sed 's/^/  /'
		fail=$((fail + 1))
	fi
}

check_mem 2M
check_mem 3M
check ud "invalid opcode (#UD)" "CPU exception 6" "on CPU 0 "
check gp "general protection (#GP)" "CPU exception 13" "on CPU 0 "
check pf "page fault (#PF)" "CPU exception 14" "CR2 0x00007f0000000000"
check stack "page fault (#PF)" "stack overflow (guard page hit): the 1024 KiB stack of CPU 0"
check ap-ud "invalid opcode (#UD)" "CPU exception 6" "on CPU 1 "
check ap-stack "page fault (#PF)" "stack overflow (guard page hit): the [0-9]* KiB stack of CPU 1 is full"
# The code area exists with a code cache module; any file serves as one here.
cache=build/kernel/tinyllama.elf
check code-write "page fault (#PF)" "page fault writing a protected page"
check code-exec "page fault (#PF)" "page fault fetching from a protected page"
cache=""

# With one CPU there is no other CPU to raise ap-KIND on: an error, status 1.
$MAKE -s --no-print-directory qemu SMP=1 ARGS="--fault ap-ud" TIMEOUT=60 >"$tmp/out" 2>"$tmp/err"
if grep -q "needs a second CPU" "$tmp/err" && grep -q "run-qemu: kernel exited with status 1$" "$tmp/err"; then
	echo "PASS ap-ud with one CPU: refused"
	pass=$((pass + 1))
else
	echo "FAIL ap-ud with one CPU: not refused with status 1"
	tail -n 4 "$tmp/err" | sed 's/^/  /'
	fail=$((fail + 1))
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
