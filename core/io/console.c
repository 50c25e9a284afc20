/* console.c: printf-style text to the console (through serial_puts) and to the log stream,
 * and the report of a failed CORE_ASSERT. */
#include "core/io/console.h"

#include <stdarg.h>

#include "core/base/core_assert.h"
#include "core/base/fmt.h"
#include "shim/platform.h"

/* Formatted pieces gathered and handed over whenever the buffer fills, and once more at the
 * end of each call: serial_puts takes NUL-terminated text, and a log line reaches the stream in
 * one write (on the host stderr is unbuffered: the stats line took 14 writes, and another
 * process writing the same stream could land inside it). */
typedef struct Gathered {
	char buf[256];
	size_t n;
	void (*flush)(struct Gathered *);
} Gathered;

static void console_flush(Gathered *c)
{
	c->buf[c->n] = 0;
	serial_puts(c->buf);
}

static void log_flush(Gathered *c)
{
	plat_write(PLAT_LOG, c->buf, c->n);
}

static void gather(void *ctx, const char *s, size_t n)
{
	Gathered *c = ctx;
	for (size_t i = 0; i < n; i++) {
		if (c->n == sizeof c->buf - 1) { /* room for serial_puts' NUL */
			c->flush(c);
			c->n = 0;
		}
		c->buf[c->n++] = s[i];
	}
}

static void emit(void (*flush)(Gathered *), const char *fmt, va_list ap)
{
	Gathered c = {.n = 0, .flush = flush};
	fmt_vemit(gather, &c, fmt, ap);
	if (c.n)
		flush(&c);
}

void out_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(console_flush, fmt, ap);
	va_end(ap);
}

void log_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(log_flush, fmt, ap);
	va_end(ap);
}

#ifdef CORE_CHECKS
_Noreturn void core_assert_fail(const char *cond, const char *file, int line)
{
	log_printf("error: assertion failed: %s (%s:%d)\n", cond, file, line);
	plat_exit(1);
}
#endif
