/* kernel_records.c: the profile's kernel records: calls, cycles and weight bytes per (kernel,
 * dtype, rows, cols, tokens, isa), in a fixed hash table; what the tier-up reads; and the tier
 * records it files back. */
#include <stddef.h>

#include "core/base/error.h"
#include "core/base/str.h"
#include "core/profile/profile_view.h"
#include "core/profile/profiler.h"

typedef struct {
	const char *kernel, *dtype, *isa;
	int rows, cols, tokens;
	uint32_t hash;
	uint64_t calls, cycles, bytes;
} KernelRecord;

/* Open addressing at load <= 1/2 keeps probes short and the hash never full. */
#define KERNEL_HASH_SIZE (2 * PROFILER_MAX_KERNELS)
_Static_assert((KERNEL_HASH_SIZE & (KERNEL_HASH_SIZE - 1)) == 0, "a power of two");
_Static_assert(PROFILER_MAX_KERNELS < 32767, "indices fit the int16_t hash slots");

static KernelRecord records[PROFILER_MAX_KERNELS];
static int record_count;
static int16_t record_hash[KERNEL_HASH_SIZE]; /* record index + 1; 0 = empty slot */
static uint64_t dropped;
static ProfileTierRecord tiers[PROFILER_MAX_TIER_RECORDS];
static int tier_count;

void profile_kernels_clear(void)
{
	tier_count = 0;
	mem_set(record_hash, 0, sizeof record_hash);
	record_count = 0;
	dropped = 0;
}

static uint32_t hash_str(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || str_eq(a, b);
}

void profiler_kernel_record(const char *kernel, const char *dtype, int rows, int cols, int tokens,
			    const char *isa, uint64_t cycles, uint64_t bytes)
{
	if (!profiler_enabled())
		return;
	kernel = kernel ? kernel : "?";
	dtype = dtype ? dtype : "?";
	isa = isa ? isa : "?";
	/* By content, not pointer: the same name may come from two string literals. */
	uint32_t h = hash_str(hash_str(hash_str(2166136261u, kernel), dtype), isa);
	h = (h ^ (uint32_t)rows) * 0x9e3779b1u;
	h = (h ^ (uint32_t)cols) * 0x85ebca77u;
	h = (h ^ (uint32_t)tokens) * 0x9e3779b1u;
	h ^= h >> 15;
	uint32_t slot = h & (KERNEL_HASH_SIZE - 1);
	KernelRecord *r;
	for (;; slot = (slot + 1) & (KERNEL_HASH_SIZE - 1)) {
		int e = record_hash[slot];
		if (!e) {
			if (record_count >= PROFILER_MAX_KERNELS) {
				dropped++;
				return;
			}
			r = &records[record_count];
			*r = (KernelRecord){kernel, dtype, isa, rows, cols, tokens, h, 0, 0, 0};
			record_hash[slot] = (int16_t)++record_count;
			break;
		}
		r = &records[e - 1];
		if (r->hash == h && r->rows == rows && r->cols == cols && r->tokens == tokens &&
		    same_str(r->kernel, kernel) && same_str(r->dtype, dtype) &&
		    same_str(r->isa, isa))
			break;
	}
	r->calls++;
	r->cycles += cycles;
	r->bytes += bytes;
}

int profiler_kernel_count(void)
{
	return record_count;
}

int profiler_kernel_stats(int i, ProfileKernelStats *out)
{
	if (i < 0 || i >= record_count)
		return error_set("profiler: no kernel record %d (%d recorded)", i, record_count);
	const KernelRecord *r = &records[i];
	*out = (ProfileKernelStats){r->kernel, r->dtype, r->isa,    r->rows, r->cols,
				    r->tokens, r->calls, r->cycles, r->bytes};
	return 0;
}

uint64_t profiler_kernels_dropped(void)
{
	return dropped;
}

int profile_kernels_ranked(int *indices, int max)
{
	int n = 0;
	for (int i = 0; i < record_count; i++) {
		/* Insertion into the ranked prefix, hottest first; ties keep first-use order. */
		int j = n < max ? n++ : max;
		while (j > 0 && records[indices[j - 1]].cycles < records[i].cycles) {
			if (j < max)
				indices[j] = indices[j - 1];
			j--;
		}
		if (j < max)
			indices[j] = i;
	}
	return n;
}

void profiler_tier_record(const ProfileTierRecord *r)
{
	if (tier_count < PROFILER_MAX_TIER_RECORDS)
		tiers[tier_count++] = *r;
}

int profiler_tier_count(void)
{
	return tier_count;
}

const ProfileTierRecord *profiler_tier_get(int i)
{
	return i >= 0 && i < tier_count ? &tiers[i] : NULL;
}
