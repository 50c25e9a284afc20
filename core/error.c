/* error.c: keeps the last error message of core in a fixed buffer. */
#include "error.h"

#include <stdarg.h>

#include "fmt.h"

static char error_buf[512];

int error_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vformat(error_buf, sizeof error_buf, fmt, ap);
	va_end(ap);
	return -1;
}

const char *error_message(void)
{
	return error_buf[0] ? error_buf : "unknown error";
}

void error_clear(void)
{
	error_buf[0] = 0;
}
