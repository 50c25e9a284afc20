/* console.c: printf-style text to the console (through serial_puts) and to the log stream,
 * and the report of a failed CORE_ASSERT. */
#include "core/io/console.h"

#include <stdarg.h>

#include "core/base/core_assert.h"
#include "core/base/fmt.h"
#include "shim/platform.h"

/* serial_puts takes NUL-terminated text: formatted pieces are gathered here and handed over
 * whenever the buffer fills, and once more at the end of each out_printf. */
typedef struct {
	char buf[256];
	size_t n;
} ConsoleText;

static void console_flush(ConsoleText *c)
{
	if (c->n) {
		c->buf[c->n] = 0;
		serial_puts(c->buf);
		c->n = 0;
	}
}

static void console_put(void *ctx, const char *s, size_t n)
{
	ConsoleText *c = ctx;
	for (size_t i = 0; i < n; i++) {
		if (c->n == sizeof c->buf - 1)
			console_flush(c);
		c->buf[c->n++] = s[i];
	}
}

void out_printf(const char *fmt, ...)
{
	ConsoleText c;
	c.n = 0;
	va_list ap;
	va_start(ap, fmt);
	fmt_vemit(console_put, &c, fmt, ap);
	va_end(ap);
	console_flush(&c);
}

static void log_put(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	plat_write(PLAT_LOG, s, n);
}

void log_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vemit(log_put, NULL, fmt, ap);
	va_end(ap);
}

#ifdef CORE_CHECKS
_Noreturn void core_assert_fail(const char *cond, const char *file, int line)
{
	log_printf("error: assertion failed: %s (%s:%d)\n", cond, file, line);
	plat_exit(1);
}
#endif
