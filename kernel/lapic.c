/* lapic.c: the local APIC of each CPU: x2APIC (MSRs) where CPUID has it, else xAPIC (MMIO);
 * the INIT and startup IPIs that start the other CPUs, wake-up IPIs, the NMI that stops
 * them, and the end of an interrupt. Also the legacy 8259 PICs, moved off the exception vectors
 * and masked: the boot CPU takes interrupts inside its idle hlt, and the BIOS left the timer
 * (IRQ 0) on vector 8. */
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/x86.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_ADDR 0xfffff000ull

/* Register offsets of the xAPIC page; the x2APIC MSR is 0x800 + offset / 16. */
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define X2APIC_MSR(reg) (0x800u + (reg) / 16)

#define SVR_ENABLE 0x100
#define ICR_FIXED 0x000
#define ICR_NMI 0x400
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_PENDING 0x1000 /* xAPIC: delivery status */
#define ICR_ASSERT 0x4000
#define ICR_ALL_BUT_SELF 0xc0000 /* destination shorthand */

static int lapic_x2; /* x2APIC mode: chosen by the boot CPU, used by all */
static volatile uint32_t *lapic_mmio;
static volatile int lapic_ready; /* the boot CPU's APIC is set up: IPIs can go out */

static uint32_t lapic_read(uint32_t reg)
{
	return lapic_x2 ? (uint32_t)rdmsr(X2APIC_MSR(reg)) : lapic_mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	if (lapic_x2)
		wrmsr(X2APIC_MSR(reg), v);
	else
		lapic_mmio[reg / 4] = v;
}

/* ICW1-4: edge, cascade, vectors base and base + 8, 8086 mode; then OCW1 masks every line. */
static void pic_mask_all(void)
{
	static const uint16_t cmd[2] = {PIC1_PORT, PIC2_PORT};
	for (int i = 0; i < 2; i++) {
		outb(cmd[i], 0x11);
		outb(cmd[i] + 1, (uint8_t)(PIC_VECTOR_BASE + 8 * i));
		outb(cmd[i] + 1, i == 0 ? 0x04 : 0x02); /* slave on line 2 / its cascade identity */
		outb(cmd[i] + 1, 0x01);
		outb(cmd[i] + 1, 0xff);
	}
}

void lapic_init(int boot_cpu)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	if (boot_cpu) {
		pic_mask_all();
		lapic_x2 = (cpuid(1, 0).ecx >> 21) & 1;
		lapic_mmio = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR);
	}
	/* xAPIC -> x2APIC is allowed; the enable bit must be set first (or together). */
	base |= APIC_BASE_EN;
	wrmsr(MSR_APIC_BASE, base);
	if (lapic_x2)
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	lapic_write(APIC_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	if (boot_cpu)
		lapic_ready = 1;
}

const char *lapic_mode(void)
{
	return lapic_x2 ? "x2APIC" : "xAPIC";
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

static void lapic_icr(uint32_t dest, uint32_t cmd)
{
	if (lapic_x2) {
		wrmsr(X2APIC_MSR(APIC_ICR_LO), ((uint64_t)dest << 32) | cmd);
		return;
	}
	lapic_write(APIC_ICR_HI, dest << 24);
	lapic_write(APIC_ICR_LO, cmd);
	while (lapic_read(APIC_ICR_LO) & ICR_PENDING)
		pause();
}

void lapic_send_init(uint32_t dest)
{
	lapic_icr(dest, ICR_INIT | ICR_ASSERT);
}

void lapic_send_startup(uint32_t dest, uint32_t page)
{
	lapic_icr(dest, ICR_STARTUP | ICR_ASSERT | (page & 0xff));
}

void lapic_send_ipi(uint32_t dest, uint32_t vector)
{
	lapic_icr(dest, ICR_FIXED | ICR_ASSERT | vector);
}

void lapic_stop_others(void)
{
	if (lapic_ready)
		lapic_icr(0, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF);
}
