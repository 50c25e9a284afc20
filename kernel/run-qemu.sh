#!/bin/sh
# run-qemu.sh: boots the kernel image in QEMU (COM1 -> stdout, COM2 -> stderr) and turns the
# guest's isa-debug-exit status back into this script's exit status.
# Usage: run-qemu.sh KERNEL_ELF [MODEL]
# Environment: TL_QEMU_ARGS (the program's arguments), CODE_CACHE (a code cache file: a second
# boot module, tagged "code-cache", and --code-cache NAME), MEM (default 3G), SMP (virtual CPUs,
# default: the host's CPU count, at most MAX_SMP; under TCG multi-threaded), TIMEOUT (seconds,
# default 600, 0 = none), ACCEL (auto|kvm|tcg), GDB=1 (wait for gdb on :1234), QEMU (binary),
# ICOUNT=N (TCG only: -icount shift=N, so the TSC counts instructions and profiles repeat).
# stdout carries COM1 only; everything this script and QEMU say goes to stderr.
# Exit: the kernel's status (0 = success); 1 with a message for a timeout, a guest that
# stopped without a status (triple fault), or a QEMU failure.
set -u

kernel=${1:?usage: run-qemu.sh KERNEL_ELF [MODEL]}
model=${2:-}
cache=${CODE_CACHE:-}
mem=${MEM:-3G}
smp=${SMP:-}
timeout_s=${TIMEOUT:-600}
accel=${ACCEL:-auto}
qemu=${QEMU:-qemu-system-x86_64}

say() { echo "run-qemu: $*" >&2; }

[ -r "$kernel" ] || { say "no kernel image $kernel (make kernel)"; exit 1; }

append=""
if [ -n "$model" ]; then
	[ -r "$model" ] || { say "cannot read MODEL=$model"; exit 1; }
	case $model in *,*) say "MODEL path must not contain a comma (QEMU -initrd splits on it)"; exit 1;; esac
	name=$(basename "$model")
	case $name in *"'"*) append="\"$name\"";; *) append="'$name'";; esac
	append="-m $append"
fi
# QEMU's -initrd takes modules separated by commas, each a path and then its command line.
initrd=$model
if [ -n "$cache" ]; then
	[ -r "$cache" ] || { say "cannot read CODE_CACHE=$cache"; exit 1; }
	case $cache in *[,\ ]*) say "CODE_CACHE path must not contain a comma or a space"; exit 1;; esac
	name=$(basename "$cache")
	case $name in *"'"*) append="$append --code-cache \"$name\"";; *) append="$append --code-cache '$name'";; esac
	initrd="${initrd:+$initrd,}$cache code-cache"
fi
append="$append ${TL_QEMU_ARGS:-}"

if [ "$accel" = auto ]; then
	if [ -d /sys/module/kvm_pvm ]; then
		# kvm-pvm (software "Pagetable-based VM") runs an unmodified guest in its
		# instruction emulator, which stops at the first SSE instruction.
		say "/dev/kvm is kvm-pvm, which cannot run this kernel: using tcg (ACCEL=kvm to try anyway)"
		accel=tcg
	elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		accel=kvm
	else
		accel=tcg
	fi
fi
# The kernel uses at most 64 CPUs (MAX_CPUS in kernel/param.h); QEMU's pc machine allows 255.
max_smp=64
if [ -z "$smp" ]; then
	smp=$(nproc 2>/dev/null || echo 1)
	[ "$smp" -gt $max_smp ] && smp=$max_smp
fi
case $smp in '' | *[!0-9]*) say "SMP must be a number of CPUs (got $smp)"; exit 1 ;; esac
[ "$smp" -ge 1 ] && [ "$smp" -le $max_smp ] || { say "SMP must be 1..$max_smp (got $smp)"; exit 1; }

case $accel in
kvm) cpu="host,-arch-capabilities" accel_opt=kvm ;; # plain "host" aborts here on MSR 0x10a
tcg)
	cpu="max" # QEMU 7.2 TCG: up to AVX2, no AVX-512
	# One host thread per vCPU, so the CPUs really run in parallel; -icount needs the
	# single-threaded round robin.
	if [ -n "${ICOUNT:-}" ]; then tcg_threads=single; else tcg_threads=multi; fi
	accel_opt="tcg,thread=$tcg_threads"
	;;
*) say "ACCEL must be auto, kvm or tcg (got $accel)"; exit 1 ;;
esac
case $accel in
tcg) how="$tcg_threads-threaded TCG" ;;
kvm) how="KVM" ;;
esac
say "accel $accel_opt (-cpu $cpu), $smp CPU(s) ($how), memory $mem, timeout ${timeout_s}s"

set -- -nodefaults -display none -no-reboot -no-user-config \
	-accel "$accel_opt" -cpu "$cpu" -smp "$smp" -m "$mem" \
	-kernel "$kernel" -append "$append" \
	-chardev file,id=com1,path=/dev/stdout,append=on -serial chardev:com1 \
	-chardev file,id=com2,path=/dev/stderr,append=on -serial chardev:com2 \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
[ -n "$initrd" ] && set -- "$@" -initrd "$initrd"
if [ -n "${ICOUNT:-}" ]; then
	[ "$accel" = tcg ] || { say "ICOUNT needs ACCEL=tcg"; exit 1; }
	set -- "$@" -icount "shift=$ICOUNT"
fi
if [ "${GDB:-}" = 1 ]; then
	set -- "$@" -s -S
	say "waiting for gdb: gdb $kernel -ex 'target remote localhost:1234'"
	say "(under kvm use hbreak for breakpoints; ACCEL=tcg for plain break)"
fi

timeout --foreground -k 5 "$timeout_s" "$qemu" "$@"
rc=$?

case $rc in
124 | 137) say "timed out after ${timeout_s}s: guest killed (TIMEOUT=seconds to change)"; exit 1 ;;
0) say "guest stopped without an exit status (triple fault or reset?)"; exit 1 ;;
esac
if [ $((rc % 2)) -eq 1 ] && [ "$rc" -ge 3 ]; then
	status=$(((rc - 3) / 2))
	[ "$status" -ne 0 ] && say "kernel exited with status $status"
	exit "$status"
fi
say "QEMU failed (exit code $rc)"
exit 1
