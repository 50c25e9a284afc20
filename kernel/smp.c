/* smp.c: the other CPUs (application processors): found in the firmware's tables, given a stack
 * with a guard page, IST stacks, a GDT and TSS, started with INIT and startup IPIs through the
 * real-mode trampoline (apboot.S), checked to run with the boot CPU's XCR0, then handed to the
 * thread pool (shim/kernel/pool.c). CPU numbers: 0 is the boot CPU, then in order of start. */
#include "kernel/gdt.h"
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/param.h"
#include "kernel/x86.h"

#define PAGE 4096ull
#define AP_AREA (PAGE + AP_STACK_SIZE + 2 * IST_STACK_SIZE) /* guard, stack, 2 IST stacks */
#define INIT_DELAY_US 10000 /* INIT to startup IPI, as the MP spec asks */
#define SIPI_RETRY_US 200   /* before the second startup IPI */

enum { AP_WAITING, AP_ALIVE, AP_REFUSED };

struct smp_cpu {
	uint32_t apic;
	int number;	/* CPU number once it is up, else -1 */
	int state;	/* AP_*, written by the CPU itself */
	int go;		/* written by the boot CPU: 1 enter the pool as CPU number, -1 halt */
	uint64_t guard; /* its stack's guard page; the stack is above it */
	uint64_t top;
	uint64_t xcr0;
	struct cpu_tables tables;
};

static struct smp_cpu smp_slot[MAX_CPUS]; /* in firmware order, the boot CPU first */
static int smp_nslots;
static int smp_up[MAX_CPUS]; /* CPU number -> slot */
static int smp_nup = 1;
static const char *smp_source = "none";

/* Read by apboot.S and ap_main: the CPU being started (one at a time). */
uint64_t ap_boot_rsp;
static volatile int ap_boot_slot;
void ap_main(void);
extern const char ap_tramp_start[], ap_tramp_end[], ap_tramp_gdtr[], ap_tramp_cr3[];
extern const char boot_gdt_ptr[]; /* entry.S: limit (2 bytes), base (4 bytes) */

uint32_t smp_this_apic(void)
{
	if (cpuid(0, 0).eax >= 0xb && cpuid(0xb, 0).ebx) /* x2APIC topology leaf: all 32 bits */
		return cpuid(0xb, 0).edx;
	return cpuid(1, 0).ebx >> 24;
}

static int smp_slot_of(uint32_t apic)
{
	for (int i = 0; i < smp_nslots; i++)
		if (smp_slot[i].apic == apic)
			return i;
	return -1;
}

void smp_find(void)
{
	uint32_t ids[MAX_CPUS];
	uint32_t self = smp_this_apic();
	int n = acpi_find_cpus(ids, MAX_CPUS, &smp_source);
	smp_slot[0].apic = self;
	smp_slot[0].guard = (uint64_t)(uintptr_t)kstack_guard;
	smp_slot[0].top = (uint64_t)(uintptr_t)kstack_top;
	smp_nslots = 1;
	for (int i = 0; i < n; i++)
		if (ids[i] != self)
			smp_slot[smp_nslots++].apic = ids[i];
	for (int i = 0; i < smp_nslots; i++)
		smp_slot[i].number = i == 0 ? 0 : -1;
}

uint64_t smp_area_bytes(void)
{
	return (uint64_t)(smp_nslots - 1) * AP_AREA;
}

void smp_reserve(uint64_t base)
{
	for (int i = 1; i < smp_nslots; i++) {
		struct smp_cpu *c = &smp_slot[i];
		c->guard = base + (uint64_t)(i - 1) * AP_AREA;
		c->top = c->guard + PAGE + AP_STACK_SIZE;
		if (vm_unmap_page(c->guard)) {
			kprintf("kernel: smp: no page table left to unmap a stack guard page: %d "
				"of %d CPUs "
				"can start\n",
				i, smp_nslots);
			smp_nslots = i;
			return;
		}
	}
}

static void smp_delay_us(uint64_t us)
{
	uint64_t t0 = rdtsc(), n = tsc_hz() / 1000000 * us;
	while (rdtsc() - t0 < n)
		pause();
}

/* Waits up to us microseconds for slot k to leave AP_WAITING. */
static int smp_wait(int k, uint64_t us)
{
	uint64_t t0 = rdtsc(), n = tsc_hz() / 1000000 * us;
	while (__atomic_load_n(&smp_slot[k].state, __ATOMIC_ACQUIRE) == AP_WAITING) {
		if (rdtsc() - t0 >= n)
			return AP_WAITING;
		pause();
	}
	return smp_slot[k].state;
}

/* The highest free page below 1 MiB (but page 0), for the trampoline. */
static uint64_t smp_tramp_page(void)
{
	uint64_t page = mem_usable_below(LOW_MEM_END, ap_tramp_end - ap_tramp_start);
	return page >= PAGE ? page : 0;
}

void smp_start(void)
{
	lapic_init(1);
	smp_up[0] = 0;
	uint64_t tramp = smp_nslots > 1 ? smp_tramp_page() : 0;
	if (smp_nslots > 1 && !tramp) {
		kprintf("kernel: smp: no free page below 1 MiB for the startup code: one CPU\n");
		smp_nslots = 1;
	}
	if (smp_nslots > 1) {
		char *t = (char *)(uintptr_t)tramp;
		for (long i = 0; i < ap_tramp_end - ap_tramp_start; i++)
			t[i] = ap_tramp_start[i];
		for (int i = 0; i < 6; i++)
			t[ap_tramp_gdtr - ap_tramp_start + i] = boot_gdt_ptr[i];
		*(uint32_t *)(t + (ap_tramp_cr3 - ap_tramp_start)) = (uint32_t)read_cr3();
		for (int k = 1; k < smp_nslots; k++)
			lapic_send_init(smp_slot[k].apic);
		smp_delay_us(INIT_DELAY_US);
	}
	for (int k = 1; k < smp_nslots; k++) {
		struct smp_cpu *c = &smp_slot[k];
		ap_boot_slot = k;
		ap_boot_rsp = c->top;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		lapic_send_startup(c->apic, (uint32_t)(tramp >> 12));
		int st = smp_wait(k, SIPI_RETRY_US);
		if (st == AP_WAITING) {
			lapic_send_startup(c->apic, (uint32_t)(tramp >> 12));
			st = smp_wait(k, (uint64_t)AP_START_MS * 1000);
		}
		if (st == AP_REFUSED) {
			kprintf("kernel: smp: the CPU with APIC ID %u has XCR0 0x%lx, the boot CPU "
				"0x%lx: "
				"not used\n",
				c->apic, (unsigned long)c->xcr0,
				(unsigned long)cpu_features()->xcr0);
			continue;
		}
		if (st == AP_WAITING) {
			/* if it starts later, it runs on this slot's stack and halts */
			__atomic_store_n(&c->go, -1, __ATOMIC_RELEASE);
			kprintf("kernel: smp: the CPU with APIC ID %u did not start within %d ms: "
				"the remaining %d are not used\n",
				c->apic, AP_START_MS, smp_nslots - k);
			break;
		}
		c->number = smp_nup;
		smp_up[smp_nup++] = k;
		__atomic_store_n(&c->go, 1, __ATOMIC_RELEASE);
	}
	kprintf("kernel: smp: %d CPU%s up of %d found (%s; %s; startup code at %p)\n", smp_nup,
		smp_nup > 1 ? "s" : "", smp_nslots, smp_source, lapic_mode(), (void *)tramp);
}

void ap_main(void)
{
	struct smp_cpu *c = &smp_slot[ap_boot_slot];
	gdt_load(&c->tables, c->top + IST_STACK_SIZE, c->top + 2 * IST_STACK_SIZE);
	trap_load();
	c->xcr0 = cpu_init_ap();
	lapic_init(0);
	if (c->xcr0 != cpu_features()->xcr0) {
		__atomic_store_n(&c->state, AP_REFUSED, __ATOMIC_RELEASE);
		for (;;)
			hlt();
	}
	__atomic_store_n(&c->state, AP_ALIVE, __ATOMIC_RELEASE);
	int go;
	while (!(go = __atomic_load_n(&c->go, __ATOMIC_ACQUIRE)))
		pause();
	if (go < 0)
		for (;;)
			hlt();
	pool_worker(c->number);
}

int smp_cpus(void)
{
	return smp_nup;
}

uint32_t smp_apic(int cpu)
{
	return smp_slot[smp_up[cpu]].apic;
}

int smp_this_cpu(void)
{
	int k = smp_slot_of(smp_this_apic());
	return k < 0 ? -1 : smp_slot[k].number;
}

void smp_stack(uint64_t *guard, uint64_t *top)
{
	int k = smp_slot_of(smp_this_apic());
	if (k < 0)
		k = 0;
	*guard = smp_slot[k].guard;
	*top = smp_slot[k].top;
}
