#!/bin/sh
# reliability.sh: bad inputs, failing outputs and files that change underneath, one case per
# defect class: each bad case is one "error:" line, status 1..123, no signal, no hang, no
# partial file; odd but valid settings run cleanly. Also checks that README.md and the fuzz
# dictionary name every option of the option table (the usage text, printed from it).
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-host/tinyllama-host}
LIMIT=${LIMIT:-30} # seconds before a case counts as a hang
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# judge NAME PATTERN STATUS: the run that wrote $tmp/err ended with STATUS; it must have been
# refused with one "error: ...PATTERN" line and a status in 1..123 (not a signal, not timeout's).
judge() {
	if [ "$3" -ge 1 ] && [ "$3" -le 123 ] && [ "$(grep -c '^error: ' "$tmp/err")" -eq 1 ] &&
		grep -q "^error: .*$2" "$tmp/err"; then ok "$1"
	else ko "$1 (status $3)"; head -c 600 "$tmp/err"; fi
}

# bad NAME PATTERN ARGS...: the run (stdin empty) is refused.
bad() {
	name=$1 pattern=$2
	shift 2
	timeout $LIMIT $BIN "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	judge "$name" "$pattern" $?
}

# good NAME ARGS...: the run (stdin empty) ends with status 0 and ids on stdout.
good() {
	name=$1
	shift
	if timeout $LIMIT $BIN "$@" </dev/null >"$tmp/out" 2>"$tmp/err" && [ -s "$tmp/out" ] &&
		! grep -q '^error' "$tmp/err"; then ok "$name"
	else ko "$name"; head -c 600 "$tmp/err"; fi
}

# capped BLOCKS ARGS... >FILE: runs with a file-size limit of BLOCKS (ulimit -f units) on its
# stdout and files; stderr goes through a pipe (not limited) to $tmp/err, the status to $tmp/st.
capped() {
	blocks=$1
	shift
	{ (ulimit -f "$blocks" && timeout $LIMIT $BIN "$@" </dev/null 2>&3; echo $? >"$tmp/st") 3>&1 >&4 |
		cat >"$tmp/err"; } 4>&1
}

# no_partial NAME FILE: neither FILE nor a temporary file beside it was left behind.
no_partial() {
	if [ ! -e "$2" ] && [ -z "$(find "$(dirname "$2")" -name "$(basename "$2").tmp*")" ]
	then ok "$1: no partial file"; else ko "$1: a partial file was left"; ls -la "$(dirname "$2")"; fi
}

# A model to break: the synthetic small model as GGUF, and a copy whose context is 16384 (its
# llama.context_length patched) so that runs and chats can last.
$BIN --synthetic small -n 1 --export-gguf "$tmp/small.gguf" >/dev/null 2>&1 || ko "export small"
key=$(grep -obUa 'llama.context_length' "$tmp/small.gguf" | head -n 1 | cut -d: -f1)
cp "$tmp/small.gguf" "$tmp/long.gguf"
printf '\000\100\000\000' | dd of="$tmp/long.gguf" bs=1 seek=$((key + 24)) conv=notrunc 2>/dev/null
$BIN -m "$tmp/long.gguf" -c 16384 -n 1 >/dev/null 2>&1 || ko "the 16384-token copy loads"

# --- Files that are not models ---
mkfifo "$tmp/fifo"
bad "FIFO as the model" "a FIFO" -m "$tmp/fifo"
bad "FIFO as the vocabulary" "a FIFO" --synthetic small --vocab "$tmp/fifo"
bad "directory as the model" "a directory" -m "$tmp"
bad "character device as the model" "a character device" -m /dev/null
: >"$tmp/empty"
bad "empty model file" "empty" -m "$tmp/empty"
bad "a /proc file (size 0, not empty)" "reports a size of 0" -m /proc/self/status
bad "missing model file" "No such file" -m "$tmp/absent.gguf"

# --- A model truncated while it runs: SIGBUS on the mapping becomes one line. A chat waits
# for its first message (on a FIFO) with the model loaded; the file shrinks, then it comes. ---
cp "$tmp/long.gguf" "$tmp/shrinks.gguf"
mkfifo "$tmp/in"
timeout $LIMIT $BIN -m "$tmp/shrinks.gguf" --chat --chat-template zephyr -n 4 <"$tmp/in" \
	>/dev/null 2>"$tmp/err" &
pid=$!
exec 5>"$tmp/in"
for i in $(seq 1 $((LIMIT * 10))); do
	grep -q '^chat:' "$tmp/err" && break
	sleep 0.1
done
truncate -s 4096 "$tmp/shrinks.gguf"
echo hello >&5
exec 5>&-
wait $pid
judge "model truncated during the run" "truncated while in use" $?

# --- Outputs that fail ---
timeout $LIMIT $BIN --synthetic small -n 8 --ids </dev/null >/dev/full 2>"$tmp/err"
judge "stdout on a full device" "writing the output failed" $?
timeout $LIMIT $BIN --synthetic small -n 8 --ids </dev/null >&- 2>"$tmp/err"
judge "stdout closed" "writing the output failed" $?
timeout $LIMIT $BIN -m "$tmp/small.gguf" --tokenize hello </dev/null >/dev/full 2>"$tmp/err"
judge "--tokenize on a full device" "writing the output failed" $?
timeout $LIMIT $BIN -h >/dev/full 2>"$tmp/err"
judge "usage text on a full device" "writing the output failed" $?
capped 1 -h >"$tmp/capped.txt" # the usage text is longer than one block
judge "stdout past the file-size limit" "File too large" "$(cat "$tmp/st")"
# A reader that leaves: the run ends as cat's does (SIGPIPE), without a hang.
{ timeout $LIMIT $BIN -m "$tmp/long.gguf" -n 3000 --temp 0 --ids 2>/dev/null; echo $? >"$tmp/st"; } |
	head -c 10 >/dev/null
if [ "$(cat "$tmp/st")" -eq 141 ]; then ok "a pipe whose reader leaves ends the run by SIGPIPE"
else ko "a pipe whose reader leaves ends the run by SIGPIPE (status $(cat "$tmp/st"))"; fi

# --- Exports: never onto the model, never partial ---
cp "$tmp/small.gguf" "$tmp/m.gguf"
ln -s m.gguf "$tmp/link.gguf"
ln "$tmp/m.gguf" "$tmp/hard.gguf"
for out in "$tmp/m.gguf" "$tmp/link.gguf" "$tmp/hard.gguf" "$tmp/../$(basename "$tmp")/m.gguf"; do
	bad "export onto the model itself ($(basename "$out"))" "being read" -m "$tmp/link.gguf" \
		-n 1 --export-gguf "$out"
done
bad "export onto the vocabulary" "being read" --synthetic small --vocab "$tmp/m.gguf" -n 1 \
	--export-gguf "$tmp/hard.gguf"
if cmp -s "$tmp/m.gguf" "$tmp/small.gguf"; then ok "the model survives"; else ko "the model survives"; fi
capped 100 --synthetic small -n 1 --export-gguf "$tmp/capped.gguf" >/dev/null
judge "export past the file-size limit" "capped.gguf" "$(cat "$tmp/st")"
no_partial "export past the file-size limit" "$tmp/capped.gguf"
echo "old" >"$tmp/kept.gguf"
capped 100 --synthetic small -n 1 --export-gguf "$tmp/kept.gguf" >/dev/null
judge "failed export over an existing file" "kept.gguf" "$(cat "$tmp/st")"
if [ "$(cat "$tmp/kept.gguf")" = old ]; then ok "a failed export leaves the old file as it was"
else ko "a failed export leaves the old file as it was"; fi
bad "export into a missing folder" "No such file" --synthetic small -n 1 \
	--export-gguf "$tmp/nowhere/x.gguf"
bad "export into a FIFO nobody reads" "no process is reading" --synthetic small -n 1 \
	--export-gguf "$tmp/fifo"
capped 1 --synthetic small -n 1 --profile-out "$tmp/p.txt" >/dev/null
judge "profile report past the file-size limit" "p.txt" "$(cat "$tmp/st")"
no_partial "profile report past the file-size limit" "$tmp/p.txt"
capped 1 --synthetic small -n 1 --profile-svg "$tmp/p.svg" >/dev/null
judge "profile chart past the file-size limit" "p.svg" "$(cat "$tmp/st")"
no_partial "profile chart past the file-size limit" "$tmp/p.svg"
good "a complete export" --synthetic small -n 1 --ids --export-gguf "$tmp/whole.gguf"
if cmp -s "$tmp/whole.gguf" "$tmp/small.gguf"; then ok "a complete export is whole"
else ko "a complete export is whole"; fi

# --- Sampler settings: odd but valid ones give tokens, out-of-range ones are refused ---
$BIN --synthetic small -n 16 --temp 0 --ids >"$tmp/greedy" 2>/dev/null
for t in 1e-40 1e-30 1e-20; do
	if $BIN --synthetic small -n 16 --temp $t --ids >"$tmp/out" 2>"$tmp/err" &&
		cmp -s "$tmp/out" "$tmp/greedy"; then ok "--temp $t is greedy"
	else ko "--temp $t is greedy"; cat "$tmp/err"; fi
done
good "every filter off" --synthetic small -n 16 --top-k 0 --top-p 1 --min-p 0 --ids
good "the smallest top-p" --synthetic small -n 16 --top-k 0 --top-p 1e-30 --ids
good "a huge temperature" --synthetic small -n 16 --temp 3e38 --ids
good "a tiny repeat penalty" --synthetic small -n 16 --repeat-penalty 1e-38 --ids
good "a huge repeat penalty" --synthetic small -n 16 --repeat-penalty 3e38 --ids
bad "a temperature past float" "temperature" --temp 1e39
bad "an infinite temperature" "temperature" --temp inf
bad "a NaN temperature" "temperature" --temp nan
bad "a NaN top-p" "probability" --top-p nan
bad "a zero repeat penalty" "penalty" --repeat-penalty 0

# --- Options: values on flags and conflicting options are errors ---
for flag in --ids --chat --hugepages --perf-check --help; do
	bad "$flag=0" "takes no value" "$flag=0"
done
bad "-p with --prompt-ids" "give one of them" --synthetic small -p hi --prompt-ids "1 2"
bad "--chat with -p" "--chat reads its prompts" -m "$tmp/small.gguf" --chat -p hi
bad "--chat with --ids" "--ids cannot be used" -m "$tmp/small.gguf" --chat --ids
bad "--system without --chat" "is for --chat" --synthetic small --system hello
bad "--tokenize with --export-gguf" "--tokenize" -m "$tmp/small.gguf" --tokenize hi \
	--export-gguf "$tmp/t.gguf"

# --- Chat input is taken whole or refused ---
long=$(head -c 5000 /dev/zero | tr '\0' a)
echo "$long" | timeout $LIMIT $BIN -m "$tmp/long.gguf" -c 16384 --chat --chat-template zephyr \
	-n 2 >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && ! grep -q '^error' "$tmp/err"; then ok "a 5000-byte chat line the context holds"
else ko "a 5000-byte chat line the context holds"; cat "$tmp/err"; fi
echo "$long" | timeout $LIMIT $BIN -m "$tmp/small.gguf" --chat --chat-template zephyr -n 2 \
	>"$tmp/out" 2>"$tmp/err"
judge "a first chat line longer than the context" "5028 tokens, more than the context" $?
head -c 70000 /dev/zero | tr '\0' b | timeout $LIMIT $BIN -m "$tmp/long.gguf" -c 16384 --chat \
	--chat-template llama2 -n 2 >"$tmp/out" 2>"$tmp/err"
judge "a chat line longer than 64 KiB" "longer than 65535 bytes" $?
printf 'a\000b\n' | timeout $LIMIT $BIN -m "$tmp/small.gguf" --chat --chat-template llama2 -n 2 \
	>"$tmp/out" 2>"$tmp/err"
judge "a chat line with a NUL byte" "NUL byte" $?
bad "a system prompt longer than the context" "more than the context" -m "$tmp/small.gguf" \
	--chat --chat-template chatml --system "$long"
bad "a 9000-byte system prompt" "tokens" -m "$tmp/small.gguf" --chat --chat-template chatml \
	--system "$(head -c 9000 /dev/zero | tr '\0' c)"
bad "a model without a chat template" "has no tokenizer.chat_template" -m "$tmp/small.gguf" --chat

# --- --code-cache FILE: a cache that cannot be used is refused with "code-cache:" lines (never
# an "error:"), and the run goes on with the same ids; CACHE_TOOL (make_test_cache) and
# CACHE_OBJ (its rms_norm object) make a good cache to break, when given ---
ids=$($BIN --synthetic small -n 8 --ids 2>/dev/null)
# cache_case NAME FILE PATTERN: status 0, the ids of a run without the cache, no error line,
# a code-cache line matching PATTERN.
cache_case() {
	timeout $LIMIT $BIN --synthetic small -n 8 --ids --code-cache "$2" </dev/null \
		>"$tmp/out" 2>"$tmp/err"
	st=$?
	if [ $st -eq 0 ] && [ "$(cat "$tmp/out")" = "$ids" ] && ! grep -q '^error' "$tmp/err" &&
		grep -q "^code-cache: $3" "$tmp/err"; then ok "code cache: $1"
	else ko "code cache: $1 (status $st)"; head -c 600 "$tmp/err"; fi
}
cache_case "a missing file" "$tmp/absent.tlcc" "nothing loaded: .*absent.tlcc"
cache_case "a directory" "$tmp" "nothing loaded: .*directory"
head -c 4096 /dev/urandom >"$tmp/random.tlcc"
cache_case "random bytes" "$tmp/random.tlcc" "refused .*random.tlcc: not a code cache"
if [ -n "${CACHE_TOOL:-}" ] && $CACHE_TOOL good rms_norm "$CACHE_OBJ" "$tmp/good.tlcc" &&
	$CACHE_TOOL other-cpu rms_norm "$CACHE_OBJ" "$tmp/cpu.tlcc" &&
	$CACHE_TOOL bad-reloc rms_norm "$CACHE_OBJ" "$tmp/reloc.tlcc"; then
	cache_case "a good cache" "$tmp/good.tlcc" "loaded rms_norm"
	cp "$tmp/good.tlcc" "$tmp/flip.tlcc"
	printf '\377' | dd of="$tmp/flip.tlcc" bs=1 seek=497 conv=notrunc 2>/dev/null
	cache_case "a flipped byte" "$tmp/flip.tlcc" "refused .*flip.tlcc: checksum mismatch"
	head -c 600 "$tmp/good.tlcc" >"$tmp/cut.tlcc"
	cache_case "a truncated file" "$tmp/cut.tlcc" "refused .*cut.tlcc: the header says"
	cache_case "another CPU" "$tmp/cpu.tlcc" "refused rms_norm .*needs CPU features"
	cache_case "a relocation outside its section" "$tmp/reloc.tlcc" \
		"refused rms_norm .*points outside"
	[ "$(grep -c '^code-cache: ' "$tmp/err")" -eq 2 ] && ok "code cache: one line per entry" ||
		ko "code cache: one line per entry"
else
	echo "SKIP code cache files made by make_test_cache (CACHE_TOOL not given)"
fi

# --- The option table and its copies: every option of the usage text is in README.md's Usage
# section and in the fuzz dictionary ---
$BIN -h >"$tmp/usage" 2>/dev/null
opts=$(grep -Eo '^  (-[a-z], )?--[a-z-]+' "$tmp/usage" | grep -Eo -- '--[a-z-]+$')
[ -n "$opts" ] || ko "the usage text lists options"
sed -n '/^## Usage/,/^## /p' README.md >"$tmp/readme"
missing=0
for o in $opts; do
	if ! grep -q -- "\`$o" "$tmp/readme" && ! grep -q -- ", $o" "$tmp/readme"; then
		missing=1
		echo "README.md's Usage section does not name $o"
	fi
	grep -q -- "^\"$o\"" tests/fuzz/cli.dict || { missing=1; echo "tests/fuzz/cli.dict lacks $o"; }
done
if [ $missing -eq 0 ]; then ok "README.md and tests/fuzz/cli.dict name all $(echo "$opts" | wc -l) options"
else ko "README.md and tests/fuzz/cli.dict name every option"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
