#!/bin/sh
# image_flags.sh: the compiler flags of a shrunk image from a profile's "features" table
# (core/profile/features.h; written by --profile=json --profile-out FILE): -DIMAGE_SHRINK, then
# -DIMAGE_KEEP_<NAME>=1 for each feature the run used and =0 for the others, and
# -DPROFILER_COMPILED_OUT unless PROFILER is 1.
# Usage: image_flags.sh PROFILE.json [PROFILER], from the top of the tree (the rows the profile
# must list are read from core/profile/features.h).
# Errors: one `error:` line on stderr, status 1.
set -u
profile=${1:?usage: image_flags.sh PROFILE.json [PROFILER]}
profiler=${2:-}
die() { echo "error: $*" >&2; exit 1; }
[ -f "$profile" ] && [ -r "$profile" ] || die "PROFILE=$profile: no such readable file"
case $profiler in '' | 0 | 1) ;; *) die "PROFILER must be 0 or 1 (got $profiler)" ;; esac

# Every row of the table must be in the profile: a profile from an older build lacks some.
rows=$(sed -n 's/^[[:space:]]*X([A-Z0-9_]*, "\([a-z0-9_]*\)".*/\1/p' core/profile/features.h |
	tr "\n" " ")
[ -n "$rows" ] || die "no feature rows in core/profile/features.h (run from the top of the tree)"

# The writer puts the table on one line: "features": {"gguf": false, "llama2c": true, ...}
awk -v profile="$profile" -v profiler="$profiler" -v rows="$rows" '
function fail(msg) { print "error: " profile ": " msg > "/dev/stderr"; bad = 1; exit 1 }
/"features": *\{/ {
	found = 1
	line = $0
	sub(/.*"features": *\{/, "", line)
	if (line !~ /\}/)
		fail("the \"features\" table is not on one line")
	sub(/\}.*/, "", line)
	n = split(line, items, ",")
	for (i = 1; i <= n; i++) {
		item = items[i]
		gsub(/[ \t"]/, "", item)
		split(item, kv, ":")
		if (kv[1] !~ /^[a-z][a-z0-9_]*$/ || (kv[2] != "true" && kv[2] != "false"))
			fail("bad entry \"" items[i] "\" in \"features\"")
		seen[kv[1]] = 1
		flags = flags " -DIMAGE_KEEP_" toupper(kv[1]) "=" (kv[2] == "true" ? 1 : 0)
		if (kv[2] == "true")
			kept++
		if (kv[1] ~ /^isa_/ && kv[2] == "true")
			isa++
	}
}
END {
	if (bad)
		exit 1
	if (!found)
		fail("no \"features\" table (write it with --profile=json --profile-out FILE)")
	n = split(rows, want, " ")
	for (i = 1; i <= n; i++)
		if (!(want[i] in seen))
			fail("no \"" want[i] "\" in \"features\" (from an older build? profile the run again)")
	if (!isa)
		fail("the profile used no kernel ISA (a run that stopped before it selected one?)")
	printf "-DIMAGE_SHRINK%s%s\n", flags, profiler == 1 ? "" : " -DPROFILER_COMPILED_OUT"
}' "$profile"
