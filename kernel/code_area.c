/* code_area.c: executable memory for code loaded at run time (the code cache): one area carved
 * from the boot memory map at boot, handed out in whole pages, writable and not executable
 * while the loader fills them, then sealed read+execute (kernel/vm.c sets the page bits). */
#include "kernel/kernel.h"
#include "kernel/param.h"

#define CODE_PAGE 4096ull

static struct {
	uint64_t base, size, used; /* [base, base + size), the first used bytes handed out */
} code_area;

uint64_t code_area_bytes(void)
{
	return (uint64_t)CODE_AREA_KIB << 10;
}

int code_area_init(uint64_t base)
{
	uint64_t size = code_area_bytes();
	if (vm_code_pages(base, size, 0)) {
		kprintf(
		    "kernel: code area: no page tables left (VM_POOL_PAGES %d): no loaded code\n",
		    VM_POOL_PAGES);
		return -1;
	}
	code_area.base = base;
	code_area.size = size;
	kprintf("kernel: code area: %lu KiB at %p, 4 KiB pages, %s until sealed\n",
		(unsigned long)(size >> 10), (void *)(uintptr_t)base,
		cpu_features()->nx ? "writable and NX" : "writable (no NX on this CPU)");
	return 0;
}

int code_area_ready(void)
{
	return code_area.size != 0;
}

void *code_area_alloc(uint64_t bytes)
{
	uint64_t pages = (bytes + CODE_PAGE - 1) & ~(CODE_PAGE - 1);
	if (!code_area.size || pages == 0 || pages > code_area.size - code_area.used)
		return NULL;
	void *p = (void *)(uintptr_t)(code_area.base + code_area.used);
	code_area.used += pages;
	return p;
}

int code_area_seal(const void *code, uint64_t bytes)
{
	uint64_t a = (uint64_t)(uintptr_t)code;
	if (a < code_area.base || bytes > code_area.base + code_area.used - a)
		return -1;
	return vm_code_pages(a, bytes, 1);
}

/* The area is handed out from its bottom up, so only the last allocation can come back: the
 * loader gives back an object it refused right after placing it. Its pages may have been
 * partly sealed (a seal that failed half way): they are made writable and NX again. */
void code_area_free(void *code, uint64_t bytes)
{
	uint64_t a = (uint64_t)(uintptr_t)code;
	uint64_t pages = (bytes + CODE_PAGE - 1) & ~(CODE_PAGE - 1);
	if (!code_area.size || pages == 0 || a != code_area.base + code_area.used - pages)
		return;
	if (vm_code_pages(a, pages, 0) == 0)
		code_area.used -= pages;
}
