/* platform_host.c: platform.h on Linux: stdout/stderr, an mmap'ed arena, a TSC
 * calibrated against CLOCK_MONOTONIC, mmap'ed model files, a pthread pool. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/base/error.h"
#include "core/base/fmt.h"
#include "shim/host/host.h"
#include "shim/platform.h"

static FILE *stream_file(int stream)
{
	return stream == PLAT_OUT ? stdout : stderr;
}

void plat_write(int stream, const char *s, size_t n)
{
	fwrite(s, 1, n, stream_file(stream));
}

void plat_flush(int stream)
{
	fflush(stream_file(stream));
}

void serial_puts(const char *s)
{
	fputs(s, stdout);
}

/* --- TSC calibration --- */

static uint64_t tsc_hz;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void calibrate_tsc(void)
{
	/* Best of three 20 ms windows: a preempted window only makes it look slower. Plain rdtsc:
	 * a 20 ms window needs no ordering, and rdtscp is not on every CPU (nor under valgrind). */
	uint64_t best = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t n0 = now_ns(), c0 = plat_cycles();
		while (now_ns() - n0 < 20000000ull)
			;
		uint64_t n1 = now_ns(), c1 = plat_cycles();
		uint64_t hz = (uint64_t)((double)(c1 - c0) * 1e9 / (double)(n1 - n0));
		if (hz > best)
			best = hz;
	}
	tsc_hz = best;
}

uint64_t plat_cycles_hz(void)
{
	return tsc_hz;
}

const char *plat_cycles_source(void)
{
	return "clock_gettime(CLOCK_MONOTONIC)";
}

/* --- Arena --- */

static int arena_hugepages;

void host_platform_hugepages(int on)
{
	arena_hugepages = on;
}

void host_platform_init(size_t arena_bytes)
{
	if (!arena_bytes) {
		/* Default: three quarters of physical memory, reserved and touched lazily. */
		long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
		arena_bytes =
		    pages > 0 && page > 0 ? (size_t)pages * (size_t)page / 4 * 3 : (size_t)4 << 30;
	}
	void *base = mmap(NULL, arena_bytes, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		fprintf(stderr, "error: cannot reserve an arena of %zu bytes: %s\n", arena_bytes,
			strerror(errno));
		exit(1);
	}
	/* 2 MB pages: weights stream without a TLB miss (and a prefetcher stop) every 4 KB.
	 * Opt-in: on VMs that hand freed 2 MB blocks back to the hypervisor (free page
	 * reporting), faulting them in again made loading ~3x slower after an idle spell. */
	if (arena_hugepages)
		madvise(base, arena_bytes, MADV_HUGEPAGE);
	arena_init(base, arena_bytes);
	calibrate_tsc();
}

/* --- Files --- */

/* The file read-only, 2 MB pages allowed before the pages are touched (so that readahead may
 * fill the page cache in 2 MB folios), and populated now: generation would otherwise take a
 * page fault per 4 KB of weights on its first token. */
static void *map_populated(int fd, size_t n)
{
	void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return p;
	madvise(p, n, MADV_HUGEPAGE);
	/* before Linux 5.14 (EINVAL): touch every page; other errors leave the faults for later */
	if (madvise(p, n, MADV_POPULATE_READ) < 0 && errno == EINVAL)
		for (size_t i = 0; i < n; i += 4096)
			(void)*(volatile const uint8_t *)((const uint8_t *)p + i);
	return p;
}

int plat_model_map(const char *path, const uint8_t **data, size_t *size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		return error_set("%s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set("%s: not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return error_set("%s: the file is empty", path);
	}
	size_t n = (size_t)st.st_size;
	void *p = map_populated(fd, n);
	close(fd);
	if (p == MAP_FAILED) {
		return error_set("%s: mmap: %s", path, strerror(errno));
	}
	*data = p;
	*size = n;
	return 0;
}

int plat_read_line(char *buf, size_t cap)
{
	fflush(stdout);
	if (!fgets(buf, (int)cap, stdin))
		return -1;
	size_t n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	else if (n + 1 == cap) /* longer than the buffer: drop the rest of the line */
		for (int c = getchar(); c != EOF && c != '\n'; c = getchar())
			;
	return (int)n;
}

#define MAX_FILES 8
static FILE *files[MAX_FILES];

int plat_file_create(const char *path)
{
	for (int h = 0; h < MAX_FILES; h++) {
		if (files[h])
			continue;
		files[h] = fopen(path, "wb");
		if (!files[h])
			return error_set("%s: %s", path, strerror(errno));
		return h;
	}
	return error_set("%s: too many open files", path);
}

int plat_file_write(int h, const void *buf, size_t n)
{
	if (h < 0 || h >= MAX_FILES || !files[h])
		return -1;
	return fwrite(buf, 1, n, files[h]) == n ? 0 : -1;
}

int plat_file_close(int h)
{
	if (h < 0 || h >= MAX_FILES || !files[h])
		return -1;
	int r = fclose(files[h]);
	files[h] = NULL;
	return r == 0 ? 0 : -1;
}

/* --- Thread pool: a token runs ~90 jobs, one every few hundred microseconds, and a futex
 * wake-up per job cost more than a small matmul's work. So workers spin on a generation
 * counter for a while (POOL_SPINS pauses) before sleeping on the condvar, and the caller
 * spins on the count of shares still running. Each share is claimed before it runs, by its
 * worker or by the caller once its own is done: a worker that another process keeps off its
 * core has its share run by the caller instead of holding the job up (results do not depend
 * on which thread runs a share). --- */

/* pause loops (~50-100 us) a worker spins before it sleeps */
#define POOL_SPINS 4000
/* threads at most, one bit each in the claim mask */
#define POOL_MAX 64

static struct {
	pthread_mutex_t lock;
	pthread_cond_t start;
	plat_task_fn fn;
	void *ctx;
	int n;			  /* threads including the caller */
	_Atomic unsigned gen;	  /* bumped per job: publishes fn and ctx */
	_Atomic uint64_t claimed; /* bit i: share i of the job is taken (POOL_MAX shares) */
	_Atomic int pending;	  /* shares 1..n-1 not finished yet */
	int sleepers;		  /* workers waiting on start (under lock) */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .start = PTHREAD_COND_INITIALIZER};

/* Runs share ith of the current job unless another thread took it. */
static void run_share(int ith)
{
	uint64_t bit = 1ull << ith;
	if (atomic_fetch_or_explicit(&pool.claimed, bit, memory_order_acquire) & bit)
		return;
	pool.fn(pool.ctx, ith, pool.n);
	atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
}

static void *worker(void *arg)
{
	int ith = (int)(intptr_t)arg;
	unsigned seen = 0;
	for (;;) {
		unsigned g;
		int spins = 0;
		while ((g = atomic_load_explicit(&pool.gen, memory_order_acquire)) == seen) {
			if (++spins < POOL_SPINS) {
				__builtin_ia32_pause();
				continue;
			}
			pthread_mutex_lock(&pool.lock);
			pool.sleepers++;
			while (atomic_load_explicit(&pool.gen, memory_order_relaxed) == seen)
				pthread_cond_wait(&pool.start, &pool.lock);
			pool.sleepers--;
			pthread_mutex_unlock(&pool.lock);
			spins = 0;
		}
		seen = g;
		run_share(ith);
	}
	return NULL;
}

int plat_threads_start(int n)
{
	if (pool.n)
		return pool.n;
	if (n <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (int)cpus : 1;
	}
	n = n < POOL_MAX ? n : POOL_MAX;
	pool.n = n;
	for (int i = 1; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, (void *)(intptr_t)i) != 0) {
			pool.n = i;
			break;
		}
		pthread_detach(t);
	}
	return pool.n;
}

int plat_threads(void)
{
	return pool.n ? pool.n : 1;
}

void plat_parallel(plat_task_fn fn, void *ctx)
{
	if (pool.n <= 1) {
		fn(ctx, 0, 1);
		return;
	}
	pool.fn = fn;
	pool.ctx = ctx;
	atomic_store_explicit(&pool.pending, pool.n - 1, memory_order_relaxed);
	/* share 0 is the caller's; a worker that claims a share sees fn, ctx and pending */
	atomic_store_explicit(&pool.claimed, 1ull, memory_order_release);
	atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
	/* Under the lock, so that a worker between its check of gen and its wait is either
	 * still before the check (and sees the new gen) or already waiting (and is woken). */
	pthread_mutex_lock(&pool.lock);
	if (pool.sleepers)
		pthread_cond_broadcast(&pool.start);
	pthread_mutex_unlock(&pool.lock);
	fn(ctx, 0, pool.n);
	for (int i = 1; i < pool.n; i++) /* shares whose worker has not started yet */
		run_share(i);
	while (atomic_load_explicit(&pool.pending, memory_order_acquire))
		__builtin_ia32_pause();
}

/* --- Debug faults: the host gets the matching signal. --- */

void plat_debug_fault(const char *kind)
{
	fflush(NULL);
	if (!strcmp(kind, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(kind, "gp"))
		raise(SIGSEGV);
	else if (!strcmp(kind, "pf")) {
		volatile uintptr_t unmapped = 8;
		*(volatile int *)unmapped = 1;
	} else if (!strcmp(kind, "stack"))
		raise(SIGSEGV);
}

_Noreturn void plat_exit(int status)
{
	fflush(stdout);
	fflush(stderr);
	exit(status);
}
