/* memlayout.h: every physical address, I/O port and linker symbol the kernel knows about. */
#ifndef KERNEL_MEMLAYOUT_H
#define KERNEL_MEMLAYOUT_H

#define KERNEL_LOAD_ADDR 0x100000 /* where the multiboot loader puts the image (1 MiB) */

#define COM1_PORT 0x3f8	     /* 16550 UART: program output (PLAT_OUT) */
#define COM2_PORT 0x2f8	     /* 16550 UART: log stream (PLAT_LOG) */
#define DEBUG_EXIT_PORT 0xf4 /* QEMU isa-debug-exit,iobase=0xf4,iosize=0x04 */
#define PIT_CH2_PORT 0x42    /* i8254 channel 2 data */
#define PIT_CMD_PORT 0x43    /* i8254 mode/command */
#define PIT_GATE_PORT 0x61   /* system control port B: channel 2 gate (bit 0), OUT2 (bit 5) */
#define PIT_HZ 1193182	     /* i8254 input clock */
#define PIC1_PORT 0x20	     /* 8259 master: command; data at + 1 */
#define PIC2_PORT 0xa0	     /* 8259 slave */
#define LOW_MEM_END 0x100000 /* a startup IPI can only start a CPU below 1 MiB */

/* Interrupt vectors (interrupts are enabled only inside an idle CPU's hlt). */
#define PIC_VECTOR_BASE 0x20	   /* the masked 8259s' 16 lines (only spurious ones arrive) */
#define WAKE_VECTOR 0x40	   /* IPI that wakes an idle CPU for a pool job */
#define LAPIC_SPURIOUS_VECTOR 0xff /* the local APIC's spurious interrupt */

/* Addresses used by the deliberate faults (--fault): a non-canonical one for #GP and
 * a canonical one that the identity map never covers (PML4 slot 254) for #PF. */
#define FAULT_NONCANONICAL_ADDR 0x8000000000000000
#define FAULT_UNMAPPED_ADDR 0x00007f0000000000

#ifndef __ASSEMBLER__
/* From kernel/kernel.ld and kernel/entry.S. */
extern char __kernel_start[], __kernel_end[], __bss_start[], __bss_end[];
extern char kstack_guard[], kstack_top[];
#endif

#endif
