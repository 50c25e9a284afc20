/* error.c: keeps the last error message of core in a fixed buffer. */
#include "core/base/error.h"

#include <stdarg.h>

#include "core/base/fmt.h"
#include "core/base/str.h"

static char error_buf[512];

int error_set(const char *fmt, ...)
{
	/* Formatted aside first: the arguments may include error_message() itself. */
	char tmp[sizeof error_buf];
	va_list ap;
	va_start(ap, fmt);
	fmt_vformat(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	mem_copy(error_buf, tmp, sizeof tmp);
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
