/* main.c: kmain, the kernel's boot sequence after entry.S: an ordered list of *_init calls,
 * then the same app_main the host program calls, then exit through isa-debug-exit. */
#include "core/app/app.h"
#include "core/base/arena.h"
#include "kernel/gdt.h"
#include "kernel/kernel.h"
#include "kernel/param.h"
#include "shim/platform.h"

void kmain(uint32_t magic, uint32_t info);

void kmain(uint32_t magic, uint32_t info)
{
	static char *argv[ARGV_MAX];
	uint64_t base, size;

	uart_init(); /* COM1 (output) and COM2 (log): everything after can report */
	gdt_init();  /* GDT and TSS: IST stacks for the fault handlers */
	trap_init(); /* IDT: exceptions 0-31 print a report on COM2 and exit */
	cpu_init();  /* SSE, XSAVE/AVX(-512) state before any float code */
	mem_init(magic,
		 (const struct mb_info *)(uintptr_t)info); /* memory map, modules, command line */
	smp_find(); /* the other CPUs, from the firmware's tables (page 0 still mapped) */
	uint64_t mapped =
	    vm_init(mem_ram_top()); /* all RAM identity-mapped, stack guard page out */
	tsc_init();		    /* TSC frequency for plat_cycles_hz and the startup delays */

	/* The arena gets the largest region above the kernel and modules, less the other CPUs'
	 * stacks at its top and, below them, the code area when a code cache was loaded. */
	const uint8_t *cache;
	size_t cache_size;
	uint64_t code = mem_code_cache(NULL, &cache, &cache_size) ? 0 : code_area_bytes();
	uint64_t cpus = smp_area_bytes() + code;
	if (mem_arena_region(mapped, &base, &size) ||
	    size < cpus + ((uint64_t)ARENA_MIN_MIB << 20)) {
		uint64_t need = ((mem_reserved_top() + cpus + (1 << 20) - 1) >> 20) + ARENA_MIN_MIB;
		kprintf("error: not enough memory: %lu MiB, need %lu MiB\n",
			(unsigned long)(mem_ram_top() >> 20), (unsigned long)need);
		power_exit(1);
	}
	size -= cpus;
	smp_reserve(base + size + code);
	if (code)
		code_area_init(base + size); /* on failure, nothing is handed out: tier 1 stays */
	smp_start();			     /* the other CPUs up, idle in the thread pool */
	arena_init((void *)(uintptr_t)base, (size_t)size);
	kprintf("kernel: arena: %lu MiB at %p\n", (unsigned long)(size >> 20),
		(void *)(uintptr_t)base);

	int argc = cmdline_split(mem_cmdline(), argv, ARGV_MAX);
	plat_exit(app_main(argc, argv));
}
