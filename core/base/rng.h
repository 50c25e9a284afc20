/* rng.h: the project's PRNG (splitmix64 to seed, xorshift64* to draw): the same
 * sequence on every machine and target, for synthetic weights and sampling. */
#ifndef RNG_H
#define RNG_H

#include <stdint.h>

static inline uint64_t rng_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

typedef struct {
	uint64_t s;
} Rng;

static inline void rng_seed(Rng *r, uint64_t seed)
{
	r->s = rng_mix(seed);
	if (!r->s)
		r->s = 0x2545f4914f6cdd1dull;
}

static inline uint64_t rng_next(Rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform float in [0, 1) with 24 random bits. */
static inline float rng_float(Rng *r)
{
	return (float)(rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

#endif
