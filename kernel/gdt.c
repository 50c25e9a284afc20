/* gdt.c: each CPU's GDT (code, data, TSS) and the TSS whose IST stacks take the exceptions. */
#include "kernel/gdt.h"
#include "kernel/param.h"
#include "kernel/x86.h"

_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

static struct cpu_tables boot_tables;
static uint8_t ist_fault_stack[IST_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t ist_double_stack[IST_STACK_SIZE] __attribute__((aligned(16)));

void gdt_load(struct cpu_tables *t, uint64_t ist_fault_top, uint64_t ist_double_top)
{
	uint64_t base = (uint64_t)(uintptr_t)&t->tss;
	uint64_t limit = sizeof t->tss - 1;

	t->tss.ist[IST_FAULT - 1] = ist_fault_top;
	t->tss.ist[IST_DOUBLE - 1] = ist_double_top;
	t->tss.iomap_base = sizeof t->tss; /* no I/O permission bitmap */

	t->gdt[0] = 0;
	t->gdt[SEG_KCODE / 8] = 0x00af9a000000ffffull; /* same descriptors as entry.S */
	t->gdt[SEG_KDATA / 8] = 0x00cf92000000ffffull;
	/* 16-byte system descriptor: type 9 (available 64-bit TSS), present. */
	t->gdt[SEG_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
			      ((limit & 0xf0000) << 32) | ((base & 0xff000000) << 32);
	t->gdt[SEG_TSS / 8 + 1] = base >> 32;

	struct desc_ptr p = {sizeof t->gdt - 1, (uint64_t)(uintptr_t)t->gdt};
	lgdt(&p);
	ltr(SEG_TSS);
}

void gdt_init(void)
{
	gdt_load(&boot_tables, (uint64_t)(uintptr_t)(ist_fault_stack + IST_STACK_SIZE),
		 (uint64_t)(uintptr_t)(ist_double_stack + IST_STACK_SIZE));
}
