/* gdt.c: the final GDT (code, data, TSS) and the TSS whose IST stacks take the exceptions. */
#include "kernel/gdt.h"
#include "kernel/param.h"
#include "kernel/x86.h"

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];   /* ist[0] is IST1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

static struct tss64 tss;
static uint64_t gdt[5] __attribute__((aligned(16)));
static uint8_t ist_fault_stack[IST_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t ist_double_stack[IST_STACK_SIZE] __attribute__((aligned(16)));

void gdt_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof tss - 1;

	tss.ist[IST_FAULT - 1] = (uint64_t)(uintptr_t)(ist_fault_stack + IST_STACK_SIZE);
	tss.ist[IST_DOUBLE - 1] = (uint64_t)(uintptr_t)(ist_double_stack + IST_STACK_SIZE);
	tss.iomap_base = sizeof tss; /* no I/O permission bitmap */

	gdt[0] = 0;
	gdt[SEG_KCODE / 8] = 0x00af9a000000ffffull; /* same descriptors as entry.S */
	gdt[SEG_KDATA / 8] = 0x00cf92000000ffffull;
	/* 16-byte system descriptor: type 9 (available 64-bit TSS), present. */
	gdt[SEG_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
			   ((limit & 0xf0000) << 32) | ((base & 0xff000000) << 32);
	gdt[SEG_TSS / 8 + 1] = base >> 32;

	struct desc_ptr p = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
	lgdt(&p);
	ltr(SEG_TSS);
}
