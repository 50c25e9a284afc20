/* kernel.h: the kernel's internal interfaces, one block per file, used by main.c and shim/kernel/.
 */
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
	int sse, xsave, avx, avx2, avx512f, pdpe1gb, hypervisor, nx; /* nx: EFER.NXE is on */
	uint64_t xcr0;
};
void cpu_init(void);
uint64_t cpu_init_ap(void); /* the same on another CPU, silently; returns its XCR0 */
const struct cpu_features *cpu_features(void);

/* trap.c: the IDT for exceptions 0-31 and the two idle interrupts; the report never returns. */
void trap_init(void);
void trap_load(void); /* the same IDT on another CPU */

/* mem.c: multiboot memory map, modules and command line. */
void mem_init(uint32_t magic, const struct mb_info *mbi);
uint64_t mem_ram_top(void);	 /* end of the highest usable RAM */
uint64_t mem_reserved_top(void); /* end of the kernel image, the modules and the boot info */
/* The highest 4 KiB-aligned usable [p, p + size) below limit; 0 if none. After mem_init only
 * (the boot info below 1 MiB is no longer needed then). */
uint64_t mem_usable_below(uint64_t limit, uint64_t size);
/* Largest usable region above the kernel and modules, below limit; 0 if none. */
int mem_arena_region(uint64_t limit, uint64_t *base, uint64_t *size);
/* The model: the first boot module not tagged as the code cache; -1 if none was loaded. */
int mem_module(const uint8_t **data, size_t *size);
/* The code cache module (make qemu CODE_CACHE=FILE), if name is NULL or has its base name;
 * -1 if there is no such module. */
int mem_code_cache(const char *name, const uint8_t **data, size_t *size);
const char *mem_cmdline(void);

/* vm.c: identity map of physical memory with the stack guard page left out. */
uint64_t vm_init(uint64_t ram_top); /* returns the end of the mapped range */
int vm_unmap_page(uint64_t pa);	    /* one more guard page; 0, or -1 without page tables left */
/* Maps the pages of [pa, pa + size) with 4 KiB pages: writable and not executable (sealed 0),
 * or read+execute (sealed 1); flushes this CPU's TLB entries for them. 0, or -1 without page
 * tables left. Other CPUs see the change after their next vm_sync. */
int vm_code_pages(uint64_t pa, uint64_t size, int sealed);
/* Flushes this CPU's TLB if vm_code_pages ran since *seen was taken (a pool CPU, per job). */
void vm_sync(unsigned *seen);

/* code_area.c: executable memory for loaded code, CODE_AREA_KIB carved out at boot (only
 * when a code cache module was loaded). code_area_init maps it writable and not executable;
 * code_area_alloc hands out whole pages (NULL when the area is missing or full);
 * code_area_seal makes [code, code + bytes) read+execute (0, or -1 outside what was handed
 * out or without page tables). */
uint64_t code_area_bytes(void);
int code_area_init(uint64_t base);
int code_area_ready(void); /* 1 once code_area_init succeeded */
void *code_area_alloc(uint64_t bytes);
int code_area_seal(const void *code, uint64_t bytes);
/* Gives back the last allocation (code, bytes), writable and NX again; any other is kept. */
void code_area_free(void *code, uint64_t bytes);

/* acpi.c: the enabled CPUs' local APIC IDs (MADT, else MP table); returns their count. */
int acpi_find_cpus(uint32_t *ids, int max, const char **source);

/* lapic.c: this CPU's local APIC (lapic_init on each CPU, the boot CPU first). */
void lapic_init(int boot_cpu);
const char *lapic_mode(void); /* "x2APIC" or "xAPIC" */
void lapic_eoi(void);
void lapic_send_init(uint32_t dest);
void lapic_send_startup(uint32_t dest, uint32_t page);
void lapic_send_ipi(uint32_t dest, uint32_t vector);
void lapic_stop_others(void); /* NMI to every other CPU (once the boot CPU's APIC is set up) */

/* smp.c: the other CPUs. In kmain's order: smp_find (before vm_init: the firmware tables),
 * smp_area_bytes and smp_reserve (their stacks at base), smp_start (after tsc_init). */
void smp_find(void);
uint64_t smp_area_bytes(void);
void smp_reserve(uint64_t base);
void smp_start(void);
int smp_cpus(void);	    /* CPUs up, the boot CPU included */
uint32_t smp_apic(int cpu); /* APIC ID of CPU number cpu */
int smp_this_cpu(void);	    /* this CPU's number; -1 while it is being started */
uint32_t smp_this_apic(void);
void smp_stack(uint64_t *guard, uint64_t *top); /* this CPU's stack guard page and top */

/* shim/kernel/pool.c: the loop an application processor runs once it is up, and one log line
 * on how the pool's jobs went (at exit). */
_Noreturn void pool_worker(int cpu);
void pool_report(void);

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
