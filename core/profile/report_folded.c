/* report_folded.c: the profile as folded stacks ("a;b;c self-cycles" per stack path), the
 * input of flamegraph.pl and speedscope. */
#include "core/profile/profile_view.h"
#include "core/profile/profiler.h"
#include "core/profile/report.h"

void report_folded(Report *o)
{
	int count;
	const ProfilePathNode *paths = profile_paths(&count);
	for (int p = 0; p < count; p++) {
		if (!paths[p].calls)
			continue; /* a "?" placeholder or a never-closed zone */
		rep_path(o, p, ';', false);
		rep_printf(o, " %llu\n", (unsigned long long)paths[p].self);
	}
	int64_t un = profiler_unattributed_cycles();
	if (un > 0)
		rep_printf(o, "(unattributed) %lld\n", (long long)un);
}
