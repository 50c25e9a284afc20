/* tokenizer.h: the Llama-2 SentencePiece BPE tokenizer (the same ids as llama.cpp's SPM
 * tokenizer) over a vocab read from GGUF metadata or a llama2.c tokenizer.bin, and token
 * decoding (printed through core/text/utf8.h's stream). */
#ifndef TOKENIZER_H
#define TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/formats/gguf.h"
#include "core/text/utf8.h"

/* The longest piece a vocabulary may hold, in bytes: the loaders refuse a longer one, so
 * that a buffer of this size holds the decoded text of any token (decoding never grows a
 * piece). Real SentencePiece vocabularies stay far below it (Llama 2: 16 bytes). */
#define TOKENIZER_PIECE_MAX 512

/* Token types, numbered as GGUF's tokenizer.ggml.token_type. */
enum {
	TOK_NORMAL = 1,
	TOK_UNKNOWN = 2,
	TOK_CONTROL = 3,
	TOK_USER = 4,
	TOK_UNUSED = 5,
	TOK_BYTE = 6,
};

typedef struct {
	int vocab_size;
	int bos_id, eos_id, unk_id;
	bool add_bos;	       /* callers prepend bos_id to a prompt */
	bool add_space_prefix; /* encode prepends a space; decode drops it after BOS */
	/* GGUF pieces spell a space as U+2581 "▁"; llama2.c's tokenizer.bin has ' ' instead. */
	bool space_escaped;
	int max_piece_len;    /* longest piece in bytes (4..TOKENIZER_PIECE_MAX): enough for any
			       * decode */
	const char **piece;   /* (vocab_size) piece text in place, not NUL-terminated */
	uint32_t *piece_len;  /* (vocab_size) bytes */
	float *score;	      /* (vocab_size) merge priority: higher merges first */
	uint8_t *type;	      /* (vocab_size) TOK_* */
	int32_t *hash;	      /* (hash_cap) token id or -1: open addressing on the piece text */
	uint32_t hash_cap;    /* power of two, at least twice vocab_size */
	int32_t byte_id[256]; /* the <0xNN> token of each byte, or -1 */
} Tokenizer;

/* From GGUF metadata (tokenizer.ggml.*). 0, 1 when the file has no vocab
 * (no tokenizer.ggml.tokens), or -1 (error set). Tables come from the arena. */
int tokenizer_load_gguf(Tokenizer *t, const GgufFile *g);
/* From a llama2.c tokenizer.bin (int32 max_token_length, then per token: float32 score,
 * int32 len, len bytes, to the end of the file). BOS 1, EOS 2, add_bos, space prefix.
 * 0 or -1 (error set, naming path, offset and what is wrong). */
int tokenizer_load_bin(Tokenizer *t, const uint8_t *data, size_t size, const char *path);

/* Text (len bytes, any bytes) -> ids, without BOS: the caller adds it.
 * 0, or -1 (error set) when more than max_ids ids would be needed or the arena is full.
 * Scratch memory is taken from the arena and given back before returning. */
int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, int *ids, int max_ids,
		     int *n_ids);

/* The bytes token adds to the text, written to out (cap >= t->max_piece_len is always
 * enough): "▁" -> ' ', <0xNN> -> that byte, control tokens -> nothing, and a leading space
 * is dropped after BOS or at the start of text (prev < 0) when add_space_prefix.
 * Returns the byte count, or -1 (error set) for a bad token id or a too small out. */
int tokenizer_decode(const Tokenizer *t, int prev, int token, char *out, size_t cap);

/* The id of the token whose piece is exactly s[0..n) (any type, as stored in the vocab:
 * "▁" for GGUF, ' ' for tokenizer.bin), or -1. */
int tokenizer_lookup(const Tokenizer *t, const char *s, size_t n);
#endif
