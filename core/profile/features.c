/* features.c: the record of the features a run used and the refusal of dropped ones
 * (features.h). */
#include "core/profile/features.h"

#include <stdint.h>

#include "core/base/error.h"

_Static_assert(FEAT_COUNT <= 32, "the used set is one 32-bit word");

static const struct {
	const char *name, *what;
} table[FEAT_COUNT] = {
#define FEATURE_ROW(name, json, text) [FEAT_##name] = {json, text},
    FEATURE_TABLE(FEATURE_ROW)
#undef FEATURE_ROW
};

static uint32_t used;

int feature_mark(Feature f)
{
	used |= 1u << f;
	return 0;
}

int feature_refuse_error(Feature f)
{
	return error_set("this image was built without %s (%s): its profile did not use it; run "
			 "the full kernel or make image from a profile of such a run",
			 table[f].what, table[f].name);
}

int feature_used(Feature f)
{
	return (used >> f) & 1;
}

const char *feature_name(Feature f)
{
	return table[f].name;
}
