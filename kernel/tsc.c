/* tsc.c: calibrates the TSC frequency once, from the best source the CPU offers:
 * CPUID 0x15 (TSC/crystal ratio with the crystal's Hz), CPUID 0x16 (base MHz), the
 * hypervisor leaf 0x40000010 (TSC kHz, given by KVM/QEMU and VMware), else the PIT. */
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/param.h"
#include "kernel/x86.h"

static uint64_t tsc_freq;
static const char *tsc_from = "none";

/* Counts TSC ticks over TSC_PIT_MS of PIT channel 2 (mode 0, polled on OUT2). */
static uint64_t tsc_pit(void)
{
	uint32_t count = (uint32_t)((uint64_t)PIT_HZ * TSC_PIT_MS / 1000);
	uint8_t gate = inb(PIT_GATE_PORT);
	outb(PIT_GATE_PORT, (uint8_t)((gate & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(PIT_CMD_PORT, 0xb0);			       /* ch 2, lo/hi byte, mode 0 */
	outb(PIT_CH2_PORT, count & 0xff);
	outb(PIT_CH2_PORT, (count >> 8) & 0xff);
	uint64_t t0 = rdtsc();
	while (!(inb(PIT_GATE_PORT) & 0x20))
		pause();
	uint64_t t1 = rdtsc();
	outb(PIT_GATE_PORT, gate);
	return (t1 - t0) * 1000 / TSC_PIT_MS;
}

void tsc_init(void)
{
	uint32_t max = cpuid(0, 0).eax;
	if (max >= 0x15) {
		struct cpuid_regs r = cpuid(0x15, 0);
		if (r.eax && r.ebx && r.ecx) {
			tsc_freq = (uint64_t)r.ecx * r.ebx / r.eax;
			tsc_from = "cpuid 0x15";
		}
	}
	if (!tsc_freq && max >= 0x16) {
		uint32_t mhz = cpuid(0x16, 0).eax & 0xffff;
		if (mhz) {
			tsc_freq = (uint64_t)mhz * 1000000;
			tsc_from = "cpuid 0x16";
		}
	}
	if (!tsc_freq && cpu_features()->hypervisor && cpuid(0x40000000, 0).eax >= 0x40000010) {
		uint32_t khz = cpuid(0x40000010, 0).eax;
		if (khz) {
			tsc_freq = (uint64_t)khz * 1000;
			tsc_from = "hypervisor leaf";
		}
	}
	if (!tsc_freq) {
		tsc_freq = tsc_pit();
		tsc_from = "pit";
	}
	kprintf("kernel: tsc: %lu kHz (%s)\n", (unsigned long)(tsc_freq / 1000), tsc_from);
}

uint64_t tsc_hz(void)
{
	return tsc_freq;
}

const char *tsc_source(void)
{
	return tsc_from;
}
