/* fuzz_platform.c: platform.h for the fuzz targets and regression runners: no files, one
 * thread, output dropped (or sent to stderr when FUZZ_VERBOSE is set), exit as _exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/codecache/codecache.h"
#include "fuzz.h"
#include "shim/platform.h"

static int verbose = -1;

void plat_write(int stream, const char *s, size_t n)
{
	(void)stream;
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		fwrite(s, 1, n, stderr);
}

void plat_flush(int stream)
{
	(void)stream;
}

void serial_puts(const char *s)
{
	(void)s;
}

uint64_t plat_cycles_hz(void)
{
	return 1000000000ull; /* a fixed figure: fuzzing needs no real clock */
}

const char *plat_cycles_source(void)
{
	return "fuzz (fixed 1 GHz)";
}

int plat_model_map(const char *path, const uint8_t **data, size_t *size)
{
	(void)path;
	(void)data;
	(void)size;
	return -1;
}

int plat_read_line(char *buf, size_t cap)
{
	(void)buf;
	(void)cap;
	return -1;
}

int plat_file_create(const char *path)
{
	(void)path;
	return -1;
}

int plat_file_write(int handle, const void *buf, size_t n)
{
	(void)handle;
	(void)buf;
	(void)n;
	return -1;
}

int plat_file_close(int handle)
{
	(void)handle;
	return -1;
}

void plat_memory_populate(void *p, size_t n)
{
	(void)p;
	(void)n;
}

int plat_threads_start(int n)
{
	(void)n;
	return 1;
}

int plat_threads(void)
{
	return 1;
}

size_t plat_parallel_min_work(void)
{
	return 65536;
}

void plat_parallel(plat_task_fn fn, void *ctx)
{
	fn(ctx, 0, 1);
}

void plat_debug_fault(const char *kind)
{
	(void)kind;
}

_Noreturn void plat_exit(int status)
{
	_exit(status);
}

/* Code memory on the heap, zeroed, page-aligned and never executed: the loader places and
 * relocates objects in it (ASan sees any write past it). Every block stays until the loader
 * gives it back or fuzz_code_reset ends the input; the bytes held at once may not pass one
 * cache's budget, CODECACHE_MAX_LOAD_BYTES (more is memory a refused object kept). */
static struct {
	void *block;
	size_t bytes;
} code_blocks[CODECACHE_MAX_ENTRIES + 1];
static size_t code_count, code_held;

void *platform_code_alloc(size_t bytes)
{
	if (code_count == sizeof code_blocks / sizeof code_blocks[0])
		abort(); /* more objects placed than one cache has entries */
	size_t n = (bytes + 4095) & ~(size_t)4095;
	void *p = aligned_alloc(4096, n);
	if (!p)
		return NULL;
	memset(p, 0, n);
	code_blocks[code_count].block = p;
	code_blocks[code_count++].bytes = bytes;
	code_held += bytes;
	if (code_held > CODECACHE_MAX_LOAD_BYTES) {
		fprintf(stderr, "fuzz: code memory held: %zu bytes\n", code_held);
		abort();
	}
	return p;
}

void platform_code_free(void *code, size_t bytes)
{
	if (!code_count || code_blocks[code_count - 1].block != code ||
	    code_blocks[code_count - 1].bytes != bytes)
		abort(); /* only the last allocation is ever given back, as it was handed out */
	free(code);
	code_held -= bytes;
	code_count--;
}

void fuzz_code_reset(void)
{
	while (code_count)
		free(code_blocks[--code_count].block);
	code_held = 0;
}

int platform_code_seal(void *code, size_t bytes)
{
	(void)code;
	(void)bytes;
	return 0;
}

int platform_code_target(void)
{
	return 0;
}
