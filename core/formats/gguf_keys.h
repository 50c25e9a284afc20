/* gguf_keys.h: the GGUF metadata keys this project reads and writes, spelled once (as
 * llama.cpp spells them) for the readers (gguf.c, loader.c, tokenizer.c) and the writer
 * (export.c). The llama.* hyper-parameters are in llama_gguf.c's table. */
#ifndef GGUF_KEYS_H
#define GGUF_KEYS_H

#define GGUF_KEY_ARCHITECTURE "general.architecture"
#define GGUF_KEY_NAME "general.name"
#define GGUF_KEY_FILE_TYPE "general.file_type"
#define GGUF_KEY_ALIGNMENT "general.alignment"

#define GGUF_KEY_TOK_PREFIX "tokenizer."
#define GGUF_KEY_TOK_MODEL "tokenizer.ggml.model"
#define GGUF_KEY_TOK_TOKENS "tokenizer.ggml.tokens"
#define GGUF_KEY_TOK_SCORES "tokenizer.ggml.scores"
#define GGUF_KEY_TOK_TYPES "tokenizer.ggml.token_type"
#define GGUF_KEY_TOK_BOS "tokenizer.ggml.bos_token_id"
#define GGUF_KEY_TOK_EOS "tokenizer.ggml.eos_token_id"
#define GGUF_KEY_TOK_UNK "tokenizer.ggml.unknown_token_id"
#define GGUF_KEY_TOK_ADD_BOS "tokenizer.ggml.add_bos_token"
#define GGUF_KEY_TOK_ADD_SPACE "tokenizer.ggml.add_space_prefix"

#endif
