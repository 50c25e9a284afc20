/* chat.h: --chat: an interactive conversation on the platform's input with the model's chat
 * template (Zephyr/TinyLlama-Chat, Llama-2 [INST], ChatML), keeping the KV cache across turns. */
#ifndef CHAT_H
#define CHAT_H

#include "core/app/cli.h"
#include "core/formats/loader.h"
#include "core/model/session.h"

/* Runs until the input ends or the context is full; 0, or -1 (error set). */
int chat_run(Session *s, const Options *o, const LoadedModel *lm);

#endif
