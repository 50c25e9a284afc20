/* chat.c: chat templates rendered to token ids (special tokens by id, text through the
 * tokenizer) and the turn loop: read a line, feed the turn, stream the reply. */
#include "core/text/chat.h"

#include "core/base/arena.h"
#include "core/base/error.h"
#include "core/base/fmt.h"
#include "core/io/console.h"
#include "shim/platform.h"

/* Longest input line taken (a longer one is refused, never cut). */
#define CHAT_LINE_MAX 65535
#include "core/base/str.h"

typedef enum { TEMPLATE_ZEPHYR, TEMPLATE_LLAMA2, TEMPLATE_CHATML } Template;

static const char *template_names[] = {"zephyr", "llama2", "chatml"};

static bool contains(const char *s, size_t n, const char *needle)
{
	size_t m = str_len(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (!mem_cmp(s + i, needle, m))
			return true;
	return false;
}

static int pick_template(const Options *o, const LoadedModel *lm, Template *out)
{
	const char *forced = o->chat_template;
	if (forced) {
		for (int i = 0; i < 3; i++)
			if (str_eq(forced, template_names[i]))
				*out = (Template)i;
		return 0;
	}
	GgufStr t = {0, 0};
	int r = lm->is_gguf ? gguf_get_str(&lm->gguf, "tokenizer.chat_template", &t) : 1;
	if (r < 0) /* present, but not a string: the error says so */
		return error_set("--chat: %s", error_message());
	if (r == 1)
		return error_set("--chat: the model has no tokenizer.chat_template; choose one "
				 "with --chat-template zephyr|llama2|chatml");
	if (contains(t.s, t.n, "<|im_start|>"))
		*out = TEMPLATE_CHATML;
	else if (contains(t.s, t.n, "<|assistant|>") || contains(t.s, t.n, "<|user|>"))
		*out = TEMPLATE_ZEPHYR;
	else if (contains(t.s, t.n, "[INST]"))
		*out = TEMPLATE_LLAMA2;
	else
		return error_set("--chat: unknown chat template in the model (supported: zephyr "
				 "as in TinyLlama-1.1B-Chat, llama2 [INST], chatml); choose one "
				 "with --chat-template NAME");
	return 0;
}

/* A turn's ids under construction. */
typedef struct {
	const Tokenizer *tok;
	int ids[MAX_PROMPT_IDS];
	int n;
} Turn;

static int add_id(Turn *t, int id)
{
	if (t->n >= MAX_PROMPT_IDS)
		return error_set("--chat: the turn is longer than %d tokens", MAX_PROMPT_IDS);
	t->ids[t->n++] = id;
	return 0;
}

static int add_text(Turn *t, const char *text)
{
	int n;
	if (tokenizer_encode(t->tok, text, str_len(text), t->ids + t->n, MAX_PROMPT_IDS - t->n,
			     &n) < 0)
		return -1;
	t->n += n;
	return 0;
}

/* A marker such as <|im_start|>: its control token when the vocab has one, else text. */
static int add_marker(Turn *t, const char *marker)
{
	int id = tokenizer_lookup(t->tok, marker, str_len(marker));
	return id >= 0 ? add_id(t, id) : add_text(t, marker);
}

/* Formats fmt (at most two %s) into arena memory sized for the text: nothing is cut. */
static const char *compose(const char *fmt, const char *a, const char *b)
{
	size_t cap = str_len(fmt) + str_len(a) + str_len(b) + 1;
	char *text = arena_alloc(cap, 1, "chat text");
	if (!text) {
		error_set("--chat: not enough memory for a message of %zu bytes", cap);
		return NULL;
	}
	fmt_format(text, cap, fmt, a, b);
	return text;
}

/* compose then tokenize into the turn. */
static int add_composed(Turn *t, const char *fmt, const char *a, const char *b)
{
	const char *text = compose(fmt, a, b);
	return text ? add_text(t, text) : -1;
}

static int render_turn(Turn *t, Template tpl, const char *system, const char *user, bool first,
		       int close_id)
{
	int eos = t->tok->eos_id, bos = t->tok->bos_id;
	if (!first && close_id >= 0 && add_id(t, close_id) < 0)
		return -1;
	switch (tpl) {
	case TEMPLATE_ZEPHYR:
		if (first && t->tok->add_bos && add_id(t, bos) < 0)
			return -1;
		if (first && system) {
			if (add_composed(t, "<|system|>\n%s%s", system, "") < 0 ||
			    add_id(t, eos) < 0)
				return -1;
			first = false;
		}
		if (add_composed(t, "%s<|user|>\n%s", first ? "" : "\n", user) < 0 ||
		    add_id(t, eos) < 0)
			return -1;
		return add_text(t, "\n<|assistant|>\n");
	case TEMPLATE_LLAMA2:
		if (add_id(t, bos) < 0)
			return -1;
		if (first && system)
			return add_composed(t, "[INST] <<SYS>>\n%s\n<</SYS>>\n\n%s [/INST]", system,
					    user);
		return add_composed(t, "[INST] %s [/INST]%s", user, "");
	case TEMPLATE_CHATML:
		if (!first && add_text(t, "\n") < 0)
			return -1;
		if (first && system) {
			if (add_marker(t, "<|im_start|>") < 0 ||
			    add_composed(t, "system\n%s%s", system, "") < 0 ||
			    add_marker(t, "<|im_end|>") < 0 || add_text(t, "\n") < 0)
				return -1;
		}
		if (add_marker(t, "<|im_start|>") < 0 ||
		    add_composed(t, "user\n%s%s", user, "") < 0 ||
		    add_marker(t, "<|im_end|>") < 0 || add_text(t, "\n") < 0 ||
		    add_marker(t, "<|im_start|>") < 0)
			return -1;
		return add_text(t, "assistant\n");
	}
	return -1;
}

int chat_run(Session *s, const Options *o, const LoadedModel *lm)
{
	Template tpl = TEMPLATE_ZEPHYR;
	if (pick_template(o, lm, &tpl) < 0)
		return -1;
	static Turn turn;
	turn.tok = s->tok;
	/* ChatML replies end with <|im_end|>, which is also how the turn is closed. */
	int im_end = tokenizer_lookup(s->tok, "<|im_end|>", 10);
	int close_id = tpl == TEMPLATE_CHATML && im_end >= 0 ? im_end : s->tok->eos_id;
	s->stop_extra = tpl == TEMPLATE_CHATML ? im_end : -1;
	int max = o->n_predict_set ? o->n_predict : s->ctx;
	if (o->system_prompt) { /* refused before any input, as -p refuses a prompt that long */
		size_t mark = arena_mark();
		turn.n = 0;
		int r = render_turn(&turn, tpl, o->system_prompt, "", true, close_id);
		arena_reset(mark);
		if (r < 0)
			return -1;
		if (turn.n > s->ctx)
			return error_set("--system: the system prompt in its template takes %d "
					 "tokens, more than the "
					 "context (%d)",
					 turn.n, s->ctx);
	}
	log_printf("chat: template %s; type a message, end with an empty input (Ctrl-D)\n",
		   template_names[tpl]);
	static char line[CHAT_LINE_MAX + 1];
	for (bool first = true;; first = false) {
		out_printf("> ");
		plat_flush(PLAT_OUT);
		int len = plat_read_line(line, sizeof line);
		if (len == -2)
			return error_set("--chat: an input line is longer than %d bytes",
					 CHAT_LINE_MAX);
		if (len < 0) {
			out_printf("\n");
			break;
		}
		if ((size_t)len != str_len(line))
			return error_set("--chat: an input line holds a NUL byte");
		size_t mark = arena_mark();
		turn.n = 0;
		int r = 0;
		if (s->pending >= 0)
			r = add_id(&turn, s->pending);
		if (r == 0)
			r = render_turn(&turn, tpl, o->system_prompt, line, first, close_id);
		arena_reset(mark);
		if (r < 0)
			return -1;
		if (turn.n > s->ctx - s->pos) {
			if (first)
				return error_set(
				    "--chat: the first message takes %d tokens, more than "
				    "the context (%d)",
				    turn.n, s->ctx);
			log_printf(
			    "chat: this message takes %d tokens, more than the %d left in the "
			    "context (%d tokens); ending the chat\n",
			    turn.n, s->ctx - s->pos, s->ctx);
			break;
		}
		if (session_feed(s, turn.ids, turn.n) < 0)
			return -1;
		int generated;
		bool full;
		r = session_generate(s, max, &generated, &full);
		session_finish_line(s);
		if (r < 0)
			return -1;
		if (full || s->pos >= s->ctx) {
			log_printf("chat: the conversation reached the context length (%d tokens); "
				   "ending the chat\n",
				   s->ctx);
			break;
		}
	}
	plat_flush(PLAT_OUT);
	return 0;
}
