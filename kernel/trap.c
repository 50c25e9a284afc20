/* trap.c: the IDT for exceptions 0-31 and the fault report they all end in (COM2, then exit).
 * Interrupts stay disabled for the whole run, so there are no IRQ handlers. */
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
static struct idt_gate idt[32] __attribute__((aligned(16)));
static volatile int trap_depth;

static const char *const trap_names[32] = {
	"divide error (#DE)", "debug (#DB)", "non-maskable interrupt (NMI)", "breakpoint (#BP)",
	"overflow (#OF)", "bound range exceeded (#BR)", "invalid opcode (#UD)",
	"device not available (#NM)", "double fault (#DF)", "coprocessor segment overrun",
	"invalid TSS (#TS)", "segment not present (#NP)", "stack-segment fault (#SS)",
	"general protection (#GP)", "page fault (#PF)", "reserved (15)",
	"x87 floating-point error (#MF)", "alignment check (#AC)", "machine check (#MC)",
	"SIMD floating-point exception (#XM)", "virtualization exception (#VE)",
	"control protection (#CP)", "reserved (22)", "reserved (23)", "reserved (24)",
	"reserved (25)", "reserved (26)", "reserved (27)", "hypervisor injection (#HV)",
	"VMM communication (#VC)", "security exception (#SX)", "reserved (31)",
};

void trap_init(void)
{
	for (int v = 0; v < 32; v++) {
		uint64_t off = trap_stubs[v];
		idt[v].off_lo = off & 0xffff;
		idt[v].sel = SEG_KCODE;
		idt[v].ist = v == 8 ? IST_DOUBLE : IST_FAULT;
		idt[v].type = 0x8e; /* present, ring 0, 64-bit interrupt gate */
		idt[v].off_mid = (off >> 16) & 0xffff;
		idt[v].off_hi = off >> 32;
		idt[v].reserved = 0;
	}
	struct desc_ptr p = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
	lidt(&p);
}

static int in_guard_page(uint64_t a)
{
	uint64_t g = (uint64_t)(uintptr_t)kstack_guard;
	return a >= g && a < g + 4096;
}

/* Called by trapvec.S on the IST stack; never returns. */
void trap_report(struct trapframe *tf);
void trap_report(struct trapframe *tf)
{
	uint64_t cr2 = read_cr2();
	if (trap_depth++) { /* a fault while reporting: say the least and leave */
		kprintf("\nkernel: nested fault: vector %lu at RIP %p while reporting a fault\n",
			(unsigned long)tf->vector, (void *)tf->rip);
		power_exit(FAULT_STATUS);
	}
	const char *name = tf->vector < 32 ? trap_names[tf->vector] : "unknown";
	kprintf("\nkernel: CPU exception %lu: %s, error code 0x%lx\n", (unsigned long)tf->vector, name,
		(unsigned long)tf->error);
	if (tf->vector == 14)
		kprintf("kernel: page fault %s a %s page at CR2 %p%s\n",
			tf->error & 2 ? "writing" : (tf->error & 16 ? "fetching from" : "reading"),
			tf->error & 1 ? "protected" : "not-present", (void *)cr2,
			tf->error & 8 ? " (reserved bit set)" : "");
	if (tf->vector == 14 && in_guard_page(cr2))
		kprintf("kernel: stack overflow (guard page hit): the %u KiB kernel stack is full\n",
			(unsigned)(KSTACK_SIZE / 1024));
	else if (in_guard_page(tf->rsp))
		kprintf("kernel: stack overflow (guard page hit): RSP is in the guard page\n");
	kprintf("  RIP %p  CS  0x%04lx  RFLAGS 0x%08lx\n", (void *)tf->rip, (unsigned long)tf->cs,
		(unsigned long)tf->rflags);
	kprintf("  RSP %p  SS  0x%04lx  CR2    %p\n", (void *)tf->rsp, (unsigned long)tf->ss, (void *)cr2);
	kprintf("  RAX %p  RBX %p  RCX %p\n", (void *)tf->rax, (void *)tf->rbx, (void *)tf->rcx);
	kprintf("  RDX %p  RSI %p  RDI %p\n", (void *)tf->rdx, (void *)tf->rsi, (void *)tf->rdi);
	kprintf("  RBP %p  R8  %p  R9  %p\n", (void *)tf->rbp, (void *)tf->r8, (void *)tf->r9);
	kprintf("  R10 %p  R11 %p  R12 %p\n", (void *)tf->r10, (void *)tf->r11, (void *)tf->r12);
	kprintf("  R13 %p  R14 %p  R15 %p\n", (void *)tf->r13, (void *)tf->r14, (void *)tf->r15);
	kprintf("  CR0 %p  CR3 %p  CR4 %p\n", (void *)read_cr0(), (void *)read_cr3(), (void *)read_cr4());
	kprintf("  kernel stack [%p, %p), guard page at %p\n", (void *)(kstack_guard + 4096),
		(void *)kstack_top, (void *)kstack_guard);
	kprintf("kernel: halting with status %d (find RIP with: addr2line -e build/kernel/tinyllama.elf 0x%lx)\n",
		FAULT_STATUS, (unsigned long)tf->rip);
	power_exit(FAULT_STATUS);
}
