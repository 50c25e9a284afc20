/* gen_corpus.c: writes the fuzz seed corpora (tiny valid GGUF and llama2.c v0/v1/v2 models,
 * tokenizer.bin and GGUF vocabs, command lines) and a few mutations of each, made here
 * from nothing but this program: usage: gen_corpus OUTDIR (OUTDIR/{gguf,llama2c,cli,
 * tokenizer} must exist). Built with the host compiler; needs no Python. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- a growable byte buffer --- */
typedef struct {
	uint8_t *p;
	size_t n, cap;
} Buf;

static void put(Buf *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			fprintf(stderr, "gen_corpus: out of memory\n");
			exit(1);
		}
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}
static void put_u8(Buf *b, uint8_t v)
{
	put(b, &v, 1);
}
static void put_u16(Buf *b, uint16_t v)
{
	put_u8(b, (uint8_t)v);
	put_u8(b, (uint8_t)(v >> 8));
}
static void put_u32(Buf *b, uint32_t v)
{
	put_u16(b, (uint16_t)v);
	put_u16(b, (uint16_t)(v >> 16));
}
static void put_u64(Buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}
static void put_f32(Buf *b, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	put_u32(b, u);
}
static void pad_to(Buf *b, size_t align)
{
	while (b->n % align)
		put_u8(b, 0);
}

static const char *outdir;

static void save(const char *sub, const char *name, const uint8_t *p, size_t n)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s/%s", outdir, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: cannot write %s\n", path);
		exit(1);
	}
}

/* A deterministic weight in [-0.5, 0.5). */
static uint32_t rng_state = 12345;
static float weight(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return (float)(rng_state >> 8) / (float)(1u << 24) - 0.5f;
}

/* --- the vocabulary the GGUF files and tokenizer.bin carry --- */
static const char *const vocab_pieces[] = {
    "<unk>", "<s>",    "</s>", "<0x0A>", "<0x20>", "<0xE2>", "<0x96>", "<0x81>",
    " ",     "e",      "l",    "o",	 "H",	   "w",	     "r",      "d",
    "ll",    "He",     "lo",   "Hell",	 "Hello",  " w",     " wo",    " wor",
    " worl", " world", ",",    "!",	 "a",	   "b",	     " H",     " Hello",
};
#define VOCAB_N 32

/* GGUF spells a space as U+2581; tokenizer.bin as ' '. */
static void piece_gguf(const char *s, char *out)
{
	size_t k = 0;
	for (; *s; s++) {
		if (*s == ' ') {
			memcpy(out + k, "\xe2\x96\x81", 3);
			k += 3;
		} else {
			out[k++] = *s;
		}
	}
	out[k] = 0;
}

static int piece_type(int i)
{
	if (i == 0)
		return 2; /* unknown */
	if (i <= 2)
		return 3; /* control */
	if (i <= 7)
		return 6; /* byte */
	return 1;
}

/* --- GGUF --- */
/* GGML's type ids */
enum {
	T_F32 = 0,
	T_F16 = 1,
	T_Q4_0 = 2,
	T_Q4_1 = 3,
	T_Q5_0 = 6,
	T_Q5_1 = 7,
	T_Q8_0 = 8,
	T_Q2_K = 10,
	T_Q3_K = 11,
	T_Q4_K = 12,
	T_Q5_K = 13,
	T_Q6_K = 14
};

/* The block types: values and bytes per block, where the fp16 scales sit (-1: none); the
 * other bytes (quants, packed sub-block scales) may hold anything. */
static const struct {
	int type, values, bytes, scale[2];
} BLOCKS[] = {
    {T_Q4_0, 32, 18, {0, -1}},	   {T_Q4_1, 32, 20, {0, 2}},   {T_Q5_0, 32, 22, {0, -1}},
    {T_Q5_1, 32, 24, {0, 2}},	   {T_Q8_0, 32, 34, {0, -1}},  {T_Q2_K, 256, 84, {80, 82}},
    {T_Q3_K, 256, 110, {108, -1}}, {T_Q4_K, 256, 144, {0, 2}}, {T_Q5_K, 256, 176, {0, 2}},
    {T_Q6_K, 256, 210, {208, -1}},
};
#define N_BLOCKS (int)(sizeof BLOCKS / sizeof BLOCKS[0])

static int block_of(int t)
{
	for (int i = 0; i < N_BLOCKS; i++)
		if (BLOCKS[i].type == t)
			return i;
	fprintf(stderr, "gen_corpus: no block type %d\n", t);
	exit(1);
}

typedef struct {
	int dim, hid, layers, heads, kv_heads, vocab, seq;
} Cfg;

static uint16_t f32_to_f16(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	uint32_t sign = (u >> 16) & 0x8000, e = (u >> 23) & 0xff, m = u & 0x7fffff;
	if (e < 103)
		return (uint16_t)sign;
	if (e < 113) /* subnormal half */
		return (uint16_t)(sign | ((m | 0x800000) >> (126 - e)));
	return (uint16_t)(sign | ((e - 112) << 10) | (m >> 13));
}

/* Appends a tensor of n values in type t (blocks: random bytes, small finite scales). */
static void tensor_data(Buf *b, int t, size_t n)
{
	if (t == T_F32) {
		for (size_t i = 0; i < n; i++)
			put_f32(b, weight());
	} else if (t == T_F16) {
		for (size_t i = 0; i < n; i++)
			put_u16(b, f32_to_f16(weight()));
	} else {
		int k = block_of(t);
		for (size_t i = 0; i < n; i += (size_t)BLOCKS[k].values) {
			uint8_t blk[256];
			for (int j = 0; j < BLOCKS[k].bytes; j++)
				blk[j] = (uint8_t)(int)((weight() + 0.5f) * 256);
			for (int s = 0; s < 2; s++)
				if (BLOCKS[k].scale[s] >= 0) { /* d = 0.01, the minimum's 0.005 */
					uint16_t h = f32_to_f16(s ? 0.005f : 0.01f);
					blk[BLOCKS[k].scale[s]] = (uint8_t)h;
					blk[BLOCKS[k].scale[s] + 1] = (uint8_t)(h >> 8);
				}
			put(b, blk, (size_t)BLOCKS[k].bytes);
		}
	}
}

static size_t type_bytes(int t, size_t n)
{
	if (t == T_F32 || t == T_F16)
		return n * (t == T_F32 ? 4 : 2);
	int k = block_of(t);
	return n / (size_t)BLOCKS[k].values * (size_t)BLOCKS[k].bytes;
}

/* The type of each weight matrix of a model. */
typedef struct {
	int embd, output, q, k, v, o, gate, down, up;
} Types;

static Types all_types(int t)
{
	return (Types){t, t, t, t, t, t, t, t, t};
}

static void gstr(Buf *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}
static void kv_u32(Buf *b, const char *k, uint32_t v)
{
	gstr(b, k);
	put_u32(b, 4);
	put_u32(b, v);
}
static void kv_f32(Buf *b, const char *k, float v)
{
	gstr(b, k);
	put_u32(b, 6);
	put_f32(b, v);
}
static void kv_bool(Buf *b, const char *k, int v)
{
	gstr(b, k);
	put_u32(b, 7);
	put_u8(b, (uint8_t)v);
}
static void kv_str(Buf *b, const char *k, const char *v)
{
	gstr(b, k);
	put_u32(b, 8);
	gstr(b, v);
}

typedef struct {
	char name[64];
	uint32_t n_dims;
	uint64_t ne[2];
	int type;
} TInfo;

/* Writes a GGUF llama model (with_model) and/or vocab (with_vocab) with matrices of types wt.
 * align != 32 adds general.alignment and a general.name of name_len bytes (to move the data). */
static Buf make_gguf_aligned(const Cfg *c, Types wt, int with_model, int with_vocab, int untied,
			     uint32_t align, int name_len, size_t *data_offset)
{
	Buf b = {0};
	TInfo ti[256];
	int nt = 0;
	if (with_model) {
		int kv = c->dim / c->heads * c->kv_heads;
#define T(nm, d0, d1, ty)                                                                          \
	do {                                                                                       \
		snprintf(ti[nt].name, 64, "%s", nm);                                               \
		ti[nt].n_dims = (d1) > 1 ? 2 : 1;                                                  \
		ti[nt].ne[0] = (uint64_t)(d0);                                                     \
		ti[nt].ne[1] = (uint64_t)(d1);                                                     \
		ti[nt].type = ty;                                                                  \
		nt++;                                                                              \
	} while (0)
		T("token_embd.weight", c->dim, c->vocab, wt.embd);
		T("output_norm.weight", c->dim, 1, T_F32);
		if (untied)
			T("output.weight", c->dim, c->vocab, wt.output);
		for (int l = 0; l < c->layers; l++) {
			char n[64];
#define L(suffix, d0, d1, ty)                                                                      \
	do {                                                                                       \
		snprintf(n, 64, "blk.%d.%s", l, suffix);                                           \
		T(n, d0, d1, ty);                                                                  \
	} while (0)
			L("attn_norm.weight", c->dim, 1, wt.q == T_F16 ? T_F16 : T_F32);
			L("ffn_norm.weight", c->dim, 1, T_F32);
			L("attn_q.weight", c->dim, c->dim, wt.q);
			L("attn_k.weight", c->dim, kv, wt.k);
			L("attn_v.weight", c->dim, kv, wt.v);
			L("attn_output.weight", c->dim, c->dim, wt.o);
			L("ffn_gate.weight", c->dim, c->hid, wt.gate);
			L("ffn_down.weight", c->hid, c->dim, wt.down);
			L("ffn_up.weight", c->dim, c->hid, wt.up);
#undef L
		}
#undef T
	}
	uint64_t n_kv = (with_model ? 10 : 1) + (with_vocab ? 9 : 0) + (align != 32) * 2;
	put_u32(&b, 0x46554747u);
	put_u32(&b, 3);
	put_u64(&b, (uint64_t)nt);
	put_u64(&b, n_kv);
	kv_str(&b, "general.architecture", "llama");
	if (align != 32) {
		char name[8] = "xxxxxxx";
		name[name_len & 7] = 0;
		kv_u32(&b, "general.alignment", align);
		kv_str(&b, "general.name", name);
	}
	if (with_model) {
		kv_u32(&b, "llama.embedding_length", (uint32_t)c->dim);
		kv_u32(&b, "llama.feed_forward_length", (uint32_t)c->hid);
		kv_u32(&b, "llama.block_count", (uint32_t)c->layers);
		kv_u32(&b, "llama.attention.head_count", (uint32_t)c->heads);
		kv_u32(&b, "llama.attention.head_count_kv", (uint32_t)c->kv_heads);
		kv_u32(&b, "llama.context_length", (uint32_t)c->seq);
		kv_u32(&b, "llama.rope.dimension_count", (uint32_t)(c->dim / c->heads));
		kv_f32(&b, "llama.rope.freq_base", 10000.0f);
		kv_f32(&b, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
	}
	if (with_vocab) {
		kv_str(&b, "tokenizer.ggml.model", "llama");
		gstr(&b, "tokenizer.ggml.tokens");
		put_u32(&b, 9);
		put_u32(&b, 8);
		put_u64(&b, VOCAB_N);
		for (int i = 0; i < VOCAB_N; i++) {
			char p[64];
			piece_gguf(vocab_pieces[i], p);
			gstr(&b, p);
		}
		gstr(&b, "tokenizer.ggml.scores");
		put_u32(&b, 9);
		put_u32(&b, 6);
		put_u64(&b, VOCAB_N);
		for (int i = 0; i < VOCAB_N; i++)
			put_f32(&b, i < 8 ? 0.0f : -(float)(VOCAB_N - i));
		gstr(&b, "tokenizer.ggml.token_type");
		put_u32(&b, 9);
		put_u32(&b, 5);
		put_u64(&b, VOCAB_N);
		for (int i = 0; i < VOCAB_N; i++)
			put_u32(&b, (uint32_t)piece_type(i));
		kv_u32(&b, "tokenizer.ggml.bos_token_id", 1);
		kv_u32(&b, "tokenizer.ggml.eos_token_id", 2);
		kv_u32(&b, "tokenizer.ggml.unknown_token_id", 0);
		kv_bool(&b, "tokenizer.ggml.add_bos_token", 1);
		kv_bool(&b, "tokenizer.ggml.add_space_prefix", 1);
	}
	uint64_t off = 0;
	for (int i = 0; i < nt; i++) {
		gstr(&b, ti[i].name);
		put_u32(&b, ti[i].n_dims);
		for (uint32_t d = 0; d < ti[i].n_dims; d++)
			put_u64(&b, ti[i].ne[d]);
		put_u32(&b, (uint32_t)ti[i].type);
		put_u64(&b, off);
		off +=
		    (type_bytes(ti[i].type, ti[i].ne[0] * ti[i].ne[1]) + align - 1) / align * align;
	}
	if (nt) {
		pad_to(&b, align);
		*data_offset = b.n;
		for (int i = 0; i < nt; i++) {
			tensor_data(&b, ti[i].type, ti[i].ne[0] * ti[i].ne[1]);
			pad_to(&b, align);
		}
	}
	return b;
}

static Buf make_gguf(const Cfg *c, int wt, int with_model, int with_vocab, int untied)
{
	size_t data_offset;
	return make_gguf_aligned(c, all_types(wt), with_model, with_vocab, untied, 32, 0,
				 &data_offset);
}

/* A model with general.alignment 1 whose data section starts at 2 mod 4: F32 matrices must
 * be refused as unaligned, F32 norms read without aligned loads, Q8_0 and F16 used in place. */
static Buf make_gguf_unaligned(const Cfg *c, int wt)
{
	for (int k = 1; k < 8; k++) {
		size_t data_offset = 0;
		Buf b = make_gguf_aligned(c, all_types(wt), 1, 1, 0, 1, k, &data_offset);
		if (data_offset % 4 == 2)
			return b;
		free(b.p);
	}
	fprintf(stderr, "gen_corpus: no data offset of 2 mod 4\n");
	exit(1);
}

/* --- llama2.c --- */

static void f32s(Buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_f32(b, weight());
}

static Buf make_llama2c(const Cfg *c, int version, int shared, int group)
{
	Buf b = {0};
	size_t dim = (size_t)c->dim, hid = (size_t)c->hid, L = (size_t)c->layers;
	size_t kv = dim / (size_t)c->heads * (size_t)c->kv_heads, vocab = (size_t)c->vocab;
	int32_t hdr[7] = {c->dim,   c->hid,	 c->layers,
			  c->heads, c->kv_heads, shared ? c->vocab : -c->vocab,
			  c->seq};
	if (version == 0) {
		for (int i = 0; i < 7; i++)
			put_u32(&b, (uint32_t)hdr[i]);
		f32s(&b, vocab * dim);
		f32s(&b, L * dim);
		f32s(&b, L * dim * dim);
		f32s(&b, L * kv * dim * 2);
		f32s(&b, L * dim * dim);
		f32s(&b, L * dim);
		f32s(&b, L * hid * dim * 3);
		f32s(&b, dim);
		f32s(&b, (size_t)c->seq * (dim / (size_t)c->heads));
		if (!shared)
			f32s(&b, vocab * dim);
		return b;
	}
	put_u32(&b, 0x616b3432u);
	put_u32(&b, (uint32_t)version);
	hdr[5] = c->vocab;
	for (int i = 0; i < 7; i++)
		put_u32(&b, (uint32_t)hdr[i]);
	put_u8(&b, (uint8_t)shared);
	if (version == 2)
		put_u32(&b, (uint32_t)group);
	while (b.n < 256)
		put_u8(&b, 0);
	f32s(&b, L * dim * 2 + dim);
	size_t mats[8][2] = {{vocab, dim}, {dim, dim}, {kv, dim},  {kv, dim},
			     {dim, dim},   {hid, dim}, {dim, hid}, {hid, dim}};
	for (int m = 0; m < 8 + !shared; m++) {
		size_t n = m < 8 ? mats[m][0] * mats[m][1] : vocab * dim;
		for (size_t l = 0; l < (m == 0 || m == 8 ? 1 : L); l++) {
			if (version == 1) {
				f32s(&b, n);
				continue;
			}
			for (size_t i = 0; i < n; i++)
				put_u8(&b, (uint8_t)(int8_t)(weight() * 250));
			for (size_t i = 0; i < n / (size_t)group; i++)
				put_f32(&b, 0.004f);
		}
	}
	return b;
}

/* --- tokenizer.bin --- */
static Buf make_tokenizer_bin(void)
{
	Buf b = {0};
	put_u32(&b, 8);
	for (int i = 0; i < VOCAB_N; i++) {
		const char *p = vocab_pieces[i];
		put_f32(&b, i < 8 ? 0.0f : -(float)(VOCAB_N - i));
		put_u32(&b, (uint32_t)strlen(p));
		put(&b, p, strlen(p));
	}
	return b;
}

/* Saves b and its truncations and single-field corruptions (offsets in the header). */
static void save_with_mutations(const char *sub, const char *name, Buf b)
{
	char n[256];
	save(sub, name, b.p, b.n);
	size_t cuts[] = {b.n / 2, b.n - 1, 40, 24};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		if (cuts[i] >= b.n)
			continue;
		snprintf(n, sizeof n, "%s.trunc%zu", name, cuts[i]);
		save(sub, n, b.p, cuts[i]);
	}
	uint8_t *m = malloc(b.n);
	for (size_t at = 4; at < 64 && at < b.n; at += 12) {
		memcpy(m, b.p, b.n);
		m[at] ^= 0x80;
		snprintf(n, sizeof n, "%s.flip%zu", name, at);
		save(sub, n, m, b.n);
	}
	free(m);
}

/* A tokenizer target input: mode byte, text length, vocab bytes, text. */
static void save_tok(const char *name, int mode, Buf vocab, const char *text)
{
	Buf b = {0};
	put_u8(&b, (uint8_t)mode);
	put_u16(&b, (uint16_t)strlen(text));
	put(&b, vocab.p, vocab.n);
	put(&b, text, strlen(text));
	save("tokenizer", name, b.p, b.n);
	free(b.p);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	Cfg tiny = {8, 16, 1, 2, 2, VOCAB_N, 24};
	Cfg gqa = {8, 16, 2, 4, 2, VOCAB_N, 8};
	Cfg q8 = {32, 64, 1, 4, 2, VOCAB_N, 24};

	save_with_mutations("gguf", "tiny-f32.gguf", make_gguf(&tiny, T_F32, 1, 1, 0));
	save_with_mutations("gguf", "gqa-f16-untied.gguf", make_gguf(&gqa, T_F16, 1, 0, 1));
	save_with_mutations("gguf", "q8_0.gguf", make_gguf(&q8, T_Q8_0, 1, 1, 1));
	save_with_mutations("gguf", "vocab-only.gguf", make_gguf(&tiny, T_F32, 0, 1, 0));
	save_with_mutations("gguf", "align1-q8_0.gguf", make_gguf_unaligned(&q8, T_Q8_0));
	save_with_mutations("gguf", "align1-f16.gguf", make_gguf_unaligned(&tiny, T_F16));
	/* Every block type: the blocks of 32 in all matrices; each super-block type in ffn_down
	 * (rows of hidden_dim 256) beside the blocks of 32 elsewhere and a Q8_0 embedding. Each
	 * K-quant file also comes with its middle byte set to 4 k + 3: --quant to fuzz_quant's
	 * k-th of Q8_0 and the mixes, from a source in every type. */
	static const int small[4] = {T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1};
	static const char *const small_names[4] = {"q4_0", "q4_1", "q5_0", "q5_1"};
	for (int i = 0; i < 4; i++) {
		char n[64];
		snprintf(n, sizeof n, "%s.gguf", small_names[i]);
		save_with_mutations("gguf", n, make_gguf(&q8, small[i], 1, 1, 1));
	}
	static const int super[5] = {T_Q2_K, T_Q3_K, T_Q4_K, T_Q5_K, T_Q6_K};
	Cfg hid256 = {32, 256, 1, 4, 2, VOCAB_N, 24};
	for (int i = 0; i < 5; i++) {
		int a = small[i % 4], b2 = small[(i + 1) % 4];
		Types t = {T_Q8_0, a, a, b2, a, b2, a, super[i], b2};
		size_t off;
		Buf g = make_gguf_aligned(&hid256, t, 1, 1, i % 2, 32, 0, &off);
		char n[64];
		snprintf(n, sizeof n, "q%d_k-down.gguf", i + 2);
		for (int k = 0; k < 14; k++) {
			char nq[80];
			uint8_t keep = g.p[g.n / 2];
			g.p[g.n / 2] = (uint8_t)(4 * k + 3);
			snprintf(nq, sizeof nq, "q%d_k-down-quant-%d.gguf", i + 2, k);
			save("gguf", nq, g.p, g.n);
			g.p[g.n / 2] = keep;
		}
		save_with_mutations("gguf", n, g);
	}

	save_with_mutations("llama2c", "v0-shared.bin", make_llama2c(&tiny, 0, 1, 0));
	save_with_mutations("llama2c", "v0-untied.bin", make_llama2c(&gqa, 0, 0, 0));
	save_with_mutations("llama2c", "v1-shared.bin", make_llama2c(&tiny, 1, 1, 0));
	save_with_mutations("llama2c", "v1-untied.bin", make_llama2c(&gqa, 1, 0, 0));
	save_with_mutations("llama2c", "v2-g8.bin", make_llama2c(&tiny, 2, 1, 8));
	save_with_mutations("llama2c", "v2-g4-untied.bin", make_llama2c(&gqa, 2, 0, 4));
	/* dim 6, group 3, vocab 33: 198 int8 values, so the scales after them are unaligned. */
	Cfg odd = {6, 9, 1, 1, 1, 33, 8};
	save_with_mutations("llama2c", "v2-g3-unaligned.bin", make_llama2c(&odd, 2, 1, 3));
	/* F32 models whose rows are multiples of 32, for --quant q8_0 (picked by the fuzz targets
	 * from the input's middle byte). */
	for (int mode = 0; mode < 4; mode++) {
		static const char *names[4] = {"none", "none2", "int8", "q8_0"};
		char n[64];
		Buf g = make_gguf(&q8, T_F32, 1, 0, 1), l = make_llama2c(&q8, 1, 1, 0);
		g.p[g.n / 2] = (uint8_t)mode; /* 3: fuzz_quant's Q8_0 */
		l.p[l.n / 2] = (uint8_t)mode;
		snprintf(n, sizeof n, "f32-dim32-quant-%s.gguf", names[mode]);
		save("gguf", n, g.p, g.n);
		snprintf(n, sizeof n, "v1-dim32-quant-%s.bin", names[mode]);
		save("llama2c", n, l.p, l.n);
		free(g.p);
		free(l.p);
	}

	Buf tb = make_tokenizer_bin(), gv = make_gguf(&tiny, T_F32, 0, 1, 0);
	static const char *texts[] = {"Hello world", " Hello, world!\n", "\xe2\x96\x81x\xff\xc3",
				      "", "lllll oooo HHH"};
	for (int i = 0; i < 5; i++) {
		char n[64];
		snprintf(n, sizeof n, "bin-%d", i);
		save_tok(n, 1, tb, texts[i]);
		snprintf(n, sizeof n, "gguf-%d", i);
		save_tok(n, 0, gv, texts[i]);
	}

	/* Command lines: arguments separated by '|' here, by NUL in the seeds. */
	static const char *const lines[] = {
	    "-m|model.gguf|-p|Hello|-n|16",
	    "--temp|0.5|--top-k|3|--top-p=0.9|--min-p|0.1|-s|42",
	    "--prompt-ids|1,2,3,4|--ids|-c|128|-t|2",
	    "--quant|q8_0|--synthetic|small:7|--export-gguf|out.gguf",
	    "--profile=json|--profile-out|p.json|--profile-svg|p.svg|--arena|1G",
	    "--repeat-penalty|1.1|--repeat-last-n|32|--isa|scalar|--fault|ud",
	    "--vocab|tokenizer.bin|--tokenize|Hello world|-h",
	    "--chat|--chat-template|zephyr|--system|Be brief.",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		char n[64], args[256];
		size_t len = strlen(lines[i]);
		for (size_t j = 0; j < len; j++)
			args[j] = lines[i][j] == '|' ? 0 : lines[i][j];
		snprintf(n, sizeof n, "args-%zu", i);
		save("cli", n, (const uint8_t *)args, len);
	}
	printf("gen_corpus: seeds written to %s\n", outdir);
	return 0;
}
