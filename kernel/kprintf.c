/* kprintf.c: formatting for the kernel's own messages (boot log, fault reports) to COM2.
 * Integers and strings only: it must work before SSE is enabled and inside a fault. */
#include <stdarg.h>

#include "kernel/kernel.h"

#define KPRINTF_BUF 256 /* bytes formatted before a write to the UART */

struct kbuf {
	char b[KPRINTF_BUF];
	size_t n;
};

static void kbuf_putc(struct kbuf *k, char c)
{
	if (k->n == sizeof k->b) {
		uart_write(UART_COM2, k->b, k->n);
		k->n = 0;
	}
	k->b[k->n++] = c;
}

static void kbuf_num(struct kbuf *k, uint64_t v, int base, int neg, int width, char pad)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % (unsigned)base];
		v /= (unsigned)base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	for (int i = n; i < width; i++)
		kbuf_putc(k, pad);
	while (n)
		kbuf_putc(k, tmp[--n]);
}

void kvprintf(const char *fmt, va_list ap)
{
	struct kbuf k;
	k.n = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			kbuf_putc(&k, *p);
			continue;
		}
		p++;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		while (*p == 'l' || *p == 'z') {
			lng++;
			p++;
		}
		switch (*p) {
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			kbuf_num(&k, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			kbuf_num(&k, v, *p == 'x' ? 16 : 10, 0, width, pad);
			break;
		}
		case 'p':
			kbuf_putc(&k, '0');
			kbuf_putc(&k, 'x');
			kbuf_num(&k, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, 16, '0');
			break;
		case 'c':
			kbuf_putc(&k, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n = 0;
			for (const char *q = s ? s : "(null)"; *q; q++, n++)
				kbuf_putc(&k, *q);
			for (; n < width; n++)
				kbuf_putc(&k, ' ');
			break;
		}
		case '%':
			kbuf_putc(&k, '%');
			break;
		default: /* unknown: print it as written */
			kbuf_putc(&k, '%');
			if (!*p)
				p--;
			else
				kbuf_putc(&k, *p);
		}
	}
	uart_write(UART_COM2, k.b, k.n);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
