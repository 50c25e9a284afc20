/* console.h: formatted text to the machine's two streams: the console (PLAT_OUT: stdout /
 * COM1, written through the design card's serial_puts) and the log (PLAT_LOG: stderr / COM2).
 * The one module between core's printing and shim/platform.h; core/base stays below it. */
#ifndef CONSOLE_H
#define CONSOLE_H

/* Formatted text (core/base/fmt.h syntax) to the console: generated ids, echoes, prompts. */
void out_printf(const char *fmt, ...);
/* Formatted text to the log stream: stats, notes, errors. */
void log_printf(const char *fmt, ...);

#endif
