/* str.c: memory, string and number-parsing helpers for freestanding core. */
#include "core/base/str.h"

void mem_copy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
}

void mem_set(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
}

int mem_cmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

bool str_starts(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

bool str_eq_n(const char *a, size_t n, const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != a[i] || !b[i])
			return false;
	return b[n] == 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t *out)
{
	if (!s)
		return -1;
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	uint64_t u;
	if (parse_u64(s, &u) < 0)
		return -1;
	if (u > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return -1;
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

int parse_int(const char *s, int *out)
{
	int64_t v;
	if (parse_i64(s, &v) < 0 || v < -2147483647 - 1 || v > 2147483647)
		return -1;
	*out = (int)v;
	return 0;
}

int parse_float(const char *s, float *out)
{
	if (!s || !*s)
		return -1;
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	double mant = 0;
	int exp10 = 0, digits = 0;
	for (; *s >= '0' && *s <= '9'; s++, digits++)
		mant = mant * 10 + (*s - '0');
	if (*s == '.') {
		s++;
		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			mant = mant * 10 + (*s - '0');
			exp10--;
		}
	}
	if (!digits)
		return -1;
	if (*s == 'e' || *s == 'E') {
		s++;
		int e;
		if (parse_int(s, &e) < 0 || e > 400 || e < -400)
			return -1;
		exp10 += e;
		s += str_len(s);
	}
	if (*s)
		return -1;
	double v = mant;
	for (; exp10 > 0; exp10--)
		v *= 10.0;
	for (; exp10 < 0; exp10++)
		v /= 10.0;
	if (v > 3.4028234663852886e38)
		return -1;
	*out = (float)(neg ? -v : v);
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char digits[32];
	size_t n = str_len(s);
	if (n == 0 || n >= sizeof digits)
		return -1;
	unsigned shift = 0;
	char last = s[n - 1];
	if (last == 'K' || last == 'k')
		shift = 10;
	else if (last == 'M' || last == 'm')
		shift = 20;
	else if (last == 'G' || last == 'g')
		shift = 30;
	if (shift)
		n--;
	mem_copy(digits, s, n);
	digits[n] = 0;
	uint64_t v;
	if (parse_u64(digits, &v) < 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}
