/* perf_check.c: --perf-check: perf_event_open counters (cycles, instructions, task-clock) and
 * the TSC and wall clock around a run, printed beside the profiler's total with ratios. */
#define _GNU_SOURCE
#include "host/perf_check.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim/platform.h"

enum { PC_CYCLES, PC_INSTRUCTIONS, PC_TASK_CLOCK, PC_COUNT };

static const struct {
	const char *name;
	uint32_t type;
	uint64_t config;
} pc_events[PC_COUNT] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
};

static struct {
	int fd[PC_COUNT];
	int open_errno[PC_COUNT];
	uint64_t tsc0, ns0;
	int active;
} pc;

static uint64_t pc_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* User-space only, so that perf_event_paranoid = 2 allows it; inherit follows the worker
 * threads that app_run starts (inherit rules out a counter group, so each counts alone). */
static int pc_open(int i)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = pc_events[i].type;
	attr.config = pc_events[i].config;
	attr.disabled = 1;
	attr.inherit = 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	pc.open_errno[i] = fd < 0 ? errno : 0;
	return (int)fd;
}

/* The count scaled up when the kernel multiplexed the counter; -1 when it never ran. */
static double pc_read(int i)
{
	uint64_t v[3];
	if (pc.fd[i] < 0 || read(pc.fd[i], v, sizeof v) != (ssize_t)sizeof v || v[2] == 0)
		return -1.0;
	return v[2] < v[1] ? (double)v[0] * (double)v[1] / (double)v[2] : (double)v[0];
}

int perf_check_begin(void)
{
	pc.active = 0;
	for (int i = 0; i < PC_COUNT; i++) {
		pc.fd[i] = pc_open(i);
		if (pc.fd[i] >= 0)
			pc.active++;
	}
	if (!pc.active) {
		fprintf(stderr,
			"perf-check: perf_event_open failed for every counter (%s); see "
			"/proc/sys/kernel/perf_event_paranoid\n",
			strerror(pc.open_errno[PC_TASK_CLOCK]));
		return -1;
	}
	pc.ns0 = pc_now_ns();
	pc.tsc0 = plat_cycles_ordered();
	for (int i = 0; i < PC_COUNT; i++) {
		if (pc.fd[i] >= 0) {
			ioctl(pc.fd[i], PERF_EVENT_IOC_RESET, 0);
			ioctl(pc.fd[i], PERF_EVENT_IOC_ENABLE, 0);
		}
	}
	return 0;
}

static void pc_ratio(const char *what, double profiler, double other)
{
	if (profiler > 0 && other > 0)
		fprintf(stderr, "perf-check:   profiler / %s = %.4f\n", what, profiler / other);
}

void perf_check_end(uint64_t profiler_total_cycles)
{
	double v[PC_COUNT];
	for (int i = 0; i < PC_COUNT; i++)
		if (pc.fd[i] >= 0)
			ioctl(pc.fd[i], PERF_EVENT_IOC_DISABLE, 0);
	uint64_t tsc = plat_cycles_ordered() - pc.tsc0;
	uint64_t wall_ns = pc_now_ns() - pc.ns0;
	for (int i = 0; i < PC_COUNT; i++) {
		v[i] = pc_read(i);
		if (pc.fd[i] >= 0)
			close(pc.fd[i]);
		pc.fd[i] = -1;
	}
	plat_flush(PLAT_LOG); /* the profile report goes first, whole */

	uint64_t hz = plat_cycles_hz();
	double prof_ns = hz ? (double)profiler_total_cycles * 1e9 / (double)hz : 0.0;
	fprintf(stderr,
		"perf-check: profiler total %llu cycles = %.3f ms (TSC %.3f MHz from %s)%s\n",
		(unsigned long long)profiler_total_cycles, prof_ns / 1e6, (double)hz / 1e6,
		plat_cycles_source(),
		profiler_total_cycles ? "" : " -- add --profile to measure the run");
	fprintf(stderr, "perf-check: around the run: TSC %llu cycles, wall clock %.3f ms\n",
		(unsigned long long)tsc, (double)wall_ns / 1e6);
	pc_ratio("TSC around the run", (double)profiler_total_cycles, (double)tsc);
	pc_ratio("wall clock", prof_ns, (double)wall_ns);

	if (v[PC_CYCLES] >= 0) {
		fprintf(stderr,
			"perf-check: perf cycles %.0f (core clock, user space, all threads)\n",
			v[PC_CYCLES]);
		pc_ratio("perf cycles", (double)profiler_total_cycles, v[PC_CYCLES]);
		if (v[PC_INSTRUCTIONS] >= 0)
			fprintf(stderr, "perf-check: perf instructions %.0f, IPC %.2f\n",
				v[PC_INSTRUCTIONS], v[PC_INSTRUCTIONS] / v[PC_CYCLES]);
	} else {
		int e = pc.open_errno[PC_CYCLES];
		fprintf(stderr,
			"perf-check: hardware counters unsupported here (%s): falling back to "
			"task-clock\n",
			e ? strerror(e) : "the counter never ran");
	}
	if (v[PC_TASK_CLOCK] >= 0) {
		fprintf(stderr,
			"perf-check: task-clock %.3f ms (CPU time of all threads: with workers it "
			"can exceed the wall clock)\n",
			v[PC_TASK_CLOCK] / 1e6);
		pc_ratio("task-clock", prof_ns, v[PC_TASK_CLOCK]);
	} else {
		fprintf(stderr, "perf-check: task-clock unavailable (%s)\n",
			strerror(pc.open_errno[PC_TASK_CLOCK]));
	}
}
