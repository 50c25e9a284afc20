/* error.h: the last error of core, as one line of text.
 * Loaders and parsers set it and return -1; app_main prints it once and exits non-zero. */
#ifndef ERROR_H
#define ERROR_H

/* Formats the message (fmt.h syntax) and returns -1, so `return error_set(...)` reads well. */
int error_set(const char *fmt, ...);
const char *error_message(void);
void error_clear(void);

#endif
