#!/bin/sh
# test.sh: what CI runs: set up, build, then the README's test command.
set -e
cd "$(dirname "$0")/.."
sh ci/setup.sh
make -j2
make check
