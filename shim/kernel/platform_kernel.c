/* platform_kernel.c: shim/platform.h on bare metal: serial streams, TSC frequency, the boot
 * modules as the model and code cache files, no files written, and isa-debug-exit (threads
 * and faults: pool.c). */
#include "core/base/error.h"
#include "kernel/kernel.h"
#include "shim/platform.h"

void plat_write(int stream, const char *s, size_t n)
{
	uart_write(stream == PLAT_OUT ? UART_COM1 : UART_COM2, s, n);
}

/* plat_write is synchronous (polled UART), so there is nothing to push. */
void plat_flush(int stream)
{
	(void)stream;
}

void serial_puts(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	plat_write(PLAT_OUT, s, n);
}

uint64_t plat_cycles_hz(void)
{
	return tsc_hz();
}

const char *plat_cycles_source(void)
{
	return tsc_source();
}

/* Boot modules stand for files (QEMU -initrd): a path with the code cache module's base name
 * (--code-cache NAME) gets that module; any other path the model, the first other module. */
int plat_model_map(const char *path, const uint8_t **data, size_t *size)
{
	if (!mem_code_cache(path, data, size))
		return 0;
	if (mem_module(data, size))
		return error_set("%s: no model module was loaded (make qemu MODEL=path)", path);
	return 0;
}

int plat_file_create(const char *path)
{
	return error_set("%s: cannot create it: the kernel has no file system", path);
}

int plat_file_write(int handle, const void *buf, size_t n)
{
	(void)handle;
	(void)buf;
	(void)n;
	kprintf("kernel: no file system in the kernel\n");
	return -1;
}

int plat_file_close(int handle)
{
	(void)handle;
	kprintf("kernel: no file system in the kernel\n");
	return -1;
}

void plat_memory_populate(void *p, size_t n)
{
	(void)p;
	(void)n;
}

_Noreturn void plat_exit(int status)
{
	pool_report();
	power_exit(status);
}
