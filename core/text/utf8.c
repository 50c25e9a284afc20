/* utf8.c: UTF-8 character boundaries (strict: no overlong forms, surrogates or code points
 * past U+10FFFF) and the stream that never splits a character across writes. */
#include "core/text/utf8.h"

#include "core/base/core_assert.h"
#include "core/base/str.h"

/* Length of the character a lead byte starts, or 0 when it cannot start one. */
static int utf8_need(uint8_t lead)
{
	if (lead < 0x80)
		return 1;
	if (lead >= 0xc2 && lead <= 0xdf)
		return 2;
	if (lead >= 0xe0 && lead <= 0xef)
		return 3;
	if (lead >= 0xf0 && lead <= 0xf4)
		return 4;
	return 0;
}

/* Whether b may follow at position pos (1..3) of the character lead starts. The second byte
 * is narrowed so that overlong forms, surrogates and code points past U+10FFFF are invalid. */
static bool utf8_cont_ok(uint8_t lead, int pos, uint8_t b)
{
	uint8_t lo = 0x80, hi = 0xbf;
	if (pos == 1) {
		if (lead == 0xe0)
			lo = 0xa0;
		else if (lead == 0xed)
			hi = 0x9f;
		else if (lead == 0xf0)
			lo = 0x90;
		else if (lead == 0xf4)
			hi = 0x8f;
	}
	return b >= lo && b <= hi;
}

size_t utf8_char_len(const uint8_t *s, size_t n)
{
	int need = utf8_need(s[0]);
	if (need <= 1 || (size_t)need > n)
		return 1;
	for (int i = 1; i < need; i++)
		if (!utf8_cont_ok(s[0], i, s[i]))
			return 1;
	return (size_t)need;
}

size_t utf8_stream_push(Utf8Stream *s, const char *in, size_t n, char *out)
{
	CORE_ASSERT(s->n >= 0 && s->n < 4);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = (uint8_t)in[i];
		if (s->n > 0) {
			uint8_t lead = (uint8_t)s->buf[0];
			if (utf8_cont_ok(lead, s->n, b)) {
				s->buf[s->n++] = (char)b;
				if (s->n == utf8_need(lead)) {
					mem_copy(out + w, s->buf, (size_t)s->n);
					w += (size_t)s->n;
					s->n = 0;
				}
				continue;
			}
			/* A broken character: its bytes go out as they came, and b starts afresh.
			 */
			mem_copy(out + w, s->buf, (size_t)s->n);
			w += (size_t)s->n;
			s->n = 0;
		}
		if (utf8_need(b) <= 1) {
			out[w++] = (char)b; /* ASCII, or a byte no character starts with */
		} else {
			s->buf[0] = (char)b;
			s->n = 1;
		}
	}
	return w;
}

size_t utf8_stream_flush(Utf8Stream *s, char *out)
{
	CORE_ASSERT(s->n >= 0 && s->n < 4);
	size_t w = (size_t)s->n;
	mem_copy(out, s->buf, w);
	s->n = 0;
	return w;
}
