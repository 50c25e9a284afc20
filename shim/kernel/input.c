/* input.c: user input in the kernel: there is none (no keyboard driver; --chat is host only). */
#include "shim/platform.h"

int plat_read_line(char *buf, size_t cap)
{
	if (cap)
		buf[0] = 0;
	return -1;
}
