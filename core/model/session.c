/* session.c: feeding, sampling and streaming of one sequence (llama2.c's loop). */
#include "core/model/session.h"

#include "core/base/error.h"
#include "core/io/console.h"
#include "core/profile/features.h"
#include "core/profile/profiler.h"
#include "shim/platform.h"

static SessionHook hook;
static void *hook_arg;

void session_set_hook(SessionHook fn, void *arg)
{
	hook = fn;
	hook_arg = arg;
}

void session_init(Session *s, Model *m, Sampler *sampler, const Tokenizer *tok, int ctx)
{
	s->m = m;
	s->sampler = sampler;
	s->tok = tok;
	s->ctx = ctx;
	s->pos = 0;
	s->last = -1;
	s->logits = NULL;
	s->pending = -1;
	s->stop_extra = -1;
	s->stopped_on = -1;
	s->printed = 0;
	s->utf8.n = 0;
}

/* Writes the text (or id) of token after prev (ids only in an image without the tokenizer). */
static void emit(Session *s, int prev, int token)
{
	if (!FEATURE_KEPT(TOKENIZER) || !s->tok) {
		out_printf(s->printed ? " %d" : "%d", token);
	} else {
		char piece[TOKENIZER_PIECE_MAX], ready[TOKENIZER_PIECE_MAX + 4];
		int n = tokenizer_decode(s->tok, prev, token, piece, sizeof piece);
		if (n > 0) {
			size_t k = utf8_stream_push(&s->utf8, piece, (size_t)n, ready);
			plat_write(PLAT_OUT, ready, k);
		}
	}
	s->printed++;
	plat_flush(PLAT_OUT);
}

void session_echo_prompt(Session *s, const int *ids, int n)
{
	if (!s->tok)
		return;
	for (int i = 0; i < n; i++)
		emit(s, i ? ids[i - 1] : -1, ids[i]);
}

int session_feed(Session *s, const int *ids, int n)
{
	if (n > s->ctx - s->pos)
		return error_set("%d more tokens do not fit in the context (%d of %d used)", n,
				 s->pos, s->ctx);
	if (n > 1) { /* prompt: matrix-matrix products, the same bits as one at a time */
		s->logits = model_forward_batch(s->m, ids, n, s->pos);
		s->pos += n;
	} else if (n == 1) {
		s->logits = model_forward(s->m, ids[0], s->pos++);
	}
	for (int i = 0; i < n; i++)
		sampler_accept(s->sampler, ids[i]);
	if (n)
		s->last = ids[n - 1];
	if (n)
		s->pending = -1;
	if (n && hook)
		hook(hook_arg, s->m, s->pos);
	return 0;
}

/* NaN or inf logits come from broken weights (or overflowing activations): refuse them
 * rather than sample noise or feed NaN into float-to-int conversions. */
static int check_logits(const Session *s)
{
	const float *l = s->logits;
	for (int i = 0; i < s->m->config.vocab_size; i++)
		if (!(l[i] - l[i] == 0.0f))
			return error_set("%s: the model produced a non-finite logit (token %d at "
					 "position %d): NaN or infinite weights, or activations "
					 "that overflow",
					 s->m->source ? s->m->source : "model", i, s->pos - 1);
	return 0;
}

int session_generate(Session *s, int max, int *generated, bool *context_full)
{
	const ModelConfig *c = &s->m->config;
	*generated = 0;
	*context_full = false;
	s->stopped_on = -1;
	while (*generated < max && s->logits) {
		if (check_logits(s) < 0)
			return -1;
		int next = sampler_sample(s->sampler, s->logits);
		if (next == c->eos_id || next == s->stop_extra ||
		    (c->stop_at_bos && next == c->bos_id)) {
			s->stopped_on = next;
			break;
		}
		emit(s, s->last, next);
		(*generated)++;
		if (*generated == max || s->pos >= s->ctx) {
			/* Not fed: the sequence ends here unless a chat turn feeds it later. */
			*context_full = *generated < max;
			s->pending = next;
			s->last = next;
			sampler_accept(s->sampler, next);
			break;
		}
		session_feed(s, &next, 1);
	}
	return 0;
}

void session_finish_line(Session *s)
{
	char rest[4];
	size_t n = utf8_stream_flush(&s->utf8, rest);
	plat_write(PLAT_OUT, rest, n);
	if (s->printed)
		out_printf("\n");
	s->printed = 0;
	plat_flush(PLAT_OUT);
}
