/* trap.c: the IDT (shared by all CPUs) for exceptions 0-31 and the fault report they all end in:
 * on COM2, with the CPU it happened on, after an NMI has stopped the other CPUs; then exit.
 * Interrupts are enabled only inside an idle CPU's hlt, for the wake-up IPI (trapvec.S). */
#include "kernel/gdt.h"
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/param.h"
#include "kernel/x86.h"

/* Pushed by trapvec.S (r15 first in memory) and by the CPU (vector 14's error onwards). */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct __attribute__((packed)) idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

extern const uint64_t trap_stubs[32]; /* trapvec.S */
extern char wake_stub[], spurious_stub[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint32_t trap_owner; /* 1 + APIC ID of the CPU that reports, 0 before any fault */

static const char *const trap_names[32] = {
    "divide error (#DE)",
    "debug (#DB)",
    "non-maskable interrupt (NMI)",
    "breakpoint (#BP)",
    "overflow (#OF)",
    "bound range exceeded (#BR)",
    "invalid opcode (#UD)",
    "device not available (#NM)",
    "double fault (#DF)",
    "coprocessor segment overrun",
    "invalid TSS (#TS)",
    "segment not present (#NP)",
    "stack-segment fault (#SS)",
    "general protection (#GP)",
    "page fault (#PF)",
    "reserved (15)",
    "x87 floating-point error (#MF)",
    "alignment check (#AC)",
    "machine check (#MC)",
    "SIMD floating-point exception (#XM)",
    "virtualization exception (#VE)",
    "control protection (#CP)",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "hypervisor injection (#HV)",
    "VMM communication (#VC)",
    "security exception (#SX)",
    "reserved (31)",
};

static void trap_gate(int v, uint64_t off, int ist)
{
	idt[v].off_lo = off & 0xffff;
	idt[v].sel = SEG_KCODE;
	idt[v].ist = (uint8_t)ist;
	idt[v].type = 0x8e; /* present, ring 0, 64-bit interrupt gate */
	idt[v].off_mid = (off >> 16) & 0xffff;
	idt[v].off_hi = off >> 32;
	idt[v].reserved = 0;
}

void trap_load(void)
{
	struct desc_ptr p = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
	lidt(&p);
}

void trap_init(void)
{
	for (int v = 0; v < 32; v++)
		trap_gate(v, trap_stubs[v], v == 8 ? IST_DOUBLE : IST_FAULT);
	/* on the idle CPU's own stack: it is in hlt, not in trouble */
	trap_gate(WAKE_VECTOR, (uint64_t)(uintptr_t)wake_stub, 0);
	trap_gate(LAPIC_SPURIOUS_VECTOR, (uint64_t)(uintptr_t)spurious_stub, 0);
	for (int v = PIC_VECTOR_BASE; v < PIC_VECTOR_BASE + 16; v++)
		trap_gate(v, (uint64_t)(uintptr_t)spurious_stub, 0);
	trap_load();
}

static int in_page(uint64_t a, uint64_t page)
{
	return a >= page && a < page + 4096;
}

/* Another CPU reports: stop here (its NMI brought this one in, or both faulted at once). */
static _Noreturn void trap_halt(void)
{
	for (;;) {
		cli();
		hlt();
	}
}

/* Called by trapvec.S on the IST stack; never returns. */
void trap_report(struct trapframe *tf);
void trap_report(struct trapframe *tf)
{
	uint64_t cr2 = read_cr2();
	uint32_t apic = smp_this_apic(), none = 0;
	if (!__atomic_compare_exchange_n(&trap_owner, &none, apic + 1, 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		if (none != apic + 1)
			trap_halt();
		/* a fault while this CPU reports: say the least and leave */
		kprintf("\nkernel: nested fault: vector %lu at RIP %p while reporting a fault\n",
			(unsigned long)tf->vector, (void *)tf->rip);
		power_exit(FAULT_STATUS);
	}
	lapic_stop_others();
	int cpu = smp_this_cpu();
	uint64_t guard, top;
	smp_stack(&guard, &top);
	const char *name = tf->vector < 32 ? trap_names[tf->vector] : "unknown";
	kprintf("\nkernel: CPU exception %lu: %s, error code 0x%lx, on CPU %d (APIC ID %u)\n",
		(unsigned long)tf->vector, name, (unsigned long)tf->error, cpu, apic);
	if (tf->vector == 14)
		kprintf("kernel: page fault %s a %s page at CR2 %p%s\n",
			tf->error & 2 ? "writing" : (tf->error & 16 ? "fetching from" : "reading"),
			tf->error & 1 ? "protected" : "not-present", (void *)cr2,
			tf->error & 8 ? " (reserved bit set)" : "");
	if (tf->vector == 14 && in_page(cr2, guard))
		kprintf("kernel: stack overflow (guard page hit): the %lu KiB stack of CPU %d is "
			"full\n",
			(unsigned long)((top - guard - 4096) / 1024), cpu);
	else if (in_page(tf->rsp, guard))
		kprintf("kernel: stack overflow (guard page hit): RSP is in the guard page\n");
	kprintf("  RIP %p  CS  0x%04lx  RFLAGS 0x%08lx\n", (void *)tf->rip, (unsigned long)tf->cs,
		(unsigned long)tf->rflags);
	kprintf("  RSP %p  SS  0x%04lx  CR2    %p\n", (void *)tf->rsp, (unsigned long)tf->ss,
		(void *)cr2);
	kprintf("  RAX %p  RBX %p  RCX %p\n", (void *)tf->rax, (void *)tf->rbx, (void *)tf->rcx);
	kprintf("  RDX %p  RSI %p  RDI %p\n", (void *)tf->rdx, (void *)tf->rsi, (void *)tf->rdi);
	kprintf("  RBP %p  R8  %p  R9  %p\n", (void *)tf->rbp, (void *)tf->r8, (void *)tf->r9);
	kprintf("  R10 %p  R11 %p  R12 %p\n", (void *)tf->r10, (void *)tf->r11, (void *)tf->r12);
	kprintf("  R13 %p  R14 %p  R15 %p\n", (void *)tf->r13, (void *)tf->r14, (void *)tf->r15);
	kprintf("  CR0 %p  CR3 %p  CR4 %p\n", (void *)read_cr0(), (void *)read_cr3(),
		(void *)read_cr4());
	kprintf("  stack of CPU %d [%p, %p), guard page at %p\n", cpu, (void *)(guard + 4096),
		(void *)top, (void *)guard);
	kprintf("kernel: halting with status %d (find RIP with: addr2line -e "
		"build/kernel/tinyllama.elf 0x%lx)\n",
		FAULT_STATUS, (unsigned long)tf->rip);
	power_exit(FAULT_STATUS);
}
