#!/bin/sh
# setup.sh: installs what building and testing need on Debian 12 (run as root).
set -e
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
missing=
for p in build-essential pkg-config check qemu-system-x86 clang lld clang-tidy clang-format \
	cppcheck valgrind llvm-14-dev clang-14; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
