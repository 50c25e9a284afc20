# require.sh: the one rule for test scripts that need what a machine may lack, sourced by
# golden.sh, corrupt.sh and parity.sh (which count failures in $fail). Locally a missing
# shared model or ISA is a SKIP line; in CI (CI=true) the shared models must be there, and an
# ISA whose flags /proc/cpuinfo lists must run, so the same case is a FAIL. tests/test_main.c
# applies the same rule to the unit tests.

# isa_cpu_flags ISA: the /proc/cpuinfo flags the ISA's kernels need (as tests/test_main.c).
isa_cpu_flags() {
	case $1 in
	avx2) echo "avx2 f16c" ;;
	avxvnni) echo "avx2 f16c avx_vnni" ;;
	avx512) echo "avx2 f16c avx512f avx512bw avx512vl avx512_vnni" ;;
	*) echo "" ;;
	esac
}

# cpu_lists FLAG...: every flag is on a flags line of /proc/cpuinfo.
cpu_lists() {
	[ $# -gt 0 ] || return 1
	for f in "$@"; do
		grep '^flags' /proc/cpuinfo 2>/dev/null | grep -qw -- "$f" || return 1
	done
}

# missing WHAT WHY LISTED: a SKIP line, or in CI a FAIL when LISTED (1: CI provides it).
missing() {
	if [ "${CI:-}" = true ] && [ "$3" = 1 ]; then
		fail=$((fail + 1))
		echo "FAIL $1: $2, and CI=true"
	else
		skip=$((${skip:-0} + 1))
		echo "SKIP $1: $2"
	fi
}

# require_shared FILE WHAT: 0 when FILE is there; otherwise missing, and 1.
require_shared() {
	[ -f "$1" ] && return 0
	missing "$2" "$1 is absent (set SHARED_DIR)" 1
	return 1
}

# require_isa ISA WHAT: 0 when $BIN runs with --isa ISA; otherwise missing, and 1. Under
# valgrind (VALGRIND set), which hides AVX-512, an ISA that does not run is a plain SKIP.
require_isa() {
	$BIN --isa "$1" --synthetic small -n 1 >/dev/null 2>&1 && return 0
	listed=0
	[ -z "${VALGRIND:-}" ] && cpu_lists $(isa_cpu_flags "$1") && listed=1
	missing "$2 with --isa $1" "this CPU (or valgrind) does not run it" $listed
	return 1
}
