/* gguf.h: reads GGUF v2/v3 files in place (header, metadata, tensor table, all bounds
 * checked at open) and writes GGUF v3 files for --export-gguf. */
#ifndef GGUF_H
#define GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	GGUF_UINT8 = 0,
	GGUF_INT8 = 1,
	GGUF_UINT16 = 2,
	GGUF_INT16 = 3,
	GGUF_UINT32 = 4,
	GGUF_INT32 = 5,
	GGUF_FLOAT32 = 6,
	GGUF_BOOL = 7,
	GGUF_STRING = 8,
	GGUF_ARRAY = 9,
	GGUF_UINT64 = 10,
	GGUF_INT64 = 11,
	GGUF_FLOAT64 = 12,
};

/* A length-counted string inside the file (not NUL-terminated). */
typedef struct {
	const char *s;
	uint64_t n;
} GgufStr;

typedef struct {
	GgufStr key;
	uint32_t type;
	const uint8_t *value; /* scalar bytes, string (len + bytes), or array body */
	uint32_t arr_type;    /* arrays: element type */
	uint64_t arr_n;	      /* arrays: element count */
	const uint8_t *raw;   /* the whole entry as serialized (key, type, value) */
	uint64_t raw_n;
} GgufKV;

typedef struct {
	GgufStr name;
	uint32_t n_dims;
	uint64_t ne[4];	     /* ne[0] is the row length (fastest varying) */
	uint32_t type;	     /* GGML type id */
	uint64_t offset;     /* from the start of the data section */
	uint64_t n_bytes;    /* size of the data */
	const uint8_t *data; /* in place, inside the file */
} GgufTensor;

typedef struct {
	const char *path; /* for messages */
	const uint8_t *base;
	size_t size;
	uint32_t version;
	uint64_t n_kv, n_tensors;
	GgufKV *kv;
	GgufTensor *tensors;
	uint64_t alignment;
	uint64_t data_offset;
} GgufFile;

/* True when the bytes start with the GGUF magic. */
bool gguf_is(const uint8_t *data, size_t size);
/* Parses and checks the whole header; tables come from the arena. 0 or -1 (error set). */
int gguf_open(GgufFile *g, const uint8_t *data, size_t size, const char *path);

const GgufKV *gguf_find(const GgufFile *g, const char *key);
/* Typed getters: 0 found, 1 absent, -1 present with the wrong type or out of range (error set). */
int gguf_get_u32(const GgufFile *g, const char *key, uint32_t *out);
int gguf_get_f32(const GgufFile *g, const char *key, float *out);
int gguf_get_bool(const GgufFile *g, const char *key, bool *out);
int gguf_get_str(const GgufFile *g, const char *key, GgufStr *out);
/* An array: its element type, count and first element. */
int gguf_get_arr(const GgufFile *g, const char *key, uint32_t *type, uint64_t *n,
		 const uint8_t **first);
/* Walks a string array: reads the string at *cursor and advances it (bounds were checked). */
GgufStr gguf_next_str(const uint8_t **cursor);

const GgufTensor *gguf_tensor(const GgufFile *g, const char *name);
/* Name of a GGML type id ("Q4_K"), or NULL when unknown. */
const char *ggml_type_name(uint32_t type);

/* --- Writer: one pass to a platform file handle --- */
typedef struct {
	int handle;
	uint64_t written; /* bytes written so far */
	/* Set by the first write that fails: every later call returns at once, so that a
	 * writer on a full device ends its pass (the caller reports it, with written). */
	bool failed;
} GgufWriter;

void gguf_w_header(GgufWriter *w, uint64_t n_tensors, uint64_t n_kv);
void gguf_w_kv_str(GgufWriter *w, const char *key, const char *value);
void gguf_w_kv_u32(GgufWriter *w, const char *key, uint32_t value);
void gguf_w_kv_f32(GgufWriter *w, const char *key, float value);
void gguf_w_kv_bool(GgufWriter *w, const char *key, bool value);
/* Array header of n elements of type; the elements follow through gguf_w_* raw calls. */
void gguf_w_kv_arr(GgufWriter *w, const char *key, uint32_t type, uint64_t n);
void gguf_w_str(GgufWriter *w, const char *s, uint64_t n);
void gguf_w_raw(GgufWriter *w, const void *p, uint64_t n);
void gguf_w_tensor_info(GgufWriter *w, const char *name, uint32_t n_dims, const uint64_t *ne,
			uint32_t type, uint64_t offset);
/* Pads with zeros to a multiple of align (> 0); nothing once failed. */
void gguf_w_pad(GgufWriter *w, uint64_t align);

#endif
