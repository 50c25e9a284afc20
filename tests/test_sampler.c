/* test_sampler.c: core/model/sampler.c: greedy, seeded sampling, top-k, top-p, min-p, penalty. */
#include <math.h>
#include <string.h>

#include "core/model/ops.h"
#include "core/model/sampler.h"
#include "shim/platform.h"
#include "tests.h"

/* Empirical frequencies over SAMPLE_DRAWS draws: within this many binomial standard
 * deviations of the expected probability (the seed is fixed, so this never flakes). */
#define SAMPLE_DRAWS 20000
#define MAX_FREQ_SIGMAS 4.0

#define V 8
/* log of dyadic probabilities, so that sums are exact in float. */
static const float DYADIC[V] = {0.5f,	  0.25f,     0.125f,	 0.0625f,
				0.03125f, 0.015625f, 0.0078125f, 0.0078125f};

static void dyadic_logits(float *l)
{
	for (int i = 0; i < V; i++)
		l[i] = logf(DYADIC[i]);
}

/* Draws SAMPLE_DRAWS tokens and counts them. */
static void draw(Sampler *s, const float *logits, int *count)
{
	float l[V];
	memset(count, 0, sizeof(int) * V);
	for (int i = 0; i < SAMPLE_DRAWS; i++) {
		memcpy(l, logits, sizeof l);
		int t = sampler_sample(s, l);
		ck_assert_msg(t >= 0 && t < V, "sampled token %d outside the vocabulary", t);
		count[t]++;
	}
}

/* Checks count against probabilities p (renormalised over the kept set). */
static void check_freqs(const int *count, const double *p, const char *what)
{
	for (int i = 0; i < V; i++) {
		double f = (double)count[i] / SAMPLE_DRAWS;
		double sigma = sqrt(p[i] * (1 - p[i]) / SAMPLE_DRAWS);
		if (p[i] == 0)
			ck_assert_msg(count[i] == 0,
				      "%s: token %d is outside the kept set but drawn %d "
				      "times",
				      what, i, count[i]);
		else
			ck_assert_msg(fabs(f - p[i]) <= MAX_FREQ_SIGMAS * sigma,
				      "%s: token %d drawn with frequency %.4f, expected %.4f (%.1f "
				      "sigma allowed)",
				      what, i, f, p[i], MAX_FREQ_SIGMAS);
	}
}

START_TEST(test_argmax_and_greedy)
{
	float x[6] = {0.1f, 3.0f, -1.0f, 3.0f, 2.9f, -INFINITY};
	ck_assert_msg(sampler_argmax(x, 6) == 1, "argmax takes the first of tied maxima");
	ck_assert_msg(sampler_argmax(x, 1) == 0, "argmax of one value is 0");
	float neg[3] = {-5, -2, -3};
	ck_assert_msg(sampler_argmax(neg, 3) == 1, "argmax of negative values");
	Sampler s;
	ck_assert_msg(sampler_init(&s, 6, 0.0f, 40, 0.95f, 0.05f, 7) == 0, "sampler_init");
	for (int i = 0; i < 10; i++) {
		float l[6];
		memcpy(l, x, sizeof l);
		ck_assert_msg(sampler_sample(&s, l) == 1, "temperature 0 must be argmax");
	}
}
END_TEST

START_TEST(test_seed_determinism)
{
	float logits[V];
	dyadic_logits(logits);
	Sampler a, b, c;
	ck_assert_msg(sampler_init(&a, V, 1.0f, 0, 1.0f, 0.0f, 1234) == 0 &&
			  sampler_init(&b, V, 1.0f, 0, 1.0f, 0.0f, 1234) == 0 &&
			  sampler_init(&c, V, 1.0f, 0, 1.0f, 0.0f, 1235) == 0,
		      "sampler_init");
	int differ = 0;
	for (int i = 0; i < 500; i++) {
		float la[V], lb[V], lc[V];
		memcpy(la, logits, sizeof la);
		memcpy(lb, logits, sizeof lb);
		memcpy(lc, logits, sizeof lc);
		int ta = sampler_sample(&a, la), tb = sampler_sample(&b, lb);
		ck_assert_msg(ta == tb, "same seed, draw %d: %d vs %d", i, ta, tb);
		differ += sampler_sample(&c, lc) != ta;
	}
	ck_assert_msg(differ > 50,
		      "seeds 1234 and 1235 must give different sequences (%d of 500 "
		      "draws differ)",
		      differ);
}
END_TEST

START_TEST(test_top_k_one_is_greedy)
{
	Rng r;
	rng_seed(&r, 5);
	Sampler s;
	ck_assert_msg(sampler_init(&s, 100, 0.8f, 1, 0.95f, 0.0f, 9) == 0, "sampler_init");
	for (int trial = 0; trial < 200; trial++) {
		float l[100];
		for (int i = 0; i < 100; i++)
			l[i] = 4 * rng_float(&r);
		int want = sampler_argmax(l, 100);
		ck_assert_msg(sampler_sample(&s, l) == want, "top-k 1 must pick the argmax %d",
			      want);
	}
}
END_TEST

START_TEST(test_sort)
{
	ProbIndex c[200];
	Rng r;
	rng_seed(&r, 6);
	for (int i = 0; i < 200; i++)
		c[i] = (ProbIndex){(float)(rng_next(&r) % 17) / 17.0f, i}; /* many ties */
	sampler_sort(c, 200);
	int seen[200] = {0};
	for (int i = 0; i < 200; i++) {
		seen[c[i].index]++;
		if (i)
			ck_assert_msg(c[i - 1].prob > c[i].prob || (c[i - 1].prob == c[i].prob &&
								    c[i - 1].index < c[i].index),
				      "sorted order broken at %d: (%g, %d) before (%g, %d)", i,
				      (double)c[i - 1].prob, c[i - 1].index, (double)c[i].prob,
				      c[i].index);
	}
	for (int i = 0; i < 200; i++)
		ck_assert_msg(seen[i] == 1, "index %d appears %d times after sorting", i, seen[i]);
	sampler_sort(c, 0);
	sampler_sort(c, 1);
}
END_TEST

START_TEST(test_top_p_cut)
{
	ProbIndex c[V];
	for (int i = 0; i < V; i++)
		c[V - 1 - i] = (ProbIndex){DYADIC[i], i}; /* reversed, then sorted */
	sampler_sort(c, V);
	for (int i = 0; i < V; i++)
		ck_assert_msg(c[i].index == i, "sorted position %d holds %d", i, c[i].index);
	static const struct {
		float p;
		int keep;
	} cases[] = {{0.1f, 1},	  {0.5f, 1}, {0.5001f, 2}, {0.75f, 2}, {0.76f, 3},
		     {0.875f, 3}, {0.9f, 4}, {0.99f, 7},   {1.0f, 8}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = sampler_top_p_cut(c, V, cases[i].p);
		ck_assert_msg(got == cases[i].keep,
			      "top-p %g keeps %d tokens, the smallest set with mass >= p has %d",
			      (double)cases[i].p, got, cases[i].keep);
	}
}
END_TEST

START_TEST(test_full_distribution_statistics)
{
	float logits[V];
	dyadic_logits(logits);
	double p[V];
	for (int i = 0; i < V; i++)
		p[i] = DYADIC[i];
	Sampler s;
	ck_assert_msg(sampler_init(&s, V, 1.0f, 0, 1.0f, 0.0f, 42) == 0, "sampler_init");
	int count[V];
	draw(&s, logits, count);
	check_freqs(count, p, "temperature 1, no cut");
	/* Temperature 2 flattens: p ~ sqrt(p). */
	ck_assert_msg(sampler_init(&s, V, 2.0f, 0, 1.0f, 0.0f, 43) == 0, "sampler_init");
	double sum = 0;
	for (int i = 0; i < V; i++)
		sum += p[i] = sqrt(DYADIC[i]);
	for (int i = 0; i < V; i++)
		p[i] /= sum;
	draw(&s, logits, count);
	check_freqs(count, p, "temperature 2");
}
END_TEST

START_TEST(test_cut_statistics)
{
	float logits[V];
	dyadic_logits(logits);
	int count[V];
	Sampler s;
	/* top-p 0.8: nucleus {0, 1, 2} (mass 0.875), renormalised. */
	ck_assert_msg(sampler_init(&s, V, 1.0f, 0, 0.8f, 0.0f, 44) == 0, "sampler_init");
	draw(&s, logits, count);
	double pp[V] = {0.5 / 0.875, 0.25 / 0.875, 0.125 / 0.875};
	check_freqs(count, pp, "top-p 0.8");
	/* top-k 2: {0, 1}. */
	ck_assert_msg(sampler_init(&s, V, 1.0f, 2, 1.0f, 0.0f, 45) == 0, "sampler_init");
	draw(&s, logits, count);
	double pk[V] = {2.0 / 3, 1.0 / 3};
	check_freqs(count, pk, "top-k 2");
	/* min-p 0.2: tokens with p >= 0.1, that is {0, 1, 2}. */
	ck_assert_msg(sampler_init(&s, V, 1.0f, 0, 1.0f, 0.2f, 46) == 0, "sampler_init");
	draw(&s, logits, count);
	check_freqs(count, pp, "min-p 0.2");
	/* min-p 0.6: only the top token (0.25 < 0.3). */
	ck_assert_msg(sampler_init(&s, V, 1.0f, 0, 1.0f, 0.6f, 47) == 0, "sampler_init");
	draw(&s, logits, count);
	double p1[V] = {1.0};
	check_freqs(count, p1, "min-p 0.6");
	/* top-k 3 then top-p 0.9 of that renormalised set (0.875 -> p*mass 0.7875): {0, 1, 2}. */
	ck_assert_msg(sampler_init(&s, V, 1.0f, 3, 0.9f, 0.0f, 48) == 0, "sampler_init");
	draw(&s, logits, count);
	check_freqs(count, pp, "top-k 3 + top-p 0.9");
}
END_TEST

START_TEST(test_repetition_penalty)
{
	Sampler s;
	ck_assert_msg(sampler_init(&s, 4, 0.0f, 0, 1.0f, 0.0f, 1) == 0, "sampler_init");
	ck_assert_msg(sampler_set_penalty(&s, 1.5f, 2) == 0, "sampler_set_penalty");
	float l[4] = {2.0f, 1.9f, -1.0f, -1.2f};
	float w[4];
	memcpy(w, l, sizeof w);
	ck_assert_msg(sampler_sample(&s, w) == 0, "no history yet: argmax 0");
	sampler_accept(&s, 0);
	memcpy(w, l, sizeof w);
	ck_assert_msg(sampler_sample(&s, w) == 1, "token 0 seen: 2.0/1.5 < 1.9, so 1 wins");
	ck_assert_msg(w[0] == 2.0f / 1.5f, "positive logit divided by the penalty: %g",
		      (double)w[0]);
	sampler_accept(&s, 1);
	memcpy(w, l, sizeof w);
	sampler_sample(&s, w);
	ck_assert_msg(w[1] == 1.9f / 1.5f, "second recent token penalised too: %g", (double)w[1]);
	sampler_accept(&s, 2);
	sampler_accept(&s, 2); /* window of 2 now holds {2, 2}: 0 and 1 are forgotten */
	memcpy(w, l, sizeof w);
	ck_assert_msg(sampler_sample(&s, w) == 0, "tokens out of the window are not penalised");
	ck_assert_msg(w[2] == -1.0f * 1.5f,
		      "negative logit multiplied once, even if seen twice: %g", (double)w[2]);
}
END_TEST

/* The plain algorithm the sampler speeds up: every token sorted, then top-k, top-p over the
 * top-k mass, min-p, and the draw; the sampler must give the same token for the same coin. */
static int reference_sample(int n, float *probs, int top_k, float top_p, float min_p, float coin01,
			    ProbIndex *cand)
{
	int m = 0;
	float cutoff = top_p < 1.0f && top_k == 0 ? (1.0f - top_p) / (float)(n - 1) : 0;
	for (int i = 0; i < n; i++)
		if (probs[i] >= cutoff)
			cand[m++] = (ProbIndex){probs[i], i};
	int keep = m;
	if (top_k > 0 || top_p < 1.0f || min_p > 0) {
		sampler_sort(cand, m);
		if (top_k > 0 && top_k < keep)
			keep = top_k;
		if (top_p < 1.0f) {
			float mass = 0;
			for (int i = 0; i < keep; i++)
				mass += cand[i].prob;
			keep = sampler_top_p_cut(cand, keep, top_p * mass);
		}
		if (min_p > 0) {
			float floor = min_p * cand[0].prob;
			int k = 1;
			while (k < keep && cand[k].prob >= floor)
				k++;
			keep = k;
		}
	}
	float mass = 0;
	for (int i = 0; i < keep; i++)
		mass += cand[i].prob;
	float coin = coin01 * mass, cdf = 0;
	for (int i = 0; i < keep; i++) {
		cdf += cand[i].prob;
		if (coin < cdf)
			return cand[i].index;
	}
	return cand[keep - 1].index;
}

START_TEST(test_same_draws_as_full_sort)
{
	enum { N = 600 };
	static const int ks[] = {0, 1, 7, 40, N, N + 5};
	static const float ps[] = {1.0f, 0.95f, 0.5f}, mins[] = {0.0f, 0.05f, 0.3f};
	static float logits[N], probs[N];
	static ProbIndex cand[N];
	Rng r;
	rng_seed(&r, 11);
	int checked = 0;
	for (int ki = 0; ki < 6; ki++)
		for (int pi = 0; pi < 3; pi++)
			for (int mi = 0; mi < 3; mi++) {
				Sampler s;
				ck_assert_msg(
				    sampler_init(&s, N, 0.8f, ks[ki], ps[pi], mins[mi], 99) == 0,
				    "sampler_init");
				Rng coins; /* the sampler's own coin sequence, drawn alongside */
				rng_seed(&coins, 99);
				for (int trial = 0; trial < 40; trial++) {
					/* coarse values: many ties between tokens */
					float spread = trial % 2 ? 12.0f : 2.0f;
					for (int i = 0; i < N; i++)
						logits[i] =
						    (float)(rng_next(&r) % 64) / 64.0f * spread;
					for (int i = 0; i < N; i++)
						probs[i] = logits[i] / 0.8f;
					softmax(probs, N);
					int want =
					    reference_sample(N, probs, ks[ki], ps[pi], mins[mi],
							     rng_float(&coins), cand);
					int got = sampler_sample(&s, logits);
					ck_assert_msg(
					    got == want,
					    "top-k %d top-p %g min-p %g trial %d: sampled "
					    "%d, the full sort gives %d",
					    ks[ki], (double)ps[pi], (double)mins[mi], trial, got,
					    want);
					checked++;
				}
			}
	ck_assert_int_eq(checked, 6 * 3 * 3 * 40);
}
END_TEST

/* Every setting the options accept gives a token inside the vocabulary. */
START_TEST(test_extreme_settings)
{
	float x[6] = {0.1f, 3.0f, -1.0f, 3.5f, 2.9f, -2.0f};
	float l[6];
	Sampler s;
	/* A temperature so small that scaling overflows is greedy. */
	static const float tiny[] = {1e-40f, 1e-30f, 1e-38f};
	for (int i = 0; i < 3; i++) {
		ck_assert(sampler_init(&s, 6, tiny[i], 40, 0.95f, 0.05f, 3) == 0);
		for (int k = 0; k < 20; k++) {
			memcpy(l, x, sizeof l);
			ck_assert_msg(sampler_sample(&s, l) == 3, "temperature %g must be greedy",
				      (double)tiny[i]);
		}
	}
	/* Huge temperatures flatten to uniform; every filter off; the smallest top-p on a
	 * flat distribution (no token reaches the nucleus bound, the best one stays). */
	static const struct {
		float temp, top_p, min_p;
		int top_k;
	} cases[] = {{3e38f, 0.95f, 0.05f, 40}, {0.8f, 1.0f, 0.0f, 0},	 {1e30f, 1e-7f, 0.0f, 0},
		     {1.0f, 1e-7f, 1.0f, 0},	{1e-20f, 1.0f, 0.0f, 0}, {1.0f, 1.0f, 1.0f, 1000}};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		ck_assert(sampler_init(&s, 6, cases[c].temp, cases[c].top_k, cases[c].top_p,
				       cases[c].min_p, 5) == 0);
		for (int k = 0; k < 50; k++) {
			memcpy(l, x, sizeof l);
			int t = sampler_sample(&s, l);
			ck_assert_msg(t >= 0 && t < 6, "case %zu: token %d outside the vocabulary",
				      c, t);
		}
	}
	/* A vocabulary of one token. */
	ck_assert(sampler_init(&s, 1, 0.8f, 0, 0.5f, 0.0f, 5) == 0);
	ck_assert_msg(sampler_sample(&s, l) == 0, "one token: token 0");
	/* Tiny and huge repetition penalties turn penalised logits infinite: still a token. */
	static const float penalties[] = {1e-38f, 1e-30f, 1e30f, 3e38f};
	for (int p = 0; p < 4; p++) {
		ck_assert(sampler_init(&s, 6, 0.8f, 40, 0.95f, 0.05f, 8) == 0);
		ck_assert(sampler_set_penalty(&s, penalties[p], 8) == 0);
		for (int k = 0; k < 20; k++) {
			memcpy(l, x, sizeof l);
			int t = sampler_sample(&s, l);
			ck_assert_msg(t >= 0 && t < 6,
				      "penalty %g: token %d outside the vocabulary",
				      (double)penalties[p], t);
			sampler_accept(&s, t);
		}
	}
}
END_TEST

Suite *sampler_suite(void)
{
	Suite *s = suite_create("sampler");
	TCase *tc = tcase_create("sampling");
	tcase_add_test(tc, test_argmax_and_greedy);
	tcase_add_test(tc, test_seed_determinism);
	tcase_add_test(tc, test_top_k_one_is_greedy);
	tcase_add_test(tc, test_sort);
	tcase_add_test(tc, test_top_p_cut);
	tcase_add_test(tc, test_full_distribution_statistics);
	tcase_add_test(tc, test_cut_statistics);
	tcase_add_test(tc, test_repetition_penalty);
	tcase_add_test(tc, test_same_draws_as_full_sort);
	tcase_add_test(tc, test_extreme_settings);
	suite_add_tcase(s, tc);
	return s;
}
