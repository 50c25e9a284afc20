/* pool.c: shim/platform.h's thread pool on bare metal, with the host pool's contract: the CPUs
 * that came up (kernel/smp.c) run fn(ctx, i, n) for i in 0..n-1, the calling (boot) CPU share
 * 0, so the core splits rows and query groups exactly as on the host. As on the host, each
 * share is claimed before it runs, by its CPU or by the caller once its own is done: a CPU that
 * is slow to wake (a vCPU the host has not scheduled) has its share run by the caller. An idle
 * CPU spins on the job counter for POOL_SPIN_US (a token's jobs come every few hundred
 * microseconds), then halts until the caller's IPI; the caller waits for the job's end the same
 * way, woken by the CPU that finishes last. A sleeping CPU is woken only while its IPIs cost
 * the caller less than the shares they bring (see peer). --fault ap-KIND raises KIND on a pool
 * CPU. */
#include "core/base/config.h"
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/param.h"
#include "kernel/x86.h"
#include "shim/platform.h"

_Static_assert(MAX_CPUS == MAX_THREADS, "one pool thread per CPU, as many as -t allows");

static struct {
	plat_task_fn fn;
	void *ctx;
	int n;			/* threads, the caller included; 0 before plat_threads_start */
	unsigned gen;		/* bumped per job: publishes fn, ctx and n */
	uint64_t claimed;	/* bit i: share i of the job is taken */
	unsigned pending;	/* shares 1..n-1 not finished yet */
	int sleeping[MAX_CPUS]; /* CPU halted (or about to): it needs an IPI */
	/* counted by the caller, for pool_report */
	uint64_t jobs, taken_over, wakeups, unwoken;
} pool;

/* The caller's view of the other CPUs, for their wake-up. Under QEMU's TCG on a busy host an
 * IPI to a halted vCPU costs the sender 1-2 ms (measured around the ICR write: the woken vCPU's
 * thread wakes on the sender's host core while the sender holds QEMU's lock) and the woken CPU
 * mostly comes after the caller has run its share; on a quiet host an IPI costs tens of
 * microseconds and the woken CPU is in time. So a sleeping CPU is woken only while what its
 * IPIs cost stays below the share it took off the caller (the caller's own share times how
 * often the woken CPU came in time: moving averages), and otherwise on every
 * POOL_PROBE_JOBS-th job it slept through, to measure again; its share is the caller's then. */
static struct {
	uint64_t ipi_cycles; /* what an IPI to it costs the caller: average, weight 1/4 */
	unsigned in_time;    /* how often it came in time when woken, of 256: average, weight 1/4 */
	unsigned unwoken;    /* jobs since its last IPI that it slept through */
	int woken;	     /* woken for the current job */
} peer[MAX_CPUS];
static uint64_t share_cycles; /* the caller's own share of a job: average, weight 1/8 */

static int pool_done(const unsigned *word, unsigned value, int until_equal, int order)
{
	return (__atomic_load_n(word, order) == value) == until_equal;
}

/* Waits until *word == value (until_equal) or != value: spins for POOL_SPIN_US, then halts until
 * an IPI, after raising this CPU's sleeping flag. The waker changes *word before it looks at the
 * flag, this CPU raises the flag before its last look at *word (both full barriers): one of the
 * two sees the other. */
static void pool_wait(const unsigned *word, unsigned value, int until_equal, int cpu)
{
	uint64_t spin = tsc_hz() / 1000000 * POOL_SPIN_US, t0 = rdtsc();
	while (!pool_done(word, value, until_equal, __ATOMIC_ACQUIRE)) {
		if (rdtsc() - t0 < spin) {
			pause();
			continue;
		}
		__atomic_store_n(&pool.sleeping[cpu], 1, __ATOMIC_SEQ_CST);
		if (!pool_done(word, value, until_equal, __ATOMIC_SEQ_CST))
			sti_hlt_cli();
		__atomic_store_n(&pool.sleeping[cpu], 0, __ATOMIC_RELAXED);
		t0 = rdtsc();
	}
}

/* Wakes the caller (CPU 0) if it sleeps: the last share of a job is done. */
static void pool_wake_caller(void)
{
	if (__atomic_load_n(&pool.sleeping[0], __ATOMIC_SEQ_CST))
		lapic_send_ipi(smp_apic(0), WAKE_VECTOR);
}

/* Wakes CPU cpu for the job just published if it sleeps, unless the IPI costs more than it
 * brings (see peer). */
static void pool_wake_peer(int cpu)
{
	if (!__atomic_load_n(&pool.sleeping[cpu], __ATOMIC_SEQ_CST))
		return;
	if (peer[cpu].ipi_cycles * 256 > share_cycles * peer[cpu].in_time &&
	    ++peer[cpu].unwoken < POOL_PROBE_JOBS) {
		pool.unwoken++;
		return;
	}
	uint64_t t0 = rdtsc();
	lapic_send_ipi(smp_apic(cpu), WAKE_VECTOR);
	peer[cpu].ipi_cycles += (rdtsc() - t0) / 4 - peer[cpu].ipi_cycles / 4;
	peer[cpu].unwoken = 0;
	peer[cpu].woken = 1;
	pool.wakeups++;
}

/* Runs share ith of the current job unless another CPU took it; returns 1 when it ran it. */
static int pool_run_share(int ith)
{
	uint64_t bit = 1ull << ith;
	if (__atomic_fetch_or(&pool.claimed, bit, __ATOMIC_ACQUIRE) & bit)
		return 0;
	pool.fn(pool.ctx, ith, pool.n);
	if (__atomic_sub_fetch(&pool.pending, 1, __ATOMIC_SEQ_CST) == 0)
		pool_wake_caller();
	return 1;
}

_Noreturn void pool_worker(int cpu)
{
	unsigned seen = 0, tlb_seen = 0;
	for (;;) {
		pool_wait(&pool.gen, seen, 0, cpu);
		seen = __atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE);
		vm_sync(&tlb_seen); /* code pages sealed since the last job */
		if (cpu < pool.n)
			pool_run_share(cpu);
	}
}

int plat_threads_start(int n)
{
	if (pool.n)
		return pool.n;
	for (int i = 0; i < MAX_CPUS; i++)
		peer[i].in_time = 256; /* until measured: woken CPUs come in time */
	int up = smp_cpus();
	if (n <= 0)
		n = up;
	if (n > up) {
		kprintf("kernel: -t %d: %d CPU%s up, so %d thread%s\n", n, up,
			up > 1 ? "s are" : " is", up, up > 1 ? "s" : "");
		n = up;
	}
	pool.n = n;
	return n;
}

int plat_threads(void)
{
	return pool.n ? pool.n : 1;
}

size_t plat_parallel_min_work(void)
{
	return POOL_MIN_WORK;
}

void plat_parallel(plat_task_fn fn, void *ctx)
{
	if (pool.n <= 1) {
		fn(ctx, 0, 1);
		return;
	}
	pool.fn = fn;
	pool.ctx = ctx;
	__atomic_store_n(&pool.pending, pool.n - 1, __ATOMIC_RELAXED);
	/* share 0 is the caller's; a CPU that claims a share sees fn, ctx and pending */
	__atomic_store_n(&pool.claimed, 1ull, __ATOMIC_RELEASE);
	__atomic_fetch_add(&pool.gen, 1, __ATOMIC_SEQ_CST);
	for (int i = 1; i < pool.n; i++)
		pool_wake_peer(i);
	uint64_t t0 = rdtsc();
	fn(ctx, 0, pool.n);
	share_cycles += (rdtsc() - t0) / 8 - share_cycles / 8;
	for (int i = 1; i < pool.n; i++) { /* shares whose CPU has not started yet */
		int late = pool_run_share(i);
		pool.taken_over += (uint64_t)late;
		if (peer[i].woken)
			peer[i].in_time += (late ? 0 : 256) / 4 - peer[i].in_time / 4;
		peer[i].woken = 0;
	}
	pool_wait(&pool.pending, 0, 1, 0);
	pool.jobs++;
}

void pool_report(void)
{
	if (pool.n > 1)
		kprintf(
		    "kernel: pool: %d CPUs, %lu jobs; the boot CPU took over %lu shares of CPUs "
		    "that had not started them; %lu wake-up IPIs, %lu not sent (an IPI cost more "
		    "than a share)\n",
		    pool.n, (unsigned long)pool.jobs, (unsigned long)pool.taken_over,
		    (unsigned long)pool.wakeups, (unsigned long)pool.unwoken);
}

static int pool_fault_unknown; /* set by the CPU that found the kind unknown */

/* The first other CPU to take a share raises the fault; the boot CPU stays in its share 0
 * (so it takes no other share) until that CPU's NMI stops it, or the kind was unknown. */
static void pool_fault_task(void *ctx, int ith, int nth)
{
	(void)ith;
	(void)nth;
	if (smp_this_cpu() != 0) {
		fault_raise(ctx);
		__atomic_store_n(&pool_fault_unknown, 1, __ATOMIC_RELEASE);
		return;
	}
	while (!__atomic_load_n(&pool_fault_unknown, __ATOMIC_ACQUIRE))
		pause();
}

static int pool_starts_with(const char *s, const char *prefix)
{
	while (*prefix && *s == *prefix)
		s++, prefix++;
	return *prefix == 0;
}

void plat_debug_fault(const char *kind)
{
	if (!pool_starts_with(kind, "ap-")) {
		fault_raise(kind);
		return;
	}
	if (plat_threads_start(0) < 2) {
		kprintf("kernel: --fault %s needs a second CPU (make qemu SMP=2)\n", kind);
		return;
	}
	for (int i = 1; i < pool.n; i++) /* the fault needs another CPU, whatever an IPI costs */
		peer[i].in_time = 256, peer[i].ipi_cycles = 0;
	plat_parallel(pool_fault_task, (void *)(kind + 3));
}
