/* fmt.h: printf-style formatting without libc, into a buffer or into any sink.
 * Supports %s %c %d %i %u %x %ld %lu %lld %llu %zu %zd %p %f %e %g with width,
 * precision, '-' and '0' flags; floats are printed through exact decimal digits. */
#ifndef FMT_H
#define FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Writes at most cap-1 chars and a NUL; returns the length it would have had. */
size_t fmt_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
size_t fmt_format(char *buf, size_t cap, const char *fmt, ...);

/* Receives formatted text in pieces (not NUL-terminated). */
typedef void (*FmtPut)(void *ctx, const char *s, size_t n);
/* Formats to put, piece by piece and without a length limit; returns the length. */
size_t fmt_vemit(FmtPut put, void *ctx, const char *fmt, va_list ap);

#endif
