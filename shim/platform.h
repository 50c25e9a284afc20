/* platform.h: the whole contract between core/ and the machine it runs on.
 * shim/host/ and shim/kernel/ define these same symbols; the Makefile picks one. A shim may
 * use core/base (and nothing else of core); it hands its memory region to arena_init
 * (core/base/arena.h) at start-up. */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Output streams: PLAT_OUT is stdout on the host and COM1 in the kernel;
 * PLAT_LOG (stats, profile report, errors) is stderr / COM2. */
enum { PLAT_OUT = 1, PLAT_LOG = 2 };

/* Writes n bytes of text to a stream; buffered, see plat_flush. A failed write to PLAT_OUT
 * ends the run on the host with one error line and status 1. */
void plat_write(int stream, const char *s, size_t n);
/* Pushes buffered text of a stream out (called per generated token). */
void plat_flush(int stream);
/* The design card's console: writes a NUL-terminated string to PLAT_OUT. Core's console
 * text (core/io/console.h: out_printf) goes out through it. */
void serial_puts(const char *s);

/* Cycle counter: the TSC, read in place (an inline so that zones stay cheap). */
static inline uint64_t plat_cycles(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
/* The same counter read after all earlier instructions retired (rdtscp). */
static inline uint64_t plat_cycles_ordered(void)
{
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
	return ((uint64_t)hi << 32) | lo;
}
/* TSC ticks per second, calibrated once by the platform, and where that figure
 * came from ("clock_gettime", "cpuid 0x15", "hypervisor leaf", "pit", ...). */
uint64_t plat_cycles_hz(void);
const char *plat_cycles_source(void);

/* Model bytes: maps the file at path read-only (host) or hands over the boot
 * module (kernel). Returns 0, or -1 with the reason in error_message() (core/base/error.h).
 * Only regular files and block devices are mapped (the type is checked before any open that
 * could block); on the host, a mapped file truncated by another process later ends the run
 * with one error line (a SIGBUS handler that knows the mapped ranges). */
int plat_model_map(const char *path, const uint8_t **data, size_t *size);

/* Reads one line of user input (--chat) into buf without its newline, NUL-terminated.
 * Returns its length, -1 at the end of input (the kernel has no input), or -2 when the
 * line does not fit in cap (the line is consumed). */
int plat_read_line(char *buf, size_t cap);

/* Output files (--export-gguf, --profile-out, --profile-svg). Returns a handle >= 0, or -1
 * with the reason in error_message(); the kernel has no file system and always refuses. On
 * the host a file is written under a temporary name in the same folder and renamed onto
 * path by plat_file_close only if every write succeeded; a failed write, or the run ending
 * before the close, removes it: no partial file under path, and no file is ever truncated.
 * An output that is a file mapped by plat_model_map (same device and inode, through any
 * path) is refused; devices and FIFOs are written in place. */
int plat_file_create(const char *path);
int plat_file_write(int handle, const void *buf, size_t n);
int plat_file_close(int handle);

/* Threads: plat_threads_start(n) makes a persistent pool of n workers (the
 * kernel: one per CPU that came up, at most); plat_parallel runs fn(ctx, i, n)
 * for i in 0..n-1 and returns when all are done. */
typedef void (*plat_task_fn)(void *ctx, int ith, int nth);
int plat_threads_start(int n);
int plat_threads(void);
void plat_parallel(plat_task_fn fn, void *ctx);
/* The attention work (positions in reach x queries x dim multiply-adds) from which a pass is
 * split across the pool; below it, starting the other threads costs more than they save. */
size_t plat_parallel_min_work(void);

/* Memory about to be written for the first time: the host populates its pages in one call
 * (touched one page at a time, each first write faulted: ~10 us a 4 KB page on the EPYC VM,
 * against ~0.6 us populated); the kernel maps all of its memory at boot and does nothing. */
void plat_memory_populate(void *p, size_t n);

/* Executable memory for code loaded at run time (core/codecache). platform_code_alloc returns
 * bytes of zeroed, writable, 4096-aligned memory, or NULL with the reason in error_message();
 * platform_code_seal makes [code, code + bytes) (code from platform_code_alloc, the length
 * rounded up to whole pages) read+execute and no longer writable (W^X): 0, or -1 with the
 * reason. Memory after the sealed pages stays writable (a loaded object's data).
 * platform_code_free gives back the last allocation, (code, bytes) exactly as
 * platform_code_alloc handed it out, when the loader refuses what it placed there; code in
 * use is never given back. platform_code_target says which build this is, as the cache keys
 * it: 0 = the Linux program, 1 = the kernel (CODECACHE_TARGET_*). */
void *platform_code_alloc(size_t bytes);
int platform_code_seal(void *code, size_t bytes);
void platform_code_free(void *code, size_t bytes);
int platform_code_target(void);

/* Debug aid for fault handling tests (--fault KIND): raises the named CPU
 * exception on purpose: "ud" (#UD), "gp" (#GP), "pf" (#PF), "stack" (stack
 * overflow into the guard page); in the kernel also "ap-ud" etc., raised on
 * another CPU. Returns only for an unknown kind. */
void plat_debug_fault(const char *kind);

/* Ends the program with status (0 = success). Flushes both streams. */
_Noreturn void plat_exit(int status);

#endif
