/* fault.c: raises CPU exceptions on purpose (--fault KIND) to test the fault reports and the
 * code area's W^X page bits. */
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

/* A write into a sealed code page (code-write) or a call into a page not sealed yet (code-exec,
 * NX): both must fault. Needs the code area, which a code cache module brings. */
static void fault_code(int write)
{
	volatile uint8_t *p = code_area_alloc(1);
	if (!p) {
		kprintf("kernel: --fault code-*: no code area (make qemu CODE_CACHE=FILE)\n");
		return;
	}
	p[0] = 0xc3; /* ret */
	if (write) {
		if (code_area_seal((const void *)p, 1) == 0)
			p[0] = 0;
	} else {
		((void (*)(void))(uintptr_t)p)();
	}
	kprintf("kernel: --fault code-%s: no fault: the code area is not W^X\n",
		write ? "write" : "exec");
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
	else if (fault_is(kind, "code-write") || fault_is(kind, "code-exec"))
		fault_code(fault_is(kind, "code-write"));
	else
		kprintf("kernel: unknown fault kind '%s' (ud, gp, pf, stack, code-write, "
			"code-exec)\n",
			kind);
}
