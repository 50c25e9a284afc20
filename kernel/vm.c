/* vm.c: the identity map of physical memory that the kernel runs on from kmain onwards.
 * 1 GiB pages when CPUID says pdpe1gb, else 2 MiB pages; the 2 MiB regions holding page 0
 * and the stack guard page use 4 KiB pages so those two pages can stay unmapped
 * (null dereferences and stack overflows fault instead of corrupting memory). Pages for
 * loaded code are split out to 4 KiB too: writable and not executable (NX, when the CPU has
 * it) while the loader fills them, then read+execute (CR0.WP makes read-only bind ring 0). */
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/param.h"
#include "kernel/x86.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PS 0x80ull
#define PTE_XD (1ull << 63) /* execute disable, honoured once EFER.NXE is set (cpu.c) */
#define PTE_ADDR 0x000ffffffffff000ull
#define SZ_4K (1ull << 12)
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)
#define SZ_512G (1ull << 39)

static uint64_t vm_pool[VM_POOL_PAGES][512] __attribute__((aligned(4096)));
static int vm_pool_used;
static uint64_t *vm_pml4;
static unsigned vm_tlb_gen; /* bumped when permissions are taken away: other CPUs flush */

static uint64_t *vm_page(void)
{
	return vm_pool_used < VM_POOL_PAGES ? vm_pool[vm_pool_used++] : NULL;
}

/* Pages left unmapped. */
static int vm_hole(uint64_t pa)
{
	return pa == 0 || pa == (uint64_t)(uintptr_t)kstack_guard;
}

/* True when [a, a + size) holds an unmapped page, so it needs smaller pages. */
static int vm_split(uint64_t a, uint64_t size)
{
	uint64_t g = (uint64_t)(uintptr_t)kstack_guard;
	return a == 0 || (g >= a && g < a + size);
}

/* Maps one GiB at a through a page directory; 0 on success. */
static int vm_map_gib(uint64_t *pdpte, uint64_t a)
{
	uint64_t *pd = vm_page();
	if (!pd)
		return -1;
	for (int k = 0; k < 512; k++) {
		uint64_t r = a + (uint64_t)k * SZ_2M;
		if (!vm_split(r, SZ_2M)) {
			pd[k] = r | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		uint64_t *pt = vm_page();
		if (!pt)
			return -1;
		for (int l = 0; l < 512; l++) {
			uint64_t pa = r + (uint64_t)l * SZ_4K;
			pt[l] = vm_hole(pa) ? 0 : pa | PTE_P | PTE_W;
		}
		pd[k] = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W;
	}
	*pdpte = (uint64_t)(uintptr_t)pd | PTE_P | PTE_W;
	return 0;
}

uint64_t vm_init(uint64_t ram_top)
{
	int gib_pages = cpu_features()->pdpe1gb;
	uint64_t want = ((ram_top + SZ_1G - 1) & ~(SZ_1G - 1));
	if (want < (uint64_t)VM_MIN_MAP_GIB * SZ_1G)
		want = (uint64_t)VM_MIN_MAP_GIB * SZ_1G;
	if (want > 256 * SZ_512G)
		want = 256 * SZ_512G; /* lower half of the 48-bit address space */

	uint64_t *pml4 = vm_pml4 = vm_page();
	uint64_t end = 0;
	for (uint64_t a = 0; a < want; a += SZ_1G) {
		uint64_t *e = &pml4[a / SZ_512G];
		if (!*e) {
			uint64_t *pdpt = vm_page();
			if (!pdpt)
				break;
			*e = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_W;
		}
		uint64_t *pdpt = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
		uint64_t *pdpte = &pdpt[(a / SZ_1G) % 512];
		if (gib_pages && !vm_split(a, SZ_1G))
			*pdpte = a | PTE_P | PTE_W | PTE_PS;
		else if (vm_map_gib(pdpte, a))
			break;
		end = a + SZ_1G;
	}
	write_cr3((uint64_t)(uintptr_t)pml4);
	kprintf("kernel: vm: identity map of %lu GiB with %s pages (%d page-table pages); "
		"unmapped: page 0, stack guard page at %p\n",
		(unsigned long)(end / SZ_1G), gib_pages ? "1 GiB" : "2 MiB", vm_pool_used,
		(void *)kstack_guard);
	if (end < want)
		kprintf("kernel: vm: page-table pool (VM_POOL_PAGES %d) ran out: RAM above %lu GiB "
			"is unused\n",
			VM_POOL_PAGES, (unsigned long)(end / SZ_1G));
	return end;
}

/* Replaces the large page at *e (of size, mapping base) by a table of 512 pages of size / 512. */
static int vm_split_entry(uint64_t *e, uint64_t size)
{
	uint64_t *t = vm_page();
	if (!t)
		return -1;
	uint64_t base = *e & PTE_ADDR, sub = size / 512;
	for (int k = 0; k < 512; k++)
		t[k] = (base + (uint64_t)k * sub) | PTE_P | PTE_W | (sub > SZ_4K ? PTE_PS : 0);
	*e = (uint64_t)(uintptr_t)t | PTE_P | PTE_W;
	return 0;
}

/* The 4 KiB page-table entry that maps pa, splitting the large pages above it; NULL when pa
 * is not mapped or no page tables are left. */
static uint64_t *vm_pte(uint64_t pa)
{
	uint64_t pml4e = vm_pml4[pa / SZ_512G];
	if (!(pml4e & PTE_P))
		return NULL;
	uint64_t *e = &((uint64_t *)(uintptr_t)(pml4e & PTE_ADDR))[(pa / SZ_1G) % 512];
	if (!(*e & PTE_P) || ((*e & PTE_PS) && vm_split_entry(e, SZ_1G)))
		return NULL;
	e = &((uint64_t *)(uintptr_t)(*e & PTE_ADDR))[(pa / SZ_2M) % 512];
	if ((*e & PTE_PS) && vm_split_entry(e, SZ_2M))
		return NULL;
	return &((uint64_t *)(uintptr_t)(*e & PTE_ADDR))[(pa / SZ_4K) % 512];
}

int vm_unmap_page(uint64_t pa)
{
	uint64_t *e = vm_pte(pa);
	if (!e)
		return -1;
	*e = 0;
	write_cr3(read_cr3()); /* only this CPU runs: flushing its TLB is enough */
	return 0;
}

int vm_code_pages(uint64_t pa, uint64_t size, int sealed)
{
	uint64_t nx = cpu_features()->nx ? PTE_XD : 0;
	for (uint64_t p = pa & ~(SZ_4K - 1); p < pa + size; p += SZ_4K) {
		uint64_t *e = vm_pte(p);
		if (!e)
			return -1;
		*e = p | PTE_P | (sealed ? 0 : PTE_W | nx);
		invlpg(p);
	}
	__atomic_add_fetch(&vm_tlb_gen, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void vm_sync(unsigned *seen)
{
	unsigned gen = __atomic_load_n(&vm_tlb_gen, __ATOMIC_ACQUIRE);
	if (gen != *seen) {
		write_cr3(read_cr3());
		*seen = gen;
	}
}
