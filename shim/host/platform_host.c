/* platform_host.c: platform.h on Linux: stdout/stderr (write errors end the run), stdin lines,
 * an mmap'ed arena, a TSC calibrated against CLOCK_MONOTONIC, a pthread pool. Files are in
 * files_host.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/base/arena.h"
#include "core/base/error.h"
#include "shim/host/host.h"
#include "shim/platform.h"

static FILE *stream_file(int stream)
{
	return stream == PLAT_OUT ? stdout : stderr;
}

/* A failed write to stdout ends the run: the output is lost, so it must not look complete.
 * (A reader gone from a pipe raises SIGPIPE first, which ends the run as it ends cat.) */
static _Noreturn void output_failed(int err)
{
	host_files_discard();
	fprintf(stderr, "error: writing the output failed: %s\n", strerror(err));
	_exit(1);
}

void plat_write(int stream, const char *s, size_t n)
{
	if (fwrite(s, 1, n, stream_file(stream)) != n && stream == PLAT_OUT)
		output_failed(errno);
}

void plat_flush(int stream)
{
	if (fflush(stream_file(stream)) != 0 && stream == PLAT_OUT)
		output_failed(errno);
}

void serial_puts(const char *s)
{
	plat_write(PLAT_OUT, s, strlen(s));
}

void host_std_streams(void)
{
	/* A closed standard descriptor would be handed to the next file opened, and the output
	 * would land in it. /dev/null takes its place: read-only as stdout, so that writing the
	 * output still fails, and is reported. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == 2 ? O_WRONLY : O_RDONLY) != fd)
			_exit(1);
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

void plat_memory_populate(void *p, size_t n)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(page - 1), b = ((uintptr_t)p + n + page - 1) & ~(page - 1);
	/* best effort: a kernel before 5.14 refuses it, and the pages then fault in as written */
	if (n)
		madvise((void *)a, b - a, MADV_POPULATE_WRITE);
}

/* --- Input --- */

int plat_read_line(char *buf, size_t cap)
{
	fflush(stdout);
	size_t n = 0;
	int c;
	while ((c = getchar()) != EOF && c != '\n') {
		if (n + 1 < cap)
			buf[n] = (char)c;
		n++;
	}
	if (c == EOF && n == 0)
		return -1;
	if (n + 1 > cap || n > INT_MAX) { /* the whole line was read: the next one starts clean */
		buf[0] = 0;
		return -2;
	}
	buf[n] = 0;
	return (int)n;
}

/* --- Thread pool: a token runs ~90 jobs, one every few hundred microseconds, and a futex
 * wake-up per job cost more than a small matmul's work. So workers spin on a generation
 * counter for a while (POOL_SPINS pauses) before sleeping on the condvar, and the caller
 * spins on the count of shares still running. Each share is claimed before it runs, by its
 * worker or by the caller once its own is done: a worker that another process keeps off its
 * core has its share run by the caller instead of holding the job up (results do not depend
 * on which thread runs a share). --- */

/* Another process on one of our cores (issue 13's busy-core case): a worker it preempts in its
 * share holds the whole job up, and with 2 threads on 2 cores TinyLlama Q8_0 generation fell to
 * 24.8-25.3 tok/s against 32.5-32.8 on 1 thread beside the same busy loop. So the caller keeps,
 * over windows of PACE_WINDOW_MS, the sum of its jobs' wall-clock cycles against the sum of
 * its own shares', and the process's involuntary context switches (getrusage). Measured in
 * such windows: beside the busy loop, wall / own 1.3-2.6 (median 1.9) and 10-54 switches; on a
 * quiet machine 1.0-1.3 and 2-9, but single windows at wall / own 1.5-2.8 with few switches
 * when the host holds a vCPU off for ~15 ms, which running alone would not help. A window late
 * by both (PACE_LATE tenths of the thread count, PACE_PREEMPTS_PER_S) has the caller run the
 * jobs alone for a while, then try the threads for one window again; each further late window
 * doubles the while, up to PACE_SOLO_MAX_MS. */
#define PACE_WINDOW_MS 50
#define PACE_LATE 8
#define PACE_PREEMPTS_PER_S 160
#define PACE_SOLO_MS 100
#define PACE_SOLO_MAX_MS 1600

/* pause loops (~1 ms here) a worker spins before it sleeps: a prompt's serial steps between
 * jobs (RoPE over 64 tokens: ~0.25 ms) outlasted 4000 (~70 us), and the job after them then
 * waited for a futex wake-up or ran the sleeper's share on the caller (pp128 -t 2 --isa avx2:
 * 99.5-101.7 -> 101.1-107.8 tok/s) */
#define POOL_SPINS 60000
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
	/* the caller's pacing (PACE_*): only the calling thread touches these */
	uint64_t window_wall, window_own; /* cycles of the window's jobs: whole, caller's share */
	long window_switches;		  /* preemptions() when the window began */
	uint64_t solo_until; /* cycle count before which jobs run on the caller alone */
	uint64_t solo_ms;    /* the next solo period */
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

/* A futex wake-up and the workers' return to the job cost tens of microseconds: about the
 * time of this much attention work on one core. */
size_t plat_parallel_min_work(void)
{
	return 65536;
}

/* Involuntary context switches of the whole process so far. */
static long preemptions(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_nivcsw : 0;
}

/* Called after each threaded job: wall and own are its cycles, whole and the caller's share. */
static void pace(uint64_t now, uint64_t wall, uint64_t own)
{
	pool.window_wall += wall;
	pool.window_own += own;
	uint64_t hz = plat_cycles_hz();
	if (pool.window_wall < hz / 1000 * PACE_WINDOW_MS)
		return;
	long switches = preemptions();
	bool late = pool.window_wall * 10 > pool.window_own * (uint64_t)(pool.n * PACE_LATE) &&
		    (uint64_t)(switches - pool.window_switches) * hz >
			pool.window_wall * PACE_PREEMPTS_PER_S;
	if (late) {
		pool.solo_ms = pool.solo_ms ? pool.solo_ms * 2 : PACE_SOLO_MS;
		pool.solo_ms = pool.solo_ms < PACE_SOLO_MAX_MS ? pool.solo_ms : PACE_SOLO_MAX_MS;
		pool.solo_until = now + hz / 1000 * pool.solo_ms;
	} else
		pool.solo_ms = 0;
	pool.window_wall = pool.window_own = 0;
	pool.window_switches = switches;
}

void plat_parallel(plat_task_fn fn, void *ctx)
{
	uint64_t start = plat_cycles();
	if (pool.n <= 1 || start < pool.solo_until) {
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
	uint64_t own_end = plat_cycles();
	for (int i = 1; i < pool.n; i++) /* shares whose worker has not started yet */
		run_share(i);
	while (atomic_load_explicit(&pool.pending, memory_order_acquire))
		__builtin_ia32_pause();
	uint64_t end = plat_cycles();
	pace(end, end - start, own_end - start);
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
	/* a run that failed already said why in its one line */
	if ((fflush(stdout) != 0 || ferror(stdout)) && status == 0)
		output_failed(errno ? errno : EIO);
	host_files_discard(); /* output files the run did not finish */
	fflush(stderr);
	exit(status);
}
