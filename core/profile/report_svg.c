/* report_svg.c: the profile as an SVG picture: an icicle chart of the stack paths over the
 * run, then the hottest zones' self and inclusive cycles as bars. */
#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/profile/profile_view.h"
#include "core/profile/profiler.h"
#include "core/profile/report.h"
#include "shim/platform.h"

#define SVG_WIDTH 1200
#define SVG_MARGIN 10
#define SVG_ROW 20
#define SVG_CHAR_PX 7
#define SVG_BARS 12

/* A warm colour from the name, stable between runs so that charts can be compared. */
static void rep_color(Report *o, const char *name)
{
	uint32_t h = 2166136261u;
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	rep_printf(o, "rgb(%u,%u,%u)", 205 + h % 50, 90 + (h >> 8) % 120, 40 + (h >> 16) % 50);
}

static void svg_box(Report *o, double x, double y, double w, const char *name, int path,
		    uint64_t incl, uint64_t self, uint64_t total)
{
	rep_printf(o, "<g><title>");
	if (path >= 0) {
		rep_path(o, path, ';', true);
	} else {
		rep_xml_text(o, name, 200);
	}
	rep_printf(o, ": %llu cycles (%.2f%%), self %llu (%.2f%%)</title>",
		   (unsigned long long)incl, percent(incl, total), (unsigned long long)self,
		   percent(self, total));
	rep_printf(o, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"", x, y, w,
		   SVG_ROW - 2);
	if (path >= 0)
		rep_color(o, name);
	else
		rep_put(o, "rgb(200,200,200)", 16);
	rep_printf(o, "\"/>");
	size_t chars = (size_t)(w / SVG_CHAR_PX);
	if (chars >= 3) {
		rep_printf(o, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + SVG_ROW - 7);
		/* The share of the run after the name when the box has room for both. */
		char label[160];
		size_t n = fmt_format(label, sizeof label, "%s %.1f%%", name, percent(incl, total));
		rep_xml_text(o, n < chars ? label : name, chars - 1);
		rep_printf(o, "</text>");
	}
	rep_printf(o, "</g>\n");
}

int profiler_write_svg(const char *path)
{
	static uint64_t incl[PROFILER_MAX_PATHS];
	static double x0[PROFILER_MAX_PATHS], next[PROFILER_MAX_PATHS];
	static int depth[PROFILER_MAX_PATHS];
	Report o;
	if (rep_open(&o, path, "SVG") < 0)
		return -1;
	int path_count;
	const ProfilePathNode *paths = profile_paths(&path_count);
	ProfileRunFacts f;
	profile_run_facts(&f);

	/* Parents are always created before their children, so one backward pass sums the
	 * inclusive cycles and one forward pass lays children out left to right. */
	uint64_t roots = 0;
	int max_depth = 0;
	for (int p = 0; p < path_count; p++)
		incl[p] = paths[p].self;
	for (int p = path_count - 1; p >= 0; p--)
		if (paths[p].parent >= 0)
			incl[paths[p].parent] += incl[p];
	for (int p = 0; p < path_count; p++) {
		depth[p] = paths[p].parent >= 0 ? depth[paths[p].parent] + 1 : 0;
		if (depth[p] > max_depth)
			max_depth = depth[p];
		if (paths[p].parent < 0)
			roots += incl[p];
	}
	uint64_t total = profiler_total_cycles();
	int64_t un = profiler_unattributed_cycles();
	uint64_t span = total > roots ? total : roots;
	double scale = span ? (double)(SVG_WIDTH - 2 * SVG_MARGIN) / (double)span : 0.0;

	int hotlist[SVG_BARS];
	int nbars = profiler_get_hot_paths(hotlist, SVG_BARS);
	int top = 50;
	int icicle_h = (path_count ? max_depth + 1 : 0) * SVG_ROW + SVG_ROW;
	int bars_top = top + icicle_h + 40;
	int height = bars_top + nbars * SVG_ROW * 2 + 20;

	rep_printf(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	rep_printf(&o,
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">\n",
		   SVG_WIDTH, height, SVG_WIDTH, height);
	rep_printf(&o, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	rep_printf(&o,
		   "<text x=\"%d\" y=\"22\" font-size=\"16\">TinyLlama profile: %llu cycles "
		   "(%.3f ms, TSC from ",
		   SVG_MARGIN, (unsigned long long)total, cycles_ns(total) / 1e6);
	rep_xml_text(&o, plat_cycles_source(), 64);
	rep_printf(&o, "%s)</text>\n", f.invariant_tsc ? "" : ", TSC NOT invariant");
	rep_printf(&o,
		   "<text x=\"%d\" y=\"40\">Stack paths, outermost zone on top; width = inclusive "
		   "cycles of the run; hover for figures</text>\n",
		   SVG_MARGIN);

	double root_next = SVG_MARGIN;
	for (int p = 0; p < path_count; p++) {
		int parent = paths[p].parent;
		x0[p] = parent >= 0 ? next[parent] : root_next;
		next[p] = x0[p];
		double w = (double)incl[p] * scale;
		if (parent >= 0)
			next[parent] += w;
		else
			root_next += w;
		if (w >= 0.5)
			svg_box(&o, x0[p], top + depth[p] * SVG_ROW, w,
				profile_zone_name(paths[p].zone), p, incl[p], paths[p].self, total);
	}
	if (un > 0)
		svg_box(&o, root_next, top, (double)un * scale, "(unattributed)", -1, (uint64_t)un,
			(uint64_t)un, total);

	rep_printf(&o,
		   "<text x=\"%d\" y=\"%d\" font-size=\"14\">Hot zones: self (dark) vs inclusive "
		   "(light), %% of the run</text>\n",
		   SVG_MARGIN, bars_top - 10);
	double bar_w = SVG_WIDTH - 2 * SVG_MARGIN - 420;
	for (int i = 0; i < nbars; i++) {
		ProfileZoneStats z;
		profiler_zone_stats(hotlist[i], &z);
		double y = bars_top + i * SVG_ROW * 2;
		rep_printf(&o, "<text x=\"%d\" y=\"%.1f\">", SVG_MARGIN, y + 13);
		rep_xml_text(&o, z.name, 30);
		rep_printf(&o, "</text>");
		rep_printf(&o,
			   "<rect x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"16\" "
			   "fill=\"rgb(250,200,150)\"/>",
			   SVG_MARGIN + 230, y, bar_w * percent(z.inclusive_cycles, span) / 100.0);
		rep_printf(&o,
			   "<rect x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"16\" "
			   "fill=\"rgb(200,70,40)\"/>",
			   SVG_MARGIN + 230, y, bar_w * percent(z.self_cycles, span) / 100.0);
		rep_printf(&o, "<text x=\"%.1f\" y=\"%.1f\">self %.1f%%, incl %.1f%%</text>\n",
			   SVG_MARGIN + 240 + bar_w, y + 13, percent(z.self_cycles, total),
			   percent(z.inclusive_cycles, total));
	}
	rep_printf(&o, "</svg>\n");
	if (rep_close(&o, path, "SVG") < 0)
		return -1;
	if (f.path_full)
		return error_set(
		    "profiler: SVG incomplete: the path table (PROFILER_MAX_PATHS = %d) "
		    "overflowed; %llu self cycles not shown",
		    PROFILER_MAX_PATHS, (unsigned long long)f.lost_self);
	return 0;
}
