/* fmt.h: printf-style formatting without libc, and the two output helpers.
 * Supports %s %c %d %i %u %x %ld %lu %lld %llu %zu %zd %p %f %e %g with width,
 * precision, '-' and '0' flags; floats are printed through exact decimal digits. */
#ifndef FMT_H
#define FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Writes at most cap-1 chars and a NUL; returns the length it would have had. */
size_t fmt_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
size_t fmt_format(char *buf, size_t cap, const char *fmt, ...);

/* Formatted text to PLAT_OUT (stdout / COM1) and PLAT_LOG (stderr / COM2). */
void out_printf(const char *fmt, ...);
void log_printf(const char *fmt, ...);
/* Formatted text to a stream (PLAT_OUT or PLAT_LOG). */
void stream_vprintf(int stream, const char *fmt, va_list ap);

#endif
