/* session.h: one running sequence: feeds tokens through the model at increasing positions,
 * samples, streams each new token to PLAT_OUT (text through the vocabulary, or ids). */
#ifndef SESSION_H
#define SESSION_H

#include <stdbool.h>

#include "core/model/model.h"
#include "core/model/sampler.h"
#include "core/text/tokenizer.h"

typedef struct {
	Model *m;
	Sampler *sampler;
	const Tokenizer *tok; /* NULL: print ids */
	int ctx;	      /* positions the KV cache holds */
	int pos;	      /* next position to fill */
	int last;	      /* last token fed, -1 at the start */
	float *logits;	      /* after the last feed */
	int pending;	      /* generated but not fed yet, or -1 */
	int stop_extra;	      /* another stop token besides EOS (chat templates), or -1 */
	int stopped_on;	      /* the stop token that ended the last generate, or -1 */
	int printed;	      /* tokens printed on the current line */
	Utf8Stream utf8;
} Session;

void session_init(Session *s, Model *m, Sampler *sampler, const Tokenizer *tok, int ctx);
/* A platform's between-tokens step (the host's tier-up swaps kernels there): fn(arg, m, pos)
 * runs after every feed, when the model and the thread pool are idle. NULL: none. */
typedef void (*SessionHook)(void *arg, Model *m, int pos);
void session_set_hook(SessionHook fn, void *arg);
/* Text mode: prints the prompt's text (as llama2.c and llama.cpp echo it). */
void session_echo_prompt(Session *s, const int *ids, int n);
/* Runs ids through the model from s->pos; 0, or -1 (error set) past the context. */
int session_feed(Session *s, const int *ids, int n);
/* Samples and prints up to max tokens after the last feed, feeding each one back.
 * Stops at EOS (and BOS for llama2.c checkpoints, and stop_extra) or at the context end.
 * 0, or -1 (error set) when the model produced NaN or infinite logits. */
int session_generate(Session *s, int max, int *generated, bool *context_full);
/* Flushes held UTF-8 bytes and ends the line if anything was printed. */
void session_finish_line(Session *s);

#endif
