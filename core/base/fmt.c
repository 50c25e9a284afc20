/* fmt.c: printf-style formatting into a buffer or, piece by piece, into any sink; no libc. */
#include "core/base/fmt.h"

#include <stdbool.h>
#include <stdint.h>

/* A sink receives formatted text in pieces. */
typedef struct {
	FmtPut put;
	void *ctx;
	size_t total;
} Sink;

static void sink_put(Sink *k, const char *s, size_t n)
{
	if (n) {
		k->put(k->ctx, s, n);
		k->total += n;
	}
}

static void sink_pad(Sink *k, char c, int n)
{
	char pad[32];
	for (int i = 0; i < (int)sizeof pad; i++)
		pad[i] = c;
	while (n > 0) {
		int m = n < (int)sizeof pad ? n : (int)sizeof pad;
		sink_put(k, pad, (size_t)m);
		n -= m;
	}
}

/* Emits body with sign/prefix, honouring width, '-' and '0'. */
static void emit_field(Sink *k, const char *prefix, const char *body, size_t n, int width,
		       bool left, bool zero)
{
	size_t plen = 0;
	while (prefix[plen])
		plen++;
	int pad = width - (int)(n + plen);
	if (!left && !zero)
		sink_pad(k, ' ', pad);
	sink_put(k, prefix, plen);
	if (!left && zero)
		sink_pad(k, '0', pad);
	sink_put(k, body, n);
	if (left)
		sink_pad(k, ' ', pad);
}

static size_t utoa_rev(char *tmp, uint64_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	return n;
}

static size_t utoa(char *out, uint64_t v, unsigned base, bool upper)
{
	char tmp[24];
	size_t n = utoa_rev(tmp, v, base, upper);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static const double pow10_table[] = {1e0,  1e1,	 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,  1e8, 1e9,
				     1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* Fixed notation of a finite non-negative v with prec digits (prec <= 17). */
static size_t ftoa_fixed(char *out, double v, int prec)
{
	double scaled = v * pow10_table[prec] + 0.5;
	uint64_t whole, frac;
	if (scaled < 1.8e19) {
		uint64_t all = (uint64_t)scaled;
		whole = all / (uint64_t)pow10_table[prec];
		frac = all % (uint64_t)pow10_table[prec];
	} else {
		/* Too large for one integer: integer part alone, fraction dropped. */
		whole = v < 1.8e19 ? (uint64_t)v : UINT64_MAX;
		frac = 0;
	}
	size_t n = utoa(out, whole, 10, false);
	if (prec > 0) {
		out[n++] = '.';
		char tmp[24];
		size_t m = utoa_rev(tmp, frac, 10, false);
		for (int i = (int)m; i < prec; i++)
			out[n++] = '0';
		for (size_t i = 0; i < m; i++)
			out[n++] = tmp[m - 1 - i];
	}
	return n;
}

/* Exponent notation d.ddde+XX of a finite non-negative v. */
static size_t ftoa_exp(char *out, double v, int prec)
{
	int e = 0;
	if (v != 0.0) {
		while (v >= 10.0) {
			v /= 10.0;
			e++;
		}
		while (v < 1.0) {
			v *= 10.0;
			e--;
		}
		/* Rounding may carry into a new digit. */
		if (v + 0.5 / pow10_table[prec] >= 10.0) {
			v /= 10.0;
			e++;
		}
	}
	size_t n = ftoa_fixed(out, v, prec);
	out[n++] = 'e';
	out[n++] = e < 0 ? '-' : '+';
	unsigned ae = (unsigned)(e < 0 ? -e : e);
	if (ae < 10)
		out[n++] = '0';
	n += utoa(out + n, ae, 10, false);
	return n;
}

static size_t ftoa(char *out, double v, int prec, char conv)
{
	if (prec > 17)
		prec = 17;
	if (conv == 'f' && v < 1e18)
		return ftoa_fixed(out, v, prec);
	if (conv == 'g') {
		if (prec == 0)
			prec = 1;
		if (v == 0.0 || (v >= 1e-4 && v < pow10_table[prec])) {
			int digits = 1;
			for (double t = v; t >= 10.0; t /= 10.0)
				digits++;
			int fprec = v < 1.0 ? prec : prec - digits;
			if (v < 1.0)
				for (double t = v; t > 0 && t < 0.1; t *= 10.0)
					fprec++;
			size_t n = ftoa_fixed(out, v, fprec > 17 ? 17 : fprec);
			/* %g drops trailing zeros of the fraction. */
			bool dot = false;
			for (size_t i = 0; i < n; i++)
				dot |= out[i] == '.';
			while (dot && n > 1 && out[n - 1] == '0')
				n--;
			if (n > 1 && out[n - 1] == '.')
				n--;
			return n;
		}
		return ftoa_exp(out, v, prec - 1);
	}
	return ftoa_exp(out, v, prec);
}

static void format(Sink *k, const char *fmt, va_list ap)
{
	char body[64];
	while (*fmt) {
		const char *start = fmt;
		while (*fmt && *fmt != '%')
			fmt++;
		sink_put(k, start, (size_t)(fmt - start));
		if (!*fmt)
			break;
		fmt++;
		bool left = false, zero = false, plus = false;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else if (*fmt == '+')
				plus = true;
			else
				break;
		}
		int width = 0, prec = -1;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}
		int lng = 0;
		bool size = false;
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		if (*fmt == 'z') {
			size = true;
			fmt++;
		}
		char conv = *fmt ? *fmt++ : 0;
		switch (conv) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t n = 0;
			while (s[n] && (prec < 0 || (int)n < prec))
				n++;
			emit_field(k, "", s, n, width, left, false);
			break;
		}
		case 'c':
			body[0] = (char)va_arg(ap, int);
			emit_field(k, "", body, 1, width, left, false);
			break;
		case 'd':
		case 'i': {
			int64_t v = size  ? (int64_t)va_arg(ap, ptrdiff_t)
				    : lng ? (int64_t)va_arg(ap, long long)
					  : (int64_t)va_arg(ap, int);
			uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			size_t n = utoa(body, u, 10, false);
			emit_field(k, v < 0 ? "-" : plus ? "+" : "", body, n, width, left, zero);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = size  ? (uint64_t)va_arg(ap, size_t)
				     : lng ? (uint64_t)va_arg(ap, unsigned long long)
					   : (uint64_t)va_arg(ap, unsigned);
			size_t n = utoa(body, v, conv == 'u' ? 10 : 16, conv == 'X');
			emit_field(k, "", body, n, width, left, zero);
			break;
		}
		case 'p': {
			uint64_t v = (uint64_t)(uintptr_t)va_arg(ap, void *);
			size_t n = utoa(body, v, 16, false);
			emit_field(k, "0x", body, n, width, left, zero);
			break;
		}
		case 'f':
		case 'e':
		case 'g': {
			double v = va_arg(ap, double);
			const char *sign = plus ? "+" : "";
			if (v != v) {
				emit_field(k, "", "nan", 3, width, left, false);
				break;
			}
			if (v < 0 || (v == 0 && 1.0 / v < 0)) {
				sign = "-";
				v = -v;
			}
			if (v > 1.7976931348623157e308) {
				emit_field(k, sign, "inf", 3, width, left, false);
				break;
			}
			size_t n = ftoa(body, v, prec < 0 ? 6 : prec, conv);
			emit_field(k, sign, body, n, width, left, zero);
			break;
		}
		case '%':
			sink_put(k, "%", 1);
			break;
		default:
			sink_put(k, "%?", 2);
			break;
		}
	}
}

typedef struct {
	char *buf;
	size_t cap, len;
} BufCtx;

static void buf_put(void *ctx, const char *s, size_t n)
{
	BufCtx *b = ctx;
	for (size_t i = 0; i < n; i++) {
		if (b->len + 1 < b->cap)
			b->buf[b->len] = s[i];
		b->len++;
	}
}

size_t fmt_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
	BufCtx b = {buf, cap, 0};
	Sink k = {buf_put, &b, 0};
	format(&k, fmt, ap);
	if (cap)
		buf[b.len < cap ? b.len : cap - 1] = 0;
	return k.total;
}

size_t fmt_format(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = fmt_vformat(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

size_t fmt_vemit(FmtPut put, void *ctx, const char *fmt, va_list ap)
{
	Sink k = {put, ctx, 0};
	format(&k, fmt, ap);
	return k.total;
}
