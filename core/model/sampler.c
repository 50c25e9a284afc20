/* sampler.c: greedy and stochastic sampling over the logits. */
#include "core/model/sampler.h"

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/base/mathx.h"
#include "core/model/ops.h"
#include "core/profile/features.h"
#include "core/profile/profiler.h"

int sampler_init(Sampler *s, int vocab_size, float temperature, int top_k, float top_p, float min_p,
		 uint64_t seed)
{
	s->vocab_size = vocab_size;
	s->temperature = temperature;
	s->top_k = top_k;
	s->top_p = top_p;
	s->min_p = min_p;
	s->repeat_penalty = 1.0f;
	s->recent = NULL;
	s->n_recent = s->recent_pos = 0;
	/* the kinds of sampling in use: recorded, or refused by an image without them */
	if (temperature != 0.0f &&
	    (FEATURE_NEED(SAMPLE) < 0 ||
	     (top_k > 0 && top_k < vocab_size && FEATURE_NEED(TOP_K) < 0) ||
	     (top_p < 1.0f && FEATURE_NEED(TOP_P) < 0) || (min_p > 0 && FEATURE_NEED(MIN_P) < 0)))
		return -1;
	rng_seed(&s->rng, seed);
	s->cand = arena_alloc(sizeof(ProbIndex) * (size_t)vocab_size, 64, "sampler candidates");
	return s->cand ? 0 : error_set("not enough memory for the sampler");
}

int sampler_set_penalty(Sampler *s, float penalty, int last_n)
{
	s->repeat_penalty = penalty;
	s->repeat_last_n = last_n;
	if (penalty == 1.0f || last_n <= 0)
		return 0;
	if (FEATURE_NEED(REPEAT_PENALTY) < 0)
		return -1;
	s->recent = arena_alloc(sizeof(int) * (size_t)last_n, 64, "sampler history");
	return s->recent ? 0 : error_set("not enough memory for the sampler history");
}

void sampler_accept(Sampler *s, int token)
{
	if (!s->recent)
		return;
	s->recent[s->recent_pos] = token;
	s->recent_pos = (s->recent_pos + 1) % s->repeat_last_n;
	if (s->n_recent < s->repeat_last_n)
		s->n_recent++;
}

static void apply_penalty(const Sampler *s, float *logits)
{
	/* Each distinct recent token is penalised once, however often it occurred. */
	for (int i = 0; i < s->n_recent; i++) {
		int t = s->recent[i], seen = 0;
		for (int j = 0; j < i; j++)
			seen |= s->recent[j] == t;
		if (seen || t < 0 || t >= s->vocab_size)
			continue;
		logits[t] =
		    logits[t] > 0 ? logits[t] / s->repeat_penalty : logits[t] * s->repeat_penalty;
	}
}

int sampler_argmax(const float *x, int n)
{
	int best = 0;
	for (int i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/* a ranks before b: higher prob, then lower index. */
static int before(const ProbIndex *a, const ProbIndex *b)
{
	return a->prob > b->prob || (a->prob == b->prob && a->index < b->index);
}

static void sift_down(ProbIndex *h, int n, int i)
{
	/* Min-heap on rank: the root is the candidate that sorts last. */
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && before(&h[m], &h[l]))
			m = l;
		if (r < n && before(&h[m], &h[r]))
			m = r;
		if (m == i)
			return;
		ProbIndex t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Pops the heap h (n entries, root last in rank) into rank order, best first. */
static void heap_drain(ProbIndex *h, int n)
{
	for (int end = n - 1; end > 0; end--) {
		ProbIndex t = h[0];
		h[0] = h[end];
		h[end] = t;
		sift_down(h, end, 0);
	}
}

void sampler_sort(ProbIndex *cand, int n)
{
	for (int i = n / 2 - 1; i >= 0; i--)
		sift_down(cand, n, i);
	heap_drain(cand, n);
}

/* The k best of probs[0..n) in rank order into cand (k <= n): a heap of the best so far,
 * whose root (the worst of them) each later token must beat. Rank is a total order, so the
 * k kept and their order are those of a full sort. */
static void select_top_k(ProbIndex *cand, const float *probs, int n, int k)
{
	for (int i = 0; i < k; i++)
		cand[i] = (ProbIndex){probs[i], i};
	for (int i = k / 2 - 1; i >= 0; i--)
		sift_down(cand, k, i);
	for (int i = k; i < n; i++) {
		/* a later index wins only with a strictly higher probability */
		if (probs[i] > cand[0].prob) {
			cand[0] = (ProbIndex){probs[i], i};
			sift_down(cand, k, 0);
		}
	}
	heap_drain(cand, k);
}

int sampler_top_p_cut(const ProbIndex *cand, int n, float p)
{
	float mass = 0;
	for (int i = 0; i < n; i++) {
		mass += cand[i].prob;
		if (mass >= p)
			return i + 1;
	}
	return n;
}

/* Temperature-scaled softmax of the logits, in place; returns the index of the largest logit (the
 * first on ties), or -1 when scaling overflows: a temperature that small is greedy in effect. */
static int scaled_softmax(const Sampler *s, float *logits)
{
	int n = s->vocab_size, best = 0;
	for (int i = 1; i < n; i++)
		if (logits[i] > logits[best])
			best = i;
	float top = logits[best] / s->temperature;
	if (!(top - top == 0.0f)) /* +-inf: the largest logit dominates every other */
		return -1;
	for (int i = 0; i < n; i++)
		logits[i] /= s->temperature;
	softmax(logits, n);
	return best;
}

int sampler_sample(Sampler *s, float *logits)
{
	PROFILE_BEGIN(zone, "sampler");
	int n = s->vocab_size, next;
	if (FEATURE_KEPT(REPEAT_PENALTY) && s->recent)
		apply_penalty(s, logits);
	int best = !FEATURE_KEPT(SAMPLE) || s->temperature == 0.0f ? -1 : scaled_softmax(s, logits);
	if (best < 0) {
		next = sampler_argmax(logits, n);
		PROFILE_END(zone);
		return next;
	}
	const float *probs = logits;
	int m = 0;
	if (FEATURE_KEPT(TOP_K) && s->top_k > 0 && s->top_k < n) {
		select_top_k(s->cand, probs, n, s->top_k);
		m = s->top_k;
	} else {
		/* Without top-k, candidates below this probability cannot be inside any nucleus
		 * that ends earlier; with min-p alone, nothing below its floor survives. The most
		 * likely token always does. */
		float cutoff = 0;
		if (s->top_k == 0 && s->top_p < 1.0f && n > 1)
			cutoff = (1.0f - s->top_p) / (float)(n - 1);
		else if (s->top_p >= 1.0f && s->min_p > 0)
			cutoff = s->min_p * probs[best];
		if (cutoff > probs[best])
			cutoff = probs[best];
		for (int i = 0; i < n; i++)
			if (probs[i] >= cutoff)
				s->cand[m++] = (ProbIndex){probs[i], i};
		if (s->top_k > 0 || s->top_p < 1.0f || s->min_p > 0)
			sampler_sort(s->cand, m);
	}
	int keep = m;
	if (FEATURE_KEPT(TOP_P) && s->top_p < 1.0f) {
		float mass = 0;
		for (int i = 0; i < keep; i++)
			mass += s->cand[i].prob;
		/* nucleus over the (top-k) renormalised distribution */
		keep = sampler_top_p_cut(s->cand, keep, s->top_p * mass);
	}
	if (FEATURE_KEPT(MIN_P) && s->min_p > 0) {
		float floor = s->min_p * s->cand[0].prob;
		int k = 1;
		while (k < keep && s->cand[k].prob >= floor)
			k++;
		keep = k;
	}
	float mass = 0;
	for (int i = 0; i < keep; i++)
		mass += s->cand[i].prob;
	float coin = rng_float(&s->rng) * mass, cdf = 0;
	next = s->cand[keep - 1].index;
	for (int i = 0; i < keep; i++) {
		cdf += s->cand[i].prob;
		if (coin < cdf) {
			next = s->cand[i].index;
			break;
		}
	}
	PROFILE_END(zone);
	return next;
}
