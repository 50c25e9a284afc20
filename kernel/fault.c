/* fault.c: raises CPU exceptions on purpose (--fault KIND) to test the fault reports. */
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/x86.h"

static volatile int fault_never = -1; /* a depth never reached: keeps -Winfinite-recursion quiet */

/* Recurses until the stack runs into the guard page; the frame is kept live so the
 * compiler can neither drop it nor turn the recursion into a loop. */
static int fault_recurse(volatile uint8_t *prev, int depth)
{
	volatile uint8_t frame[512];
	if (depth == fault_never)
		return 0;
	frame[0] = (uint8_t)depth;
	frame[511] = prev ? prev[0] : 0;
	return fault_recurse(frame, depth + 1) + frame[511];
}

static int fault_is(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void fault_raise(const char *kind)
{
	kprintf("kernel: raising fault '%s' on purpose\n", kind);
	if (fault_is(kind, "ud"))
		ud2();
	else if (fault_is(kind, "gp"))
		(void)load_u64(FAULT_NONCANONICAL_ADDR);
	else if (fault_is(kind, "pf"))
		store_u64(FAULT_UNMAPPED_ADDR, 0);
	else if (fault_is(kind, "stack"))
		(void)fault_recurse(0, 0);
	kprintf("kernel: unknown fault kind '%s' (ud, gp, pf, stack)\n", kind);
}
