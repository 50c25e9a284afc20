/* uart.c: low-level driver for the 16550 UARTs on COM1 and COM2 (polled, no interrupts).
 * Bytes go out exactly as given: no CRLF translation, so the output matches the host's. */
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/x86.h"

/* Register offsets from the base port. */
#define UART_THR 0	   /* transmit holding (DLAB=0) */
#define UART_DLL 0	   /* divisor low (DLAB=1) */
#define UART_IER 1	   /* interrupt enable (DLAB=0) */
#define UART_DLM 1	   /* divisor high (DLAB=1) */
#define UART_FCR 2	   /* FIFO control */
#define UART_LCR 3	   /* line control */
#define UART_MCR 4	   /* modem control */
#define UART_LSR 5	   /* line status */
#define UART_LSR_THRE 0x20 /* transmit holding register empty */

static const uint16_t uart_ports[2] = {COM1_PORT, COM2_PORT};

static void uart_init_port(uint16_t base)
{
	outb(base + UART_IER, 0x00); /* no interrupts */
	outb(base + UART_LCR, 0x80); /* DLAB on */
	outb(base + UART_DLL, 0x01); /* 115200 baud */
	outb(base + UART_DLM, 0x00);
	outb(base + UART_LCR, 0x03); /* 8N1, DLAB off */
	outb(base + UART_FCR, 0x07); /* FIFOs on and cleared */
	outb(base + UART_MCR, 0x03); /* DTR, RTS */
}

void uart_init(void)
{
	uart_init_port(COM1_PORT);
	uart_init_port(COM2_PORT);
}

void uart_write(int com, const char *s, size_t n)
{
	uint16_t base = uart_ports[com == UART_COM1 ? 0 : 1];
	for (size_t i = 0; i < n; i++) {
		while (!(inb(base + UART_LSR) & UART_LSR_THRE))
			pause();
		outb(base + UART_THR, (uint8_t)s[i]);
	}
}
