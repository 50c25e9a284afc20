/* test_sampler.c: core/model/sampler.c: greedy, seeded sampling, top-k, top-p, min-p, penalty. */
#include <math.h>
#include <string.h>

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
	suite_add_tcase(s, tc);
	return s;
}
