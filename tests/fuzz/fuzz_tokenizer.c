/* fuzz_tokenizer.c: libFuzzer target for the tokenizer. Input layout: byte 0 picks the vocab
 * format (even: GGUF metadata, odd: llama2.c tokenizer.bin), bytes 1-2 (little-endian) are
 * the length of the text at the end of the input, the bytes between are the vocab file.
 * A loaded vocab encodes the text, decodes every id through a Utf8Stream and looks up
 * every piece it produced. */
#include <stdlib.h>
#include <string.h>

#include "core/formats/gguf.h"
#include "core/text/tokenizer.h"
#include "fuzz.h"

#define FUZZ_MAX_IDS 512

static void exercise(const Tokenizer *t, const char *text, size_t len)
{
	int ids[FUZZ_MAX_IDS], n = 0;
	if (tokenizer_encode(t, text, len, ids, FUZZ_MAX_IDS, &n) < 0)
		return;
	char *piece = malloc((size_t)t->max_piece_len);
	char out[64 + 4];
	Utf8Stream us = {0};
	int prev = -1;
	for (int i = 0; i < n; i++) {
		int k = tokenizer_decode(t, prev, ids[i], piece, (size_t)t->max_piece_len);
		for (int off = 0; k > 0 && off < k; off += 64) {
			size_t chunk = (size_t)(k - off) < 64 ? (size_t)(k - off) : 64;
			utf8_stream_push(&us, piece + off, chunk, out);
		}
		if (ids[i] >= 0 && ids[i] < t->vocab_size)
			tokenizer_lookup(t, t->piece[ids[i]], t->piece_len[ids[i]]);
		prev = ids[i];
	}
	utf8_stream_flush(&us, out);
	/* Out-of-range ids must be refused, not read. */
	tokenizer_decode(t, -1, t->vocab_size, piece, (size_t)t->max_piece_len);
	tokenizer_decode(t, -1, -1, piece, (size_t)t->max_piece_len);
	free(piece);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t text_len = (size_t)(data[1] | data[2] << 8);
	if (text_len > size - 3)
		text_len = size - 3;
	size_t vocab_len = size - 3 - text_len;
	/* Exact-size heap copies: the vocab aligned as a mapped file is, the text unterminated. */
	uint8_t *vocab = malloc(vocab_len ? vocab_len : 1);
	char *text = malloc(text_len ? text_len : 1);
	memcpy(vocab, data + 3, vocab_len);
	memcpy(text, data + 3 + vocab_len, text_len);

	size_t mark = fuzz_begin();
	Tokenizer t;
	int r;
	if (data[0] % 2 == 0) {
		GgufFile g;
		r = gguf_open(&g, vocab, vocab_len, "fuzz.gguf") < 0 ? -1
								     : tokenizer_load_gguf(&t, &g);
	} else {
		r = tokenizer_load_bin(&t, vocab, vocab_len, "fuzz-tokenizer.bin");
	}
	if (r == 0)
		exercise(&t, text, text_len);
	fuzz_end(mark);
	free(vocab);
	free(text);
	return 0;
}
