/* gdt.h: segment selectors shared by entry.S, apboot.S, gdt.c and trap.c, and each CPU's GDT
 * and TSS. */
#ifndef KERNEL_GDT_H
#define KERNEL_GDT_H

#define SEG_KCODE 0x08 /* 64-bit ring 0 code */
#define SEG_KDATA 0x10 /* ring 0 data */
#define SEG_TSS 0x18   /* 64-bit TSS (two slots) */

#define IST_FAULT 1  /* IST slot for exceptions */
#define IST_DOUBLE 2 /* IST slot for #DF, so a fault in the fault path still reports */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7]; /* ist[0] is IST1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

/* One CPU's descriptor tables: each CPU needs its own TSS (the busy bit, its IST stacks). */
struct cpu_tables {
	uint64_t gdt[5] __attribute__((aligned(16)));
	struct tss64 tss;
};

/* Loads the boot CPU's GDT (same code/data selectors as entry.S) and TSS with its IST stacks. */
void gdt_init(void);
/* The same on another CPU: its tables and the tops of its two IST stacks. */
void gdt_load(struct cpu_tables *t, uint64_t ist_fault_top, uint64_t ist_double_top);
#endif

#endif
