/* test_tokenizer.c: Check suite of core/text/tokenizer.c: llama.cpp's SPM test vectors from the
 * shared GGUF vocab and llama2.c tokenizer.bin, a synthetic vocab built in memory (merge order,
 * ties, byte fallback, invalid UTF-8, control tokens), decoding, loader errors, Utf8Stream. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/formats/gguf.h"
#include "core/text/tokenizer.h"
#include "tests.h"

#define MAX_IDS 4096
/* llama.cpp's separator between test inputs in a .inp file (with the newlines around it). */
#define VOCAB_TEST_SEP "\n__ggml_vocab_test__\n"
/* Random texts for the round-trip and no-crash tests. */
#define FUZZ_TEXTS 300
#define FUZZ_MAX_LEN 64

/* --- Files --- */

typedef struct {
	const uint8_t *data;
	size_t size;
} Mapped;

static Mapped map_file(const char *path)
{
	Mapped m = {NULL, 0};
	int fd = open(path, O_RDONLY);
	ck_assert_msg(fd >= 0, "cannot open %s", path);
	struct stat st;
	ck_assert_msg(fstat(fd, &st) == 0, "cannot stat %s", path);
	m.size = (size_t)st.st_size;
	void *p = mmap(NULL, m.size ? m.size : 1, PROT_READ, MAP_PRIVATE, fd, 0);
	ck_assert_msg(p != MAP_FAILED, "cannot map %s", path);
	close(fd);
	m.data = p;
	return m;
}

static void unmap_file(Mapped m)
{
	munmap((void *)m.data, m.size ? m.size : 1);
}

/* --- Building vocab files in memory --- */

typedef struct {
	uint8_t buf[1 << 16];
	size_t n;
} Buf;

static void put(Buf *b, const void *p, size_t n)
{
	ck_assert_msg(b->n + n <= sizeof b->buf, "test buffer overflow (%zu + %zu)", b->n, n);
	memcpy(b->buf + b->n, p, n);
	b->n += n;
}

static void put_u32(Buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put_u64(Buf *b, uint64_t v)
{
	put(b, &v, 8);
}

static void put_gstr(Buf *b, const char *s, size_t n)
{
	put_u64(b, n);
	put(b, s, n);
}

static void put_key(Buf *b, const char *key, uint32_t type)
{
	put_gstr(b, key, strlen(key));
	put_u32(b, type);
}

/* The synthetic vocab: <unk> <s> </s>, the 256 byte tokens, then these pieces ("_" stands
 * for the space mark: U+2581 in GGUF, ' ' in tokenizer.bin). */
typedef struct {
	const char *text;
	float score;
} SynthPiece;

enum {
	SP_MARK = 259,
	SP_A,
	SP_B,
	SP_C,
	SP_AB,
	SP_BC,
	SP_AA,
	SP_MARK_A,
	SP_LT,
	SP_S,
	SP_GT,
	SP_LT_S
};
static const SynthPiece synth_pieces[] = {
    {"_", -1.0f},  {"a", -2.0f},  {"b", -3.0f}, {"c", -4.0f}, {"ab", -1.5f}, {"bc", -1.0f},
    {"aa", -0.5f}, {"_a", -0.8f}, {"<", -5.0f}, {"s", -5.0f}, {">", -5.0f},  {"<s", -2.0f},
};
#define SYNTH_N_PIECES (int)(sizeof synth_pieces / sizeof synth_pieces[0])
#define SYNTH_VOCAB (3 + 256 + SYNTH_N_PIECES)
#define BYTE_TOKEN(b) (3 + (b))

/* Piece i of the synthetic vocab, with the space mark spelled as the format wants. */
static size_t synth_piece(int i, bool escaped, char *out, float *score)
{
	static const char *specials[] = {"<unk>", "<s>", "</s>"};
	*score = 0.0f;
	if (i < 3)
		return (size_t)sprintf(out, "%s", specials[i]);
	if (i < 3 + 256)
		return (size_t)sprintf(out, "<0x%02X>", i - 3);
	const SynthPiece *p = &synth_pieces[i - 259];
	*score = p->score;
	size_t n = 0;
	for (const char *s = p->text; *s; s++) {
		if (*s == '_' && escaped) {
			memcpy(out + n, "\xe2\x96\x81", 3);
			n += 3;
		} else {
			out[n++] = *s == '_' ? ' ' : *s;
		}
	}
	return n;
}

/* A GGUF v3 with no tensors and the tokenizer metadata of the synthetic vocab. */
static void build_gguf(Buf *b, const char *model, bool with_tokens)
{
	b->n = 0;
	put(b, "GGUF", 4);
	put_u32(b, 3);
	put_u64(b, 0);
	put_u64(b, with_tokens ? 5 : 1);
	put_key(b, "tokenizer.ggml.model", GGUF_STRING);
	put_gstr(b, model, strlen(model));
	if (!with_tokens)
		return;
	char piece[64];
	float score;
	put_key(b, "tokenizer.ggml.tokens", GGUF_ARRAY);
	put_u32(b, GGUF_STRING);
	put_u64(b, SYNTH_VOCAB);
	for (int i = 0; i < SYNTH_VOCAB; i++)
		put_gstr(b, piece, synth_piece(i, true, piece, &score));
	put_key(b, "tokenizer.ggml.scores", GGUF_ARRAY);
	put_u32(b, GGUF_FLOAT32);
	put_u64(b, SYNTH_VOCAB);
	for (int i = 0; i < SYNTH_VOCAB; i++) {
		synth_piece(i, true, piece, &score);
		put(b, &score, 4);
	}
	put_key(b, "tokenizer.ggml.token_type", GGUF_ARRAY);
	put_u32(b, GGUF_INT32);
	put_u64(b, SYNTH_VOCAB);
	for (int i = 0; i < SYNTH_VOCAB; i++)
		put_u32(b, i == 0    ? TOK_UNKNOWN
			   : i < 3   ? TOK_CONTROL
			   : i < 259 ? TOK_BYTE
				     : TOK_NORMAL);
	put_key(b, "tokenizer.ggml.bos_token_id", GGUF_UINT32);
	put_u32(b, 1);
}

/* A llama2.c tokenizer.bin of the synthetic vocab. */
static void build_bin(Buf *b)
{
	b->n = 0;
	put_u32(b, 16);
	char piece[64];
	float score;
	for (int i = 0; i < SYNTH_VOCAB; i++) {
		size_t n = synth_piece(i, false, piece, &score);
		put(b, &score, 4);
		put_u32(b, (uint32_t)n);
		put(b, piece, n);
	}
}

static Buf gguf_buf, bin_buf;

static void load_synth_gguf(Tokenizer *t)
{
	build_gguf(&gguf_buf, "llama", true);
	GgufFile g;
	ck_assert_msg(gguf_open(&g, gguf_buf.buf, gguf_buf.n, "synth.gguf") == 0,
		      "synthetic GGUF does not open: %s", error_message());
	ck_assert_msg(tokenizer_load_gguf(t, &g) == 0, "synthetic GGUF vocab does not load: %s",
		      error_message());
}

static void load_synth_bin(Tokenizer *t)
{
	build_bin(&bin_buf);
	ck_assert_msg(tokenizer_load_bin(t, bin_buf.buf, bin_buf.n, "synth.bin") == 0,
		      "synthetic tokenizer.bin does not load: %s", error_message());
}

/* --- Helpers --- */

static void ids_text(const int *ids, int n, char *out, size_t cap)
{
	size_t w = 0;
	out[0] = 0;
	for (int i = 0; i < n && w + 16 < cap; i++)
		w += (size_t)snprintf(out + w, cap - w, " %d", ids[i]);
}

/* Encodes text and checks the ids against the expected list. */
static void expect_ids(const Tokenizer *t, const char *label, const char *text, size_t len,
		       const int *want, int n_want)
{
	int ids[MAX_IDS], n = -1;
	ck_assert_msg(tokenizer_encode(t, text, len, ids, MAX_IDS, &n) == 0,
		      "%s: encode failed: %s", label, error_message());
	char got_s[512], want_s[512];
	ids_text(ids, n, got_s, sizeof got_s);
	ids_text(want, n_want, want_s, sizeof want_s);
	ck_assert_msg(n == n_want && memcmp(ids, want, sizeof(int) * (size_t)n) == 0,
		      "%s: got [%s ], expected [%s ]", label, got_s, want_s);
}

/* Decodes ids as a generation loop would (prev starts at -1) into out; returns the length. */
static size_t decode_all(const Tokenizer *t, const int *ids, int n, char *out, size_t cap)
{
	size_t w = 0;
	int prev = -1;
	for (int i = 0; i < n; i++) {
		ck_assert_msg(w + (size_t)t->max_piece_len <= cap, "decode buffer too small");
		int k = tokenizer_decode(t, prev, ids[i], out + w, (size_t)t->max_piece_len);
		ck_assert_msg(k >= 0, "decode of token %d failed: %s", ids[i], error_message());
		w += (size_t)k;
		prev = ids[i];
	}
	return w;
}

static void expect_decode(const Tokenizer *t, int prev, int token, const char *want)
{
	char out[256];
	int n = tokenizer_decode(t, prev, token, out, sizeof out);
	ck_assert_msg(n >= 0, "decode(prev %d, token %d) failed: %s", prev, token, error_message());
	ck_assert_msg((size_t)n == strlen(want) && memcmp(out, want, (size_t)n) == 0,
		      "decode(prev %d, token %d) gave \"%.*s\", expected \"%s\"", prev, token, n,
		      out, want);
}

/* --- Synthetic vocab --- */

/* The same ids from both formats of the synthetic vocab. */
static void check_synth_encoding(const Tokenizer *t, const char *fmt)
{
	char label[128];
#define EXPECT(text, ...)                                                                          \
	do {                                                                                       \
		const int want[] = {__VA_ARGS__};                                                  \
		snprintf(label, sizeof label, "%s: \"%s\"", fmt, text);                            \
		expect_ids(t, label, text, sizeof(text) - 1, want,                                 \
			   (int)(sizeof want / sizeof want[0]));                                   \
	} while (0)
	/* "_a" (-0.8) first, then "bc" (-1.0) beats the now impossible "ab". */
	EXPECT("abc", SP_MARK_A, SP_BC);
	/* Two "aa" candidates of equal score: the leftmost wins. */
	EXPECT("aaa", SP_MARK, SP_AA, SP_A);
	EXPECT("a b", SP_MARK_A, SP_MARK, SP_B);
	/* "<s>" is a control token: text never becomes it. */
	EXPECT("<s>", SP_MARK, SP_LT_S, SP_GT);
	/* Characters outside the vocab fall back to their bytes. */
	EXPECT("\xc3\xa9", SP_MARK, BYTE_TOKEN(0xc3), BYTE_TOKEN(0xa9));
	/* Invalid UTF-8: each bad byte stands alone. */
	EXPECT("\xff\xfe", SP_MARK, BYTE_TOKEN(0xff), BYTE_TOKEN(0xfe));
	EXPECT("\xe2\x82"
	       "a",
	       SP_MARK, BYTE_TOKEN(0xe2), BYTE_TOKEN(0x82), SP_A);
	EXPECT("c\xe2\x82", SP_MARK, SP_C, BYTE_TOKEN(0xe2), BYTE_TOKEN(0x82));
	/* A 4-byte emoji not in the vocab: four byte tokens. */
	EXPECT("\xf0\x9f\x98\x80", SP_MARK, BYTE_TOKEN(0xf0), BYTE_TOKEN(0x9f), BYTE_TOKEN(0x98),
	       BYTE_TOKEN(0x80));
	/* A NUL inside the text is a byte like any other. */
	EXPECT("a\0b", SP_MARK_A, BYTE_TOKEN(0), SP_B);
#undef EXPECT

	int ids[8], n = -1;
	ck_assert_msg(tokenizer_encode(t, "", 0, ids, 8, &n) == 0 && n == 0,
		      "%s: empty text should give no tokens (got %d)", fmt, n);
	ck_assert_msg(tokenizer_encode(t, "abc", 3, ids, 1, &n) == -1,
		      "%s: two tokens into room for one should fail", fmt);
	ck_assert_msg(strstr(error_message(), "more than 1 token") != NULL,
		      "%s: overflow message should say the limit: %s", fmt, error_message());
}

START_TEST(test_synth_gguf_encode)
{
	Tokenizer t;
	load_synth_gguf(&t);
	ck_assert_msg(t.vocab_size == SYNTH_VOCAB, "vocab size %d, expected %d", t.vocab_size,
		      SYNTH_VOCAB);
	ck_assert_msg(t.bos_id == 1 && t.eos_id == 2, "BOS %d EOS %d, expected 1 and 2", t.bos_id,
		      t.eos_id);
	ck_assert_msg(t.add_bos && t.add_space_prefix,
		      "absent add_bos_token/add_space_prefix should default to true");
	size_t used = arena_used();
	check_synth_encoding(&t, "gguf");
	ck_assert_msg(arena_used() == used, "encode kept %zu bytes of arena", arena_used() - used);
	ck_assert_msg(tokenizer_lookup(&t,
				       "\xe2\x96\x81"
				       "a",
				       4) == SP_MARK_A,
		      "lookup of \"\\u2581a\" should find %d", SP_MARK_A);
	ck_assert_msg(tokenizer_lookup(&t, "<s>", 3) == 1, "lookup should find control <s>");
	ck_assert_msg(tokenizer_lookup(&t, "zz", 2) == -1, "lookup of an absent piece gives -1");
}
END_TEST

START_TEST(test_synth_bin_encode)
{
	Tokenizer t;
	load_synth_bin(&t);
	ck_assert_msg(t.vocab_size == SYNTH_VOCAB, "vocab size %d, expected %d", t.vocab_size,
		      SYNTH_VOCAB);
	ck_assert_msg(t.type[0] == TOK_UNKNOWN && t.type[1] == TOK_CONTROL &&
			  t.type[2] == TOK_CONTROL && t.type[BYTE_TOKEN(0x41)] == TOK_BYTE &&
			  t.type[SP_A] == TOK_NORMAL,
		      "types inferred from tokenizer.bin pieces are wrong");
	check_synth_encoding(&t, "bin");
	ck_assert_msg(tokenizer_lookup(&t, " a", 2) == SP_MARK_A,
		      "tokenizer.bin lookup of \" a\" should find %d", SP_MARK_A);
}
END_TEST

START_TEST(test_synth_decode)
{
	Tokenizer g, b;
	load_synth_gguf(&g);
	load_synth_bin(&b);
	const Tokenizer *ts[2] = {&g, &b};
	for (int k = 0; k < 2; k++) {
		const Tokenizer *t = ts[k];
		expect_decode(t, 1, SP_MARK_A, "a");	 /* space prefix dropped after BOS */
		expect_decode(t, -1, SP_MARK_A, "a");	 /* ... and at the start of text */
		expect_decode(t, SP_A, SP_MARK_A, " a"); /* kept elsewhere */
		expect_decode(t, 1, SP_MARK, "");
		expect_decode(t, SP_A, SP_MARK, " ");
		expect_decode(t, SP_A, SP_BC, "bc");
		expect_decode(t, SP_A, BYTE_TOKEN(0x41), "A");
		expect_decode(t, 1, BYTE_TOKEN(0x20), " "); /* a byte token is a byte, kept */
		expect_decode(t, SP_A, 1, "");
		expect_decode(t, SP_A, 2, "");
		expect_decode(t, SP_A, 0, "\xe2\x96\x85");
		char out[4];
		ck_assert_msg(tokenizer_decode(t, 0, SYNTH_VOCAB, out, sizeof out) == -1,
			      "decoding an id past the vocab should fail");
		ck_assert_msg(tokenizer_decode(t, SP_A, SP_MARK_A, out, 1) == -1,
			      "decoding into too small a buffer should fail");
	}
	/* Bytes of a split character come back whole. */
	int ids[] = {SP_MARK_A, BYTE_TOKEN(0xc3), BYTE_TOKEN(0xa9), SP_MARK, SP_BC};
	char out[64];
	size_t n = decode_all(&g, ids, 5, out, sizeof out);
	ck_assert_msg(n == 6 && memcmp(out, "a\xc3\xa9 bc", 6) == 0,
		      "decoded text \"%.*s\" should be \"a\\xc3\\xa9 bc\"", (int)n, out);
}
END_TEST

/* --- Loader errors --- */

START_TEST(test_gguf_wrong_model)
{
	build_gguf(&gguf_buf, "gpt2", true);
	GgufFile g;
	ck_assert_msg(gguf_open(&g, gguf_buf.buf, gguf_buf.n, "gpt2.gguf") == 0,
		      "GGUF does not open: %s", error_message());
	Tokenizer t;
	ck_assert_msg(tokenizer_load_gguf(&t, &g) == -1, "a gpt2 vocab should be refused");
	ck_assert_msg(strstr(error_message(), "gpt2") != NULL,
		      "the error should name the model type: %s", error_message());
}
END_TEST

START_TEST(test_gguf_no_vocab)
{
	build_gguf(&gguf_buf, "llama", false);
	GgufFile g;
	ck_assert_msg(gguf_open(&g, gguf_buf.buf, gguf_buf.n, "novocab.gguf") == 0,
		      "GGUF does not open: %s", error_message());
	Tokenizer t;
	ck_assert_msg(tokenizer_load_gguf(&t, &g) == 1,
		      "a GGUF without tokenizer.ggml.tokens should return 1");
}
END_TEST

START_TEST(test_bin_corrupt)
{
	build_bin(&bin_buf);
	Tokenizer t;
	/* Cut inside the last record's text. */
	ck_assert_msg(tokenizer_load_bin(&t, bin_buf.buf, bin_buf.n - 1, "cut.bin") == -1,
		      "a tokenizer.bin cut short should be refused");
	ck_assert_msg(strstr(error_message(), "cut.bin") && strstr(error_message(), "offset"),
		      "the error should name the file and offset: %s", error_message());
	/* Cut inside a record header. */
	size_t cut = 4 + 8 + 5 + 3; /* past <unk>, then 3 bytes of the next header */
	ck_assert_msg(tokenizer_load_bin(&t, bin_buf.buf, cut, "hdr.bin") == -1,
		      "a tokenizer.bin cut in a record header should be refused");
	ck_assert_msg(strstr(error_message(), "token 1") != NULL,
		      "the error should name the token: %s", error_message());
	/* A negative length. */
	static uint8_t bad[64];
	memcpy(bad, bin_buf.buf, sizeof bad);
	int32_t neg = -5;
	memcpy(bad + 8, &neg, 4);
	ck_assert_msg(tokenizer_load_bin(&t, bad, sizeof bad, "neg.bin") == -1,
		      "a negative piece length should be refused");
	ck_assert_msg(tokenizer_load_bin(&t, bin_buf.buf, 2, "tiny.bin") == -1,
		      "a 2-byte file should be refused");
}
END_TEST

/* A vocab of <unk>, <s>, </s> and one piece of len bytes ('x'), as a tokenizer.bin (bin)
 * or a GGUF. */
static void build_long_piece(Buf *b, bool bin, size_t len)
{
	static const char *specials[] = {"<unk>", "<s>", "</s>"};
	char *piece = malloc(len);
	memset(piece, 'x', len);
	b->n = 0;
	if (bin) {
		put_u32(b, (uint32_t)len);
		float score = 0;
		for (int i = 0; i < 4; i++) {
			size_t n = i < 3 ? strlen(specials[i]) : len;
			put(b, &score, 4);
			put_u32(b, (uint32_t)n);
			put(b, i < 3 ? specials[i] : piece, n);
		}
	} else {
		put(b, "GGUF", 4);
		put_u32(b, 3);
		put_u64(b, 0);
		put_u64(b, 2);
		put_key(b, "tokenizer.ggml.model", GGUF_STRING);
		put_gstr(b, "llama", 5);
		put_key(b, "tokenizer.ggml.tokens", GGUF_ARRAY);
		put_u32(b, GGUF_STRING);
		put_u64(b, 4);
		for (int i = 0; i < 4; i++)
			put_gstr(b, i < 3 ? specials[i] : piece, i < 3 ? strlen(specials[i]) : len);
	}
	free(piece);
}

static int load_long_piece(Tokenizer *t, bool bin, size_t len)
{
	build_long_piece(&gguf_buf, bin, len);
	if (bin)
		return tokenizer_load_bin(t, gguf_buf.buf, gguf_buf.n, "long.bin");
	GgufFile g;
	ck_assert_msg(gguf_open(&g, gguf_buf.buf, gguf_buf.n, "long.gguf") == 0, "%s",
		      error_message());
	return tokenizer_load_gguf(t, &g);
}

/* Every piece a loader accepts decodes in full into TOKENIZER_PIECE_MAX bytes; a longer
 * one is refused with the vocabulary. */
START_TEST(test_long_pieces)
{
	for (int bin = 0; bin < 2; bin++) {
		Tokenizer t;
		ck_assert_msg(load_long_piece(&t, bin, TOKENIZER_PIECE_MAX) == 0, "%s",
			      error_message());
		char out[TOKENIZER_PIECE_MAX];
		int n = tokenizer_decode(&t, 3, 3, out, sizeof out);
		ck_assert_int_eq(n, TOKENIZER_PIECE_MAX);
		ck_assert(out[0] == 'x' && out[n - 1] == 'x');
		ck_assert_int_eq(load_long_piece(&t, bin, TOKENIZER_PIECE_MAX + 1), -1);
		ck_assert_msg(strstr(error_message(), "token 3") &&
				  strstr(error_message(), "at most 512 bytes"),
			      "the error should name the token and the limit: %s", error_message());
	}
}
END_TEST

/* --- Utf8Stream --- */

START_TEST(test_utf8_stream)
{
	Utf8Stream s = {0};
	char out[16];
	const char *emoji = "\xf0\x9f\x98\x80";
	for (int i = 0; i < 3; i++)
		ck_assert_msg(utf8_stream_push(&s, emoji + i, 1, out) == 0,
			      "byte %d of a 4-byte emoji should be held back", i);
	size_t n = utf8_stream_push(&s, emoji + 3, 1, out);
	ck_assert_msg(n == 4 && memcmp(out, emoji, 4) == 0, "the whole emoji should come out");

	/* Split 2 + 2 with ASCII around it. */
	n = utf8_stream_push(&s, "x\xf0\x9f", 3, out);
	ck_assert_msg(n == 1 && out[0] == 'x', "only the ASCII before the emoji is ready");
	n = utf8_stream_push(&s, "\x98\x80y", 3, out);
	ck_assert_msg(n == 5 && memcmp(out, "\xf0\x9f\x98\x80y", 5) == 0,
		      "the emoji completes and y follows");

	/* Invalid bytes pass through as they are. */
	n = utf8_stream_push(&s, "\xff\xfe", 2, out);
	ck_assert_msg(n == 2 && memcmp(out, "\xff\xfe", 2) == 0, "invalid bytes pass through");
	n = utf8_stream_push(&s, "\xe2\x82", 2, out);
	ck_assert_msg(n == 0, "an unfinished 3-byte character is held");
	n = utf8_stream_push(&s, "a", 1, out);
	ck_assert_msg(n == 3 && memcmp(out,
				       "\xe2\x82"
				       "a",
				       3) == 0,
		      "a broken character is released with the byte that broke it");
	n = utf8_stream_push(&s, "\xe2", 1, out);
	n = utf8_stream_push(&s, "\xe2\x82\xac", 3, out);
	ck_assert_msg(n == 4 && memcmp(out, "\xe2\xe2\x82\xac", 4) == 0,
		      "a lead byte after a lead byte releases the first");
	n = utf8_stream_push(&s, "\xc3", 1, out);
	n = utf8_stream_flush(&s, out);
	ck_assert_msg(n == 1 && (uint8_t)out[0] == 0xc3 && s.n == 0, "flush releases what is held");
}
END_TEST

/* --- Peer vectors from llama.cpp --- */

/* Checks every .inp/.out vector against t; returns how many passed. */
static int check_vectors(const Tokenizer *t, const char *fmt, int *total)
{
	const char *inp_path = shared_model("ggml-vocab-llama-spm.gguf.inp");
	const char *p1 = inp_path ? strdup(inp_path) : NULL;
	const char *out_path = shared_model("ggml-vocab-llama-spm.gguf.out");
	*total = 0;
	if (!p1 || !out_path)
		return 0;
	Mapped inp = map_file(p1), outp = map_file(out_path);
	const char *in = (const char *)inp.data, *in_end = in + inp.size;
	const char *ol = (const char *)outp.data, *ol_end = ol + outp.size;
	size_t sep_n = strlen(VOCAB_TEST_SEP);
	int passed = 0;
	while (in < in_end) {
		const char *sep = memmem(in, (size_t)(in_end - in), VOCAB_TEST_SEP, sep_n);
		ck_assert_msg(sep != NULL, "%s: input %d has no separator after it", p1, *total);
		ck_assert_msg(ol < ol_end, "%s: fewer expected lines than inputs", out_path);
		const char *eol = memchr(ol, '\n', (size_t)(ol_end - ol));
		if (!eol)
			eol = ol_end;
		int want[MAX_IDS], n_want = 0;
		for (const char *q = ol; q < eol;) {
			char *end;
			long v = strtol(q, &end, 10);
			if (end == q)
				break;
			ck_assert_msg(n_want < MAX_IDS, "too many expected ids");
			want[n_want++] = (int)v;
			q = end;
		}
		char label[160];
		snprintf(label, sizeof label, "%s vector %d (\"%.40s\")", fmt, *total, in);
		int ids[MAX_IDS], n = -1;
		ck_assert_msg(tokenizer_encode(t, in, (size_t)(sep - in), ids, MAX_IDS, &n) == 0,
			      "%s: encode failed: %s", label, error_message());
		char got_s[2048], want_s[2048];
		ids_text(ids, n, got_s, sizeof got_s);
		ids_text(want, n_want, want_s, sizeof want_s);
		ck_assert_msg(n == n_want && memcmp(ids, want, sizeof(int) * (size_t)n) == 0,
			      "%s: got [%s ], expected [%s ]", label, got_s, want_s);
		/* And back: decoding gives the input again (no U+2581 in these inputs). */
		static char dec[MAX_IDS * 8];
		size_t dn = decode_all(t, ids, n, dec, sizeof dec);
		ck_assert_msg(dn == (size_t)(sep - in) && memcmp(dec, in, dn) == 0,
			      "%s: decoding gives \"%.*s\"", label, (int)dn, dec);
		passed++;
		(*total)++;
		in = sep + sep_n;
		ol = eol < ol_end ? eol + 1 : ol_end;
	}
	unmap_file(inp);
	unmap_file(outp);
	free((void *)p1);
	printf("tokenizer: %d/%d llama.cpp SPM vectors pass from the %s vocab\n", passed, *total,
	       fmt);
	return passed;
}

START_TEST(test_vectors_gguf)
{
	const char *path = shared_model("ggml-vocab-llama-spm.gguf");
	if (!path)
		return;
	Mapped m = map_file(path);
	GgufFile g;
	ck_assert_msg(gguf_open(&g, m.data, m.size, path) == 0, "%s: %s", path, error_message());
	Tokenizer t;
	ck_assert_msg(tokenizer_load_gguf(&t, &g) == 0, "%s: %s", path, error_message());
	ck_assert_msg(t.vocab_size == 32000 && t.bos_id == 1 && t.eos_id == 2,
		      "%s: vocab %d BOS %d EOS %d, expected 32000 1 2", path, t.vocab_size,
		      t.bos_id, t.eos_id);
	int total;
	int passed = check_vectors(&t, "gguf", &total);
	ck_assert_msg(passed == total, "%d of %d vectors pass", passed, total);
	unmap_file(m);
}
END_TEST

START_TEST(test_vectors_bin)
{
	const char *path = shared_model("llama2-tokenizer.bin");
	if (!path)
		return;
	Mapped m = map_file(path);
	Tokenizer t;
	ck_assert_msg(tokenizer_load_bin(&t, m.data, m.size, path) == 0, "%s: %s", path,
		      error_message());
	ck_assert_msg(t.vocab_size == 32000, "%s: %d tokens, expected 32000", path, t.vocab_size);
	int total;
	int passed = check_vectors(&t, "tokenizer.bin", &total);
	ck_assert_msg(passed == total, "%d of %d vectors pass", passed, total);
	unmap_file(m);
}
END_TEST

/* The GGUF vocab and tokenizer.bin are the same vocab: equal scores, pieces equal up to the
 * spelling of the space, and the same ids for the whole .inp file encoded as one text. */
START_TEST(test_vocabs_agree)
{
	/* shared_model returns a static buffer: copy each path before the next call. */
	const char *p = shared_model("ggml-vocab-llama-spm.gguf");
	char *gguf_path = p ? strdup(p) : NULL;
	p = shared_model("llama2-tokenizer.bin");
	char *bin_path = p ? strdup(p) : NULL;
	p = shared_model("ggml-vocab-llama-spm.gguf.inp");
	char *inp_path_s = p ? strdup(p) : NULL;
	if (!gguf_path || !bin_path || !inp_path_s) {
		free(gguf_path);
		free(bin_path);
		free(inp_path_s);
		return;
	}
	Mapped mg = map_file(gguf_path), mb = map_file(bin_path), mi = map_file(inp_path_s);
	GgufFile g;
	Tokenizer tg, tb;
	ck_assert_msg(gguf_open(&g, mg.data, mg.size, gguf_path) == 0 &&
			  tokenizer_load_gguf(&tg, &g) == 0,
		      "%s: %s", gguf_path, error_message());
	ck_assert_msg(tokenizer_load_bin(&tb, mb.data, mb.size, bin_path) == 0, "%s: %s", bin_path,
		      error_message());
	ck_assert_msg(tg.vocab_size == tb.vocab_size, "vocab sizes differ: %d and %d",
		      tg.vocab_size, tb.vocab_size);
	for (int i = 3; i < tg.vocab_size; i++) {
		char a[256];
		size_t n = 0;
		for (uint32_t k = 0; k < tg.piece_len[i]; k++) {
			if (k + 3 <= tg.piece_len[i] &&
			    memcmp(tg.piece[i] + k, "\xe2\x96\x81", 3) == 0) {
				a[n++] = ' ';
				k += 2;
			} else {
				a[n++] = tg.piece[i][k];
			}
		}
		ck_assert_msg(n == tb.piece_len[i] && memcmp(a, tb.piece[i], n) == 0,
			      "token %d: pieces differ", i);
		ck_assert_msg(tg.score[i] == tb.score[i], "token %d: scores %g and %g differ", i,
			      (double)tg.score[i], (double)tb.score[i]);
		ck_assert_msg(tg.type[i] == tb.type[i], "token %d: types %d and %d differ", i,
			      tg.type[i], tb.type[i]);
	}
	static int ids_g[1 << 14], ids_b[1 << 14];
	int ng = -1, nb = -1;
	ck_assert_msg(tokenizer_encode(&tg, (const char *)mi.data, mi.size, ids_g, 1 << 14, &ng) ==
			  0,
		      "gguf encode of the whole .inp: %s", error_message());
	ck_assert_msg(tokenizer_encode(&tb, (const char *)mi.data, mi.size, ids_b, 1 << 14, &nb) ==
			  0,
		      "bin encode of the whole .inp: %s", error_message());
	ck_assert_msg(ng == nb && memcmp(ids_g, ids_b, sizeof(int) * (size_t)ng) == 0,
		      "the two vocabs give different ids for the whole .inp (%d and %d ids)", ng,
		      nb);
	unmap_file(mg);
	unmap_file(mb);
	unmap_file(mi);
	free(gguf_path);
	free(bin_path);
	free(inp_path_s);
}
END_TEST

/* Random bytes (valid or not) never crash, and decode back to themselves. */
START_TEST(test_fuzz_round_trip)
{
	const char *path = shared_model("llama2-tokenizer.bin");
	if (!path)
		return;
	Mapped m = map_file(path);
	Tokenizer t;
	ck_assert_msg(tokenizer_load_bin(&t, m.data, m.size, path) == 0, "%s: %s", path,
		      error_message());
	static const char alphabet[] = "ab \n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff<s>";
	uint32_t seed = 12345;
	for (int k = 0; k < FUZZ_TEXTS; k++) {
		char text[FUZZ_MAX_LEN];
		seed = seed * 1664525u + 1013904223u;
		size_t len = 1 + (seed >> 16) % (FUZZ_MAX_LEN - 1);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1664525u + 1013904223u;
			text[i] = k % 2 ? (char)(seed >> 24)
					: alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		int ids[MAX_IDS], n = -1;
		ck_assert_msg(tokenizer_encode(&t, text, len, ids, MAX_IDS, &n) == 0,
			      "random text %d: encode failed: %s", k, error_message());
		for (int i = 0; i < n; i++)
			ck_assert_msg(ids[i] != t.bos_id && ids[i] != t.eos_id,
				      "random text %d: a control token came out of text", k);
		char dec[MAX_IDS];
		size_t dn = decode_all(&t, ids, n, dec, sizeof dec);
		ck_assert_msg(dn == len && memcmp(dec, text, len) == 0,
			      "random text %d (%zu bytes) does not decode back (%zu bytes)", k, len,
			      dn);
	}
	unmap_file(m);
}
END_TEST

Suite *tokenizer_suite(void)
{
	Suite *s = suite_create("tokenizer");
	TCase *tc = tcase_create("synthetic");
	tcase_add_test(tc, test_synth_gguf_encode);
	tcase_add_test(tc, test_synth_bin_encode);
	tcase_add_test(tc, test_synth_decode);
	tcase_add_test(tc, test_gguf_wrong_model);
	tcase_add_test(tc, test_gguf_no_vocab);
	tcase_add_test(tc, test_bin_corrupt);
	tcase_add_test(tc, test_long_pieces);
	tcase_add_test(tc, test_utf8_stream);
	suite_add_tcase(s, tc);
	TCase *peer = tcase_create("peer_vectors");
	tcase_set_timeout(peer, 60);
	tcase_add_test(peer, test_vectors_gguf);
	tcase_add_test(peer, test_vectors_bin);
	tcase_add_test(peer, test_vocabs_agree);
	tcase_add_test(peer, test_fuzz_round_trip);
	suite_add_tcase(s, peer);
	return s;
}
