/* codecache.h: the code cache file (kernels compiled ahead for one machine, build and model):
 * its byte layout, the key of each entry, reading and checking a cache image in memory, and
 * applying its entries to the kernel registry. The byte layout is in README.md beside it. */
#ifndef CODECACHE_H
#define CODECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kernels/registry.h"

/* File header: magic, version, entry count, file size, checksum (README.md). */
#define CODECACHE_MAGIC "TLCCACHE"
#define CODECACHE_VERSION 1u
#define CODECACHE_HEADER_BYTES 32u
#define CODECACHE_CHECKSUM_AT 24u
/* One entry record of the table that follows the header. */
#define CODECACHE_ENTRY_BYTES 232u
/* Limits that keep an absurd file from costing anything before it is refused. */
#define CODECACHE_MAX_ENTRIES 4096u
/* Memory one cache may take: one object's code, GOT, stubs and data, and all the entries one
 * file loads together (bss counts, though it has no bytes in the file). */
#define CODECACHE_MAX_LOAD_BYTES (64u << 20)

/* Field sizes of the key's strings, each NUL-padded in the file (and NUL-terminated). */
#define CODECACHE_SLOT_LEN 32
#define CODECACHE_DTYPE_LEN 16
#define CODECACHE_VENDOR_LEN 12
#define CODECACHE_COMPILER_LEN 64
#define CODECACHE_KNOBS 4

/* Where the code is meant to run: the Linux program or the bare-metal kernel. */
enum { CODECACHE_TARGET_HOST = 0, CODECACHE_TARGET_KERNEL = 1 };

/* CPUID feature words, in this order: leaf 1 ECX, leaf 1 EDX, leaf 7.0 EBX, ECX, EDX. */
enum { CODECACHE_FEATURE_WORDS = 5 };

typedef struct {
	char slot[CODECACHE_SLOT_LEN];	 /* registry slot name (kernels_slot_name) */
	char dtype[CODECACHE_DTYPE_LEN]; /* weight type name (dtype_name), "" when none */
	/* Shapes the code is specialised for; 0 = not specialised on it. rows/cols are the
	 * weight matrix's (output rows, input columns). */
	uint32_t rows, cols, tokens, head_size;
	uint32_t knobs[CODECACHE_KNOBS]; /* tuning knobs, opaque to the reader */
	uint32_t target;		 /* CODECACHE_TARGET_* */
	/* The CPU it was compiled for (host target; empty and 0 for kernel entries). */
	char vendor[CODECACHE_VENDOR_LEN + 1];
	uint32_t family, model; /* display family and model (with the extended fields) */
	/* The feature bits and XCR0 state the code needs: all must be present to run it. */
	uint32_t features[CODECACHE_FEATURE_WORDS];
	uint64_t xcr0;
	uint64_t bitcode_hash; /* the bitcode it was compiled from (SHA-256 prefix, README.md) */
	uint64_t build_id;     /* codecache_build_id() of the build that wrote it */
	char compiler[CODECACHE_COMPILER_LEN];
} CodeCacheKey;

/* One entry of a parsed image: its key and its ELF64 relocatable object, inside the image. */
typedef struct {
	CodeCacheKey key;
	const uint8_t *object;
	size_t object_size;
} CodeCacheEntry;

/* A cache image whose header, table and checksum were checked. */
typedef struct {
	const uint8_t *data;
	size_t size;
	uint32_t count;
} CodeCacheImage;

/* What an entry's key is compared with: this machine, this build, this target. */
typedef struct {
	uint32_t target;
	char vendor[CODECACHE_VENDOR_LEN + 1];
	uint32_t family, model;
	uint32_t features[CODECACHE_FEATURE_WORDS];
	uint64_t xcr0;
	uint64_t build_id;
	/* What this build's JIT compiles with: LLVM's version and its bitcode's hash; "" and 0
	 * in a build without the JIT (then the build id alone decides). */
	char compiler[CODECACHE_COMPILER_LEN];
	uint64_t bitcode_hash;
} CodeCacheMachine;

/* The build's id: a hash of core's sources and flags (made by the Makefile); a cache written
 * by another build is refused. */
uint64_t codecache_build_id(void);

/* 64-bit FNV-1a over the image's size bytes, the checksum field counted as zeros. */
uint64_t codecache_checksum(const uint8_t *data, size_t size);

/* Writer side: the header (with its checksum left zero) and one table record; the object
 * of entry i lies at object_offset in the file. The checksum goes in last:
 * codecache_put_checksum over the whole image. */
void codecache_put_header(uint8_t out[CODECACHE_HEADER_BYTES], uint32_t count, uint64_t file_size);
void codecache_put_entry(uint8_t out[CODECACHE_ENTRY_BYTES], const CodeCacheKey *key,
			 uint64_t object_offset, uint64_t object_size);
void codecache_put_checksum(uint8_t *image, size_t size);

/* Reader: checks the header, the checksum and that every record's strings are terminated
 * and its object lies inside the image; 0, or -1 with the reason (error.h). */
int codecache_open(CodeCacheImage *img, const uint8_t *data, size_t size);
/* Entry i (< img->count) of an opened image. */
void codecache_entry(const CodeCacheImage *img, uint32_t i, CodeCacheEntry *e);

/* This machine for target: CPUID vendor, family, model, feature words, XCR0, build id, and
 * the build's compiler and bitcode hash. */
void codecache_machine_this(CodeCacheMachine *m, uint32_t target);

/* true when key may run on m; otherwise false and a one-line reason in why. */
bool codecache_key_matches(const CodeCacheKey *key, const CodeCacheMachine *m, char *why,
			   size_t cap);

/* Loads an ELF64 x86-64 relocatable object into executable memory (platform_code_alloc),
 * resolving tl_fallback to fallback and memcpy/memset/memmove/memcmp to core's, relocating
 * and sealing it; *entry gets its tl_entry, *bytes the memory it took. 0, or -1 with the
 * reason (error.h): a malformed object, an unknown section, relocation type or symbol, more
 * than max_bytes of memory. A refused object leaves no memory taken (platform_code_free). */
int codecache_load_object(const uint8_t *obj, size_t size, KernelFn fallback, size_t max_bytes,
			  KernelFn *entry, size_t *bytes);

/* Does the loaded model use this key's (slot, dtype, rows, cols)? (core/model: model_uses) */
typedef bool (*CodeCacheUsesFn)(const void *ctx, const CodeCacheKey *key);

/* Applies a cache image: each entry whose key matches m and whose shapes uses accepts is
 * loaded and replaces its registry slot (its tl_fallback is the slot's entry before). One log
 * line per entry, "code-cache: loaded ..." or "code-cache: refused ...: why", or one line
 * for an image refused whole. The entries loaded take at most CODECACHE_MAX_LOAD_BYTES
 * together. Returns the number of entries loaded. */
int codecache_apply(const char *name, const uint8_t *data, size_t size, const CodeCacheMachine *m,
		    CodeCacheUsesFn uses, const void *ctx);

#endif
