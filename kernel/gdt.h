/* gdt.h: segment selectors shared by entry.S, gdt.c and trap.c, and gdt_init. */
#ifndef KERNEL_GDT_H
#define KERNEL_GDT_H

#define SEG_KCODE 0x08              /* 64-bit ring 0 code */
#define SEG_KDATA 0x10              /* ring 0 data */
#define SEG_TSS 0x18                /* 64-bit TSS (two slots) */

#define IST_FAULT 1                 /* IST slot for exceptions */
#define IST_DOUBLE 2                /* IST slot for #DF, so a fault in the fault path still reports */

#ifndef __ASSEMBLER__
/* Loads the final GDT (same code/data selectors as entry.S) and the TSS with its IST stacks. */
void gdt_init(void);
#endif

#endif
