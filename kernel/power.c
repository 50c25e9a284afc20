/* power.c: leaves the machine: the status goes to QEMU's isa-debug-exit device, which ends
 * QEMU with exit code (v << 1) | 1. v is status + 1, so exit code 1 (a QEMU error) is never a
 * guest status; kernel/run-qemu.sh maps the code back. Without the device, halt forever. */
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/param.h"
#include "kernel/x86.h"

_Noreturn void power_exit(int status)
{
	if (status < 0 || status > EXIT_STATUS_MAX)
		status = EXIT_STATUS_MAX;
	outl(DEBUG_EXIT_PORT, (uint32_t)status + 1);
	kprintf("kernel: no isa-debug-exit device: halted with status %d\n", status);
	for (;;) {
		cli();
		hlt();
	}
}
