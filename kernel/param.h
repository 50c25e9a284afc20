/* param.h: kernel tunables, one commented #define each (plain numbers: entry.S includes it). */
#ifndef KERNEL_PARAM_H
#define KERNEL_PARAM_H

#define KSTACK_SIZE (1024 * 1024)  /* kernel stack in bytes, above a 4 KiB unmapped guard page */
#define IST_STACK_SIZE (32 * 1024) /* each fault stack (TSS IST1 for faults, IST2 for #DF) */
#define VM_MIN_MAP_GIB 64	   /* identity-map at least this many GiB of physical addresses */
#define VM_POOL_PAGES 96    /* 4 KiB pages for page tables (64 GiB with 2 MiB pages, guards) */
#define TSC_PIT_MS 50	    /* length of the PIT window that calibrates the TSC, in ms */
#define CMDLINE_MAX 4096    /* longest multiboot command line kept, in bytes */
#define ARGV_MAX 128	    /* most words passed to app_main, argv[0] included */
#define EXIT_STATUS_MAX 126 /* largest status isa-debug-exit can carry (see power.c) */
#define FAULT_STATUS 70	    /* exit status after a CPU exception report */
#define MAX_CPUS 64	    /* CPUs used at most (the core's MAX_THREADS) */
#define AP_STACK_SIZE                                                                              \
	(256 * 1024)	   /* each other CPU's stack (pool tasks only), above a guard page */
#define AP_START_MS 5000   /* how long a CPU may take to answer its startup IPI */
#define POOL_SPIN_US 2000  /* an idle CPU spins this long for the next job, then halts */
#define POOL_PROBE_JOBS 64 /* a CPU not woken for cost is still woken this often (in jobs) */
#define POOL_MIN_WORK 4096 /* attention work split across CPUs from (plat_parallel_min_work) */
#define CODE_AREA_KIB 2048 /* executable memory for a code cache's objects (code_area.c) */
#define ARENA_MIN_MIB 1	   /* smallest arena the kernel boots with; less RAM is refused */

#endif
