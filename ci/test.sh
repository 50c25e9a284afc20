#!/bin/sh
# test.sh: what CI runs: set up, build, the README's test command, then the hardening
# passes: sanitizers, valgrind, the corrupted-file matrix, static analysis, a short fuzz.
set -e
cd "$(dirname "$0")/.."
sh ci/setup.sh
make -j2
make check
make check-asan
make check-valgrind
make check-corrupt
make check-static
make fuzz-smoke FUZZ_SECONDS=15
