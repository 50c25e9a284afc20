#!/bin/sh
# corrupt.sh: the corrupted-file matrix: truncated, re-typed and re-sized copies of valid
# models run through tinyllama-host; each must end with status 1 and exactly one "error: " line
# on stderr, the last one, no signal, within TIMEOUT; status 0 is accepted only for edits that
# can leave a valid file ("any" cases).
# Env: BIN (default host/tinyllama-host), SHARED_DIR, MUTATE and GEN (tests/fuzz/mutate.c and
# gen_corpus.c, built with $CC when absent), TIMEOUT (20 s), ARENA (--arena cap, 1G).
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-host/tinyllama-host}
SHARED=${SHARED_DIR:-../shared}
M=$SHARED/models
TIMEOUT=${TIMEOUT:-20}
ARENA=${ARENA:-1G}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/require.sh
pass=0 fail=0
MODE=model # model: -m FILE -n 1; vocab: --vocab FILE --tokenize TEXT
# A private copy of the program: a rebuild while the matrix runs must not change it.
if [ -f "$BIN" ]; then cp "$BIN" "$tmp/bin" && BIN=$tmp/bin; fi

tool() { # tool NAME: path of a host tool, built from tests/fuzz/NAME.c when needed
	if [ -x "build/tools/$1" ]; then echo "build/tools/$1"; return; fi
	${CC:-cc} -std=c11 -O1 -o "$tmp/$1" "tests/fuzz/$1.c" && echo "$tmp/$1"
}
MUTATE=${MUTATE:-$(tool mutate)}
GEN=${GEN:-$(tool gen_corpus)}
[ -x "$MUTATE" ] && [ -x "$GEN" ] || { echo "corrupt.sh: cannot build the tools"; exit 2; }

# check NAME EXPECT FILE: EXPECT is "fail" (status 1 required) or "any" (0 also accepted).
check() {
	name=$1 expect=$2 file=$3
	if [ "$MODE" = vocab ]; then
		timeout "$TIMEOUT" $BIN --vocab "$file" --tokenize "Hello world, caf\303\251!" \
			--arena "$ARENA" >"$tmp/out" 2>"$tmp/err" </dev/null
	else
		timeout "$TIMEOUT" $BIN -m "$file" -n 1 --temp 0 --ids --arena "$ARENA" \
			>"$tmp/out" 2>"$tmp/err" </dev/null
	fi
	st=$?
	lines=$(wc -l <"$tmp/err")
	errs=$(grep -c '^error: ' "$tmp/err")
	if [ $st -eq 1 ] && [ "$errs" -eq 1 ] && tail -n 1 "$tmp/err" | grep -q '^error: '; then
		pass=$((pass + 1))
		echo "PASS $name: $(tail -n 1 "$tmp/err" | cut -c1-150)"
	elif [ $st -eq 0 ] && [ "$expect" = any ]; then
		pass=$((pass + 1))
		echo "PASS $name: still a valid model (status 0)"
	else
		fail=$((fail + 1))
		what="status $st"
		[ $st -eq 124 ] && what="timeout after $TIMEOUT s"
		[ $st -gt 128 ] && [ $st -ne 124 ] && what="signal $((st - 128))"
		echo "FAIL $name ($what, $lines stderr lines, $errs 'error: ' lines)"
		head -n 4 "$tmp/err" | sed 's/^/    /'
	fi
}

# edit NAME EXPECT SRC FIELD VALUE: a copy of SRC with the GGUF FIELD (see mutate info) set.
edit() {
	name=$1 expect=$2 src=$3 fld=$4 val=$5
	line=$(grep -F "$fld " "$tmp/info.$(basename "$src")" | head -n 1)
	if [ -z "$line" ]; then echo "SKIP $name: no field $fld"; return; fi
	set -- $line
	cp "$src" "$tmp/case"
	"$MUTATE" set "$tmp/case" "$2" "$3" "$val" || { echo "SKIP $name: mutate failed"; return; }
	check "$name" "$expect" "$tmp/case"
}

# at SRC FIELD: the offset of a field.
at() { grep -F "$2 " "$tmp/info.$(basename "$1")" | head -n 1 | cut -d' ' -f2; }

# raw NAME EXPECT SRC OFFSET WIDTH VALUE: a copy with bytes at a fixed offset set.
raw() {
	cp "$3" "$tmp/case"
	"$MUTATE" set "$tmp/case" "$4" "$5" "$6" && check "$1" "$2" "$tmp/case"
}

trunc() { # trunc NAME EXPECT SRC N
	head -c "$4" "$3" >"$tmp/case"
	check "$1 (first $4 bytes)" "$2" "$tmp/case"
}

gguf_matrix() {
	f=$1 tag=$(basename "$1")
	"$MUTATE" info "$f" >"$tmp/info.$tag" || { echo "SKIP $tag: mutate info failed"; return; }
	size=$(wc -c <"$f")
	data=$(at "$f" data_offset)
	echo "== $tag ($size bytes, data at $data)"
	check "$tag unchanged" any "$f"
	# Truncations: every header field, every metadata entry and tensor record, the data.
	for n in $({ echo 1 3 4 7 8 15 16 23 24 $((data - 1)) $data $((data + 1)) \
		$((size / 2)) | tr ' ' '\n'; cut -d' ' -f2 "$tmp/info.$tag" | head -n 40; } | sort -un | grep -vx 0); do
		[ "$n" -lt "$size" ] && trunc "$tag truncated" fail "$f" "$n"
	done
	trunc "$tag truncated by one byte" any "$f" $((size - 1))
	{ cat "$f"; printf 'x'; } >"$tmp/case"
	check "$tag with one byte appended" any "$tmp/case"
	# Header.
	raw "$tag magic flipped" fail "$f" 0 1 0x48
	raw "$tag magic zero" fail "$f" 0 4 0
	for v in 0 1 4 0x03000000 0xffffffff; do raw "$tag version $v" fail "$f" 4 4 $v; done
	for v in 0 0xffffffffffffffff 0x8000000000000000 0x100000000 16385; do
		raw "$tag n_tensors $v" fail "$f" 8 8 $v
		raw "$tag n_kv $v" fail "$f" 16 8 $v
	done
	nt=$("$MUTATE" info "$f" >/dev/null && od -An -t u8 -j 8 -N 8 "$f" | tr -d ' ')
	nkv=$(od -An -t u8 -j 16 -N 8 "$f" | tr -d ' ')
	raw "$tag n_tensors + 1" fail "$f" 8 8 $((nt + 1))
	raw "$tag n_tensors - 1" any "$f" 8 8 $((nt - 1))
	raw "$tag n_kv + 1" fail "$f" 16 8 $((nkv + 1))
	raw "$tag n_kv - 1" fail "$f" 16 8 $((nkv - 1))
	# Hyper-parameters: zero, huge, inconsistent.
	for k in embedding_length feed_forward_length block_count attention.head_count \
		context_length; do
		for v in 0 0xffffffff 0x7fffffff 0x80000000; do
			edit "$tag llama.$k = $v" fail "$f" "kv.llama.$k.value" $v
		done
	done
	edit "$tag embedding_length = 2^20 + 1" fail "$f" kv.llama.embedding_length.value 1048577
	edit "$tag block_count = 4097" fail "$f" kv.llama.block_count.value 4097
	edit "$tag context_length = 2^20 + 1" any "$f" kv.llama.context_length.value 1048577
	edit "$tag context_length = 2^24 + 1" fail "$f" kv.llama.context_length.value 16777217
	edit "$tag block_count = 1000 (more layers than tensors)" fail "$f" \
		kv.llama.block_count.value 1000
	edit "$tag head_count = 3" fail "$f" kv.llama.attention.head_count.value 3
	edit "$tag head_count_kv = 0" fail "$f" kv.llama.attention.head_count_kv.value 0
	edit "$tag head_count_kv = 3" fail "$f" kv.llama.attention.head_count_kv.value 3
	edit "$tag context_length = 2^24" any "$f" kv.llama.context_length.value 16777216
	edit "$tag rope.dimension_count = 3" fail "$f" kv.llama.rope.dimension_count.value 3
	edit "$tag bos id = 2^31" fail "$f" kv.tokenizer.ggml.bos_token_id.value 0x80000000
	edit "$tag eos id = vocab" fail "$f" kv.tokenizer.ggml.eos_token_id.value 0xffffff
	# Metadata types and lengths.
	edit "$tag embedding_length typed float" fail "$f" kv.llama.embedding_length.type 6
	edit "$tag embedding_length typed 99" fail "$f" kv.llama.embedding_length.type 99
	edit "$tag embedding_length typed string" fail "$f" kv.llama.embedding_length.type 8
	edit "$tag embedding_length typed array" fail "$f" kv.llama.embedding_length.type 9
	edit "$tag architecture typed u8" fail "$f" kv.general.architecture.type 0
	for v in 0 4 0xffffffffffffffff 0x8000000000000000 $size; do
		edit "$tag architecture string length $v" fail "$f" \
			kv.general.architecture.strlen $v
		edit "$tag first key length $v" fail "$f" kv.general.architecture.keylen $v
	done
	for v in 0 3 0x80000000; do
		edit "$tag general.alignment = $v" fail "$f" kv.general.alignment.value $v
	done
	edit "$tag general.alignment = 1" any "$f" kv.general.alignment.value 1
	for v in 0xffffffffffffffff 0x1000000000000000 $size; do
		edit "$tag tokens array length $v" fail "$f" kv.tokenizer.ggml.tokens.arrlen $v
		edit "$tag scores array length $v" fail "$f" kv.tokenizer.ggml.scores.arrlen $v
		edit "$tag first token length $v" fail "$f" kv.tokenizer.ggml.tokens.elem0len $v
	done
	edit "$tag tokens array length 0" any "$f" kv.tokenizer.ggml.tokens.arrlen 0
	edit "$tag scores array length - 1" fail "$f" kv.tokenizer.ggml.scores.arrlen 1
	edit "$tag tokens array of type 99" fail "$f" kv.tokenizer.ggml.tokens.arrtype 99
	edit "$tag tokens array of type u8" fail "$f" kv.tokenizer.ggml.tokens.arrtype 0
	edit "$tag scores array of type string" fail "$f" kv.tokenizer.ggml.scores.arrtype 8
	edit "$tag token_type array of type f64" fail "$f" kv.tokenizer.ggml.token_type.arrtype 12
	# Tensor records: shapes, types, offsets, names.
	for t in token_embd.weight blk.0.attn_q.weight output_norm.weight; do
		for v in 0 5 0xffffffff; do edit "$tag $t n_dims $v" fail "$f" "tensor.$t.ndims" $v; done
		for v in 0 1 0x10000000000 0xffffffffffffffff 0x4000000000000000; do
			edit "$tag $t ne0 $v" fail "$f" "tensor.$t.ne0" $v
		done
		for v in 12 31 99 0xffffffff; do edit "$tag $t type $v" fail "$f" "tensor.$t.type" $v; done
		# Q4_0/Q4_1 blocks are smaller than Q8_0's, so a re-typed tensor can still be valid.
		edit "$tag $t type Q4_0" any "$f" "tensor.$t.type" 2
		edit "$tag $t type Q4_1" any "$f" "tensor.$t.type" 3
		edit "$tag $t type F16" any "$f" "tensor.$t.type" 1
		edit "$tag $t type Q8_0" any "$f" "tensor.$t.type" 8
		for v in 1 4 0xffffffffffffffe0 0x8000000000000000 $size $((size - data)); do
			edit "$tag $t offset $v" fail "$f" "tensor.$t.offset" $v
		done
		edit "$tag $t name length 0" fail "$f" "tensor.$t.namelen" 0
		edit "$tag $t name length 65" fail "$f" "tensor.$t.namelen" 65
		edit "$tag $t name length huge" fail "$f" "tensor.$t.namelen" 0xffffffffffffffff
	done
	# Two tensors at the same offset (overlap) and a tensor at another's offset + 32.
	o=$(grep -F 'tensor.blk.0.attn_q.weight.offset ' "$tmp/info.$tag" | cut -d' ' -f2)
	if [ -n "$o" ]; then
		q=$(od -An -t u8 -j "$o" -N 8 "$f" | tr -d ' ')
		edit "$tag attn_k at attn_q's offset" fail "$f" tensor.blk.0.attn_k.weight.offset "$q"
		edit "$tag attn_k overlapping attn_q" fail "$f" tensor.blk.0.attn_k.weight.offset \
			$((q + 32))
	fi
}

l2c_matrix() { # l2c_matrix FILE BASE: BASE is the header offset of dim (0 for v0, 8 for v1/v2)
	f=$1 b=$2 tag=$(basename "$1")
	size=$(wc -c <"$f")
	echo "== $tag ($size bytes)"
	check "$tag unchanged" any "$f"
	for n in 1 3 4 8 27 28 $((b + 28)) 255 256 257 $((size / 2)) $((size - 1)); do
		[ "$n" -lt "$size" ] && trunc "$tag truncated" fail "$f" "$n"
	done
	{ cat "$f"; printf 'x'; } >"$tmp/case"
	check "$tag with one byte appended" fail "$tmp/case"
	i=0
	for fld in dim hidden_dim n_layers n_heads n_kv_heads vocab_size seq_len; do
		for v in 0 -1 1 3 0x7fffffff -2147483648 1048577 16777217; do
			# v1/v2 sizes do not depend on the context length: small ones stay valid.
			e=fail
			[ "$b" -eq 8 ] && [ $fld = seq_len ] && [ "$v" -gt 0 ] && [ "$v" -le 16777216 ] && e=any
			raw "$tag $fld = $v" $e "$f" $((b + 4 * i)) 4 "$v"
		done
		i=$((i + 1))
	done
	if [ "$b" -eq 8 ]; then
		for v in 0 3 -1; do raw "$tag version $v" fail "$f" 4 4 "$v"; done
		raw "$tag shared flag 2" fail "$f" 36 1 2
		raw "$tag shared flag flipped" fail "$f" 36 1 $((1 - $(od -An -t u1 -j 36 -N 1 "$f")))
	fi
}

# vocab_bin_matrix FILE: a llama2.c tokenizer.bin given as --vocab.
vocab_bin_matrix() {
	f=$1 tag=$(basename "$1")
	size=$(wc -c <"$f")
	echo "== $tag as --vocab ($size bytes)"
	check "$tag unchanged" any "$f"
	# The first record starts at 4: score (4 bytes), length (4), piece.
	len0=$(od -An -t d4 -j 8 -N 4 "$f" | tr -d ' ')
	for n in 1 3 4 7 8 11 12 $((12 + len0 - 1)) $((size / 2 + 1)) $((size - 1)); do
		trunc "$tag truncated" fail "$f" "$n"
	done
	for v in 0 -1 0x7fffffff; do raw "$tag max_token_length $v" any "$f" 0 4 "$v"; done
	for v in -1 -2147483648 0x7fffffff $size 1000; do
		raw "$tag first piece length $v" fail "$f" 8 4 "$v"
	done
	raw "$tag first piece length 0" any "$f" 8 4 0
	raw "$tag first score NaN" any "$f" 4 4 0x7fc00000
	raw "$tag first score -inf" any "$f" 4 4 0xff800000
	: >"$tmp/case"
	check "$tag emptied" fail "$tmp/case"
}

# vocab_gguf_matrix FILE: a GGUF vocabulary given as --vocab.
vocab_gguf_matrix() {
	f=$1 tag=$(basename "$1")
	"$MUTATE" info "$f" >"$tmp/info.$tag" || { echo "SKIP $tag: mutate info failed"; return; }
	echo "== $tag as --vocab"
	check "$tag unchanged" any "$f"
	for v in 0xffffffffffffffff 0x1000000000000000 1 0; do
		edit "$tag tokens array length $v" fail "$f" kv.tokenizer.ggml.tokens.arrlen $v
		edit "$tag scores array length $v" fail "$f" kv.tokenizer.ggml.scores.arrlen $v
		edit "$tag token_type array length $v" fail "$f" kv.tokenizer.ggml.token_type.arrlen $v
	done
	for v in 0xffffffffffffffff 0x100000000 0; do
		edit "$tag first token length $v" fail "$f" kv.tokenizer.ggml.tokens.elem0len $v
	done
	edit "$tag tokens array of u32" fail "$f" kv.tokenizer.ggml.tokens.arrtype 4
	edit "$tag scores array of u32" fail "$f" kv.tokenizer.ggml.scores.arrtype 4
	edit "$tag scores array of strings" fail "$f" kv.tokenizer.ggml.scores.arrtype 8
	edit "$tag token_type array of f32" fail "$f" kv.tokenizer.ggml.token_type.arrtype 6
	for k in bos_token_id eos_token_id unknown_token_id; do
		# An out-of-range unknown id falls back to 0 (tokenizer.c), as llama.cpp does.
		e=fail
		[ $k = unknown_token_id ] && e=any
		edit "$tag $k = 2^31" $e "$f" kv.tokenizer.ggml.$k.value 0x80000000
		edit "$tag $k = 0xffffffff" $e "$f" kv.tokenizer.ggml.$k.value 0xffffffff
		edit "$tag $k typed string" fail "$f" kv.tokenizer.ggml.$k.type 8
	done
	edit "$tag tokenizer.ggml.model typed u32" fail "$f" kv.tokenizer.ggml.model.type 4
}

# The valid inputs: a synthetic export, the generator's tiny models, ../shared models.
if ! $BIN --synthetic small --export-gguf "$tmp/small.gguf" -n 1 >/dev/null 2>"$tmp/err"; then
	echo "FAIL cannot export the synthetic model:"; cat "$tmp/err"; exit 1
fi
mkdir -p "$tmp/gen/gguf" "$tmp/gen/llama2c" "$tmp/gen/cli" "$tmp/gen/tokenizer"
"$GEN" "$tmp/gen" >/dev/null
gguf_matrix "$tmp/small.gguf"
gguf_matrix "$tmp/gen/gguf/tiny-f32.gguf"
gguf_matrix "$tmp/gen/gguf/q8_0.gguf"
l2c_matrix "$tmp/gen/llama2c/v1-untied.bin" 8
l2c_matrix "$tmp/gen/llama2c/v2-g4-untied.bin" 8
l2c_matrix "$tmp/gen/llama2c/v0-untied.bin" 0
for g in "$M/stories260K-f32.gguf" "$M/llama-2-tiny-random.gguf"; do
	require_shared "$g" "GGUF matrix" && gguf_matrix "$g"
done
require_shared "$M/stories260K.bin" "llama2.c matrix" && l2c_matrix "$M/stories260K.bin" 0
MODE=vocab
require_shared "$M/llama2-tokenizer.bin" "tokenizer.bin matrix" &&
	vocab_bin_matrix "$M/llama2-tokenizer.bin"
require_shared "$M/ggml-vocab-llama-spm.gguf" "GGUF vocab matrix" &&
	vocab_gguf_matrix "$M/ggml-vocab-llama-spm.gguf"
vocab_gguf_matrix "$tmp/gen/gguf/vocab-only.gguf"
MODE=model
: >"$tmp/empty"
check "empty file" fail "$tmp/empty"
printf 'GGUF' >"$tmp/case"
check "magic only" fail "$tmp/case"
head -c 4096 /dev/zero >"$tmp/case"
check "4 KiB of zeros" fail "$tmp/case"
check "a path that does not exist" fail "$tmp/no-such-file"
mkdir -p "$tmp/dir"
check "a directory" fail "$tmp/dir"
# Exports that cannot be written: one error line too, no hang (a full device used to leave
# the writer padding forever).
export_fails() { # export_fails NAME PATH
	timeout "$TIMEOUT" $BIN --synthetic small --export-gguf "$2" -n 1 >"$tmp/out" 2>"$tmp/err"
	st=$? errs=$(grep -c '^error: ' "$tmp/err")
	if [ $st -eq 1 ] && [ "$errs" -eq 1 ] && tail -n 1 "$tmp/err" | grep -q '^error: '; then
		pass=$((pass + 1))
		echo "PASS --export-gguf $1: $(tail -n 1 "$tmp/err")"
	else
		fail=$((fail + 1))
		what="status $st"
		[ $st -eq 124 ] && what="timeout after $TIMEOUT s"
		echo "FAIL --export-gguf $1 ($what, $errs 'error: ' lines)"
		head -n 4 "$tmp/err" | sed 's/^/    /'
	fi
}
export_fails "into a missing directory" "$tmp/no/such/dir/x.gguf"
[ -w /dev/full ] && export_fails "onto a full device" /dev/full
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
