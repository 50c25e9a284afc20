/* kernel.h: the kernel's internal interfaces, one block per file, used by main.c and shim/kernel/. */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/multiboot.h"

/* uart.c: 16550 byte sink. */
enum { UART_COM1, UART_COM2 };
void uart_init(void);
void uart_write(int com, const char *s, size_t n);

/* kprintf.c: small printf to the log stream (COM2): %s %c %d %u %x %p, l/ll/z, width, 0 flag. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/* cpu.c: FPU/SSE/AVX state, set up before any float code runs. */
struct cpu_features {
	int sse, xsave, avx, avx2, avx512f, pdpe1gb, hypervisor;
	uint64_t xcr0;
};
void cpu_init(void);
const struct cpu_features *cpu_features(void);

/* trap.c: IDT for exceptions 0-31; the report never returns. */
void trap_init(void);

/* mem.c: multiboot memory map, modules and command line. */
void mem_init(uint32_t magic, const struct mb_info *mbi);
uint64_t mem_ram_top(void);   /* end of the highest usable RAM */
uint64_t mem_reserved_top(void); /* end of the kernel image, the modules and the boot info */
/* Largest usable region above the kernel and modules, below limit; 0 if none. */
int mem_arena_region(uint64_t limit, uint64_t *base, uint64_t *size);
/* The first boot module's bytes; -1 if no module was loaded. */
int mem_module(const uint8_t **data, size_t *size);
const char *mem_cmdline(void);

/* vm.c: identity map of physical memory with the stack guard page left out. */
uint64_t vm_init(uint64_t ram_top); /* returns the end of the mapped range */

/* tsc.c: TSC frequency and where it came from. */
void tsc_init(void);
uint64_t tsc_hz(void);
const char *tsc_source(void);

/* cmdline.c: the multiboot command line as argv (argv[0] = "tinyllama"). */
int cmdline_split(const char *line, char **argv, int max);

/* fault.c: deliberate CPU exceptions (--fault KIND); returns only for an unknown kind. */
void fault_raise(const char *kind);

/* power.c: leaving the machine through QEMU's isa-debug-exit. */
_Noreturn void power_exit(int status);

#endif
