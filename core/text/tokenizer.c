/* tokenizer.c: Llama-2 SentencePiece BPE: vocab loading (GGUF metadata or llama2.c
 * tokenizer.bin), encoding by score-ordered merges as llama.cpp's SPM tokenizer does, and
 * decoding of single tokens. */
#include "core/text/tokenizer.h"

#include "core/base/arena.h"
#include "core/base/core_assert.h"
#include "core/base/error.h"
#include "core/base/str.h"
#include "core/formats/gguf_keys.h"
#include "core/profile/profiler.h"
#include "core/text/utf8.h"

/* U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's spelling of a space. */
static const char SPACE_MARK[3] = {'\xe2', '\x96', '\x81'};
/* U+2585 LOWER FIVE EIGHTHS BLOCK: what llama.cpp prints for the unknown token. */
static const char UNK_MARK[3] = {'\xe2', '\x96', '\x85'};

/* --- Vocab --- */

/* FNV-1a: short pieces, few collisions, no tables. */
static uint32_t hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

int tokenizer_lookup(const Tokenizer *t, const char *s, size_t n)
{
	uint32_t mask = t->hash_cap - 1;
	for (uint32_t h = hash_bytes(s, n) & mask;; h = (h + 1) & mask) {
		int32_t id = t->hash[h];
		if (id < 0)
			return -1;
		if (t->piece_len[id] == n && mem_cmp(t->piece[id], s, n) == 0)
			return id;
	}
}

/* The value of a hex digit, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The byte a "<0xNN>" piece stands for, or -1 for any other text. */
static int byte_piece_value(const char *s, uint32_t n)
{
	if (n != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>')
		return -1;
	int hi = hex_value(s[3]), lo = hex_value(s[4]);
	return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* Types for a vocab that stores none (tokenizer.bin): read from the piece text. llama2.c's
 * export spells BOS and EOS "\n<s>\n" and "\n</s>\n". */
static uint8_t infer_type(const char *s, uint32_t n)
{
	if (str_eq_n(s, n, "<unk>"))
		return TOK_UNKNOWN;
	if (str_eq_n(s, n, "<s>") || str_eq_n(s, n, "</s>") || str_eq_n(s, n, "\n<s>\n") ||
	    str_eq_n(s, n, "\n</s>\n"))
		return TOK_CONTROL;
	if (byte_piece_value(s, n) >= 0)
		return TOK_BYTE;
	return TOK_NORMAL;
}

/* Allocates the per-token arrays of a vocab of n tokens. */
static int alloc_vocab(Tokenizer *t, int n)
{
	t->vocab_size = n;
	t->piece = arena_alloc((size_t)n * sizeof *t->piece, 8, "tokenizer pieces");
	t->piece_len = arena_alloc((size_t)n * sizeof *t->piece_len, 4, "tokenizer piece lengths");
	t->score = arena_alloc((size_t)n * sizeof *t->score, 4, "tokenizer scores");
	t->type = arena_alloc((size_t)n, 1, "tokenizer token types");
	if (!t->piece || !t->piece_len || !t->score || !t->type)
		return error_set("tokenizer: out of arena memory for a vocab of %d tokens", n);
	return 0;
}

/* Common end of both loaders: types (inferred when the file has none), the lookup hash,
 * the byte-token table and the special ids checked. */
static int finish_vocab(Tokenizer *t, const char *path, bool infer_types)
{
	int n = t->vocab_size;
	if (t->bos_id < 0 || t->bos_id >= n || t->eos_id < 0 || t->eos_id >= n)
		return error_set("%s: BOS id %d or EOS id %d is outside the vocab of %d tokens",
				 path, t->bos_id, t->eos_id, n);
	if (infer_types) {
		for (int i = 0; i < n; i++)
			t->type[i] = infer_type(t->piece[i], t->piece_len[i]);
		t->type[t->bos_id] = TOK_CONTROL;
		t->type[t->eos_id] = TOK_CONTROL;
	}

	uint32_t cap = 16;
	while (cap < 2u * (uint32_t)n)
		cap *= 2;
	t->hash_cap = cap;
	t->hash = arena_alloc((size_t)cap * sizeof *t->hash, 64, "tokenizer hash");
	if (!t->hash)
		return error_set("%s: out of arena memory for the tokenizer hash", path);
	for (uint32_t i = 0; i < cap; i++)
		t->hash[i] = -1;
	t->max_piece_len = 4;
	for (int i = 0; i < n; i++) {
		const char *s = t->piece[i];
		uint32_t len = t->piece_len[i];
		if ((int)len > t->max_piece_len)
			t->max_piece_len = (int)len;
		/* A piece seen twice maps to its last id, as llama.cpp's token_to_id does. */
		uint32_t h = hash_bytes(s, len) & (cap - 1);
		while (t->hash[h] >= 0 && !(t->piece_len[t->hash[h]] == len &&
					    mem_cmp(t->piece[t->hash[h]], s, len) == 0))
			h = (h + 1) & (cap - 1);
		t->hash[h] = i;
	}

	for (int b = 0; b < 256; b++)
		t->byte_id[b] = -1;
	for (int i = 0; i < n; i++) {
		if (t->type[i] != TOK_BYTE)
			continue;
		int b = byte_piece_value(t->piece[i], t->piece_len[i]);
		if (b < 0)
			return error_set("%s: token %d is a byte token but its piece is not <0xNN>",
					 path, i);
		t->byte_id[b] = i;
	}
	if (t->unk_id < 0 || t->unk_id >= n)
		t->unk_id = 0;
	return 0;
}

int tokenizer_load_gguf(Tokenizer *t, const GgufFile *g)
{
	mem_set(t, 0, sizeof *t);
	uint32_t arr_type;
	uint64_t n;
	const uint8_t *p;
	int r = gguf_get_arr(g, GGUF_KEY_TOK_TOKENS, &arr_type, &n, &p);
	if (r != 0)
		return r; /* 1: no vocab in this file */

	GgufStr model;
	r = gguf_get_str(g, GGUF_KEY_TOK_MODEL, &model);
	if (r < 0)
		return -1;
	if (r == 1)
		return error_set("%s: has tokenizer.ggml.tokens but no tokenizer.ggml.model",
				 g->path);
	if (!str_eq_n(model.s, (size_t)model.n, "llama"))
		return error_set(
		    "%s: tokenizer.ggml.model is \"%.*s\": only \"llama\" (SentencePiece "
		    "BPE) vocabs are supported",
		    g->path, (int)(model.n > 64 ? 64 : model.n), model.s);
	if (arr_type != GGUF_STRING)
		return error_set("%s: tokenizer.ggml.tokens is an array of type %u, not of strings",
				 g->path, arr_type);
	if (n == 0 || n > 0x1000000)
		return error_set("%s: tokenizer.ggml.tokens has %llu tokens (expected 1..16M)",
				 g->path, (unsigned long long)n);
	if (alloc_vocab(t, (int)n) < 0)
		return -1;
	for (int i = 0; i < t->vocab_size; i++) {
		GgufStr s = gguf_next_str(&p);
		if (s.n > TOKENIZER_PIECE_MAX)
			return error_set("%s: token %d is %llu bytes long (pieces of at most %d "
					 "bytes are supported)",
					 g->path, i, (unsigned long long)s.n, TOKENIZER_PIECE_MAX);
		t->piece[i] = s.s;
		t->piece_len[i] = (uint32_t)s.n;
	}

	/* Scores and types are optional in llama.cpp too: absent scores are 0. */
	r = gguf_get_arr(g, GGUF_KEY_TOK_SCORES, &arr_type, &n, &p);
	if (r < 0)
		return -1;
	if (r == 0 && (arr_type != GGUF_FLOAT32 || n != (uint64_t)t->vocab_size))
		return error_set("%s: tokenizer.ggml.scores should be %d float32, it is %llu of "
				 "type %u",
				 g->path, t->vocab_size, (unsigned long long)n, arr_type);
	for (int i = 0; i < t->vocab_size; i++) {
		uint32_t bits = r == 0 ? load_u32(p + 4 * (size_t)i) : 0;
		mem_copy(&t->score[i], &bits, 4);
	}

	r = gguf_get_arr(g, GGUF_KEY_TOK_TYPES, &arr_type, &n, &p);
	if (r < 0)
		return -1;
	bool infer = r == 1;
	if (r == 0) {
		if ((arr_type != GGUF_INT32 && arr_type != GGUF_UINT32) ||
		    n != (uint64_t)t->vocab_size)
			return error_set("%s: tokenizer.ggml.token_type should be %d int32, it is "
					 "%llu of type %u",
					 g->path, t->vocab_size, (unsigned long long)n, arr_type);
		for (int i = 0; i < t->vocab_size; i++) {
			int32_t v = (int32_t)load_u32(p + 4 * (size_t)i);
			if (v < TOK_NORMAL || v > TOK_BYTE)
				return error_set("%s: token %d has type %d (expected 1..6)",
						 g->path, i, v);
			t->type[i] = (uint8_t)v;
		}
	}

	/* Defaults of llama.cpp for a llama vocab. */
	uint32_t bos = 1, eos = 2, unk = 0;
	bool add_bos = true, add_space = true;
	if (gguf_get_u32(g, GGUF_KEY_TOK_BOS, &bos) < 0 ||
	    gguf_get_u32(g, GGUF_KEY_TOK_EOS, &eos) < 0 ||
	    gguf_get_u32(g, GGUF_KEY_TOK_UNK, &unk) < 0 ||
	    gguf_get_bool(g, GGUF_KEY_TOK_ADD_BOS, &add_bos) < 0 ||
	    gguf_get_bool(g, GGUF_KEY_TOK_ADD_SPACE, &add_space) < 0)
		return -1;
	t->bos_id = bos > 0x7fffffff ? -1 : (int)bos;
	t->eos_id = eos > 0x7fffffff ? -1 : (int)eos;
	t->unk_id = unk > 0x7fffffff ? -1 : (int)unk;
	t->add_bos = add_bos;
	t->add_space_prefix = add_space;
	t->space_escaped = true;
	return finish_vocab(t, g->path, infer);
}

int tokenizer_load_bin(Tokenizer *t, const uint8_t *data, size_t size, const char *path)
{
	mem_set(t, 0, sizeof *t);
	if (size < 4)
		return error_set("%s: truncated: %zu bytes, the header (max_token_length) needs 4",
				 path, size);
	int32_t max_len = (int32_t)load_u32(data);
	/* First pass: the vocab size is the number of records up to the end of the file. */
	int count = 0;
	size_t off = 4;
	while (off < size) {
		if (size - off < 8)
			return error_set("%s: token %d at offset %zu: truncated record, score and "
					 "length need 8 bytes, %zu are left",
					 path, count, off, size - off);
		int32_t len = (int32_t)load_u32(data + off + 4);
		if (len < 0 || (size_t)len > size - off - 8)
			return error_set("%s: token %d at offset %zu: length %d runs past the end "
					 "of the file (%zu bytes)",
					 path, count, off, len, size);
		if (len > max_len)
			return error_set("%s: token %d at offset %zu: length %d exceeds the "
					 "header's max_token_length %d",
					 path, count, off, len, max_len);
		if (len > TOKENIZER_PIECE_MAX)
			return error_set("%s: token %d at offset %zu is %d bytes long (pieces of "
					 "at most %d bytes are supported)",
					 path, count, off, len, TOKENIZER_PIECE_MAX);
		off += 8 + (size_t)len;
		if (++count > 0x1000000)
			return error_set("%s: more than 16M tokens: not a tokenizer.bin", path);
	}
	if (count < 3)
		return error_set("%s: %d tokens: a tokenizer.bin needs at least <unk>, <s>, </s>",
				 path, count);
	if (alloc_vocab(t, count) < 0)
		return -1;
	off = 4;
	for (int i = 0; i < count; i++) {
		mem_copy(&t->score[i], data + off, 4);
		t->piece_len[i] = load_u32(data + off + 4);
		t->piece[i] = (const char *)data + off + 8;
		off += 8 + t->piece_len[i];
	}
	/* llama2.c's fixed conventions. */
	t->unk_id = 0;
	t->bos_id = 1;
	t->eos_id = 2;
	t->add_bos = true;
	t->add_space_prefix = true;
	t->space_escaped = false;
	return finish_vocab(t, path, true);
}

/* --- Encoding --- */

/* A run of text: one character at first, then the union of merged neighbours. */
typedef struct {
	int32_t prev, next; /* neighbours in the chain, -1 at the ends */
	uint32_t off, n;    /* bytes of the escaped text; n == 0 once merged into prev */
} Symbol;

/* A candidate merge of two adjacent symbols into the token of that text. */
typedef struct {
	float score;
	int32_t left, right;
	uint32_t size; /* left.n + right.n when queued: a mismatch later means it is stale */
} Bigram;

typedef struct {
	const Tokenizer *t;
	const char *text; /* escaped text */
	Symbol *sym;
	Bigram *heap; /* binary max-heap by (score, then leftmost) */
	int n_heap;
} EncodeState;

/* The token a piece of text may become: normal, user-defined or unused. Control, unknown
 * and byte tokens are never produced from plain text ("<s>" in a prompt stays text). */
static int match_text(const Tokenizer *t, const char *s, size_t n)
{
	int id = tokenizer_lookup(t, s, n);
	if (id < 0)
		return -1;
	uint8_t ty = t->type[id];
	return ty == TOK_NORMAL || ty == TOK_USER || ty == TOK_UNUSED ? id : -1;
}

/* Whether a goes before b: the higher score, then the leftmost (llama.cpp's order). */
static bool bigram_first(const Bigram *a, const Bigram *b)
{
	return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(EncodeState *e, Bigram b)
{
	int i = e->n_heap++;
	while (i > 0) {
		int parent = (i - 1) / 2;
		if (!bigram_first(&b, &e->heap[parent]))
			break;
		e->heap[i] = e->heap[parent];
		i = parent;
	}
	e->heap[i] = b;
}

static Bigram heap_pop(EncodeState *e)
{
	Bigram top = e->heap[0];
	Bigram last = e->heap[--e->n_heap];
	int n = e->n_heap, i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && bigram_first(&e->heap[c + 1], &e->heap[c]))
			c++;
		if (!bigram_first(&e->heap[c], &last))
			break;
		e->heap[i] = e->heap[c];
		i = c;
	}
	if (n > 0)
		e->heap[i] = last;
	return top;
}

/* Queues the merge of left and right when their joined text is a token. */
static void try_bigram(EncodeState *e, int left, int right)
{
	if (left < 0 || right < 0)
		return;
	const Symbol *l = &e->sym[left], *r = &e->sym[right];
	int id = match_text(e->t, e->text + l->off, l->n + r->n);
	if (id < 0)
		return;
	Bigram b = {e->t->score[id], left, right, l->n + r->n};
	heap_push(e, b);
}

static int emit(int *ids, int max_ids, int *n_ids, int id)
{
	if (*n_ids >= max_ids)
		return error_set("tokenizer: the text needs more than %d tokens", max_ids);
	ids[(*n_ids)++] = id;
	return 0;
}

/* The tokens of one final symbol: its token, or else its bytes as <0xNN> tokens (the
 * unknown token when the vocab lacks one of them). */
static int emit_symbol(const Tokenizer *t, const char *s, size_t n, int *ids, int max_ids,
		       int *n_ids)
{
	int id = match_text(t, s, n);
	if (id >= 0)
		return emit(ids, max_ids, n_ids, id);
	for (size_t i = 0; i < n; i++)
		if (t->byte_id[(uint8_t)s[i]] < 0)
			return emit(ids, max_ids, n_ids, t->unk_id);
	for (size_t i = 0; i < n; i++)
		if (emit(ids, max_ids, n_ids, t->byte_id[(uint8_t)s[i]]) < 0)
			return -1;
	return 0;
}

/* Escapes text into esc (room for 3 * (len + 1)): the space prefix, and each space spelled
 * as the vocab spells it. Returns the escaped length. */
static size_t escape_text(const Tokenizer *t, const char *text, size_t len, char *esc)
{
	size_t m = 0;
	if (t->add_space_prefix) {
		if (t->space_escaped) {
			mem_copy(esc, SPACE_MARK, 3);
			m = 3;
		} else {
			esc[m++] = ' ';
		}
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ' && t->space_escaped) {
			mem_copy(esc + m, SPACE_MARK, 3);
			m += 3;
		} else {
			esc[m++] = text[i];
		}
	}
	return m;
}

/* Splits the escaped text (m > 0 bytes) into characters, merges, and emits the ids. */
static int merge_and_emit(EncodeState *e, size_t m, int *ids, int max_ids, int *n_ids)
{
	const char *esc = e->text;
	int n_sym = 0;
	for (size_t off = 0; off < m;) {
		size_t n = utf8_char_len((const uint8_t *)esc + off, m - off);
		Symbol s = {n_sym - 1, n_sym + 1, (uint32_t)off, (uint32_t)n};
		e->sym[n_sym++] = s;
		off += n;
	}
	e->sym[n_sym - 1].next = -1;

	/* Merge the best adjacent pair until no pair forms a token. Stale queue entries
	 * (a side already merged elsewhere) are recognised by their size and skipped. */
	for (int i = 1; i < n_sym; i++)
		try_bigram(e, i - 1, i);
	while (e->n_heap > 0) {
		Bigram b = heap_pop(e);
		Symbol *l = &e->sym[b.left], *r = &e->sym[b.right];
		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			e->sym[r->next].prev = b.left;
		try_bigram(e, l->prev, b.left);
		try_bigram(e, b.left, l->next);
	}

	for (int i = 0; i >= 0; i = e->sym[i].next)
		if (emit_symbol(e->t, esc + e->sym[i].off, e->sym[i].n, ids, max_ids, n_ids) < 0)
			return -1;
	return 0;
}

int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, int *ids, int max_ids,
		     int *n_ids)
{
	CORE_ASSERT(max_ids >= 0 && (len == 0 || text != NULL));
	*n_ids = 0;
	/* Empty text gives no tokens, not a lone space prefix (as llama.cpp and llama2.c). */
	if (len == 0)
		return 0;
	if (len > 0x10000000)
		return error_set("tokenizer: text of %zu bytes is too long (max 256 MiB)", len);
	size_t mark = arena_mark();
	EncodeState e = {t, NULL, NULL, NULL, 0};
	int r;
	size_t m = 0;
	char *esc = arena_alloc(3 * (len + 1), 1, "tokenizer text");
	if (esc) {
		m = escape_text(t, text, len, esc);
		e.text = esc;
		/* At most m symbols; the queue holds the first m-1 pairs and two per merge. */
		e.sym = arena_alloc(m * sizeof *e.sym, 8, "tokenizer symbols");
		e.heap = arena_alloc(3 * m * sizeof *e.heap, 8, "tokenizer merge queue");
	}
	if (!esc || !e.sym || !e.heap) {
		r = error_set("tokenizer: out of arena memory for a text of %zu bytes", len);
	} else {
		PROFILE_BEGIN(zone, "tokenizer");
		r = merge_and_emit(&e, m, ids, max_ids, n_ids);
		PROFILE_END(zone);
	}
	arena_reset(mark);
	return r;
}

/* --- Decoding --- */

int tokenizer_decode(const Tokenizer *t, int prev, int token, char *out, size_t cap)
{
	CORE_ASSERT(cap == 0 || out != NULL);
	if (token < 0 || token >= t->vocab_size)
		return error_set("tokenizer: token id %d is outside the vocab of %d", token,
				 t->vocab_size);
	const char *s = t->piece[token];
	uint32_t n = t->piece_len[token];
	size_t w = 0;
	switch (t->type[token]) {
	case TOK_CONTROL:
		return 0;
	case TOK_BYTE:
		if (cap < 1)
			break;
		out[0] = (char)byte_piece_value(s, n);
		return 1;
	case TOK_UNKNOWN:
		if (cap < 3)
			break;
		mem_copy(out, UNK_MARK, 3);
		return 3;
	default:
		for (uint32_t i = 0; i < n; i++) {
			if (w == cap)
				return error_set("tokenizer: token %d needs more than %zu bytes",
						 token, cap);
			if (t->space_escaped && i + 3 <= n && mem_cmp(s + i, SPACE_MARK, 3) == 0) {
				out[w++] = ' ';
				i += 2;
			} else {
				out[w++] = s[i];
			}
		}
		/* The space prefix encode added is not part of the text. */
		if (t->add_space_prefix && (prev < 0 || prev == t->bos_id) && w > 0 &&
		    out[0] == ' ') {
			for (size_t i = 1; i < w; i++)
				out[i - 1] = out[i];
			w--;
		}
		return (int)w;
	}
	return error_set("tokenizer: token %d needs more than %zu bytes", token, cap);
}
