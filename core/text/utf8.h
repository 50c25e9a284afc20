/* utf8.h: UTF-8 character boundaries for the tokenizer, and a stream that holds back an
 * unfinished character between writes, so that printed text never splits one. */
#ifndef UTF8_H
#define UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the character at s (n > 0 bytes left). A byte that does not start a complete
 * valid character counts as a character of its own, so that it falls back to a byte token
 * and the scan always advances. */
size_t utf8_char_len(const uint8_t *s, size_t n);

/* Holds back the incomplete tail of a UTF-8 character between writes. Zero it to start. */
typedef struct {
	char buf[4];
	int n;
} Utf8Stream;

/* Appends n bytes; writes to out the bytes ready to print (out must hold n + 4) and returns
 * their count. Invalid sequences are passed through as they are, so nothing is lost. */
size_t utf8_stream_push(Utf8Stream *s, const char *in, size_t n, char *out);
/* Writes what is still held (an unfinished character) to out (4 bytes) and empties s. */
size_t utf8_stream_flush(Utf8Stream *s, char *out);

#endif
