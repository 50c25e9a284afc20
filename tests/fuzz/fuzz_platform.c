/* fuzz_platform.c: platform.h for the fuzz targets and regression runners: no files, one
 * thread, output dropped (or sent to stderr when FUZZ_VERBOSE is set), exit as _exit. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

int plat_threads_start(int n)
{
	(void)n;
	return 1;
}

int plat_threads(void)
{
	return 1;
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

/* Code memory on the heap, page-aligned and never executed: the loader places and relocates
 * objects in it (ASan sees any write past it). Each allocation replaces the last, so nothing
 * stays behind between inputs. */
static void *code_block;

void *platform_code_alloc(size_t bytes)
{
	free(code_block);
	code_block = aligned_alloc(4096, (bytes + 4095) & ~(size_t)4095);
	return code_block;
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
