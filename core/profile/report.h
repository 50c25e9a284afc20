/* report.h: inside core/profile only: the buffered writer every report goes through (to the
 * log stream or a platform file), with the escapes and figures the report formats share. */
#ifndef PROFILE_REPORT_H
#define PROFILE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	int handle; /* -1: the log stream */
	bool failed;
	size_t n;
	char buf[2048];
} Report;

/* Opens a report of kind what ("JSON", "SVG", ...) to path (NULL: the log stream); 0, or -1
 * (error set) when the file cannot be created. */
int rep_open(Report *o, const char *path, const char *what);
/* Drains and closes it; 0, or -1 (error set) when any write failed. */
int rep_close(Report *o, const char *path, const char *what);
void rep_put(Report *o, const char *s, size_t n);
void rep_printf(Report *o, const char *fmt, ...);
/* s as a JSON string, quotes included. */
void rep_json_string(Report *o, const char *s);
/* Up to max bytes of s as XML text; bytes outside printable ASCII become '?'. */
void rep_xml_text(Report *o, const char *s, size_t max);
/* "a;b;c" for stack path node p, outermost zone first; xml escapes the names. */
void rep_path(Report *o, int p, char sep, bool xml);

/* Cycles as nanoseconds at the platform's TSC rate (0 when uncalibrated). */
double cycles_ns(uint64_t c);
double percent(uint64_t part, uint64_t whole);

/* The three formats of profiler_write_report. */
void report_text(Report *o);
void report_json(Report *o);
void report_folded(Report *o);

#endif
