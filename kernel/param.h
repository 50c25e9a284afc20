/* param.h: kernel tunables, one commented #define each (plain numbers: entry.S includes it). */
#ifndef KERNEL_PARAM_H
#define KERNEL_PARAM_H

#define KSTACK_SIZE (1024 * 1024)   /* kernel stack in bytes, above a 4 KiB unmapped guard page */
#define IST_STACK_SIZE (32 * 1024)  /* each fault stack (TSS IST1 for faults, IST2 for #DF) */
#define VM_MIN_MAP_GIB 64           /* identity-map at least this many GiB of physical addresses */
#define VM_POOL_PAGES 80            /* 4 KiB pages set aside for page tables (64 GiB with 2 MiB pages) */
#define TSC_PIT_MS 50               /* length of the PIT window that calibrates the TSC, in ms */
#define CMDLINE_MAX 4096            /* longest multiboot command line kept, in bytes */
#define ARGV_MAX 128                /* most words passed to app_main, argv[0] included */
#define EXIT_STATUS_MAX 126         /* largest status isa-debug-exit can carry (see power.c) */
#define FAULT_STATUS 70             /* exit status after a CPU exception report */
#define ARENA_MIN_MIB 1             /* smallest arena the kernel boots with; less RAM is refused */

#endif
