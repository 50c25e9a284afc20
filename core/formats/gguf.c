/* gguf.c: GGUF v2/v3 reader (every size and offset checked against the file before use)
 * and the small writer --export-gguf uses. */
#include "core/formats/gguf.h"

#include "core/base/arena.h"
#include "core/base/core_assert.h"
#include "core/base/error.h"
#include "core/base/str.h"
#include "core/formats/gguf_keys.h"
#include "shim/platform.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 64
/* Caps on the tables: real models have a few hundred tensors and a few dozen keys;
 * the caps keep the duplicate and overlap checks (quadratic) fast on hostile files. */
#define GGUF_MAX_TENSORS 16384
#define GGUF_MAX_KV 16384

typedef struct {
	uint32_t block, bytes; /* values per block, bytes per block */
	const char *name;
} TypeInfo;

static const TypeInfo type_table[] = {
    [0] = {1, 4, "F32"},	 [1] = {1, 2, "F16"},	      [2] = {32, 18, "Q4_0"},
    [3] = {32, 20, "Q4_1"},	 [6] = {32, 22, "Q5_0"},      [7] = {32, 24, "Q5_1"},
    [8] = {32, 34, "Q8_0"},	 [9] = {32, 36, "Q8_1"},      [10] = {256, 84, "Q2_K"},
    [11] = {256, 110, "Q3_K"},	 [12] = {256, 144, "Q4_K"},   [13] = {256, 176, "Q5_K"},
    [14] = {256, 210, "Q6_K"},	 [15] = {256, 292, "Q8_K"},   [16] = {256, 66, "IQ2_XXS"},
    [17] = {256, 74, "IQ2_XS"},	 [18] = {256, 98, "IQ3_XXS"}, [19] = {256, 50, "IQ1_S"},
    [20] = {32, 18, "IQ4_NL"},	 [21] = {256, 110, "IQ3_S"},  [22] = {256, 82, "IQ2_S"},
    [23] = {256, 136, "IQ4_XS"}, [24] = {1, 1, "I8"},	      [25] = {1, 2, "I16"},
    [26] = {1, 4, "I32"},	 [27] = {1, 8, "I64"},	      [28] = {1, 8, "F64"},
    [29] = {256, 56, "IQ1_M"},	 [30] = {1, 2, "BF16"},	      [34] = {256, 54, "TQ1_0"},
    [35] = {256, 66, "TQ2_0"},
};

const char *ggml_type_name(uint32_t type)
{
	if (type >= sizeof type_table / sizeof type_table[0])
		return NULL;
	return type_table[type].name;
}

static uint64_t scalar_size(uint32_t type)
{
	switch (type) {
	case GGUF_UINT8:
	case GGUF_INT8:
	case GGUF_BOOL:
		return 1;
	case GGUF_UINT16:
	case GGUF_INT16:
		return 2;
	case GGUF_UINT32:
	case GGUF_INT32:
	case GGUF_FLOAT32:
		return 4;
	case GGUF_UINT64:
	case GGUF_INT64:
	case GGUF_FLOAT64:
		return 8;
	}
	return 0;
}

bool gguf_is(const uint8_t *data, size_t size)
{
	return size >= 4 && load_u32(data) == GGUF_MAGIC;
}

/* Bounds-checked reader over the file. */
typedef struct {
	const GgufFile *g;
	uint64_t pos;
} Cursor;

static int need(Cursor *c, uint64_t n, const char *what)
{
	if (n > c->g->size - c->pos)
		return error_set("%s: truncated: %s needs %llu bytes at offset %llu, the file has "
				 "%llu",
				 c->g->path, what, (unsigned long long)n,
				 (unsigned long long)c->pos, (unsigned long long)c->g->size);
	return 0;
}

static int rd_u32(Cursor *c, uint32_t *v, const char *what)
{
	if (need(c, 4, what) < 0)
		return -1;
	*v = load_u32(c->g->base + c->pos);
	c->pos += 4;
	return 0;
}

static int rd_u64(Cursor *c, uint64_t *v, const char *what)
{
	if (need(c, 8, what) < 0)
		return -1;
	*v = load_u64(c->g->base + c->pos);
	c->pos += 8;
	return 0;
}

static int rd_str(Cursor *c, GgufStr *s, const char *what)
{
	uint64_t n;
	if (rd_u64(c, &n, what) < 0 || need(c, n, what) < 0)
		return -1;
	s->s = (const char *)c->g->base + c->pos;
	s->n = n;
	c->pos += n;
	return 0;
}

static bool key_is(GgufStr k, const char *s)
{
	return str_eq_n(k.s, (size_t)k.n, s);
}

static int read_kv(Cursor *c, GgufKV *kv, uint64_t index)
{
	if (rd_str(c, &kv->key, "metadata key") < 0 || rd_u32(c, &kv->type, "metadata type") < 0)
		return -1;
	kv->value = c->g->base + c->pos;
	if (kv->type == GGUF_STRING) {
		GgufStr s;
		return rd_str(c, &s, "metadata string");
	}
	if (kv->type == GGUF_ARRAY) {
		if (rd_u32(c, &kv->arr_type, "array type") < 0 ||
		    rd_u64(c, &kv->arr_n, "array length") < 0)
			return -1;
		kv->value = c->g->base + c->pos;
		if (kv->arr_type == GGUF_STRING) {
			for (uint64_t i = 0; i < kv->arr_n; i++) {
				GgufStr s;
				if (rd_str(c, &s, "string in a metadata array") < 0)
					return -1;
			}
			return 0;
		}
		uint64_t es = scalar_size(kv->arr_type);
		if (!es)
			return error_set("%s: metadata %.*s: unsupported array element type %u",
					 c->g->path, (int)(kv->key.n > 200 ? 200 : kv->key.n),
					 kv->key.s, kv->arr_type);
		if (kv->arr_n > (c->g->size - c->pos) / es)
			return error_set("%s: metadata %.*s: array of %llu elements runs past the "
					 "end of the file",
					 c->g->path, (int)(kv->key.n > 200 ? 200 : kv->key.n),
					 kv->key.s, (unsigned long long)kv->arr_n);
		c->pos += kv->arr_n * es;
		return 0;
	}
	uint64_t es = scalar_size(kv->type);
	if (!es)
		return error_set("%s: metadata entry %llu: unknown value type %u", c->g->path,
				 (unsigned long long)index, kv->type);
	return need(c, es, "metadata value") < 0 ? -1 : (int)(c->pos += es, 0);
}

static int read_tensor_info(Cursor *c, GgufTensor *t)
{
	const char *path = c->g->path;
	if (rd_str(c, &t->name, "tensor name") < 0)
		return -1;
	if (t->name.n == 0 || t->name.n > GGUF_MAX_NAME)
		return error_set("%s: tensor name of %llu bytes (1 to %d allowed)", path,
				 (unsigned long long)t->name.n, GGUF_MAX_NAME);
	int nl = (int)t->name.n;
	if (rd_u32(c, &t->n_dims, "tensor dimensions") < 0)
		return -1;
	if (t->n_dims == 0 || t->n_dims > GGUF_MAX_DIMS)
		return error_set("%s: tensor %.*s has %u dimensions (1 to %d allowed)", path, nl,
				 t->name.s, t->n_dims, GGUF_MAX_DIMS);
	uint64_t count = 1;
	for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
		t->ne[d] = 1;
		if (d < t->n_dims && rd_u64(c, &t->ne[d], "tensor shape") < 0)
			return -1;
		if (t->ne[d] == 0 || t->ne[d] > (1ull << 40) || count > UINT64_MAX / t->ne[d])
			return error_set(
			    "%s: tensor %.*s: dimension %u is %llu (zero or too large)", path, nl,
			    t->name.s, d, (unsigned long long)t->ne[d]);
		count *= t->ne[d];
	}
	if (rd_u32(c, &t->type, "tensor type") < 0 || rd_u64(c, &t->offset, "tensor offset") < 0)
		return -1;
	const char *tn = ggml_type_name(t->type);
	if (!tn)
		return error_set("%s: tensor %.*s has unknown type id %u", path, nl, t->name.s,
				 t->type);
	const TypeInfo *ti = &type_table[t->type];
	if (t->ne[0] % ti->block)
		return error_set("%s: tensor %.*s: row length %llu is not a multiple of the %s "
				 "block size %u",
				 path, nl, t->name.s, (unsigned long long)t->ne[0], tn, ti->block);
	if (count / ti->block > UINT64_MAX / ti->bytes)
		return error_set("%s: tensor %.*s: size overflows", path, nl, t->name.s);
	t->n_bytes = count / ti->block * ti->bytes;
	return 0;
}

int gguf_open(GgufFile *g, const uint8_t *data, size_t size, const char *path)
{
	CORE_ASSERT(data != NULL || size == 0);
	mem_set(g, 0, sizeof *g);
	g->path = path;
	g->base = data;
	g->size = size;
	Cursor c = {g, 0};
	uint32_t magic;
	if (rd_u32(&c, &magic, "magic") < 0)
		return -1;
	if (magic != GGUF_MAGIC)
		return error_set("%s: not a GGUF file (magic %08x)", path, magic);
	if (rd_u32(&c, &g->version, "version") < 0)
		return -1;
	if (g->version != 2 && g->version != 3)
		return error_set("%s: GGUF version %u is not supported (2 and 3 are)%s", path,
				 g->version, g->version > 0xffff ? "; a big-endian file?" : "");
	if (rd_u64(&c, &g->n_tensors, "tensor count") < 0 || rd_u64(&c, &g->n_kv, "kv count") < 0)
		return -1;
	/* Each entry takes at least 12 (kv) or 32 (tensor) bytes: bounds the tables. */
	if (g->n_kv > GGUF_MAX_KV || g->n_tensors > GGUF_MAX_TENSORS)
		return error_set("%s: %llu metadata entries and %llu tensors (at most %d and %d "
				 "supported)",
				 path, (unsigned long long)g->n_kv,
				 (unsigned long long)g->n_tensors, GGUF_MAX_KV, GGUF_MAX_TENSORS);
	if (g->n_kv > size / 12 || g->n_tensors > size / 32)
		return error_set("%s: %llu metadata entries and %llu tensors cannot fit in %llu "
				 "bytes",
				 path, (unsigned long long)g->n_kv,
				 (unsigned long long)g->n_tensors, (unsigned long long)size);
	g->kv = arena_alloc(sizeof(GgufKV) * (g->n_kv ? g->n_kv : 1), 8, "GGUF metadata table");
	g->tensors = arena_alloc(sizeof(GgufTensor) * (g->n_tensors ? g->n_tensors : 1), 8,
				 "GGUF tensor table");
	if (!g->kv || !g->tensors)
		return error_set("%s: not enough memory for the GGUF tables", path);
	for (uint64_t i = 0; i < g->n_kv; i++) {
		mem_set(&g->kv[i], 0, sizeof g->kv[i]);
		uint64_t start = c.pos;
		if (read_kv(&c, &g->kv[i], i) < 0)
			return -1;
		g->kv[i].raw = data + start;
		g->kv[i].raw_n = c.pos - start;
		for (uint64_t j = 0; j < i; j++)
			if (g->kv[j].key.n == g->kv[i].key.n &&
			    !mem_cmp(g->kv[j].key.s, g->kv[i].key.s, (size_t)g->kv[i].key.n))
				return error_set("%s: metadata key %.*s appears twice", path,
						 (int)(g->kv[i].key.n > 200 ? 200 : g->kv[i].key.n),
						 g->kv[i].key.s);
	}
	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	uint32_t align;
	int r = gguf_get_u32(g, GGUF_KEY_ALIGNMENT, &align);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (align == 0 || (align & (align - 1)))
			return error_set("%s: general.alignment %u is not a power of two", path,
					 align);
		g->alignment = align;
	}
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		if (read_tensor_info(&c, &g->tensors[i]) < 0)
			return -1;
	}
	g->data_offset = (c.pos + g->alignment - 1) / g->alignment * g->alignment;
	if (g->n_tensors && g->data_offset > size)
		return error_set("%s: truncated: the data section would start at %llu, past the "
				 "end (%llu bytes)",
				 path, (unsigned long long)g->data_offset,
				 (unsigned long long)size);
	uint64_t data_size = size - (g->n_tensors ? g->data_offset : 0);
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		GgufTensor *t = &g->tensors[i];
		int nl = (int)t->name.n;
		if (t->offset % g->alignment)
			return error_set("%s: tensor %.*s: offset %llu is not aligned to %llu",
					 path, nl, t->name.s, (unsigned long long)t->offset,
					 (unsigned long long)g->alignment);
		if (t->offset > data_size || t->n_bytes > data_size - t->offset)
			/* t->offset may be near 2^64: report it as given, not added to data_offset
			 */
			return error_set(
			    "%s: tensor %.*s: %llu bytes at offset %llu of the data "
			    "section (at %llu) run past the end of the file (%llu bytes)",
			    path, nl, t->name.s, (unsigned long long)t->n_bytes,
			    (unsigned long long)t->offset, (unsigned long long)g->data_offset,
			    (unsigned long long)size);
		t->data = data + g->data_offset + t->offset;
		for (uint64_t j = 0; j < i; j++) {
			const GgufTensor *u = &g->tensors[j];
			if (u->name.n == t->name.n && !mem_cmp(u->name.s, t->name.s, t->name.n))
				return error_set("%s: tensor %.*s appears twice", path, nl,
						 t->name.s);
			if (t->offset < u->offset + u->n_bytes &&
			    u->offset < t->offset + t->n_bytes)
				return error_set("%s: tensors %.*s and %.*s overlap in the file",
						 path, nl, t->name.s, (int)u->name.n, u->name.s);
		}
	}
	return 0;
}

const GgufKV *gguf_find(const GgufFile *g, const char *key)
{
	for (uint64_t i = 0; i < g->n_kv; i++)
		if (key_is(g->kv[i].key, key))
			return &g->kv[i];
	return NULL;
}

static int wrong_type(const GgufFile *g, const char *key, const char *want)
{
	return error_set("%s: metadata %s is not %s", g->path, key, want);
}

int gguf_get_u32(const GgufFile *g, const char *key, uint32_t *out)
{
	const GgufKV *kv = gguf_find(g, key);
	if (!kv)
		return 1;
	const uint8_t *p = kv->value;
	int64_t v;
	switch (kv->type) {
	case GGUF_UINT8:
		v = p[0];
		break;
	case GGUF_INT8:
		v = (int8_t)p[0];
		break;
	case GGUF_UINT16:
		v = load_u16(p);
		break;
	case GGUF_INT16:
		v = (int16_t)load_u16(p);
		break;
	case GGUF_UINT32:
		v = load_u32(p);
		break;
	case GGUF_INT32:
		v = (int32_t)load_u32(p);
		break;
	case GGUF_UINT64:
		v = load_u64(p) > 0xffffffffu ? -1 : (int64_t)load_u64(p);
		break;
	case GGUF_INT64:
		v = (int64_t)load_u64(p);
		break;
	default:
		return wrong_type(g, key, "an integer");
	}
	if (v < 0 || v > 0xffffffffll)
		return error_set("%s: metadata %s = %lld is out of range", g->path, key,
				 (long long)v);
	*out = (uint32_t)v;
	return 0;
}

int gguf_get_f32(const GgufFile *g, const char *key, float *out)
{
	const GgufKV *kv = gguf_find(g, key);
	if (!kv)
		return 1;
	if (kv->type == GGUF_FLOAT32) {
		union {
			uint32_t u;
			float f;
		} v = {.u = load_u32(kv->value)};
		*out = v.f;
	} else if (kv->type == GGUF_FLOAT64) {
		union {
			uint64_t u;
			double d;
		} v = {.u = load_u64(kv->value)};
		*out = (float)v.d;
	} else {
		return wrong_type(g, key, "a float");
	}
	if (*out != *out)
		return error_set("%s: metadata %s is NaN", g->path, key);
	return 0;
}

int gguf_get_bool(const GgufFile *g, const char *key, bool *out)
{
	const GgufKV *kv = gguf_find(g, key);
	if (!kv)
		return 1;
	if (kv->type != GGUF_BOOL)
		return wrong_type(g, key, "a bool");
	*out = kv->value[0] != 0;
	return 0;
}

int gguf_get_str(const GgufFile *g, const char *key, GgufStr *out)
{
	const GgufKV *kv = gguf_find(g, key);
	if (!kv)
		return 1;
	if (kv->type != GGUF_STRING)
		return wrong_type(g, key, "a string");
	const uint8_t *p = kv->value;
	*out = gguf_next_str(&p);
	return 0;
}

int gguf_get_arr(const GgufFile *g, const char *key, uint32_t *type, uint64_t *n,
		 const uint8_t **first)
{
	const GgufKV *kv = gguf_find(g, key);
	if (!kv)
		return 1;
	if (kv->type != GGUF_ARRAY)
		return wrong_type(g, key, "an array");
	*type = kv->arr_type;
	*n = kv->arr_n;
	*first = kv->value;
	return 0;
}

GgufStr gguf_next_str(const uint8_t **cursor)
{
	GgufStr s;
	s.n = load_u64(*cursor);
	s.s = (const char *)*cursor + 8;
	*cursor += 8 + s.n;
	return s;
}

const GgufTensor *gguf_tensor(const GgufFile *g, const char *name)
{
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (key_is(g->tensors[i].name, name))
			return &g->tensors[i];
	return NULL;
}

/* --- Writer --- */

void gguf_w_raw(GgufWriter *w, const void *p, uint64_t n)
{
	if (w->failed || !n)
		return;
	if (plat_file_write(w->handle, p, (size_t)n) < 0)
		w->failed = true;
	else
		w->written += n;
}

static void w_u32(GgufWriter *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	gguf_w_raw(w, b, 4);
}

static void w_u64(GgufWriter *w, uint64_t v)
{
	w_u32(w, (uint32_t)v);
	w_u32(w, (uint32_t)(v >> 32));
}

void gguf_w_str(GgufWriter *w, const char *s, uint64_t n)
{
	w_u64(w, n);
	gguf_w_raw(w, s, n);
}

static void w_key(GgufWriter *w, const char *key, uint32_t type)
{
	gguf_w_str(w, key, str_len(key));
	w_u32(w, type);
}

void gguf_w_header(GgufWriter *w, uint64_t n_tensors, uint64_t n_kv)
{
	w_u32(w, GGUF_MAGIC);
	w_u32(w, 3);
	w_u64(w, n_tensors);
	w_u64(w, n_kv);
}

void gguf_w_kv_str(GgufWriter *w, const char *key, const char *value)
{
	w_key(w, key, GGUF_STRING);
	gguf_w_str(w, value, str_len(value));
}

void gguf_w_kv_u32(GgufWriter *w, const char *key, uint32_t value)
{
	w_key(w, key, GGUF_UINT32);
	w_u32(w, value);
}

void gguf_w_kv_f32(GgufWriter *w, const char *key, float value)
{
	union {
		float f;
		uint32_t u;
	} v = {.f = value};
	w_key(w, key, GGUF_FLOAT32);
	w_u32(w, v.u);
}

void gguf_w_kv_bool(GgufWriter *w, const char *key, bool value)
{
	uint8_t b = value;
	w_key(w, key, GGUF_BOOL);
	gguf_w_raw(w, &b, 1);
}

void gguf_w_kv_arr(GgufWriter *w, const char *key, uint32_t type, uint64_t n)
{
	w_key(w, key, GGUF_ARRAY);
	w_u32(w, type);
	w_u64(w, n);
}

void gguf_w_tensor_info(GgufWriter *w, const char *name, uint32_t n_dims, const uint64_t *ne,
			uint32_t type, uint64_t offset)
{
	gguf_w_str(w, name, str_len(name));
	w_u32(w, n_dims);
	for (uint32_t d = 0; d < n_dims; d++)
		w_u64(w, ne[d]);
	w_u32(w, type);
	w_u64(w, offset);
}

void gguf_w_pad(GgufWriter *w, uint64_t align)
{
	CORE_ASSERT(align > 0);
	static const uint8_t zeros[64];
	while (!w->failed && w->written % align) {
		uint64_t n = align - w->written % align;
		gguf_w_raw(w, zeros, n < sizeof zeros ? n : sizeof zeros);
	}
}
