/* mem.c: what the multiboot loader reported: usable RAM (memory map), the boot modules
 * (the model file, and the code cache: the module whose command line ends in the word
 * MEM_CODE_CACHE_TAG, or both carried in the image: kernel/bundle.S) and the command line;
 * picks the region the arena gets. */
#include "kernel/kernel.h"
#include "kernel/memlayout.h"
#include "kernel/param.h"

#define MEM_REGIONS_MAX 64 /* memory-map entries kept */
#define MEM_ALIGN 4096
#define MEM_MODS_MAX 4			/* boot modules kept: the model and the code cache */
#define MEM_CODE_CACHE_TAG "code-cache" /* kernel/run-qemu.sh puts it after the cache's path */

struct mem_region {
	uint64_t base, end;
};

static struct mem_region mem_usable[MEM_REGIONS_MAX];
static int mem_nusable;
static uint64_t mem_reserved_end; /* end of kernel image, modules and boot info */
struct mem_mod {
	const uint8_t *data;
	size_t size;
	const char *string; /* the module's command line: its path, then a tag */
	int code_cache;
};

/* The model and code cache a bundled image carries (kernel/bundle.S); weak, so 0 in every
 * other build. */
extern const uint8_t bundle_model[] __attribute__((weak));
extern const uint8_t bundle_model_end[] __attribute__((weak));
extern const uint8_t bundle_cache[] __attribute__((weak));
extern const uint8_t bundle_cache_end[] __attribute__((weak));
extern const char bundle_args[] __attribute__((weak));

static struct mem_mod mem_mods[MEM_MODS_MAX];
static int mem_nmods;
static char mem_cmd[CMDLINE_MAX];

static void mem_reserve(uint64_t end)
{
	if (end > mem_reserved_end)
		mem_reserved_end = end;
}

static uint64_t mem_strend(uint32_t addr)
{
	const char *s = (const char *)(uintptr_t)addr;
	while (*s)
		s++;
	return (uint64_t)(uintptr_t)s + 1;
}

/* True when s is a path followed by MEM_CODE_CACHE_TAG as its last space-separated word. */
static int mem_tagged_code_cache(const char *s)
{
	const char *word = NULL;
	for (const char *p = s; *p; p++)
		if (*p == ' ' && p[1] && p[1] != ' ')
			word = p + 1;
	if (!word)
		return 0;
	const char *tag = MEM_CODE_CACHE_TAG;
	while (*tag && *word == *tag)
		word++, tag++;
	while (*word == ' ')
		word++;
	return !*tag && !*word;
}

/* A file the image carries, taken as a boot module when it is not empty. */
static void mem_bundle(const uint8_t *start, const uint8_t *end, const char *what, int code_cache)
{
	if (end == start)
		return;
	struct mem_mod *d = &mem_mods[mem_nmods++];
	d->data = start;
	d->size = (size_t)(end - start);
	d->string = what;
	d->code_cache = code_cache;
	kprintf("kernel: %s: %lu bytes at %p\n", what, (unsigned long)d->size,
		(const void *)d->data);
}

static void mem_add(uint64_t base, uint64_t len)
{
	if (len == 0 || mem_nusable == MEM_REGIONS_MAX)
		return;
	mem_usable[mem_nusable].base = base;
	mem_usable[mem_nusable].end = base + len;
	mem_nusable++;
}

void mem_init(uint32_t magic, const struct mb_info *mbi)
{
	if (magic != MB_BOOT_MAGIC) {
		kprintf("kernel: not booted by a multiboot loader (eax 0x%x): no memory map\n",
			magic);
		power_exit(FAULT_STATUS);
	}
	mem_reserve((uint64_t)(uintptr_t)__kernel_end);
	mem_reserve((uint64_t)(uintptr_t)mbi + sizeof *mbi);

	if (mbi->flags & MB_INFO_MMAP) {
		mem_reserve((uint64_t)mbi->mmap_addr + mbi->mmap_length);
		uint64_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
		while (p + sizeof(struct mb_mmap_entry) <= end) {
			const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)(uintptr_t)p;
			if (e->type == MB_MMAP_AVAILABLE)
				mem_add(e->addr, e->len);
			p += e->size + 4;
		}
	} else if (mbi->flags & MB_INFO_MEM) {
		mem_add(0x100000, (uint64_t)mbi->mem_upper * 1024);
	}

	/* The loader's command line starts with the image's path (cmdline.c drops that word);
	 * a bundle's own options go right after it, before the boot command line's. */
	int bundled = bundle_args && !((mbi->flags & MB_INFO_MODS) && mbi->mods_count);
	const char *s =
	    mbi->flags & MB_INFO_CMDLINE ? (const char *)(uintptr_t)mbi->cmdline : "tinyllama";
	size_t n = 0;
	while (*s && (!bundled || *s != ' ') && n < CMDLINE_MAX - 1)
		mem_cmd[n++] = *s++;
	for (const char *a = bundled ? bundle_args : ""; *a && n < CMDLINE_MAX - 2; a++) {
		if (a == bundle_args)
			mem_cmd[n++] = ' ';
		mem_cmd[n++] = *a;
	}
	while (*s && n < CMDLINE_MAX - 1)
		mem_cmd[n++] = *s++;
	mem_cmd[n] = 0;
	if (*s)
		kprintf("kernel: command line longer than CMDLINE_MAX %d: cut\n", CMDLINE_MAX);
	if (mbi->flags & MB_INFO_CMDLINE)
		mem_reserve(mem_strend(mbi->cmdline));

	if ((mbi->flags & MB_INFO_MODS) && mbi->mods_count) {
		const struct mb_module *m = (const struct mb_module *)(uintptr_t)mbi->mods_addr;
		mem_reserve((uint64_t)mbi->mods_addr + mbi->mods_count * sizeof *m);
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			mem_reserve(m[i].mod_end);
			if (m[i].string)
				mem_reserve(mem_strend(m[i].string));
		}
		for (uint32_t i = 0; i < mbi->mods_count && mem_nmods < MEM_MODS_MAX; i++) {
			struct mem_mod *d = &mem_mods[mem_nmods++];
			d->data = (const uint8_t *)(uintptr_t)m[i].mod_start;
			d->size = m[i].mod_end - m[i].mod_start;
			d->string = m[i].string ? (const char *)(uintptr_t)m[i].string : "";
			d->code_cache = mem_tagged_code_cache(d->string);
			kprintf("kernel: module: %lu bytes at %p (%s)\n", (unsigned long)d->size,
				(const void *)d->data, d->string);
		}
		if (mbi->mods_count > MEM_MODS_MAX)
			kprintf("kernel: %u modules loaded: only the first %d are used\n",
				mbi->mods_count, MEM_MODS_MAX);
	}
	if (bundled) {
		mem_bundle(bundle_model, bundle_model_end, "bundled-model", 0);
		mem_bundle(bundle_cache, bundle_cache_end, "bundled-code-cache", 1);
	}

	uint64_t total = 0;
	for (int i = 0; i < mem_nusable; i++)
		total += mem_usable[i].end - mem_usable[i].base;
	kprintf("kernel: memory map: %lu MiB usable in %d regions, RAM ends at %p\n",
		(unsigned long)(total >> 20), mem_nusable, (void *)mem_ram_top());
}

uint64_t mem_ram_top(void)
{
	uint64_t top = 0;
	for (int i = 0; i < mem_nusable; i++)
		if (mem_usable[i].end > top)
			top = mem_usable[i].end;
	return top;
}

int mem_arena_region(uint64_t limit, uint64_t *base, uint64_t *size)
{
	uint64_t best_b = 0, best_n = 0;
	for (int i = 0; i < mem_nusable; i++) {
		uint64_t b = mem_usable[i].base, e = mem_usable[i].end;
		if (b < mem_reserved_end)
			b = mem_reserved_end;
		if (e > limit)
			e = limit;
		b = (b + MEM_ALIGN - 1) & ~(uint64_t)(MEM_ALIGN - 1);
		e &= ~(uint64_t)(MEM_ALIGN - 1);
		if (e > b && e - b > best_n) {
			best_b = b;
			best_n = e - b;
		}
	}
	*base = best_b;
	*size = best_n;
	return best_n ? 0 : -1;
}

uint64_t mem_usable_below(uint64_t limit, uint64_t size)
{
	uint64_t best = 0;
	for (int i = 0; i < mem_nusable; i++) {
		uint64_t e = mem_usable[i].end < limit ? mem_usable[i].end : limit;
		if (e < size)
			continue;
		uint64_t p = (e - size) & ~(uint64_t)(MEM_ALIGN - 1);
		if (p >= mem_usable[i].base && p > best)
			best = p;
	}
	return best;
}

uint64_t mem_reserved_top(void)
{
	return mem_reserved_end;
}

/* The first module of the kind asked for; NULL if none. */
static const struct mem_mod *mem_find(int code_cache)
{
	for (int i = 0; i < mem_nmods; i++)
		if (mem_mods[i].code_cache == code_cache)
			return &mem_mods[i];
	return NULL;
}

int mem_module(const uint8_t **data, size_t *size)
{
	const struct mem_mod *m = mem_find(0);
	if (!m)
		return -1;
	*data = m->data;
	*size = m->size;
	return 0;
}

/* The base name of a path (up to its end or the first space) equals that of the module's. */
static int mem_same_base_name(const char *path, const char *module)
{
	const char *a = path, *b = module;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			a = p + 1;
	for (const char *p = module; *p && *p != ' '; p++)
		if (*p == '/')
			b = p + 1;
	while (*a && *a == *b)
		a++, b++;
	return !*a && (!*b || *b == ' ');
}

int mem_code_cache(const char *name, const uint8_t **data, size_t *size)
{
	const struct mem_mod *m = mem_find(1);
	if (!m || (name && !mem_same_base_name(name, m->string)))
		return -1;
	*data = m->data;
	*size = m->size;
	return 0;
}

const char *mem_cmdline(void)
{
	return mem_cmd;
}
