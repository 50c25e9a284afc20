/* report.c: the profile's report output: a buffer drained to the log stream or a platform
 * file, the escapes and figures the formats share, and profiler_write_report's dispatch. */
#include "core/profile/report.h"

#include <stdarg.h>

#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/base/str.h"
#include "core/profile/profile_view.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"

static void rep_flush(Report *o)
{
	if (!o->n)
		return;
	if (o->handle < 0)
		plat_write(PLAT_LOG, o->buf, o->n);
	else if (plat_file_write(o->handle, o->buf, o->n) < 0)
		o->failed = true;
	o->n = 0;
}

void rep_put(Report *o, const char *s, size_t n)
{
	while (n) {
		if (o->n == sizeof o->buf)
			rep_flush(o);
		size_t m = sizeof o->buf - o->n;
		if (m > n)
			m = n;
		mem_copy(o->buf + o->n, s, m);
		o->n += m;
		s += m;
		n -= m;
	}
}

void rep_printf(Report *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	size_t n = fmt_vformat(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	rep_put(o, tmp, n < sizeof tmp ? n : sizeof tmp - 1);
}

int rep_open(Report *o, const char *path, const char *what)
{
	o->n = 0;
	o->failed = false;
	o->handle = -1;
	if (!path)
		return 0;
	o->handle = plat_file_create(path);
	if (o->handle < 0)
		return error_set("profiler: %s; the %s report was not written anywhere",
				 error_message(), what);
	return 0;
}

int rep_close(Report *o, const char *path, const char *what)
{
	rep_flush(o);
	if (o->handle >= 0 && plat_file_close(o->handle) < 0)
		o->failed = true;
	if (o->handle < 0)
		plat_flush(PLAT_LOG);
	if (o->failed)
		return error_set("profiler: writing the %s report to %s failed; it is incomplete",
				 what, path ? path : "the log");
	return 0;
}

void rep_json_string(Report *o, const char *s)
{
	rep_put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			rep_put(o, e, 2);
		} else if (c < 0x20) {
			rep_printf(o, "\\u%04x", c);
		} else {
			rep_put(o, (const char *)s, 1);
		}
	}
	rep_put(o, "\"", 1);
}

void rep_xml_text(Report *o, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		char c = s[i];
		if (c == '&')
			rep_put(o, "&amp;", 5);
		else if (c == '<')
			rep_put(o, "&lt;", 4);
		else if (c == '>')
			rep_put(o, "&gt;", 4);
		else if (c == '"')
			rep_put(o, "&quot;", 6);
		else if (c == '\'')
			rep_put(o, "&apos;", 6);
		else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			rep_put(o, "?", 1); /* keeps the file valid XML whatever the name holds */
		else
			rep_put(o, &c, 1);
	}
}

void rep_path(Report *o, int p, char sep, bool xml)
{
	int count;
	const ProfilePathNode *paths = profile_paths(&count);
	int chain[PROFILER_MAX_DEPTH + 1];
	int n = 0;
	for (; p >= 0 && n < PROFILER_MAX_DEPTH + 1; p = paths[p].parent)
		chain[n++] = paths[p].zone;
	for (int i = n - 1; i >= 0; i--) {
		const char *name = profile_zone_name(chain[i]);
		if (xml)
			rep_xml_text(o, name, 200);
		else
			rep_put(o, name, str_len(name));
		if (i)
			rep_put(o, &sep, 1);
	}
}

double cycles_ns(uint64_t c)
{
	uint64_t hz = plat_cycles_hz();
	return hz ? (double)c * 1e9 / (double)hz : 0.0;
}

double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static const char *format_name(ProfileFormat format)
{
	return format == PROFILE_JSON ? "JSON" : format == PROFILE_FOLDED ? "folded" : "text";
}

int profiler_write_report(ProfileFormat format, const char *path)
{
	Report o;
	const char *what = format_name(format);
	if (rep_open(&o, path, what) < 0)
		return -1;
	if (format == PROFILE_JSON)
		report_json(&o);
	else if (format == PROFILE_FOLDED)
		report_folded(&o);
	else
		report_text(&o);
	if (rep_close(&o, path, what) < 0)
		return -1;
	ProfileRunFacts f;
	profile_run_facts(&f);
	if (format == PROFILE_FOLDED && f.path_full)
		return error_set("profiler: folded stacks incomplete: the path table "
				 "(PROFILER_MAX_PATHS = %d) overflowed; %llu self cycles not shown",
				 PROFILER_MAX_PATHS, (unsigned long long)f.lost_self);
	return 0;
}

void profiler_report(void)
{
	profiler_write_report(PROFILE_TEXT, NULL);
}
