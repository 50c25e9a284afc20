/* string.c: memcpy, memset, memmove and memcmp, which the compiler may emit calls to;
 * the one libc-named file, for those four names only. Core itself uses str.h. */
#include <stddef.h>
#include <stdint.h>

#include "kernel/x86.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
	rep_movsb(dst, src, n);
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	rep_stosb(dst, (uint8_t)c, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d <= s || d >= s + n) {
		rep_movsb(dst, src, n);
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}
